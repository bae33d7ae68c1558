"""``/api/v1/dashboards/``: the dashboards' figures as JSON (for a Grafana JSON or
Infinity data source, say)."""

from django.urls import path

from dashboards.api import views

app_name = "dashboards-api"

urlpatterns = [
    path("", views.DashboardApi.as_view(), name="summary"),
    path("tables/<slug:name>/", views.DashboardTableApi.as_view(), name="table"),
]
