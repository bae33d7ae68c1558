"""The home page of each role's area. Each view checks login first (anonymous users
are sent to the login page) and then the area permission (others get 403)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents import selectors


@login_required
@permission_required("incidents.use_agent_console", raise_exception=True)
def console(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list(member=request.user)
    return render(request, "incidents/console.html", {"teams": teams})


@login_required
@permission_required("incidents.use_requester_portal", raise_exception=True)
def portal(request: HttpRequest) -> HttpResponse:
    services = selectors.service_list(public_only=True)
    return render(request, "incidents/portal.html", {"services": services})


@login_required
@permission_required("incidents.view_sla_dashboards", raise_exception=True)
def dashboards(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list()
    return render(request, "incidents/dashboards.html", {"teams": teams})
