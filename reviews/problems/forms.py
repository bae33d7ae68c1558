"""Forms of the problem pages. They validate input only; every write is a service
call in the views."""

from __future__ import annotations

from django import forms

from incidents.models import Problem, Team

STATUS_CHOICES = [
    ("", "Any"),
    ("active", "Open or known error"),
    *Problem.Status.choices,
]


class ProblemFilterForm(forms.Form):
    """The list's filters, from the query string."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(label="State", choices=STATUS_CHOICES, required=False)
    team = forms.ModelChoiceField(
        label="Owner team",
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="Any",
    )


class ProblemForm(forms.Form):
    """A problem's text and owner team. Who may choose which team is the
    service's rule."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea, required=False)
    root_cause = forms.CharField(widget=forms.Textarea, required=False)
    workaround = forms.CharField(widget=forms.Textarea, required=False)
    owner_team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), empty_label="Choose a team"
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class VersionForm(forms.Form):
    """A transition's form: the version the page showed."""

    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)


class LinkForm(forms.Form):
    incident = forms.CharField(
        label="Incident number", max_length=30, help_text="INC-000123"
    )


class RecurrenceForm(forms.Form):
    """ "Create a problem" from a recurrence proposal: the signature it counted."""

    signature = forms.CharField(max_length=300)
