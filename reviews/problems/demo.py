"""Demo data of problems: one open problem (the office Wi-Fi's morning drops) with
three linked incidents, so a newcomer sees the problem page filled. Loaded by
``seed_demo`` through ``settings.DEMO_LOADERS`` after the knowledge base's; safe
to load repeatedly (a problem whose title exists is left as it is)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Category, Incident, Problem, Service, Team
from reviews.problems import services

DEMO_PROBLEM = {
    "title": "Office Wi-Fi drops for everyone around 09:00",
    "description": "Every weekday morning, as people arrive, the office Wi-Fi "
    "drops for a few minutes on every floor.",
    "root_cause": "",
    "workaround": "",
}
DEMO_INCIDENTS = [
    ("Wi-Fi down on the 2nd floor", 9),
    ("Cannot connect to office Wi-Fi this morning", 5),
    ("Wi-Fi keeps dropping in the meeting rooms", 1),
]


@transaction.atomic
def demo_seed() -> str:
    """Load the demo problem and its incidents; returns a line for the command."""
    found = Problem.objects.filter(title=DEMO_PROBLEM["title"]).first()
    if found is not None:
        return f"Problems: {found.number} already there."
    manager = get_user_model().objects.get(username="incident_manager")
    category = Category.objects.get(name="Network")
    wifi = Service.objects.get(name="Office Wi-Fi")
    now = timezone.now()
    incidents: list[Incident] = []
    for title, days_ago in DEMO_INCIDENTS:
        at = now - timedelta(days=days_ago, hours=-9)
        incidents.append(
            incident_services.incident_log(
                by=None,
                title=title,
                description="Reported at the desk; the Wi-Fi came back after a "
                "few minutes.",
                source=Incident.Source.AGENT,
                category=category,
                services=[wifi],
                impact="medium",
                urgency="medium",
                now=min(at, now),
            )
        )
    problem = services.problem_create(
        by=manager,
        owner_team=Team.objects.get(name="Network Operations"),
        incidents=incidents,
        **DEMO_PROBLEM,
    )
    return f"Problems: {problem.number} open with {len(incidents)} incidents."
