"""A major incident's command: who runs it, where responders meet, and who hears
of each stakeholder update."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MajorIncident(models.Model):
    """The major-incident record of an incident: declared by an incident manager,
    or by the system when the incident became P1/P2. One per incident; written
    only by the services of ``incidents.services.major``."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="major"
    )
    declared_at = models.DateTimeField()
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: declared by the system (the priority became P1/P2).",
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The incident commander: runs the response.",
    )
    comms_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="communications lead",
    )
    responders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    bridge_url = models.URLField(
        "bridge or chat link", max_length=500, blank=True, default=""
    )
    stakeholders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    # Addresses outside the user list (a customer's contact, a mailing list).
    stakeholder_addresses = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"major incident {self.incident_id}"
