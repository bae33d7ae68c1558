"""The review and action item services: the lifecycle table, bad input, who may
do what, stale versions; nothing half-written when refused."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from reviews import services
from reviews.models import ActionItem, Review, ReviewPolicy
from reviews.selectors import corrected_milestones, reviews_visible_to
from tests.reviews.conftest import resolved

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org: SimpleNamespace) -> Review:
    return Review.objects.get(incident=resolved(org, 1))


def ready(review: Review, org: SimpleNamespace) -> Review:
    return services.review_update(
        review=review,
        by=org.agent,
        owner=org.agent,
        five_whys=["The relay stopped.", "Its disk filled.", "Logs never rotated."],
    )


def move_to(review: Review, org: SimpleNamespace, status: str) -> Review:
    order = [Review.Status.DRAFT, Review.Status.IN_REVIEW, Review.Status.APPROVED]
    ready(review, org)
    steps = {
        Review.Status.IN_REVIEW: lambda: services.review_submit(
            review=review, by=org.agent
        ),
        Review.Status.APPROVED: lambda: services.review_approve(
            review=review, by=org.lead
        ),
        Review.Status.PUBLISHED: lambda: services.review_publish(
            review=review, by=org.lead
        ),
    }
    for target in [*order, Review.Status.PUBLISHED]:
        if review.status == status:
            break
        if target in steps and review.status != target:
            steps[target]()
    return review


TABLE = [
    (Review.Status.DRAFT, "submit", True),
    (Review.Status.DRAFT, "send_back", False),
    (Review.Status.DRAFT, "approve", False),
    (Review.Status.DRAFT, "publish", False),
    (Review.Status.IN_REVIEW, "submit", False),
    (Review.Status.IN_REVIEW, "send_back", True),
    (Review.Status.IN_REVIEW, "approve", True),
    (Review.Status.IN_REVIEW, "publish", False),
    (Review.Status.APPROVED, "submit", False),
    (Review.Status.APPROVED, "send_back", False),
    (Review.Status.APPROVED, "approve", False),
    (Review.Status.APPROVED, "publish", True),
    (Review.Status.PUBLISHED, "submit", False),
    (Review.Status.PUBLISHED, "send_back", False),
    (Review.Status.PUBLISHED, "approve", False),
    (Review.Status.PUBLISHED, "publish", False),
]


@pytest.mark.parametrize(("state", "name", "allowed"), TABLE)
def test_review_lifecycle_table(
    org: SimpleNamespace, review: Review, state: str, name: str, allowed: bool
) -> None:
    move_to(review, org, state)
    assert review.status == state
    service = getattr(services, f"review_{name}")
    if allowed:
        service(review=review, by=org.manager if name != "submit" else org.agent)
        assert review.status != state
        assert review.events.filter(kind=name).exists()
    else:
        with pytest.raises(services.ReviewConflict):
            service(review=review, by=org.manager)
        review.refresh_from_db()
        assert review.status == state


def test_review_model_transitions_refuse_the_wrong_state(review: Review) -> None:
    for name in ("send_back", "approve", "publish"):
        with pytest.raises(TransitionNotAllowed):
            getattr(review, name)()


def test_review_status_is_protected(review: Review) -> None:
    with pytest.raises(AttributeError):
        review.status = Review.Status.PUBLISHED


def test_two_stale_copies_conflict(org: SimpleNamespace, review: Review) -> None:
    ready(review, org)
    one, two = Review.objects.get(pk=review.pk), Review.objects.get(pk=review.pk)
    one.submit()
    one.save()
    two.submit()
    with pytest.raises(ConcurrentTransition):
        two.save()


def test_a_stale_version_is_refused(org: SimpleNamespace, review: Review) -> None:
    seen = review.version
    services.review_update(review=review, by=org.agent, summary="First.")
    with pytest.raises(services.ReviewConflict) as caught:
        services.review_update(
            review=Review.objects.get(pk=review.pk),
            by=org.lead,
            expected_version=seen,
            summary="Second.",
        )
    assert caught.value.code == "stale"
    assert Review.objects.get(pk=review.pk).summary == "First."


def test_submit_needs_a_root_cause_and_an_owner(
    org: SimpleNamespace, review: Review
) -> None:
    assert review.owner == org.agent  # the assignee, by default
    services.review_update(review=review, by=org.agent, owner=None)
    with pytest.raises(ValidationError) as caught:
        services.review_submit(review=review, by=org.agent)
    assert {"root_cause", "owner"} <= set(caught.value.message_dict)
    assert Review.objects.get(pk=review.pk).status == Review.Status.DRAFT


def test_approving_your_own_submission_is_refused_unless_allowed(
    org: SimpleNamespace, review: Review
) -> None:
    ready(review, org)
    services.review_update(review=review, by=org.lead, owner=org.lead)
    services.review_submit(review=review, by=org.lead)
    with pytest.raises(PermissionDenied):
        services.review_approve(review=review, by=org.lead)
    assert Review.objects.get(pk=review.pk).status == Review.Status.IN_REVIEW
    ReviewPolicy.objects.create(allow_self_approval=True)
    services.review_approve(review=review, by=org.lead)
    assert review.status == Review.Status.APPROVED


def test_agents_may_not_approve(org: SimpleNamespace, review: Review) -> None:
    move_to(review, org, Review.Status.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        services.review_approve(review=review, by=org.agent)


def test_an_approved_review_is_read_only(org: SimpleNamespace, review: Review) -> None:
    move_to(review, org, Review.Status.APPROVED)
    version = review.version
    for write in (
        lambda: services.review_update(review=review, by=org.lead, summary="Late."),
        lambda: services.review_milestone_set(
            review=review,
            by=org.lead,
            incident=review.incident,
            name="detected",
            at=timezone.now() - timedelta(hours=1),
        ),
        lambda: services.action_item_create(
            by=org.lead,
            review=review,
            title="Late",
            owner_user=org.agent,
            due_on=timezone.localdate(),
        ),
    ):
        with pytest.raises(services.ReviewConflict) as caught:
            write()
        assert caught.value.code == "read_only"
    review.refresh_from_db()
    assert review.version == version and review.summary == ""
    assert not ActionItem.objects.exists()


def test_agents_of_other_teams_may_not_write(
    org: SimpleNamespace, review: Review
) -> None:
    with pytest.raises(PermissionDenied):
        services.review_update(review=review, by=org.outsider, summary="Mine now.")
    assert review not in reviews_visible_to(org.outsider)
    assert review not in reviews_visible_to(org.requester)
    assert review in reviews_visible_to(org.agent)
    move_to(review, org, Review.Status.PUBLISHED)
    assert review in reviews_visible_to(org.outsider)
    assert review not in reviews_visible_to(org.requester)


def test_review_owner_and_due_date_are_checked(
    org: SimpleNamespace, review: Review
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.review_update(review=review, by=org.agent, owner=org.requester)
    assert "owner" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.review_update(
            review=review,
            by=org.agent,
            due_at=timezone.now() - timedelta(days=1),
            summary="Half.",
        )
    assert "due_at" in caught.value.message_dict
    assert Review.objects.get(pk=review.pk).summary == ""


def test_milestones_are_corrected_for_the_dashboards(
    org: SimpleNamespace, review: Review
) -> None:
    earlier = review.incident.logged_at - timedelta(minutes=30)
    services.review_milestone_set(
        review=review,
        by=org.agent,
        incident=review.incident,
        name="started",
        at=earlier,
    )
    assert corrected_milestones([review.incident_id]) == {
        review.incident_id: {"started": earlier}
    }
    with pytest.raises(ValidationError):
        services.review_milestone_set(
            review=review,
            by=org.agent,
            incident=review.incident,
            name="detected",
            at=timezone.now() + timedelta(hours=1),
        )
    assert review.events.filter(kind="milestone_edited").count() == 1


ITEM_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("past due date", {"due_on": -1}, "due_on"),
    ("owner not an agent", {"owner_user": "requester"}, "owner"),
    ("no owner", {"owner_user": None}, "owner"),
    ("bad link", {"external_url": "javascript:alert(1)"}, "external_url"),
    ("no title", {"title": "  "}, "title"),
]


@pytest.mark.parametrize(("case", "change", "field"), ITEM_ERRORS)
def test_action_item_bad_input(
    org: SimpleNamespace, review: Review, case: str, change: dict[str, Any], field: str
) -> None:
    fields: dict[str, Any] = {
        "title": "Rotate the relay logs",
        "owner_user": org.agent,
        "due_on": timezone.localdate() + timedelta(days=7),
    }
    fields.update(change)
    if change.get("due_on") == -1:
        fields["due_on"] = timezone.localdate() - timedelta(days=1)
    if change.get("owner_user") == "requester":
        fields["owner_user"] = org.requester
    with pytest.raises(ValidationError) as caught:
        services.action_item_create(by=org.agent, review=review, **fields)
    assert field in caught.value.message_dict
    assert not ActionItem.objects.exists()
    assert not review.events.filter(kind="action_item_added").exists()


ITEM_TABLE = [
    (ActionItem.Status.OPEN, "start", True),
    (ActionItem.Status.OPEN, "complete", True),
    (ActionItem.Status.OPEN, "decline", True),
    (ActionItem.Status.OPEN, "reopen", False),
    (ActionItem.Status.IN_PROGRESS, "start", False),
    (ActionItem.Status.IN_PROGRESS, "complete", True),
    (ActionItem.Status.IN_PROGRESS, "decline", True),
    (ActionItem.Status.DONE, "complete", False),
    (ActionItem.Status.DONE, "reopen", True),
    (ActionItem.Status.WONT_DO, "start", False),
    (ActionItem.Status.WONT_DO, "reopen", True),
]


@pytest.mark.parametrize(("state", "name", "allowed"), ITEM_TABLE)
def test_action_item_lifecycle_table(
    org: SimpleNamespace, review: Review, state: str, name: str, allowed: bool
) -> None:
    item = services.action_item_create(
        by=org.agent,
        review=review,
        title="Rotate the relay logs",
        owner_team=org.team,
        due_on=timezone.localdate() + timedelta(days=3),
    )
    reach = {
        ActionItem.Status.IN_PROGRESS: services.action_item_start,
        ActionItem.Status.DONE: services.action_item_complete,
    }
    if state in reach:
        reach[state](item=item, by=org.agent)
    elif state == ActionItem.Status.WONT_DO:
        services.action_item_decline(item=item, by=org.agent, reason="Replaced.")
    service = getattr(services, f"action_item_{name}")
    extra = {"reason": "Not worth it."} if name == "decline" else {}
    if allowed:
        service(item=item, by=org.agent, **extra)
        assert item.status != state
    else:
        with pytest.raises(services.ReviewConflict):
            service(item=item, by=org.agent, **extra)
        assert ActionItem.objects.get(pk=item.pk).status == state


def test_wont_do_needs_a_reason(org: SimpleNamespace, review: Review) -> None:
    item = services.action_item_create(
        by=org.agent,
        review=review,
        title="Rotate the relay logs",
        owner_user=org.agent,
        due_on=timezone.localdate(),
    )
    with pytest.raises(ValidationError):
        services.action_item_decline(item=item, by=org.agent, reason=" ")
    assert ActionItem.objects.get(pk=item.pk).status == ActionItem.Status.OPEN
    services.action_item_complete(item=item, by=org.agent)
    kinds = list(review.events.values_list("kind", flat=True))
    assert "action_item_added" in kinds and "action_item_done" in kinds


def test_requesters_may_not_add_action_items(
    org: SimpleNamespace, review: Review
) -> None:
    with pytest.raises(PermissionDenied):
        services.action_item_create(
            by=org.requester,
            review=review,
            title="x",
            owner_user=org.agent,
            due_on=timezone.localdate(),
        )
