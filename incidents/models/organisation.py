"""The organisation incidents are routed through: teams, categories and services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models


class Area(models.Model):
    """Not a table: the anchor for permissions that open an area of the product (the
    agent console, the requester portal, the dashboards) rather than one model."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("use_agent_console", "Can work incidents in the agent console"),
            ("use_requester_portal", "Can report and follow own incidents"),
            ("view_sla_dashboards", "Can read SLA dashboards"),
            ("manage_major_incidents", "Can own major (P1/P2) incidents"),
        ]

    def __str__(self) -> str:
        return "area"


def incident_manager_users() -> list[Any]:
    """The active users who own major incidents (the incident managers)."""
    return list(
        get_user_model()
        .objects.filter(
            models.Q(groups__permissions__codename="manage_major_incidents")
            | models.Q(user_permissions__codename="manage_major_incidents"),
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


class Team(models.Model):
    """A functional team of agents. It owns the incidents of the categories routed to
    it; escalation moves an incident on to ``next_tier``, a team of a higher tier."""

    class Tier(models.IntegerChoices):
        TIER_1 = 1, "Tier 1"
        TIER_2 = 2, "Tier 2"
        TIER_3 = 3, "Tier 3"

    name = models.CharField(max_length=100, unique=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_1)
    next_tier = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_from",
        help_text="Where incidents go when this team's SLA target is missed.",
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams"
    )
    email = models.EmailField(blank=True, help_text="Shared mailbox for notifications.")

    class Meta:
        ordering = ["tier", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tier__gte=1, tier__lte=3), name="team_tier_1_to_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (tier {self.tier})"

    def active_members(self) -> list[Any]:
        """The members who can be reached: active accounts only."""
        return list(self.members.filter(is_active=True).order_by("username"))

    def escalation_audience(self) -> tuple[list[Any], str]:
        """Who hears of an incident escalated to this team, and why them: its active
        members and its lead; with no active member, the lead alone; with neither,
        the incident managers. An escalation always reaches a person."""
        members = self.active_members()
        lead = self.lead if self.lead is not None and self.lead.is_active else None
        if members:
            people = members + ([lead] if lead and lead not in members else [])
            return people, f"{self.name}'s members and lead"
        if lead is not None:
            return [lead], f"{self.name} has no active members: its lead was told"
        return incident_manager_users(), (
            f"{self.name} has no active members and no lead: the incident managers "
            "were told"
        )

    def clean(self) -> None:
        # Escalation only ever goes up, which also rules out cycles.
        if self.next_tier_id is not None and self.next_tier.tier <= self.tier:
            raise ValidationError(
                {"next_tier": "The next tier must be a team of a higher tier."}
            )


class Category(models.Model):
    """What kind of problem an incident is (Software, Hardware, Network, Security);
    the category routes a new incident to the team that owns it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="categories",
        help_text="New incidents of this category are routed to this team.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """A service or configuration item: one of the "affected systems" an incident
    names. Public services appear on the status page."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
        help_text="The team that runs this service.",
    )
    is_public = models.BooleanField(
        default=True, help_text="Shown to requesters and on the public status page."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
