from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("console/", views.console, name="console"),
    path("portal/", views.portal, name="portal"),
    path("dashboards/", views.dashboards, name="dashboards"),
]
