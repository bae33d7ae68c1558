"""``/api/v1/reviews/`` and ``/api/v1/action-items/``."""

from django.urls import path

from reviews.api import views

urlpatterns = [
    path("reviews/", views.ReviewListCreateApi.as_view(), name="review-list"),
    path("reviews/<int:pk>/", views.ReviewDetailApi.as_view(), name="review-detail"),
    path(
        "reviews/<int:pk>/milestones/<str:name>/",
        views.ReviewMilestoneApi.as_view(),
        name="review-milestone",
    ),
    *(
        path(f"reviews/<int:pk>/{name}/", view.as_view(), name=f"review-{name}")
        for name, view in views.review_transition_views.items()
    ),
    path("action-items/", views.ActionItemListCreateApi.as_view(), name="item-list"),
    path(
        "action-items/<int:pk>/",
        views.ActionItemDetailApi.as_view(),
        name="item-detail",
    ),
    *(
        path(f"action-items/<int:pk>/{name}/", view.as_view(), name=f"item-{name}")
        for name, view in views.item_transition_views.items()
    ),
]
