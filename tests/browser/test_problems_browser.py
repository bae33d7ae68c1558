"""Problems in a real browser: an incident manager opens the demo problem from the
navigation, writes down its cause and workaround, publishes the workaround as a
known error and follows the link to the article; a requester gets a 404. Light
and dark screenshots of the problem page for the README."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from incidents.demo import demo_seed
from kb.demo import demo_seed as kb_demo_seed
from reviews.problems.demo import DEMO_PROBLEM
from reviews.problems.demo import demo_seed as problems_demo_seed
from reviews.problems.recurrence import proposals_changed
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def demo(db: Any) -> None:
    demo_seed(password=PASSWORD)
    kb_demo_seed()
    problems_demo_seed()
    proposals_changed()


def test_incident_manager_publishes_a_known_error(new_page: Any, demo: None) -> None:
    page = new_page()
    log_in(page, "incident_manager", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Problems"
    ).click()
    expect(page.get_by_role("heading", name="Problems", level=1)).to_be_visible()
    page.get_by_role("row").filter(has_text=DEMO_PROBLEM["title"]).get_by_role(
        "link"
    ).click()
    expect(page.get_by_role("heading", name="Linked incidents (3)")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Root cause").fill("The access points reboot at 09:00.")
    page.get_by_label("Workaround").fill("Join the guest network until 09:10.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("saved.")).to_be_visible()
    page.get_by_role("button", name="Publish the workaround as a known error").click()
    expect(page.get_by_text(re.compile(r"Workaround published as KE-"))).to_be_visible()
    expect(page.locator(".state")).to_have_text("Known error")
    page.get_by_role("link", name=re.compile(r"^KE-")).click()
    expect(page.get_by_text("Join the guest network until 09:10.")).to_be_visible()

    requester = new_page()
    log_in(requester, "requester", PASSWORD)
    assert requester.goto("/problems/").status == 404


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_problem_page(
    new_page: Any, demo: None, scheme: str, tmp_path: Path
) -> None:
    """Both colour schemes render; with UPDATE_SCREENSHOTS=1 (make screenshots)
    the README's screenshots are written anew."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page = new_page(color_scheme=scheme, viewport={"width": 1280, "height": 1000})
    log_in(page, "agent", PASSWORD)
    page.goto("/problems/")
    page.get_by_role("link", name=re.compile(r"^PRB-")).first.click()
    expect(page.get_by_role("heading", name="Linked incidents (3)")).to_be_visible()
    path = folder / f"problem-{scheme}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000
