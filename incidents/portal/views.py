"""Pages of the requester portal, and the one view that serves attachments.

Every page asks for login, then the portal permission; a ticket that is not the
person's own is a 404, like one that does not exist. Every write is one service
call followed by a redirect; a refused one comes back with the text as typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from incidents import services
from incidents.access import (
    add_service_errors,
    area_required,
    draft_key,
    sandboxed_file,
)
from incidents.exceptions import IncidentConflict, ReportLimitReached
from incidents.models import Attachment, Incident, Service
from incidents.portal import forms, selectors
from incidents.services.portal import incident_reply, incident_report
from itsm.fragments import blank_form

PORTAL = "incidents.use_requester_portal"


portal_required = area_required(PORTAL, home="incidents:portal")


def _ticket(request: HttpRequest, number: str) -> Incident:
    try:
        return selectors.ticket_get(user=request.user, number=number)
    except Incident.DoesNotExist:
        raise Http404 from None


def _upload_too_large(request: HttpRequest) -> bool:
    """Refuse a body larger than every allowed file together before reading it."""
    limit = settings.ATTACHMENT_MAX_FILES * settings.ATTACHMENT_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > limit + settings.PORTAL_FORM_ALLOWANCE_BYTES


def _too_large_response(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/too_large.html",
        {"max_files": settings.ATTACHMENT_MAX_FILES},
        status=413,
    )


# ---------------------------------------------------------------- my tickets
@portal_required
def portal(request: HttpRequest) -> HttpResponse:
    """My tickets, with the state of each in plain words."""
    tickets = [
        (ticket, selectors.plain_state(ticket))
        for ticket in selectors.ticket_list(user=request.user)[:200]
    ]
    return render(request, "portal/ticket_list.html", {"tickets": tickets})


# ---------------------------------------------------------------- report a problem
@portal_required
def report(request: HttpRequest) -> HttpResponse:
    """Report a problem. Over the service's hourly limit of reports per person,
    the form comes back (429) with the text kept."""
    if request.method != "POST":
        return render(
            request, "portal/report_form.html", _report_context(request, None)
        )
    if _upload_too_large(request):
        return _too_large_response(request)
    form = forms.ReportForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_report(
                by=request.user,
                title=data["title"],
                description=data["description"],
                service=data["service"],
                impact=data["impact"],
                urgency=data["urgency"],
                contact=data["contact"],
                files=data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except ReportLimitReached as refusal:
            form.add_error(None, f"{refusal.message} Your text is kept below.")
            status = 429
        else:
            messages.success(
                request,
                f"Thank you: your report is {incident.number}. We will reply here.",
                extra_tags=draft_key(request, "new", "report"),
            )
            return redirect("incidents:ticket", number=incident.number)
    return render(
        request,
        "portal/report_form.html",
        _report_context(request, form),
        status=status,
    )


def _report_context(
    request: HttpRequest, form: forms.ReportForm | None
) -> dict[str, Any]:
    limits = {
        "max_files": settings.ATTACHMENT_MAX_FILES,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
    }
    context = {"form": form, "draft": draft_key(request, "new", "report"), **limits}
    if form is None:
        # The blank form is the same for everyone until a public service changes.
        context["form"] = forms.ReportForm()
        context["blank_fields"] = blank_form(
            "portal/partials/report_fields.html", context["form"], **limits
        )
    return context


@require_GET
@portal_required
def similar(request: HttpRequest) -> HttpResponse:
    """Open incidents that look like the one being typed (htmx, as the title
    changes): "someone already reported this"."""
    title = request.GET.get("title", "")[:200]
    service = None
    service_id = request.GET.get("service", "")
    if service_id.isdigit() and len(service_id) <= 18:  # larger: no such row
        service = Service.objects.filter(pk=int(service_id)).first()
    found = selectors.similar_open_incidents(title=title, service=service)
    rows = [(incident, selectors.plain_state(incident)) for incident in found]
    return render(request, "portal/partials/similar.html", {"similar": rows})


# ---------------------------------------------------------------- one ticket
@portal_required
def ticket(request: HttpRequest, number: str) -> HttpResponse:
    return _ticket_page(request, _ticket(request, number))


def _ticket_page(
    request: HttpRequest,
    incident: Incident,
    bound: dict[str, django_forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    due = incident.confirmation_due_at
    awaiting = incident.status == Incident.Status.RESOLVED
    context = {
        "incident": incident,
        "state": selectors.plain_state(incident),
        "conversation": selectors.ticket_conversation(incident),
        "services": list(incident.services.all()),
        "reply_form": bound.get("reply") or forms.ReplyForm(auto_id="reply-%s"),
        "reopen_form": bound.get("reopen") or forms.ReopenForm(auto_id="reopen-%s"),
        "error": bound.get("error"),
        "can_reply": incident.status not in Incident.FINAL_STATUSES,
        "can_confirm": awaiting,
        # A refused reopen keeps its form, so the text typed is not lost.
        "can_reopen": awaiting
        and ("reopen" in bound or due is None or timezone.now() < due),
        "max_files": settings.ATTACHMENT_MAX_FILES,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "draft": draft_key(request, incident.number, ""),
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


def _ticket_form_sent(
    request: HttpRequest,
    incident: Incident,
    name: str,
    form: django_forms.Form,
    act: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Run ``act`` with a valid form's data. Saved: back to the ticket, saying
    ``done`` and dropping the form's draft. Refused: the ticket with the form as
    typed and why (400 for the input, 409 for the state)."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except IncidentConflict as conflict:
            form.add_error(None, conflict.message)
            return _ticket_page(request, incident, {name: form}, status=409)
        else:
            saved = draft_key(request, incident.number, name)
            messages.success(request, done, extra_tags=saved)
            return redirect("incidents:ticket", number=incident.number)
    return _ticket_page(request, incident, {name: form}, status=400)


@require_POST
@portal_required
def ticket_reply(request: HttpRequest, number: str) -> HttpResponse:
    incident = _ticket(request, number)
    if _upload_too_large(request):
        return _too_large_response(request)
    return _ticket_form_sent(
        request,
        incident,
        "reply",
        forms.ReplyForm(request.POST, request.FILES, auto_id="reply-%s"),
        lambda data: incident_reply(
            incident=incident,
            by=request.user,
            body=data["body"],
            files=data["attachments"],
        ),
        "Your reply is sent.",
    )


@require_POST
@portal_required
def ticket_confirm(request: HttpRequest, number: str) -> HttpResponse:
    """It is fixed: the incident closes."""
    incident = _ticket(request, number)
    try:
        services.incident_confirm(incident=incident, by=request.user)
    except IncidentConflict as conflict:
        return _ticket_page(request, incident, {"error": conflict.message}, status=409)
    messages.success(request, "Thank you for confirming: the ticket is closed.")
    return redirect("incidents:ticket", number=incident.number)


@require_POST
@portal_required
def ticket_reopen(request: HttpRequest, number: str) -> HttpResponse:
    """Still broken: back to the team, with the reason as a reply."""
    incident = _ticket(request, number)
    return _ticket_form_sent(
        request,
        incident,
        "reopen",
        forms.ReopenForm(request.POST, auto_id="reopen-%s"),
        lambda data: services.incident_reopen(
            incident=incident, by=request.user, reason=data["reason"]
        ),
        "Reopened: the team will look at it again.",
    )


# ---------------------------------------------------------------- attachments
@require_GET
@login_required
def attachment_download(request: HttpRequest, pk: str) -> FileResponse:
    """A file, to whoever may see its incident; 404 to anyone else. Always sent
    as a download, in a sandbox, so an uploaded file never runs as our page."""
    try:
        attachment = selectors.attachment_get(user=request.user, pk=pk)
    except (Attachment.DoesNotExist, ValidationError):
        raise Http404 from None
    return sandboxed_file(attachment)
