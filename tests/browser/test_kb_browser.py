"""The knowledge base in a real browser: an agent triages an alert-born incident
against its known error, links it to the problem and applies the workaround; a
requester typing a report is offered a public article and reads it, and gets a
404 for an internal one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from incidents import services
from incidents.models import Category, Incident, IncidentEvent, Problem, Service
from incidents.roles import Role
from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_category, make_service, make_team, make_user
from tests.kb.conftest import make_article

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def kb(db: Any) -> dict[str, Any]:
    team = make_team(name="Network Operations")
    agent = make_user(role=Role.AGENT, username="alex", first_name="Alex")
    lead = make_user(role=Role.INCIDENT_MANAGER, username="imani")
    team.members.add(agent, lead)
    make_category(name="Network", team=team)
    vpn = make_service(name="VPN", team=team)
    make_user(role=Role.REQUESTER, username="rita", first_name="Rita")
    problem = Problem.objects.create(
        title="VPN concentrator drops idle tunnels after 60 minutes",
        workaround="Turn on Keep connection alive in the VPN client.",
        is_known_error=True,
    )
    known = make_article(
        team=team,
        by=agent,
        publish_by=lead,
        title="VPN disconnects every hour",
        symptoms="The VPN tunnel drops about once an hour.",
        body="Turn on **Keep connection alive** in the client and reconnect.",
        kind="known_error",
        audience="public",
        problem=problem,
        services=[vpn],
    )
    internal = make_article(
        team=team,
        by=agent,
        publish_by=lead,
        title="Fail over the VPN concentrator",
        body="Make the standby unit active first.",
        kind="runbook",
        audience="internal",
    )
    integration, _ = integration_create(name="prometheus", kind="alertmanager")
    alert_ingest(
        integration=integration,
        signals=[
            AlertSignal(
                dedup_key="vpn-tunnel-flap",
                status="firing",
                title="VPN tunnel disconnects for remote users",
                service="VPN",
            )
        ],
        payload={},
    )
    incident = Incident.objects.get(alerts__dedup_key="vpn-tunnel-flap")
    return {
        "problem": problem,
        "known": known,
        "internal": internal,
        "incident": incident,
    }


def test_agent_links_the_alert_to_its_known_error_and_applies_it(
    new_page: Any, kb: dict[str, Any]
) -> None:
    incident, known, problem = kb["incident"], kb["known"], kb["problem"]
    page = new_page()
    log_in(page, "alex", PASSWORD)
    page.goto(f"/console/{incident.number}/")
    panel = page.locator("#kb-articles")
    expect(panel).to_contain_text(f"Known error: {known.number} / {problem.number}")
    expect(panel).to_contain_text("Turn on Keep connection alive")

    panel.get_by_role("button", name=f"Link to {problem.number}").click()
    expect(page.locator(".message-success")).to_contain_text(
        f"{incident.number} linked to {problem.number}"
    )
    expect(page.locator("#kb-articles")).to_contain_text(f"Linked to {problem.number}")

    page.locator("#kb-articles").get_by_role(
        "button", name="Apply this article"
    ).first.click()
    expect(page.get_by_text("it is on the timeline")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text(
        f"Article applied · alex: {known.number}"
    )
    incident.refresh_from_db()
    assert incident.problem == problem and incident.known_error
    assert incident.events.filter(kind=IncidentEvent.Kind.ARTICLE_APPLIED).count() == 1


def test_requester_is_offered_a_public_article_while_typing(
    new_page: Any, kb: dict[str, Any]
) -> None:
    known, internal = kb["known"], kb["internal"]
    page = new_page()
    log_in(page, "rita", PASSWORD)
    page.goto("/portal/report/")
    page.get_by_label("What is wrong, in one line").press_sequentially(
        "vpn disconnects"
    )
    suggestion = page.locator("#kb-suggestions").get_by_role("link", name=known.title)
    expect(suggestion).to_be_visible()
    expect(page.locator("#kb-suggestions")).not_to_contain_text("concentrator")
    suggestion.click()
    expect(page.get_by_role("heading", name=known.title)).to_be_visible()
    expect(page.get_by_text("Keep connection alive")).to_be_visible()

    response = page.goto(f"/portal/kb/{internal.number}/")
    assert response.status == 404


def _resolved_before(kb: dict[str, Any]) -> None:
    """A resolved incident like the alert's, for the "Similar incidents" panel."""
    lead = get_user_model().objects.get(username="imani")
    earlier = services.incident_log(
        by=lead,
        title="VPN tunnel disconnects at the branch office",
        source="agent",
        services=Service.objects.filter(name="VPN"),
    )
    services.incident_triage(
        incident=earlier,
        by=lead,
        category=Category.objects.get(name="Network"),
        impact="medium",
        urgency="medium",
    )
    services.incident_start_work(incident=earlier, by=lead)
    services.incident_resolve(
        incident=earlier,
        by=lead,
        resolution_kind="workaround",
        resolution="Enabled keep-alive on the branch clients; tunnels stay up.",
        verification="No drop for two hours.",
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_knowledge_base(
    new_page: Any, kb: dict[str, Any], scheme: str, tmp_path: Path
) -> None:
    """With UPDATE_SCREENSHOTS=1 (make screenshots) the README's knowledge-base
    screenshots in docs/screenshots/ are written anew."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    _resolved_before(kb)
    page = new_page(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    log_in(page, "alex", PASSWORD)
    page.goto(f"/console/{kb['incident'].number}/")
    expect(page.locator("#kb-similar")).to_be_visible()
    page.locator("#kb-articles").scroll_into_view_if_needed()
    page.screenshot(path=folder / f"kb-incident-{scheme}.png")
    page.goto("/kb/?q=vpn+disconects")
    page.screenshot(path=folder / f"kb-search-{scheme}.png")
    assert (folder / f"kb-search-{scheme}.png").stat().st_size > 10_000
