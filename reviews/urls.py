from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("reviews/", views.review_list, name="list"),
    path("reviews/action-items/", views.my_action_items, name="my_action_items"),
    path(
        "reviews/action-items/<int:pk>/<str:action>/",
        views.action_item_transition,
        name="action_item_transition",
    ),
    path(
        "reviews/incidents/<str:number>/panel/",
        views.incident_panel,
        name="incident_panel",
    ),
    path(
        "reviews/incidents/<str:number>/open/",
        views.incident_open_review,
        name="incident_open",
    ),
    path(
        "reviews/problems/<str:number>/panel/",
        views.problem_panel,
        name="problem_panel",
    ),
    path("reviews/<int:pk>/", views.review_detail, name="detail"),
    path("reviews/<int:pk>/edit/", views.review_edit, name="edit"),
    path("reviews/<int:pk>/milestones/", views.review_milestone, name="milestone"),
    path("reviews/<int:pk>/action-items/", views.action_item_add, name="item_add"),
    path("reviews/<int:pk>/known-error/", views.review_known_error, name="known_error"),
    path("reviews/<int:pk>/articles/", views.review_link, name="link"),
    path("reviews/<int:pk>/print/", views.review_print, name="print"),
    path("reviews/<int:pk>/export.md", views.review_export, name="export"),
    path(
        "reviews/<int:pk>/<str:action>/",
        views.review_transition,
        name="transition",
    ),
]
