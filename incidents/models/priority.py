"""Priority from impact and urgency, through a matrix the admin can edit."""

from __future__ import annotations

from django.db import models


class Impact(models.TextChoices):
    """How much of the business is affected (people, business value)."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Urgency(models.TextChoices):
    """How soon the business needs it resolved."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Priority(models.IntegerChoices):
    P1 = 1, "P1 critical"
    P2 = 2, "P2 high"
    P3 = 3, "P3 medium"
    P4 = 4, "P4 low"

    @classmethod
    def major(cls) -> tuple[Priority, Priority]:
        """Major incidents: owned by an incident manager, stakeholder updates due."""
        return (cls.P1, cls.P2)


# The default matrix (impact down, urgency across); the initial migration loads it.
DEFAULT_MATRIX: dict[tuple[str, str], int] = {
    (Impact.HIGH, Urgency.HIGH): Priority.P1,
    (Impact.HIGH, Urgency.MEDIUM): Priority.P2,
    (Impact.HIGH, Urgency.LOW): Priority.P3,
    (Impact.MEDIUM, Urgency.HIGH): Priority.P2,
    (Impact.MEDIUM, Urgency.MEDIUM): Priority.P3,
    (Impact.MEDIUM, Urgency.LOW): Priority.P4,
    (Impact.LOW, Urgency.HIGH): Priority.P3,
    (Impact.LOW, Urgency.MEDIUM): Priority.P4,
    (Impact.LOW, Urgency.LOW): Priority.P4,
}


class PriorityMatrixCell(models.Model):
    """One cell of the Impact x Urgency matrix. All nine cells always exist; the admin
    edits their priority, never adds or deletes them."""

    impact = models.CharField(max_length=6, choices=Impact.choices)
    urgency = models.CharField(max_length=6, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["impact", "urgency"], name="priority_cell_unique"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_impact_display()} impact, {self.get_urgency_display()} urgency"
        )


def priority_for(impact: str, urgency: str) -> Priority:
    """The priority the matrix gives; the default cell if the row is missing."""
    cell = (
        PriorityMatrixCell.objects.filter(impact=impact, urgency=urgency)
        .values_list("priority", flat=True)
        .first()
    )
    return Priority(cell if cell is not None else DEFAULT_MATRIX[(impact, urgency)])
