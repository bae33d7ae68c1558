from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Manager dashboards: SLA compliance, time to acknowledge and resolve, volume,
    backlog, communication and alert noise, from rollups kept current by a
    periodic task."""

    name = "dashboards"
    verbose_name = "Dashboards"
