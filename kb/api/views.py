"""The knowledge-base API. Reads start from ``articles_visible_to``, the same rule as
the pages; every write is one service call; publish, unpublish and retire are each
their own POST endpoint."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.views import IdField, IdRelatedField, VersionField, get_incident
from incidents.models import Category, Problem, Service, Team
from kb import selectors, services
from kb.api.serializers import (
    ArticleOutputSerializer,
    SearchOutputSerializer,
    UseOutputSerializer,
    VersionOutputSerializer,
)
from kb.models import Article, ArticleUse
from kb.search import article_search

NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="KB-000012 or KE-000012"
)


def get_article(request: Request, number: str) -> Article:
    """The article if the caller may read it; 404 otherwise."""
    try:
        return selectors.article_get(user=request.user, number=number)
    except Article.DoesNotExist:
        raise Http404 from None


def _output(request: Request, article: Article, **kwargs: Any) -> Response:
    article = get_article(request, article.number)  # fresh, with relations
    return Response(
        ArticleOutputSerializer(article, context={"request": request}).data, **kwargs
    )


# ---------------------------------------------------------------- list, search, create
class ArticleFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Article.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Article.Status.choices, required=False)
    service = IdField(required=False)
    category = IdField(required=False)


class ArticleSearchParams(ArticleFilterSerializer):
    q = serializers.CharField(max_length=200, help_text='Words, "a phrase", -word.')
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class ArticleInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    symptoms = serializers.CharField(required=False, allow_blank=True, default="")
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="Markdown, at most 200 kB.",
    )
    kind = serializers.ChoiceField(choices=Article.Kind.choices, default="how_to")
    audience = serializers.ChoiceField(
        choices=Article.Audience.choices, default="internal"
    )
    owner_team = IdRelatedField(queryset=Team.objects.all())
    services = IdRelatedField(
        queryset=Service.objects.all(), many=True, required=False, default=list
    )
    categories = IdRelatedField(
        queryset=Category.objects.all(), many=True, required=False, default=list
    )
    problem = IdRelatedField(
        queryset=Problem.objects.all(), required=False, allow_null=True, default=None
    )


def _filtered(request: Request, filters: dict[str, Any]) -> QuerySet[Article]:
    return selectors.article_list(
        user=request.user,
        kind=filters.get("kind", ""),
        service=filters.get("service"),
        category=filters.get("category"),
        status=filters.get("status", ""),
    )


class ArticleListCreateApi(ListAPIView):
    serializer_class = ArticleOutputSerializer

    def get_queryset(self) -> QuerySet[Article]:
        filters = ArticleFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return _filtered(self.request, filters.validated_data).order_by("-id")

    @extend_schema(
        parameters=[ArticleFilterSerializer], operation_id="kb_articles_list"
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request=ArticleInputSerializer,
        responses={201: ArticleOutputSerializer},
        operation_id="kb_articles_create",
    )
    def post(self, request: Request) -> Response:
        data = ArticleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = services.article_create(by=request.user, **data.validated_data)
        return _output(request, article, status=status.HTTP_201_CREATED)


class ArticleSearchApi(APIView):
    """Published articles the caller may read, best match first: the same search
    and ranking as the pages."""

    @extend_schema(
        parameters=[ArticleSearchParams],
        responses=SearchOutputSerializer,
        operation_id="kb_articles_search",
    )
    def get(self, request: Request) -> Response:
        params = ArticleSearchParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = dict(params.validated_data)
        result = article_search(
            articles=_filtered(request, values),
            query=values["q"],
            public_vocabulary=not selectors.reads_internal(request.user),
            limit=values["limit"],
        )
        return Response(SearchOutputSerializer(result).data)


# ---------------------------------------------------------------- one article
class ArticleUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    symptoms = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    kind = serializers.ChoiceField(choices=Article.Kind.choices, required=False)
    audience = serializers.ChoiceField(choices=Article.Audience.choices, required=False)
    owner_team = IdRelatedField(queryset=Team.objects.all(), required=False)
    services = IdRelatedField(queryset=Service.objects.all(), many=True, required=False)
    categories = IdRelatedField(
        queryset=Category.objects.all(), many=True, required=False
    )
    problem = IdRelatedField(
        queryset=Problem.objects.all(), required=False, allow_null=True
    )
    revision = VersionField(help_text="The revision you read; another is a 409.")


class ArticleDetailApi(APIView):
    @extend_schema(parameters=[NUMBER], responses=ArticleOutputSerializer)
    def get(self, request: Request, number: str) -> Response:
        return _output(request, get_article(request, number))

    @extend_schema(
        parameters=[NUMBER],
        request=ArticleUpdateInputSerializer,
        responses=ArticleOutputSerializer,
    )
    def patch(self, request: Request, number: str) -> Response:
        """Edit a draft (409 for a published or retired article, or when someone
        else saved since the ``revision`` you send)."""
        article = get_article(request, number)
        data = ArticleUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        revision = values.pop("revision", article.revision)
        services.article_update(
            article=article, by=request.user, revision=revision, **values
        )
        return _output(request, article)


class RevisionInput(serializers.Serializer):
    revision = VersionField()


TRANSITIONS = {
    "publish": services.article_publish,
    "unpublish": services.article_unpublish,
    "retire": services.article_retire,
}


class ArticleTransitionApi(APIView):
    """``POST /api/v1/kb/articles/{number}/{publish|unpublish|retire}/``; 409 when
    the state does not allow it (publishing a retired article, say)."""

    transition_name = ""

    def post(self, request: Request, number: str) -> Response:
        article = get_article(request, number)
        data = RevisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        TRANSITIONS[self.transition_name](
            article=article,
            by=request.user,
            revision=data.validated_data.get("revision"),
        )
        return _output(request, article)

    @classmethod
    def for_transition(cls, name: str) -> type[ArticleTransitionApi]:
        def post(self: ArticleTransitionApi, request: Request, number: str) -> Response:
            return cls.post(self, request, number)

        schema = extend_schema(
            parameters=[NUMBER],
            request=RevisionInput,
            responses=ArticleOutputSerializer,
            operation_id=f"kb_articles_{name}",
        )
        return type(
            f"Article{name.title()}Api",
            (cls,),
            {"transition_name": name, "post": schema(post)},
        )


class ArticleVersionListApi(APIView):
    @extend_schema(parameters=[NUMBER], responses=VersionOutputSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        article = get_article(request, number)
        versions = selectors.article_versions(article=article)
        return Response(VersionOutputSerializer(versions, many=True).data)


class ArticleVersionDetailApi(APIView):
    @extend_schema(
        parameters=[NUMBER, OpenApiParameter("version", int, OpenApiParameter.PATH)],
        responses=VersionOutputSerializer,
    )
    def get(self, request: Request, number: str, version: int) -> Response:
        article = get_article(request, number)
        found = selectors.article_versions(article=article).filter(number=version)
        if version > 2**31 or not found:
            raise Http404
        return Response(VersionOutputSerializer(found[0]).data)


class UseInput(serializers.Serializer):
    incident = serializers.CharField(max_length=30, help_text="INC-000123")
    kind = serializers.ChoiceField(choices=ArticleUse.Kind.choices, default="applied")


class ArticleUseApi(APIView):
    """Record that the article was applied to an incident (or helped with it): on
    the incident's timeline, and counted."""

    @extend_schema(
        parameters=[NUMBER],
        request=UseInput,
        responses={201: UseOutputSerializer},
        operation_id="kb_articles_applied",
    )
    def post(self, request: Request, number: str) -> Response:
        article = get_article(request, number)
        data = UseInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.has_perm("incidents.work_incident"):
            raise PermissionDenied("You may not record articles on incidents.")
        incident = get_incident(request, data.validated_data["incident"])
        use = services.article_use_record(
            article=article,
            incident=incident,
            by=request.user,
            kind=data.validated_data["kind"],
        )
        return Response(UseOutputSerializer(use).data, status=status.HTTP_201_CREATED)
