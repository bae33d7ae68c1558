"""Writes of the product's configuration that the admin edits as a whole: the
priority matrix (all nine cells at once)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents.models import Impact, Priority, PriorityMatrixCell, Urgency


@transaction.atomic
def priority_matrix_update(*, cells: dict[tuple[str, str], int]) -> int:
    """Set the priority of every impact x urgency cell; all nine must be given
    with a known priority, else nothing is written (``ValidationError``).
    Returns how many cells changed. Incidents keep their priority until their
    impact or urgency next changes."""
    wanted = {(i, u) for i in Impact.values for u in Urgency.values}
    if set(cells) != wanted:
        raise ValidationError("Give a priority for each of the nine cells.")
    bad = [key for key, value in cells.items() if value not in Priority.values]
    if bad:
        raise ValidationError(f"Unknown priority in {len(bad)} cell(s).")
    changed = 0
    for (impact, urgency), priority in cells.items():
        cell, created = PriorityMatrixCell.objects.get_or_create(
            impact=impact, urgency=urgency, defaults={"priority": priority}
        )
        if created or cell.priority != priority:
            cell.priority = priority
            cell.save(update_fields=["priority"])
            changed += 1
    return changed
