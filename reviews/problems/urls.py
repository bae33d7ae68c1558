"""``/problems/``: the console's problem pages."""

from django.urls import path

from reviews.problems import views

app_name = "problems"

urlpatterns = [
    path("", views.problem_list, name="list"),
    path("new/", views.problem_new, name="new"),
    path("recurring/", views.problem_from_recurrence, name="from_recurrence"),
    path("<str:number>/", views.problem_detail, name="detail"),
    path("<str:number>/edit/", views.problem_edit, name="edit"),
    path("<str:number>/link/", views.problem_link, name="link"),
    path("<str:number>/unlink/<str:incident>/", views.problem_unlink, name="unlink"),
    path("<str:number>/<str:action>/", views.problem_action, name="action"),
]
