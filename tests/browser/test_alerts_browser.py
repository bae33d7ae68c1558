"""The Alerts panel in a real browser: an agent opens an alert-born incident, reads
the alert (labels, state, counted repeats) and follows its runbook link."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from incidents.models import Incident
from incidents.roles import Role
from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_service, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def alert_born(live_server: Any) -> Incident:
    """An incident opened by Alertmanager, its alert repeated, with a runbook on
    this server (the machines have no network)."""
    make_user(role=Role.AGENT, username="alex")
    service = make_service(name="Web shop")
    integration, _ = integration_create(
        name="Prometheus", kind="alertmanager", default_service=service
    )
    signal = AlertSignal(
        dedup_key="5f1e0c9a7b3d2e41f0e1d2c3b4a59687",
        status="firing",
        title="CPU above 90% on web-1",
        description="5-minute load average above 90% for 10 minutes.",
        severity="critical",
        labels={"alertname": "HighCPU", "instance": "web-1:9100", "job": "node"},
        annotations={"summary": "CPU above 90% on web-1"},
        links=[
            {"href": f"{live_server.url}/status/", "text": "Runbook"},
            {"href": "http://prometheus.example.com/graph", "text": "Source"},
        ],
    )
    for _ in range(12):
        alert_ingest(integration=integration, signals=[signal], payload={"n": 1})
    return Incident.objects.get()


def test_agent_follows_the_runbook_from_the_alerts_panel(
    new_page: Any, alert_born: Incident
) -> None:
    page = new_page()
    log_in(page, "alex", PASSWORD)
    page.goto(f"/console/{alert_born.number}/")
    panel = page.locator("#alerts-panel")
    expect(panel.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(panel).to_contain_text(
        "CPU above 90% on web-1 (instance=web-1:9100, job=node)"
    )
    expect(panel).to_contain_text("Firing")
    expect(panel.locator(".chip").first).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("repeated 11 times")
    with page.context.expect_page() as opened:
        panel.get_by_role("link", name="Runbook").click()
    runbook = opened.value
    runbook.wait_for_load_state()
    assert runbook.url.rstrip("/").endswith("/status")
    assert runbook.title()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_alerts_panel(
    new_page: Any, alert_born: Incident, scheme: str, tmp_path: Path
) -> None:
    """With UPDATE_SCREENSHOTS=1 (make screenshots) the README's Alerts panel
    screenshots are written anew."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page = new_page(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    log_in(page, "alex", PASSWORD)
    page.goto(f"/console/{alert_born.number}/")
    panel = page.locator("#alerts-panel")
    expect(panel.locator(".chip").first).to_be_visible()
    panel.screenshot(path=folder / f"alerts-panel-{scheme}.png")
    assert (folder / f"alerts-panel-{scheme}.png").stat().st_size > 5_000
