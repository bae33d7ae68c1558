"""A manager reads the dashboards in a real browser: changes the period, filters
to one team, opens the incidents behind a missed-target figure (as many as it
says), downloads a table as CSV; an agent sees only their teams; a requester
gets 404. Light and dark screenshots for the README."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from dashboards.services import rollup_refresh
from incidents.demo import demo_seed
from incidents.models import Team
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def demo(db: Any) -> None:
    """The demo organisation with its weeks of history, rolled up."""
    demo_seed(password=PASSWORD)
    rollup_refresh()


def test_manager_drills_from_a_missed_target_to_its_incidents(
    new_page: Any, demo: None, tmp_path: Path
) -> None:
    page = new_page()
    log_in(page, "manager", PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboards/$"))
    expect(page.get_by_role("heading", name="Dashboards", level=1)).to_be_visible()
    expect(page.get_by_text("Figures as of")).to_be_visible()

    page.get_by_label("Period", exact=True).select_option(label="Last 90 days")
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_role("heading", name=re.compile("^Last 90 days:"))
    ).to_be_visible()
    page.get_by_label("Team", exact=True).select_option(label="Service Desk")
    page.get_by_role("button", name="Show").click()
    dashboard = page.url
    query = parse_qs(urlsplit(page.url).query)
    assert query["period"] == ["90d"]
    assert query["team"] == [str(Team.objects.get(name="Service Desk").pk)]

    # The missed response targets of one priority in the period, in that team: the
    # first priority with any (the demo's history moves with the clock, and which
    # targets a business calendar sees missed with it).
    table = page.locator(
        "section", has=page.get_by_role("heading", name="SLA compliance by priority")
    )
    priority, missed = next(
        (p, link)
        for p in (1, 2, 3, 4)
        if (
            link := table.get_by_role("row", name=re.compile(f"^P{p} "))
            .get_by_role("cell")
            .nth(1)
            .get_by_role("link")
        ).count()
    )
    shown = int(missed.inner_text().replace(",", ""))
    assert shown > 0
    missed.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Response target missed"
    )
    assert int(page.locator("h1 .count").inner_text()) == shown
    rows = page.locator("table.queue tbody tr")
    listed = rows.count()
    while page.get_by_role("link", name="Older incidents").count():
        page.get_by_role("link", name="Older incidents").click()
        listed += rows.count()
    assert listed == shown
    assert query["team"] == parse_qs(urlsplit(page.url).query)["team"]

    page.goto(dashboard)
    link = page.locator("a.csv[href^='/dashboards/compliance_priority.csv?']")
    expect(link).to_have_accessible_name(
        re.compile(r"^Download CSV\s+of SLA compliance by priority$")
    )
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "compliance.csv"
    download.value.save_as(saved)
    lines = list(csv.reader(saved.open()))
    assert lines[0][:3] == ["Priority", "Response met", "Response missed"]
    chosen = next(line for line in lines if line[0] == str(priority))
    assert int(chosen[2]) == shown


def test_an_agent_sees_their_teams_and_a_requester_gets_404(
    new_page: Any, demo: None
) -> None:
    agent = new_page()
    log_in(agent, "agent", PASSWORD)
    agent.goto("/dashboards/")
    expect(agent.get_by_text("Your teams' incidents only.")).to_be_visible()
    options = agent.get_by_label("Team", exact=True).locator("option").all_inner_texts()
    assert options == ["Any", "Service Desk"]

    requester = new_page()
    log_in(requester, "requester", PASSWORD)
    response = requester.goto("/dashboards/")
    assert response.status == 404


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_dashboards(
    new_page: Any, demo: None, scheme: str, tmp_path: Path
) -> None:
    """Both colour schemes render; with UPDATE_SCREENSHOTS=1 (make screenshots)
    the README's screenshots are written anew."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page = new_page(color_scheme=scheme, viewport={"width": 1280, "height": 1500})
    log_in(page, "manager", PASSWORD)
    page.goto("/dashboards/")
    path = folder / f"dashboards-{scheme}.png"
    page.screenshot(path=path)
    assert path.stat().st_size > 10_000
