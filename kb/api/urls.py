"""``/api/v1/kb/``: articles, their search, versions and uses on incidents."""

from django.urls import path

from kb.api import views

urlpatterns = [
    path("articles/", views.ArticleListCreateApi.as_view(), name="article-list"),
    path("search/", views.ArticleSearchApi.as_view(), name="article-search"),
    path(
        "articles/<str:number>/",
        views.ArticleDetailApi.as_view(),
        name="article-detail",
    ),
    *(
        path(
            f"articles/<str:number>/{name}/",
            views.ArticleTransitionApi.for_transition(name).as_view(),
            name=f"article-{name}",
        )
        for name in views.TRANSITIONS
    ),
    path(
        "articles/<str:number>/versions/",
        views.ArticleVersionListApi.as_view(),
        name="article-versions",
    ),
    path(
        "articles/<str:number>/versions/<int:version>/",
        views.ArticleVersionDetailApi.as_view(),
        name="article-version",
    ),
    path(
        "articles/<str:number>/uses/",
        views.ArticleUseApi.as_view(),
        name="article-uses",
    ),
]
