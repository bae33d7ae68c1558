"""Forms of the status page: subscribing (public), and publishing, messages and
maintenance (the console). They validate input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from incidents.models import MaintenanceWindow, Service, StatusEntry
from incidents.models.status import IMPACT_STATES

NOT_AFFECTED = ""
STATE_CHOICES = [(NOT_AFFECTED, "Not affected")] + [
    (state.value, state.label) for state in IMPACT_STATES
]


class Form(forms.Form):
    """Labels without a trailing colon, like the console's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SubscribeForm(Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We send a confirmation link first; nothing else until you "
        "follow it.",
    )
    components = forms.ModelMultipleChoiceField(
        Service.objects.filter(is_public=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only these components",
        help_text="None chosen: every component.",
    )
    webhook_url = forms.URLField(
        label="Webhook URL (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Instead of emails, each message is POSTed there as JSON, signed; "
        "the email address confirms it.",
    )


class ComponentStatesForm(Form):
    """One select per public service: not affected, or the state the entry
    puts it in. ``states()`` gives ``{service id: state}`` of the affected."""

    def __init__(
        self,
        *args: Any,
        services: list[Service],
        states: dict[int, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.services = services
        for service in services:
            self.fields[f"component-{service.pk}"] = forms.ChoiceField(
                label=service.name,
                choices=STATE_CHOICES,
                required=False,
                initial=(states or {}).get(service.pk, NOT_AFFECTED),
            )

    def component_fields(self) -> list[forms.BoundField]:
        return [self[f"component-{s.pk}"] for s in self.services]

    def states(self) -> dict[int, str]:
        return {
            service.pk: self.cleaned_data[f"component-{service.pk}"]
            for service in self.services
            if self.cleaned_data.get(f"component-{service.pk}")
        }


class PublishForm(ComponentStatesForm):
    title = forms.CharField(
        label="Public title",
        max_length=200,
        help_text="Written for the public: no internal names, numbers or jargon.",
    )
    message = forms.CharField(
        label="First message (investigating)", widget=forms.Textarea(attrs={"rows": 3})
    )


class PostForm(ComponentStatesForm):
    stage = forms.ChoiceField(choices=StatusEntry.Stage.choices)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}))


class TitleForm(Form):
    title = forms.CharField(label="Public title", max_length=200)


class MessageEditForm(Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}))


class MaintenanceForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    services = forms.ModelMultipleChoiceField(
        Service.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="Any service, public or not; only public ones are named on the "
        "status page.",
    )

    class Meta:
        model = MaintenanceWindow
        fields = [
            "services",
            "starts_at",
            "ends_at",
            "reason",
            "public_title",
            "public_message",
        ]
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "ends_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "reason": forms.Textarea(attrs={"rows": 2}),
            "public_message": forms.Textarea(attrs={"rows": 2}),
        }
