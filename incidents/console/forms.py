"""Forms of the agent console. They validate input only; every write is a service
call in the views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from incidents import selectors
from incidents.console.figures import FIGURES
from incidents.console.queue import ConsoleChoices
from incidents.models import (
    Category,
    Impact,
    Incident,
    IncidentNote,
    Priority,
    Service,
    Team,
    Urgency,
)
from incidents.portal.forms import FilesForm


def _blank(choices: list[tuple[Any, str]], label: str = "Any") -> list[tuple[Any, str]]:
    return [("", label), *choices]


class QueueFilterForm(forms.Form):
    """The queue's view, filters, search and sort, all from the query string."""

    VIEWS = [
        ("team", "My teams"),
        ("mine", "Mine"),
        ("unassigned", "Unassigned"),
        ("open", "All open"),
        ("breaching", "Breaching soon"),
        ("major", "Major (P1/P2)"),
    ]
    SORTS = [("newest", "Newest first"), ("priority", "Priority, then newest")]

    view = forms.ChoiceField(choices=VIEWS, required=False)
    q = forms.CharField(label="Search", required=False, max_length=200)
    state = forms.ChoiceField(choices=_blank(Incident.Status.choices), required=False)
    priority = forms.TypedChoiceField(
        choices=_blank(Priority.choices), coerce=int, required=False, empty_value=None
    )
    # Ids, checked against the options the page offers (incidents.console.queue).
    category = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    service = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    source = forms.ChoiceField(choices=_blank(Incident.Source.choices), required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)
    # A dashboard figure's incidents (incidents.console.figures): what it counts,
    # its period [since, until) and the instant it was computed at.
    figure = forms.ChoiceField(choices=_blank(FIGURES), required=False)
    since = forms.DateTimeField(required=False)
    until = forms.DateTimeField(required=False)
    at = forms.DateTimeField(required=False)

    def __init__(self, *args: Any, choices: ConsoleChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _blank(list(choices.categories))
        self.fields["team"].choices = _blank(list(choices.teams))
        self.fields["service"].choices = _blank(list(choices.services))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", "The period must end after it starts.")
        return data

    def selects(self) -> list[Select]:
        """The filters that are selects, each with its options and the one chosen:
        the page prints them as they are (no widget templates per option)."""
        return [
            Select.of(self[name])
            for name in (
                *("state", "priority", "category", "team", "service", "source"),
                "sort",
            )
        ]


@dataclass(frozen=True)
class Select:
    """A select as the queue prints it: name, label, options, errors. Plain
    values, so the page keeps the printed selects by them (itsm.fragments)."""

    name: str
    id: str
    label: str
    options: tuple[tuple[str, str, bool], ...]  # value, label, selected
    errors: tuple[str, ...]

    @classmethod
    def of(cls, field: forms.BoundField) -> Select:
        chosen = "" if field.value() is None else str(field.value())
        options = tuple(
            (str(value), str(label), str(value) == chosen)
            for value, label in field.field.choices
        )
        errors = tuple(str(error) for error in field.errors)
        return cls(
            field.html_name, field.id_for_label, str(field.label), options, errors
        )


class VersionedForm(forms.Form):
    """Carries the incident version the person saw, so a change made meanwhile by
    someone else is reported, not overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NoteForm(VersionedForm, FilesForm):
    kind = forms.ChoiceField(
        choices=IncidentNote.Kind.choices,
        widget=forms.RadioSelect,
        initial=IncidentNote.Kind.WORK_NOTE,
    )
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 4}))


class UpdateForm(VersionedForm):
    body = forms.CharField(
        label="Stakeholder update", widget=forms.Textarea(attrs={"rows": 3})
    )
    is_public = forms.BooleanField(label="Public (status page)", required=False)


class TriageForm(VersionedForm):
    category = forms.ModelChoiceField(Category.objects.all())
    impact = forms.ChoiceField(choices=Impact.choices)
    urgency = forms.ChoiceField(choices=Urgency.choices)
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, help_text="Empty: the category's team."
    )


class ResolveForm(VersionedForm):
    resolution_kind = forms.ChoiceField(
        label="Fix", choices=Incident.ResolutionKind.choices
    )
    resolution = forms.CharField(
        label="What was done", widget=forms.Textarea(attrs={"rows": 3})
    )
    verification = forms.CharField(
        label="How it was verified", widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(VersionedForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class QuestionForm(VersionedForm):
    question = forms.CharField(
        label="Question to the requester", widget=forms.Textarea(attrs={"rows": 2})
    )


class MergeForm(VersionedForm):
    into = forms.CharField(label="Merge into (number)", max_length=20)


class PersonChoiceField(forms.ModelChoiceField):
    """A person by full name and username; a member of the incident's team (rows
    of ``selectors.assignable_people``) says so."""

    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        label = f"{name} ({obj.get_username()})" if name else obj.get_username()
        return f"{label} · in the team" if getattr(obj, "in_team", False) else label


class AssignForm(VersionedForm):
    """Members of the incident's team first, then everyone else who may take it."""

    assignee = PersonChoiceField(
        get_user_model().objects.none(), required=False, empty_label="Nobody"
    )

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.assignable_people(team=team)


class EscalateForm(VersionedForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class EditForm(VersionedForm):
    """What the incident is, as learnt since it was logged. A category, impact or
    urgency left empty stays as it is; the matrix recomputes the priority."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    category = forms.ModelChoiceField(
        Category.objects.all(), required=False, empty_label="Unchanged"
    )
    services = forms.ModelMultipleChoiceField(
        Service.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-multi-select": ""}),
    )
    impact = forms.ChoiceField(
        choices=_blank(Impact.choices, "Unchanged"), required=False
    )
    urgency = forms.ChoiceField(
        choices=_blank(Urgency.choices, "Unchanged"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Empty means "leave it": the service takes None for that.
        for name in ("category", "impact", "urgency"):
            if not data.get(name):
                data[name] = None
        return data


def _people() -> Any:
    return selectors.assignable_people(team=None)


class DeclareMajorForm(VersionedForm):
    """Declare a major incident, naming who runs it if already known."""

    commander = PersonChoiceField(_people(), required=False, empty_label="Not yet")
    comms_lead = PersonChoiceField(
        _people(),
        label="Communications lead",
        required=False,
        empty_label="Not yet",
    )
    bridge_url = forms.URLField(
        label="Bridge or chat link", required=False, assume_scheme="https"
    )


class MajorRolesForm(VersionedForm):
    commander = PersonChoiceField(_people(), required=False, empty_label="Nobody")
    comms_lead = PersonChoiceField(
        _people(), label="Communications lead", required=False, empty_label="Nobody"
    )
    responders = forms.ModelMultipleChoiceField(
        _people(),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-multi-select": ""}),
    )


class BridgeForm(VersionedForm):
    bridge_url = forms.URLField(
        label="Bridge or chat link", required=False, assume_scheme="https"
    )


class StakeholdersForm(VersionedForm):
    """Who receives each stakeholder update by email."""

    people = forms.ModelMultipleChoiceField(
        get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-multi-select": ""}),
    )
    addresses = forms.CharField(
        label="Other addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, or separated by commas.",
    )

    def clean_addresses(self) -> list[str]:
        text = self.cleaned_data["addresses"].replace(",", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]


# Ask the server for the matrix's answer whenever impact or urgency changes. A
# newer question replaces one still in flight, so a late answer to the older one
# never overwrites the newer answer.
LIVE_PRIORITY = {
    "hx-get": "/console/priority/",
    "hx-include": "[name=impact],[name=urgency]",
    "hx-target": "#priority-preview",
    "hx-trigger": "change",
    "hx-sync": "closest form:replace",
}


class IncidentCreateForm(FilesForm):
    """What an agent saw, or what someone told them on the phone, logged as a new
    incident: for a requester (searchable), with how to reach them and files."""

    title = forms.CharField(max_length=200)
    requester = PersonChoiceField(
        get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="Nobody (seen by me)",
        widget=forms.Select(attrs={"data-multi-select": ""}),
    )
    contact = forms.CharField(
        label="Contact details",
        max_length=200,
        required=False,
        help_text="How to reach the requester about this (phone, desk).",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    category = forms.ModelChoiceField(Category.objects.all(), required=False)
    services = forms.ModelMultipleChoiceField(
        Service.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-multi-select": ""}),
    )
    impact = forms.ChoiceField(
        choices=_blank(Impact.choices, "Not known yet"),
        required=False,
        widget=forms.Select(attrs=LIVE_PRIORITY),
    )
    urgency = forms.ChoiceField(
        choices=_blank(Urgency.choices, "Not known yet"),
        required=False,
        widget=forms.Select(attrs=LIVE_PRIORITY),
    )


class BulkAssignForm(forms.Form):
    """Give several incidents from the queue to one agent of their team."""

    incident = forms.MultipleChoiceField(
        choices=[], error_messages={"required": "Select the incidents to assign first."}
    )
    assignee = forms.ModelChoiceField(
        get_user_model().objects.none(), label="Assign to"
    )

    def __init__(
        self, *args: Any, agents: Any, numbers: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents
        self.fields["incident"].choices = [(n, n) for n in numbers]
