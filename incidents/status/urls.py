"""The status page's addresses: the public ones (page, entries, JSON, the
Statuspage-shaped API, the feed, subscribing) and its console pages."""

from django.urls import path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from incidents.status import feeds, manage, views

app_name = "status"

urlpatterns = [
    path("status", views.status_html, name="page"),
    path("status/", RedirectView.as_view(pattern_name="status:page", permanent=True)),
    path("status.json", views.status_json, name="json"),
    path("status/feed.atom", require_safe(feeds.StatusFeed()), name="feed"),
    path("status/incidents/<str:public_id>", views.entry_page, name="entry"),
    path("status/subscribe", views.subscribe, name="subscribe"),
    path("status/subscribe/confirm/<str:token>", views.confirm, name="confirm"),
    path("status/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("api/v2/<path:endpoint>", views.statuspage_api, name="api"),
    # The console's status pages (before the incident pages' console/<number>/).
    path("console/status/", manage.status_console, name="console"),
    path(
        "console/status/maintenance/new/",
        manage.maintenance_new,
        name="maintenance_new",
    ),
    path(
        "console/status/maintenance/<str:public_id>/cancel/",
        manage.maintenance_cancel,
        name="maintenance_cancel",
    ),
    path(
        "console/status/incident/<str:number>/",
        manage.entry_for_incident,
        name="console_incident",
    ),
    path("console/status/<str:public_id>/", manage.entry_console, name="console_entry"),
    path(
        "console/status/<str:public_id>/messages/<str:message_id>/",
        manage.message_edit,
        name="console_message",
    ),
    path(
        "console/status/<str:public_id>/<str:action>/",
        manage.entry_action,
        name="console_action",
    ),
]
