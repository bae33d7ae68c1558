from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("dashboards/", views.dashboard, name="index"),
    path("dashboards/incidents/", views.dashboard_incidents, name="incidents"),
    path("dashboards/digest/", views.digest, name="digest"),
    path("dashboards/<slug:name>.csv", views.dashboard_csv, name="csv"),
]
