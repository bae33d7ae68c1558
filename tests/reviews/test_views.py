"""The review pages: who sees what (requesters 404 everywhere), writes through
the services with 400/403/409 on refusal, print view and Markdown export, the
incident page's panel, and query counts that do not grow with the data."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kb.models import Article
from reviews import services
from reviews.models import ActionItem, Review, ReviewArticle
from tests.reviews.conftest import resolved

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org: SimpleNamespace) -> Review:
    return Review.objects.get(incident=resolved(org, 1))


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def published(review: Review, org: SimpleNamespace) -> Review:
    services.review_update(
        review=review,
        by=org.agent,
        five_whys=["Relay stopped", "Disk full"],
        root_cause="Logs never rotated.",
        went_well="Paging worked | fast.",
    )
    services.action_item_create(
        by=org.agent,
        review=review,
        title="Rotate relay logs",
        owner_user=org.agent,
        due_on=timezone.localdate() + timedelta(days=5),
    )
    services.review_submit(review=review, by=org.agent)
    services.review_approve(review=review, by=org.lead)
    services.review_publish(review=review, by=org.lead)
    return review


def urls(review: Review, item: ActionItem | None = None) -> list[tuple[str, str]]:
    pk = review.pk
    found = [
        ("get", reverse("reviews:list")),
        ("get", reverse("reviews:detail", args=[pk])),
        ("get", reverse("reviews:my_action_items")),
        ("get", reverse("reviews:print", args=[pk])),
        ("get", reverse("reviews:export", args=[pk])),
        ("get", reverse("reviews:known_error", args=[pk])),
        ("get", reverse("reviews:incident_panel", args=[review.incident.number])),
        ("post", reverse("reviews:incident_open", args=[review.incident.number])),
        ("post", reverse("reviews:edit", args=[pk])),
        ("post", reverse("reviews:milestone", args=[pk])),
        ("post", reverse("reviews:item_add", args=[pk])),
        ("post", reverse("reviews:link", args=[pk])),
        ("post", reverse("reviews:transition", args=[pk, "approve"])),
        ("get", "/api/v1/reviews/"),
        ("get", f"/api/v1/reviews/{pk}/"),
        ("post", f"/api/v1/reviews/{pk}/approve/"),
        ("get", "/api/v1/action-items/"),
    ]
    if item is not None:
        found += [
            (
                "post",
                reverse("reviews:action_item_transition", args=[item.pk, "complete"]),
            ),
            ("get", f"/api/v1/action-items/{item.pk}/"),
            ("post", f"/api/v1/action-items/{item.pk}/complete/"),
        ]
    return found


def test_requesters_get_404_on_every_page_and_endpoint(
    org: SimpleNamespace, review: Review
) -> None:
    published(review, org)
    item = review.action_items.get()
    client = client_for(org.requester)
    for method, url in urls(review, item):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert Review.objects.get(pk=review.pk).status == Review.Status.PUBLISHED
    assert ActionItem.objects.get(pk=item.pk).status == ActionItem.Status.OPEN


def test_anonymous_visitors_go_to_the_login_page(review: Review) -> None:
    response = Client().get(reverse("reviews:detail", args=[review.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_unpublished_review_of_another_team_is_404(
    org: SimpleNamespace, review: Review
) -> None:
    client = client_for(org.outsider)
    assert client.get(reverse("reviews:detail", args=[review.pk])).status_code == 404
    assert (
        client_for(org.agent)
        .get(reverse("reviews:detail", args=[review.pk]))
        .status_code
        == 200
    )


def test_the_review_page_shows_timeline_milestones_impact(
    org: SimpleNamespace, review: Review
) -> None:
    page = client_for(org.agent).get(reverse("reviews:detail", args=[review.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert review.incident.number in text
    for piece in ("Milestones", "Acknowledged", "Impact", "Mail", "Five whys"):
        assert piece in text
    assert "Write a known error from this review" in text


def test_editing_saves_through_the_service(
    org: SimpleNamespace, review: Review
) -> None:
    client = client_for(org.agent)
    response = client.post(
        reverse("reviews:edit", args=[review.pk]),
        {
            "version": review.version,
            "five_whys": "Relay stopped\nDisk full\n\nLogs never rotated",
            "root_cause": "No log rotation.",
            "owner": org.agent.pk,
            "due_at": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.five_whys == ["Relay stopped", "Disk full", "Logs never rotated"]


def test_a_stale_edit_is_409_and_changes_nothing(
    org: SimpleNamespace, review: Review
) -> None:
    response = client_for(org.agent).post(
        reverse("reviews:edit", args=[review.pk]),
        {
            "version": review.version + 5,
            "root_cause": "Mine.",
            "due_at": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 409
    assert Review.objects.get(pk=review.pk).root_cause == ""


def test_a_past_due_action_item_is_400(org: SimpleNamespace, review: Review) -> None:
    response = client_for(org.agent).post(
        reverse("reviews:item_add", args=[review.pk]),
        {
            "title": "Rotate",
            "owner_user": org.agent.pk,
            "due_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "cannot be in the past" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_an_agent_may_not_approve_403(org: SimpleNamespace, review: Review) -> None:
    services.review_update(review=review, by=org.agent, root_cause="Disk.")
    services.review_submit(review=review, by=org.agent)
    response = client_for(org.agent).post(
        reverse("reviews:transition", args=[review.pk, "approve"])
    )
    assert response.status_code == 403
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW


def test_editing_an_approved_review_is_409(
    org: SimpleNamespace, review: Review
) -> None:
    services.review_update(review=review, by=org.agent, root_cause="Disk.")
    services.review_submit(review=review, by=org.agent)
    services.review_approve(review=review, by=org.lead)
    response = client_for(org.lead).post(
        reverse("reviews:milestone", args=[review.pk]),
        {
            "version": review.version,
            "incident": review.incident_id,
            "name": "detected",
            "at": (timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 409
    assert not review.milestones.exists()


def test_print_and_markdown_of_a_published_review(
    org: SimpleNamespace, review: Review
) -> None:
    client = client_for(org.outsider)  # published: every agent reads it
    assert client.get(reverse("reviews:print", args=[review.pk])).status_code == 404
    published(review, org)
    page = client.get(reverse("reviews:print", args=[review.pk])).content.decode()
    for piece in ("Logs never rotated.", "Relay stopped", "Rotate relay logs"):
        assert piece in page
    export = client.get(reverse("reviews:export", args=[review.pk]))
    assert export["Content-Type"].startswith("text/markdown")
    text = export.content.decode()
    assert text.startswith(f"# {review.number}")
    assert "1. Relay stopped" in text and "| Rotate relay logs |" in text


def test_known_error_from_the_review_is_prefilled_and_linked(
    org: SimpleNamespace, review: Review
) -> None:
    services.review_update(
        review=review,
        by=org.agent,
        root_cause="Logs never rotated.",
        workaround="Restart the relay.",
    )
    client = client_for(org.lead)
    form = client.get(reverse("reviews:known_error", args=[review.pk])).content.decode()
    assert "Logs never rotated." in form and "Restart the relay." in form
    response = client.post(
        reverse("reviews:known_error", args=[review.pk]),
        {
            "title": "Mail relay disk full",
            "body": "## Root cause\n\nLogs never rotated.",
            "kind": "known_error",
            "audience": "internal",
            "owner_team": org.team.pk,
        },
    )
    article = Article.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == article.get_absolute_url()
    )
    link = review.links.get()
    assert link.article == article and link.relation == ReviewArticle.Relation.CREATED


def test_the_incident_page_links_to_its_review(
    org: SimpleNamespace, review: Review
) -> None:
    client = client_for(org.agent)
    page = client.get(
        reverse("incidents:detail", args=[review.incident.number])
    ).content.decode()
    assert reverse("reviews:incident_panel", args=[review.incident.number]) in page
    panel = client.get(reverse("reviews:incident_panel", args=[review.incident.number]))
    assert reverse("reviews:detail", args=[review.pk]) in panel.content.decode()


def test_an_incident_manager_opens_a_review_from_the_incident_page(
    org: SimpleNamespace,
) -> None:
    incident = resolved(org, 4)
    client = client_for(org.lead)
    panel = client.get(reverse("reviews:incident_panel", args=[incident.number]))
    assert "Open a review" in panel.content.decode()
    response = client.post(
        reverse("reviews:incident_open", args=[incident.number]), {"note": "Odd."}
    )
    review = Review.objects.get(incident=incident)
    assert response["Location"] == review.get_absolute_url()


def test_my_action_items_overdue_first_in_constant_queries(
    org: SimpleNamespace, review: Review, django_assert_num_queries: object
) -> None:
    today = timezone.localdate()
    later = services.action_item_create(
        by=org.agent,
        review=review,
        title="Later",
        owner_team=org.team,
        due_on=today + timedelta(days=9),
    )
    overdue = services.action_item_create(
        by=org.agent,
        review=review,
        title="Overdue",
        owner_user=org.agent,
        due_on=today,
    )
    ActionItem.objects.filter(pk=overdue.pk).update(due_on=today - timedelta(days=2))
    client = client_for(org.agent)
    client.get(reverse("reviews:my_action_items"))  # warm the session
    with django_assert_num_queries(2):  # user, items (session, perms: cached)
        page = client.get(reverse("reviews:my_action_items")).content.decode()
    assert page.index(overdue.title) < page.index(later.title)
    assert "overdue" in page


def test_review_page_queries_do_not_grow(
    org: SimpleNamespace, review: Review, django_assert_max_num_queries: object
) -> None:
    client = client_for(org.agent)
    url = reverse("reviews:detail", args=[review.pk])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(5):
        services.action_item_create(
            by=org.agent,
            review=review,
            title=f"Item {n}",
            owner_user=org.agent,
            due_on=timezone.localdate(),
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)
