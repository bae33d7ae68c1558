"""The console's notification list: the bell in the header (its unread count,
fetched by htmx so the page it sits on pays nothing for it), the list page, and
marking one or all read. Each person sees and marks only their own."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from incidents import selectors
from incidents.access import area_required
from incidents.services.inbox import notification_mark_read, notifications_mark_all_read

CONSOLE = "incidents.use_agent_console"
PAGE_SIZE = 50


@area_required(CONSOLE, home="incidents:notifications")
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's count (a fragment for the header)."""
    return render(
        request,
        "incidents/partials/bell.html",
        {"unread": selectors.unread_count(request.user)},
    )


@area_required(CONSOLE, home="incidents:notifications")
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "incidents/notification_list.html",
        {"page": page, "unread": selectors.unread_count(request.user)},
    )


@require_POST
@area_required(CONSOLE, home="incidents:notifications")
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read; with ``open`` set, go on to its incident."""
    notification = notification_mark_read(user=request.user, pk=pk)
    if request.POST.get("open"):
        return redirect("incidents:detail", number=notification.incident.number)
    return redirect(_back(request))


@require_POST
@area_required(CONSOLE, home="incidents:notifications")
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "incidents:notifications"
