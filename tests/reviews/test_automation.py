"""The automation rule end to end: one workaround applied three times to
incidents of one error signature opens one "Automate" action item for the
article's owner team; a fourth does not open another while it is open."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from incidents import services as incident_services
from incidents.models import Incident
from kb import services as kb_services
from kb.models import Article
from reviews.models import ActionItem, ReviewPolicy
from tests.kb.conftest import make_article

pytestmark = pytest.mark.django_db


def new_incident(org: SimpleNamespace, title: str) -> Incident:
    incident = incident_services.incident_log(
        by=org.agent, title=title, source="agent", services=[org.service]
    )
    incident_services.incident_triage(
        incident=incident,
        by=org.agent,
        category=org.category,
        impact="low",
        urgency="low",
    )
    return incident


def apply(
    org: SimpleNamespace, article: Article, n: int, capture: Any
) -> list[Incident]:
    incidents = []
    for i in range(n):
        incident = new_incident(org, f"Mail stuck {i}")
        with capture(execute=True):
            kb_services.article_use_record(
                article=article, incident=incident, by=org.agent
            )
        incidents.append(incident)
    return incidents


@pytest.fixture
def workaround(org: SimpleNamespace) -> Article:
    return make_article(
        team=org.team,
        by=org.agent,
        publish_by=org.lead,
        title="Flush the mail queue",
        kind=Article.Kind.WORKAROUND,
    )


def test_three_applications_open_one_automate_item_and_a_fourth_none(
    org: SimpleNamespace, workaround: Article, django_capture_on_commit_callbacks: Any
) -> None:
    first_two = apply(org, workaround, 2, django_capture_on_commit_callbacks)
    assert not ActionItem.objects.exists()
    third = apply(org, workaround, 1, django_capture_on_commit_callbacks)
    item = ActionItem.objects.get()
    assert item.title == "Automate: Flush the mail queue"
    assert item.source == ActionItem.Source.AUTOMATION
    assert item.owner_team == org.team and item.article == workaround
    assert set(item.incidents.all()) == {*first_two, *third}
    apply(org, workaround, 1, django_capture_on_commit_callbacks)
    assert ActionItem.objects.count() == 1


def test_a_how_to_never_opens_one(
    org: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    how_to = make_article(
        team=org.team, by=org.agent, publish_by=org.lead, title="How to send mail"
    )
    apply(org, how_to, 3, django_capture_on_commit_callbacks)
    assert not ActionItem.objects.exists()


def test_the_count_is_admin_set(
    org: SimpleNamespace, workaround: Article, django_capture_on_commit_callbacks: Any
) -> None:
    ReviewPolicy.objects.create(automation_uses=5)
    apply(org, workaround, 4, django_capture_on_commit_callbacks)
    assert not ActionItem.objects.exists()
    apply(org, workaround, 1, django_capture_on_commit_callbacks)
    assert ActionItem.objects.count() == 1
