"""The console's forms for reviews and action items. They only read what was
typed; the services decide what it may change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from incidents.models import Team
from reviews.models import MILESTONES, Review

DATETIME = forms.DateTimeInput(
    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)


def agents() -> QuerySet[Any]:
    """People who work in the agent console: the only possible owners."""
    codename = "use_agent_console"
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename=codename)
            | Q(user_permissions__codename=codename)
        )
        .distinct()
        .order_by("username")
    )


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    five_whys = forms.CharField(
        label="Five whys",
        help_text="One why a line, from the symptom down to the root cause.",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    root_cause = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    workaround = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    contributing_factors = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    went_well = forms.CharField(
        label="What went well", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    went_badly = forms.CharField(
        label="What went badly",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    owner = forms.ModelChoiceField(queryset=None, required=False)
    due_at = forms.DateTimeField(label="Due", widget=DATETIME)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = agents()

    @classmethod
    def for_review(cls, review: Review) -> ReviewForm:
        return cls(
            initial={
                "version": review.version,
                "summary": review.summary,
                "five_whys": "\n".join(review.five_whys),
                "root_cause": review.root_cause,
                "workaround": review.workaround,
                "contributing_factors": review.contributing_factors,
                "went_well": review.went_well,
                "went_badly": review.went_badly,
                "owner": review.owner_id,
                "due_at": review.due_at,
            }
        )

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["expected_version"] = data.pop("version")
        data["five_whys"] = data["five_whys"].splitlines()
        return data


class MilestoneForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    incident = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.ChoiceField(choices=[(m, m.capitalize()) for m in MILESTONES])
    at = forms.DateTimeField(label="When", widget=DATETIME)
    note = forms.CharField(max_length=300, required=False)


class ActionItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    owner_user = forms.ModelChoiceField(
        label="Owner (person)", queryset=None, required=False
    )
    owner_team = forms.ModelChoiceField(
        label="or owner (team)", queryset=Team.objects.order_by("name"), required=False
    )
    due_on = forms.DateField(
        label="Due", widget=forms.DateInput(attrs={"type": "date"})
    )
    external_url = forms.CharField(label="Tracker link", max_length=500, required=False)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_user"].queryset = agents()


class DeclineForm(forms.Form):
    reason = forms.CharField(max_length=2000)


class OpenForm(forms.Form):
    note = forms.CharField(
        label="Why this incident needs a review",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinkArticleForm(forms.Form):
    article = forms.CharField(label="Article number", max_length=30)
