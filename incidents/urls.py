from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/new/", views.incident_new, name="new"),
    path("console/priority/", views.priority_preview, name="priority"),
    path("console/bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("console/<str:number>/", views.incident_detail, name="detail"),
    path("console/<str:number>/<str:action>/", views.incident_action, name="action"),
    path("portal/", views.portal, name="portal"),
    path("dashboards/", views.dashboards, name="dashboards"),
]
