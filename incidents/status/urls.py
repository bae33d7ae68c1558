from django.urls import path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from incidents.status import feeds, views

app_name = "status"

urlpatterns = [
    path("status", views.status_html, name="page"),
    path("status/", RedirectView.as_view(pattern_name="status:page", permanent=True)),
    path("status.json", views.status_json, name="json"),
    path("status/feed.atom", require_safe(feeds.StatusFeed()), name="feed"),
]
