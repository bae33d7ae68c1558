from django.urls import path

from kb import views

app_name = "kb"

urlpatterns = [
    path("kb/", views.article_list, name="list"),
    path("kb/new/", views.article_new, name="new"),
    path("kb/files/<uuid:pk>/", views.attachment_download, name="attachment"),
    path(
        "kb/incidents/<str:number>/panels/",
        views.incident_panels,
        name="incident_panels",
    ),
    path(
        "kb/incidents/<str:number>/use/<str:article>/",
        views.incident_use,
        name="incident_use",
    ),
    path(
        "kb/incidents/<str:number>/link/<str:article>/",
        views.incident_link,
        name="incident_link",
    ),
    path(
        "kb/incidents/<str:number>/problem/<int:problem>/",
        views.incident_link_problem,
        name="incident_link_problem",
    ),
    path("kb/<str:number>/", views.article_detail, name="detail"),
    path("kb/<str:number>/edit/", views.article_edit, name="edit"),
    path("kb/<str:number>/files/", views.article_attach, name="attach"),
    path(
        "kb/<str:number>/versions/<int:version>/",
        views.version_detail,
        name="version",
    ),
    path("kb/<str:number>/<str:action>/", views.article_action, name="action"),
    path("portal/kb/", views.portal_list, name="portal_list"),
    path("portal/kb/suggest/", views.portal_suggest, name="portal_suggest"),
    path("portal/kb/<str:number>/", views.portal_article, name="portal_article"),
]
