from django.urls import path

from incidents import profile
from incidents.console import alerts, notifications, views
from incidents.portal import views as portal

app_name = "incidents"

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/new/", views.incident_new, name="new"),
    path("console/priority/", views.priority_preview, name="priority"),
    path("console/bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path(
        "console/notifications/", notifications.notification_list, name="notifications"
    ),
    path("console/notifications/bell/", notifications.bell, name="bell"),
    path(
        "console/notifications/read/",
        notifications.notification_read_all,
        name="notifications_read",
    ),
    path(
        "console/notifications/<int:pk>/read/",
        notifications.notification_read,
        name="notification_read",
    ),
    path("profile/", profile.profile, name="profile"),
    path(
        "console/integrations/<int:pk>/test/",
        alerts.integration_test,
        name="integration_test",
    ),
    path("console/<str:number>/", views.incident_detail, name="detail"),
    path("console/<str:number>/alerts/", alerts.alerts_panel, name="alerts_panel"),
    path("console/<str:number>/<str:action>/", views.incident_action, name="action"),
    path("portal/", portal.portal, name="portal"),
    path("portal/report/", portal.report, name="report"),
    path("portal/similar/", portal.similar, name="similar"),
    path("portal/tickets/<str:number>/", portal.ticket, name="ticket"),
    path("portal/tickets/<str:number>/reply/", portal.ticket_reply, name="reply"),
    path("portal/tickets/<str:number>/confirm/", portal.ticket_confirm, name="confirm"),
    path("portal/tickets/<str:number>/reopen/", portal.ticket_reopen, name="reopen"),
    path("attachments/<uuid:pk>/", portal.attachment_download, name="attachment"),
]
