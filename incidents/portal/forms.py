"""Forms of the requester portal, in plain words. They validate input only (the
files too, by content); the views call the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from incidents.models import Impact, Service, Urgency
from incidents.services.attachments import ACCEPT, attachments_check

# How a requester says impact and urgency, mapped to the matrix's terms.
AFFECTED = [
    (Impact.LOW, "Just me"),
    (Impact.MEDIUM, "Several people, or my team"),
    (Impact.HIGH, "Many people, customers, or the whole organisation"),
]
HOW_URGENT = [
    (Urgency.LOW, "It can wait: I can work around it"),
    (Urgency.MEDIUM, "It slows my work down"),
    (Urgency.HIGH, "I cannot work at all, or business has stopped"),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Any number of files (up to the limit), each checked by its content."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = ACCEPT

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        # attachments_check does the whole job (empty, size, type), naming each
        # refused file; Django's per-file checks would not say which one.
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        return attachments_check(uploads)


class FilesForm(forms.Form):
    """A form with an ``attachments`` field; the view passes ``request.FILES``."""

    attachments = FilesField(
        label="Attach files",
        help_text="Screenshots, a PDF or a log file; each at most the size limit shown.",
    )


class ReportForm(FilesForm):
    """Report a problem in a minute: what is wrong, where, how bad, how to reach you."""

    title = forms.CharField(
        label="What is wrong, in one line",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # The services requesters are told about (``Service.is_public``); internal
    # ones are for agents to set.
    service = forms.ModelChoiceField(
        Service.objects.filter(is_public=True).order_by("name"),
        label="Which service",
        required=False,
        empty_label="I don't know",
    )
    description = forms.CharField(
        label="What happened",
        help_text="What you did, what you expected and what you saw instead.",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
    )
    impact = forms.ChoiceField(
        label="Who is affected", choices=AFFECTED, widget=forms.RadioSelect
    )
    urgency = forms.ChoiceField(
        label="How urgent is it", choices=HOW_URGENT, widget=forms.RadioSelect
    )
    contact = forms.CharField(
        label="How to reach you (phone, desk), if not by email",
        max_length=200,
        required=False,
    )

    field_order = ["title", "service", "description", "impact", "urgency", "contact"]

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError("Say in a few words what is wrong.")
        return title


class ReplyForm(FilesForm):
    body = forms.CharField(
        label="Your reply", widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="What is still wrong",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5_000,
    )
