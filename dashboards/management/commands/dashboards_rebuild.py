from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dashboards.services import rollup_rebuild


class Command(BaseCommand):
    help = (
        "Compute the dashboards' rollups from scratch from every incident (after a "
        "restore, say). The periodic refresh keeps them current afterwards."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = rollup_rebuild()
        self.stdout.write(f"Rollups rebuilt from {count} incidents.")
