"""``/api/v1/``: alert intake and incidents. Alert endpoints answer with and without
the trailing slash: a redirect would lose the POST body a sender retries."""

from django.urls import path, re_path

from incidents.api import alerts, views

urlpatterns = [
    re_path(r"^alerts/?$", alerts.GenericAlertsApi.as_view(), name="alerts-generic"),
    re_path(
        r"^alerts/alertmanager/?$",
        alerts.AlertmanagerAlertsApi.as_view(),
        name="alerts-alertmanager",
    ),
    re_path(
        r"^alerts/grafana/?$", alerts.GrafanaAlertsApi.as_view(), name="alerts-grafana"
    ),
    re_path(
        # Clients built for PagerDuty append its path, /v2/enqueue.
        r"^alerts/pagerduty(?:/v2/enqueue)?/?$",
        alerts.PagerDutyEventsApi.as_view(),
        name="alerts-pagerduty",
    ),
    path("incidents/", views.IncidentListCreateApi.as_view(), name="incident-list"),
    path(
        "incidents/<str:number>/",
        views.IncidentDetailApi.as_view(),
        name="incident-detail",
    ),
    *(
        path(
            f"incidents/<str:number>/transitions/{name}/",
            views.IncidentTransitionApi.for_transition(name).as_view(),
            name=f"incident-{name}",
        )
        for name in views.TRANSITION_ENDPOINTS
    ),
    path(
        "incidents/<str:number>/transitions/close/",
        views.IncidentCloseApi.as_view(),
        name="incident-close",
    ),
    path(
        "incidents/<str:number>/assign/",
        views.IncidentAssignApi.as_view(),
        name="incident-assign",
    ),
    path(
        "incidents/<str:number>/escalate/",
        views.IncidentEscalateApi.as_view(),
        name="incident-escalate",
    ),
    path(
        "incidents/<str:number>/notes/",
        views.IncidentNotesApi.as_view(),
        name="incident-notes",
    ),
    path(
        "incidents/<str:number>/updates/",
        views.IncidentUpdatesApi.as_view(),
        name="incident-updates",
    ),
    path(
        "incidents/<str:number>/timeline/",
        views.IncidentTimelineApi.as_view(),
        name="incident-timeline",
    ),
]
