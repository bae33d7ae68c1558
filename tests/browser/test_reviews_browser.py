"""A post-incident review in a real browser: an incident manager opens the review
of a resolved P1 from the incident page, corrects a milestone, writes the five
whys, adds an action item with an owner, writes a known-error article from the
review, approves and publishes it, and the print view shows it all."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from incidents.roles import Role
from kb.models import Article
from reviews.models import Review, ReviewPolicy
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_category, make_service, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture
def outage(db: Any) -> Any:
    team = make_team(name="Messaging")
    agent = make_user(role=Role.AGENT, username="alex", first_name="Alex")
    lead = make_user(role=Role.INCIDENT_MANAGER, username="imani")
    team.members.add(agent, lead)
    # A small team: the incident manager who writes the review also approves it.
    ReviewPolicy.objects.create(allow_self_approval=True)
    incident = services.incident_log(
        by=agent,
        title="Mail relay rejects all outgoing mail",
        source="agent",
        services=[make_service(name="Mail", team=team)],
    )
    services.incident_triage(
        incident=incident,
        by=agent,
        category=make_category(name="Email", team=team),
        impact="high",
        urgency="high",
    )
    services.incident_start_work(incident=incident, by=agent)
    services.incident_resolve(
        incident=incident,
        by=agent,
        resolution_kind="workaround",
        resolution="Cleared the relay's disk and restarted it.",
        verification="Test mail delivered.",
    )
    return incident


def test_screenshots_of_a_review_written_approved_and_printed(
    new_page: Any, outage: Any, tmp_path: Path
) -> None:
    """With UPDATE_SCREENSHOTS=1 (make screenshots) it also writes the README's
    review screenshots in docs/screenshots/."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, "imani", PASSWORD)
    page.goto(f"/console/{outage.number}/")
    review = Review.objects.get(incident=outage)
    page.locator("#review-panel").get_by_role("link", name=review.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(review.number)

    started = (timezone.localtime(outage.logged_at) - timedelta(minutes=25)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    page.locator("#ms-name").select_option("started")
    page.locator("#ms-at").fill(started)
    page.locator("#ms-note").fill("Bounces began before anyone reported them.")
    page.get_by_role("button", name="Correct milestone").click()
    expect(page.get_by_text("Milestone started corrected.")).to_be_visible()
    expect(page.locator("text=corrected").first).to_be_visible()

    page.locator("#id_five_whys").fill(
        "Mail was rejected\nThe relay's disk was full\nLogs were never rotated"
    )
    page.locator("#id_root_cause").fill("Log rotation was never set up on the relay.")
    page.locator("#id_workaround").fill("Clear the relay's disk and restart it.")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review saved.")).to_be_visible()

    page.locator("#id_title").fill("Set up log rotation on the mail relay")
    page.locator("#id_owner_user").select_option(label="alex")
    page.locator("#id_due_on").fill(
        (timezone.localdate() + timedelta(days=7)).isoformat()
    )
    page.get_by_role("button", name="Add action item").click()
    expect(page.get_by_text("Action item added.")).to_be_visible()
    expect(
        page.get_by_role("cell", name="Set up log rotation on the mail relay")
    ).to_be_visible()

    page.get_by_role("link", name="Write a known error from this review").click()
    expect(page.locator("#id_body")).to_have_value(
        "## Root cause\n\nLog rotation was never set up on the relay.\n\n"
        "## Five whys\n\n1. Mail was rejected\n2. The relay's disk was full\n"
        "3. Logs were never rotated\n\n## Workaround\n\nClear the relay's disk and "
        f"restart it.\n\nFrom the post-incident review {review.number}."
    )
    page.get_by_role("button", name="Save draft").click()
    article = Article.objects.get()
    assert article.kind == Article.Kind.KNOWN_ERROR
    expect(page.get_by_role("heading", level=1)).to_contain_text(article.number)

    page.goto(f"/reviews/{review.pk}/")
    expect(
        page.get_by_role("link", name=f"{article.number} {article.title}")
    ).to_be_visible()
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".state")).to_contain_text("Published")

    page.screenshot(path=folder / "review-light.png", full_page=True)
    page.get_by_role("link", name="Print view").click()
    printed = page.locator(".print-view")
    for text in (
        "Log rotation was never set up on the relay.",
        "The relay's disk was full",
        "Set up log rotation on the mail relay",
        "alex",
        article.number,
        "corrected",
    ):
        expect(printed).to_contain_text(text)
    page.emulate_media(media="print")
    page.screenshot(path=folder / "review-print.png", full_page=True)
    assert (folder / "review-print.png").stat().st_size > 10_000
