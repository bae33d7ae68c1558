"""The status page's part of the demo: component groups, the demo P1 published
with two messages, a past entry that ran six days ago (so uptime is not 100%
everywhere) and planned maintenance. Safe to run again: each part is made only
if it is missing."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from incidents import services as incident_services
from incidents.models import (
    Category,
    ComponentGroup,
    ComponentState,
    Incident,
    MaintenanceWindow,
    Service,
    StatusComponent,
    StatusEntry,
)
from incidents.status import services

# (group, position, its components)
DEMO_GROUPS = [
    ("Customer-facing", 1, ["Customer portal", "Email"]),
    ("Office and remote work", 2, ["VPN", "Office Wi-Fi"]),
]
DEMO_P1 = "Checkout returns 502 for some customers"
PAST_TITLE = "Webmail sign-ins fail after certificate rotation"
MAINTENANCE_TITLE = "VPN upgrade"


def demo_status_page(manager: Any, *, agent: Any) -> None:
    """Load the status page's demo data (``manager`` publishes)."""
    for name, position, members in DEMO_GROUPS:
        group, _ = ComponentGroup.objects.get_or_create(
            name=name, defaults={"position": position}
        )
        for order, service in enumerate(Service.objects.filter(name__in=members)):
            StatusComponent.objects.get_or_create(
                service=service,
                defaults={
                    "group": group,
                    "position": order,
                    "default_title": f"{service.name} is unavailable",
                },
            )
    _demo_p1(manager)
    _demo_past(manager, agent=agent)
    _demo_maintenance(manager)


def _published(incident: Incident) -> bool:
    return StatusEntry.objects.filter(
        incident=incident, status=StatusEntry.Status.PUBLISHED
    ).exists()


def _demo_p1(manager: Any) -> None:
    incident = Incident.objects.filter(title=DEMO_P1).first()
    if incident is None or _published(incident):
        return
    portal = Service.objects.get(name="Customer portal")
    now = timezone.now()
    entry = services.status_entry_publish(
        incident=incident,
        by=manager,
        title="Errors at checkout",
        components={portal.pk: ComponentState.PARTIAL},
        message="Some customers see an error when they pay. We are investigating.",
        now=now,
    )
    services.status_entry_post(
        entry=entry,
        by=manager,
        stage=StatusEntry.Stage.IDENTIFIED,
        body="We found the cause: one of the servers behind checkout is unwell. "
        "We are taking it out of service; payments may fail until then.",
        now=now + timedelta(seconds=1),
    )


def _demo_past(manager: Any, *, agent: Any) -> None:
    """A P2 on Email six days ago: published, identified, resolved in 100 min."""
    if Incident.objects.filter(title=PAST_TITLE).exists():
        return
    email = Service.objects.get(name="Email")
    software = Category.objects.get(name="Software")
    start = timezone.now().replace(microsecond=0) - timedelta(days=6, hours=3)
    incident = incident_services.incident_log(
        by=agent,
        title=PAST_TITLE,
        description="The mail gateway kept the old certificate after rotation.",
        source=Incident.Source.AGENT,
        category=software,
        services=[email],
        impact="high",
        urgency="medium",
        now=start,
    )
    steps = iter(start + timedelta(minutes=n) for n in (2, 3, 5, 30, 100, 101))
    incident_services.incident_triage(
        incident=incident,
        by=agent,
        category=software,
        impact="high",
        urgency="medium",
        now=next(steps),
    )
    incident_services.incident_start_work(incident=incident, by=agent, now=next(steps))
    entry = services.status_entry_publish(
        incident=incident,
        by=manager,
        title="Webmail sign-in problems",
        components={email.pk: ComponentState.PARTIAL},
        message="Some people cannot sign in to webmail. Mail is still delivered.",
        now=next(steps),
    )
    services.status_entry_post(
        entry=entry,
        by=manager,
        stage=StatusEntry.Stage.IDENTIFIED,
        body="We found the cause and are rolling out a fix.",
        now=next(steps),
    )
    resolved_at = next(steps)
    incident_services.incident_resolve(
        incident=incident,
        by=agent,
        resolution_kind=Incident.ResolutionKind.PERMANENT_FIX,
        resolution="Reloaded the gateway with the new certificate.",
        verification="Signed in to webmail from outside the office.",
        now=resolved_at,
    )
    services.status_entry_post(
        entry=entry,
        by=manager,
        stage=StatusEntry.Stage.RESOLVED,
        body="Webmail sign-ins work again. Sorry for the trouble.",
        now=next(steps),
    )


def _demo_maintenance(manager: Any) -> None:
    if MaintenanceWindow.objects.filter(public_title=MAINTENANCE_TITLE).exists():
        return
    today = timezone.localdate()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    starts = datetime.combine(
        saturday, time(22, 0), tzinfo=timezone.get_current_timezone()
    )
    window = MaintenanceWindow(
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        reason="Firmware upgrade of vpn-gw-2 (change CHG-2231).",
        public_title=MAINTENANCE_TITLE,
        public_message="The VPN will drop for a few minutes twice while we "
        "upgrade it. Reconnect if it does.",
    )
    services.maintenance_window_save(
        window=window, by=manager, services=Service.objects.filter(name="VPN")
    )
