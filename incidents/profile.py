"""A person's profile page (console and portal alike): the time zone every time
is shown in, and, for staff, which events reach them by email."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from incidents.services.inbox import profile_of, profile_update
from incidents.services.notifications import EVENT_LABELS
from incidents.timezones import remember_time_zone


@cache
def zone_choices() -> list[tuple[str, str]]:
    names = sorted(
        name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"
    )
    return [("", f"The service's time zone ({settings.TIME_ZONE})")] + [
        (name, name.replace("_", " ")) for name in names
    ]


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        choices=zone_choices,
        help_text="Every date and time in the console, the portal and your emails.",
    )
    email_events = forms.MultipleChoiceField(
        required=False,
        label="Email me when",
        choices=list(EVENT_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="Events you leave unticked still appear under the bell.",
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    staff = request.user.has_perm("incidents.use_agent_console")
    current = profile_of(request.user)
    form = ProfileForm(
        request.POST or None,
        initial={
            "time_zone": current.time_zone,
            "email_events": [e for e in EVENT_LABELS if current.wants_email(e)],
        },
    )
    if not staff:
        del form.fields["email_events"]
    if request.method == "POST" and form.is_valid():
        saved = profile_update(
            user=request.user,
            time_zone=form.cleaned_data["time_zone"],
            email_events=form.cleaned_data.get(
                "email_events", [e for e in EVENT_LABELS if current.wants_email(e)]
            ),
        )
        remember_time_zone(request, saved)
        messages.success(request, "Your profile is saved.")
        return redirect("incidents:profile")
    return render(request, "incidents/profile.html", {"form": form})
