from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from incidents import roles, timezones  # noqa: F401 - the login hook
        from incidents.console import queue
        from incidents.sla import policies

        # Keep each role's group in step with the code after every migrate, so a
        # fresh database (and every test database) has the roles ready.
        post_migrate.connect(roles.roles_sync_after_migrate, sender=self)
        # Cache glue only: the queue's cached select options are cleared when what
        # they list changes.
        queue.connect_signals()
        # And the SLA policies' cache when a policy or a calendar changes.
        policies.connect_signals()
