"""The alerts an agent reads on an incident (the Alerts panel, loaded after the
page) and the "test this integration" page: paste a payload, see what it would
do, nothing written."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from incidents import selectors
from incidents.access import area_required
from incidents.api.alerts import SAMPLES, signals_from_text
from incidents.console.views import CONSOLE, _incident_for
from incidents.models import Integration
from incidents.services.alerts import alert_preview


@require_GET
@area_required(CONSOLE, home="incidents:console")
def alerts_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The incident page's Alerts panel and the alert inspector (htmx, after the
    page has painted). A fixed number of queries, however many repeats."""
    incident = _incident_for(request, number)
    return render(
        request,
        "incidents/alerts/panel.html",
        {
            "incident": incident,
            "alerts": selectors.incident_alerts(incident=incident),
            "inspected": selectors.alert_inspector(incident=incident),
        },
    )


@require_http_methods(["GET", "POST"])
@area_required("incidents.view_integration", home="incidents:console")
def integration_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Paste a payload (or start from a sample of the integration's kind) and see
    the alerts it yields, their keys and what would happen to each. Writes
    nothing: the preview runs in a transaction that is always rolled back."""
    integration = get_object_or_404(Integration, pk=pk)
    body = json.dumps(SAMPLES[integration.kind], indent=2)
    preview = None
    status = 200
    if request.method == "POST":
        body = request.POST.get("payload", "")
        signals, errors = signals_from_text(integration.kind, body)
        preview = {
            "errors": errors,
            "alerts": alert_preview(integration=integration, signals=signals),
        }
        status = 400 if errors else 200
    return render(
        request,
        "incidents/alerts/integration_test.html",
        {"integration": integration, "body": body, "preview": preview},
        status=status,
    )
