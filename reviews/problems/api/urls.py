"""``/api/v1/problems/``: problems, their state changes, their incidents and
timeline, and the recurring errors that propose one."""

from django.urls import path

from reviews.problems.api import views

urlpatterns = [
    path("", views.ProblemListCreateApi.as_view(), name="problem-list"),
    path("recurring/", views.RecurringApi.as_view(), name="problem-recurring"),
    path("<str:number>/", views.ProblemDetailApi.as_view(), name="problem-detail"),
    path(
        "<str:number>/incidents/",
        views.ProblemIncidentsApi.as_view(),
        name="problem-incidents",
    ),
    path(
        "<str:number>/unlink/", views.ProblemUnlinkApi.as_view(), name="problem-unlink"
    ),
    path(
        "<str:number>/timeline/",
        views.ProblemTimelineApi.as_view(),
        name="problem-timeline",
    ),
    *(
        path(
            f"<str:number>/{name}/",
            views.ProblemTransitionApi.for_transition(name).as_view(),
            name=f"problem-{name}",
        )
        for name in views.TRANSITIONS
    ),
]
