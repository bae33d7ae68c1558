"""The status page in the agent console: what is proposed, published and
planned; an entry's page, where incident managers publish it, post its public
messages, reword it and resolve it; and planning maintenance.

Everyone in the console may read these pages; the forms are offered to, and the
services accept them only from, those who may publish (``access.may_publish``).
Every write is one service call followed by a redirect; a refused form comes
back with what was typed and why (400, or 409 when the entry moved on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.access import add_service_errors, area_required
from incidents.exceptions import IncidentConflict
from incidents.models import (
    Incident,
    MaintenanceWindow,
    Service,
    StakeholderUpdate,
    StatusEntry,
    StatusMessage,
)
from incidents.selectors import incidents_visible_to
from incidents.status import selectors, services
from incidents.status.access import MAINTENANCE_PERMISSION, may_publish
from incidents.status.forms import (
    MaintenanceForm,
    MessageEditForm,
    PostForm,
    PublishForm,
    TitleForm,
)

console_required = area_required("incidents.use_agent_console", home="status:console")
# The entry page's forms, by the action they post to, and their buttons.
ACTIONS = {
    "publish": PublishForm,
    "post": PostForm,
    "title": TitleForm,
}
UNSENT_LABELS = {"publish": "Publish", "post": "Post message", "title": "Save"}


def _public_services() -> list[Service]:
    return list(Service.objects.filter(is_public=True).order_by("name"))


@console_required
def status_console(request: HttpRequest) -> HttpResponse:
    """Proposals waiting for a decision, open entries (those whose incident is
    resolved marked), recently resolved ones, and planned maintenance."""
    now = timezone.now()
    context = {
        "proposals": selectors.status_proposals(),
        "open_entries": selectors.status_entries_open(),
        "resolved_entries": selectors.status_entries_resolved(),
        "windows": selectors.maintenance_windows_upcoming(now=now),
        "now": now,
        "may_plan": request.user.has_perm(MAINTENANCE_PERMISSION),
    }
    return render(request, "status/manage/console.html", context)


def _entry(public_id: str) -> StatusEntry:
    entry = selectors.status_entry_for_console(public_id=public_id)
    if entry is None:
        raise Http404
    return entry


def _current_states(entry: StatusEntry) -> dict[int, str]:
    return {i.service_id: i.state for i in entry.all_impacts if i.end_at is None}


def _forms(entry: StatusEntry, services_list: list[Service]) -> dict[str, Any]:
    incident = entry.incident
    latest = (
        StakeholderUpdate.objects.filter(incident=incident, is_public=True)
        .order_by("-created_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    return {
        "publish": PublishForm(
            services=services_list,
            states=services.suggested_states(incident),
            initial={"title": entry.title, "message": latest or ""},
            auto_id="publish-%s",
        ),
        "post": PostForm(
            services=services_list,
            states=_current_states(entry),
            initial={
                "stage": StatusEntry.Stage.RESOLVED
                if entry.resolution_proposed_at
                else entry.stage
            },
            auto_id="post-%s",
        ),
        "title": TitleForm(initial={"title": entry.title}, auto_id="title-%s"),
    }


def _page(
    request: HttpRequest,
    entry: StatusEntry,
    *,
    failed: tuple[str, django_forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    services_list = _public_services()
    unsent = None
    if failed is not None:
        # It comes back on top as typed, with why; its blank twin stays below,
        # so its fields take other ids.
        action, form = failed
        form.auto_id = f"unsent-{action}-%s"
        url = reverse("status:console_action", args=[entry.public_id, action])
        unsent = {"label": UNSENT_LABELS[action], "form": form, "url": url}
    context = {
        "entry": entry,
        "forms": _forms(entry, services_list),
        "unsent": unsent,
        "may_publish": may_publish(request.user, entry.incident),
        "message_forms": [
            (m, MessageEditForm(initial={"body": m.body}, auto_id=f"m{m.pk}-%s"))
            for m in entry.all_messages
        ],
        "impacts": entry.all_impacts,
        "versions": entry.all_versions,
    }
    return render(request, "status/manage/entry.html", context, status=status)


@console_required
def entry_console(request: HttpRequest, public_id: str) -> HttpResponse:
    return _page(request, _entry(public_id))


@require_POST
@console_required
def entry_for_incident(request: HttpRequest, number: str) -> HttpResponse:
    """Open (propose) the entry of any incident, also one that is not major, to
    publish it."""
    try:
        incident = incidents_visible_to(request.user).by_number(number)
    except Incident.DoesNotExist:
        raise Http404 from None
    if not may_publish(request.user, incident):
        raise PermissionDenied
    entry = services.status_entry_propose(incident=incident)
    return redirect("status:console_entry", public_id=entry.public_id)


@require_POST
@console_required
def entry_action(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    """Publish, post a message (resolving is the stage "resolved"), reword the
    title, or dismiss a proposal."""
    entry = _entry(public_id)
    if action == "dismiss":
        return _run(request, entry, None, lambda: _dismiss(entry, request.user))
    form_class = ACTIONS.get(action)
    if form_class is None:
        raise Http404
    kwargs: dict[str, Any] = {"auto_id": f"{action}-%s"}
    if issubclass(form_class, PublishForm | PostForm):
        kwargs["services"] = _public_services()
    form = form_class(request.POST, **kwargs)
    if not form.is_valid():
        return _page(request, entry, failed=(action, form), status=400)
    return _run(
        request,
        entry,
        (action, form),
        lambda: _write(action, entry, form, request.user),
    )


def _dismiss(entry: StatusEntry, by: Any) -> str:
    services.status_entry_dismiss(entry=entry, by=by)
    return "Proposal dismissed."


def _write(action: str, entry: StatusEntry, form: Any, by: Any) -> str:
    """Run the action's service; returns what to tell the person."""
    data = form.cleaned_data
    if action == "publish":
        services.status_entry_publish(
            incident=entry.incident,
            by=by,
            title=data["title"],
            components=form.states(),
            message=data["message"],
        )
        return "Published on the status page."
    if action == "post":
        services.status_entry_post(
            entry=entry,
            by=by,
            stage=data["stage"],
            body=data["body"],
            components=form.states(),
        )
        return "Message posted."
    services.status_entry_edit_title(entry=entry, by=by, title=data["title"])
    return "Title updated."


def _run(
    request: HttpRequest,
    entry: StatusEntry,
    failed: tuple[str, django_forms.Form] | None,
    write: Callable[[], str],
) -> HttpResponse:
    """Run ``write``; back to the entry's page, or the form again with why."""
    try:
        done = write()
    except ValidationError as exc:
        if failed is None:
            raise
        add_service_errors(failed[1], exc)
        return _page(request, _entry(entry.public_id), failed=failed, status=400)
    except IncidentConflict as exc:
        if failed is None:
            messages.error(request, exc.message)
            return redirect("status:console_entry", public_id=entry.public_id)
        failed[1].add_error(None, exc.message)
        return _page(request, _entry(entry.public_id), failed=failed, status=409)
    messages.success(request, done)
    return redirect("status:console_entry", public_id=entry.public_id)


def _message_of(entry: StatusEntry, public_id: str) -> StatusMessage | None:
    return next((m for m in entry.all_messages if m.public_id == public_id), None)


@require_POST
@console_required
def message_edit(request: HttpRequest, public_id: str, message_id: str) -> HttpResponse:
    """Reword one published message."""
    entry = _entry(public_id)
    message = _message_of(entry, message_id)
    if message is None:
        raise Http404
    form = MessageEditForm(request.POST, auto_id=f"m{message.pk}-%s")
    if not form.is_valid():
        messages.error(request, "The message is empty: nothing was changed.")
        return redirect("status:console_entry", public_id=entry.public_id)
    try:
        services.status_message_edit(
            message=message, by=request.user, body=form.cleaned_data["body"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Message updated.")
    return redirect("status:console_entry", public_id=entry.public_id)


# ---------------------------------------------------------------- maintenance
@login_required
def maintenance_new(request: HttpRequest) -> HttpResponse:
    """Plan maintenance (admins and incident managers)."""
    if not request.user.has_perm(MAINTENANCE_PERMISSION):
        raise PermissionDenied
    form = MaintenanceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            window = form.save(commit=False)
            try:
                services.maintenance_window_save(
                    window=window,
                    by=request.user,
                    services=form.cleaned_data["services"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Maintenance planned.")
                return redirect("status:console")
    return render(
        request,
        "status/manage/maintenance_form.html",
        {"form": form, "time_zone": settings.TIME_ZONE},
        status=status,
    )


@require_POST
@login_required
def maintenance_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    window = MaintenanceWindow.objects.filter(public_id=public_id).first()
    if window is None:
        raise Http404
    services.maintenance_window_cancel(window=window, by=request.user)
    messages.success(request, "Maintenance cancelled.")
    return redirect("status:console")
