"""Demo data of the reviews: the most recent resolved P1 of the demo history gets
its post-incident review written up, approved and published, with two action
items, so a newcomer sees what a finished review looks like. Loaded by
``seed_demo`` through ``settings.DEMO_LOADERS`` after the incidents' history
(whose resolutions opened the reviews); loading it again changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, Priority, Team
from reviews import services
from reviews.models import Review

DEMO_SUMMARY = (
    "A critical service was unavailable for most users until the on-call engineer "
    "restarted it and cleared its queue."
)
DEMO_WHYS = [
    "Users could not work: the service answered every request with an error.",
    "Its worker pool was exhausted: every worker waited on a full message queue.",
    "The queue filled because its consumer had stopped after a failed deploy.",
    "The deploy's health check only tested the web tier, not the consumer.",
    "Nobody owned the consumer's monitoring after the last reorganisation.",
]


@transaction.atomic
def demo_seed() -> str:
    """Write up and publish the review of the latest resolved demo P1."""
    if Review.objects.filter(status=Review.Status.PUBLISHED).exists():
        return "Reviews: the demo review is published already."
    review = (
        Review.objects.filter(
            incident__priority=Priority.P1,
            incident__status__in=(Incident.Status.RESOLVED, Incident.Status.CLOSED),
            status=Review.Status.DRAFT,
        )
        .select_related("incident__team")
        .order_by("-incident__resolved_at")
        .first()
    )
    if review is None:
        return "Reviews: no resolved P1 to review in the demo data."
    users = get_user_model().objects.in_bulk(
        ["agent", "incident_manager", "manager"], field_name="username"
    )
    lead, manager, agent = users["incident_manager"], users["manager"], users["agent"]
    now = timezone.now()
    services.review_update(
        review=review,
        by=lead,
        owner=lead,
        summary=DEMO_SUMMARY,
        five_whys=DEMO_WHYS,
        root_cause="The message consumer stopped after a deploy and no check noticed.",
        workaround="Restart the service and clear its queue.",
        contributing_factors="The alert on queue depth had been muted for a "
        "migration and never unmuted.",
        went_well="The on-call engineer was paged within two minutes; stakeholder "
        "updates went out on time.",
        went_badly="It took forty minutes to find the stopped consumer.",
    )
    today = timezone.localdate(now)
    services.action_item_create(
        by=lead,
        review=review,
        title="Add the message consumer to the deploy health check",
        owner_user=agent,
        due_on=today + timedelta(days=10),
    )
    services.action_item_create(
        by=lead,
        review=review,
        title="Alert on queue depth, and review muted alerts weekly",
        owner_team=review.incident.team or Team.objects.order_by("pk").first(),
        due_on=today + timedelta(days=20),
        external_url="https://tracker.example.com/OPS-142",
    )
    services.review_submit(review=review, by=lead)
    services.review_approve(review=review, by=manager)
    services.review_publish(review=review, by=manager)
    return f"Reviews: {review.number} of {review.incident.number} published."
