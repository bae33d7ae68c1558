"""The reviews API: reviews and action items. Reads start from the same
visibility rules as the pages (a review or item the caller may not see is a 404;
requesters see none); every write is one service call; each transition is its
own POST endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.views import IdField, IdRelatedField, VersionField, get_incident
from incidents.models import Incident, Problem, Team
from reviews import selectors, services
from reviews.api.serializers import (
    ActionItemOutputSerializer,
    MilestoneOutputSerializer,
    ReviewOutputSerializer,
)
from reviews.models import MILESTONES, ActionItem, Review

PK = OpenApiParameter("id", int, OpenApiParameter.PATH)


def _staff(request: Request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise Http404


def get_review(request: Request, pk: int) -> Review:
    _staff(request, "reviews.view_review")
    try:
        return (
            selectors.reviews_visible_to(request.user)
            .select_related("incident")
            .prefetch_related("covers")
            .get(pk=pk)
        )
    except (Review.DoesNotExist, OverflowError):
        raise Http404 from None


def get_item(request: Request, pk: int) -> ActionItem:
    _staff(request, "reviews.view_actionitem")
    try:
        return selectors.action_items_visible_to(request.user).get(pk=pk)
    except (ActionItem.DoesNotExist, OverflowError):
        raise Http404 from None


def _review_out(request: Request, review: Review, **kwargs: Any) -> Response:
    fresh = get_review(request, review.pk)
    return Response(ReviewOutputSerializer(fresh).data, **kwargs)


def _item_out(request: Request, item: ActionItem, **kwargs: Any) -> Response:
    return Response(
        ActionItemOutputSerializer(get_item(request, item.pk)).data, **kwargs
    )


# ---------------------------------------------------------------- reviews
class ReviewFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Review.Status.choices, required=False)


class ReviewOpenInputSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=30, help_text="INC-000123")
    note = serializers.CharField(max_length=2000, help_text="Why it needs a review.")


class ReviewListCreateApi(ListAPIView):
    serializer_class = ReviewOutputSerializer

    def get_queryset(self) -> QuerySet[Review]:
        _staff(self.request, "reviews.view_review")
        filters = ReviewFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.review_list(
            user=self.request.user, status=filters.validated_data.get("status", "")
        ).prefetch_related("covers")

    @extend_schema(parameters=[ReviewFilterSerializer], operation_id="reviews_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request=ReviewOpenInputSerializer,
        responses={201: ReviewOutputSerializer},
        operation_id="reviews_open",
    )
    def post(self, request: Request) -> Response:
        """Open a review by hand (incident managers), with the reason."""
        _staff(request, "reviews.view_review")
        data = ReviewOpenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = get_incident(request, data.validated_data["incident"])
        review = services.review_open(
            incident=incident, by=request.user, note=data.validated_data["note"]
        )
        return _review_out(request, review, status=status.HTTP_201_CREATED)


def _agents() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True)


class ReviewUpdateInputSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True)
    five_whys = serializers.ListField(
        child=serializers.CharField(max_length=1000, allow_blank=True),
        required=False,
        max_length=10,
    )
    root_cause = serializers.CharField(required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)
    contributing_factors = serializers.CharField(required=False, allow_blank=True)
    went_well = serializers.CharField(required=False, allow_blank=True)
    went_badly = serializers.CharField(required=False, allow_blank=True)
    owner = IdRelatedField(queryset=_agents(), required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False)
    problem = IdRelatedField(
        queryset=Problem.objects.all(), required=False, allow_null=True
    )
    version = VersionField(help_text="The version you read; another is a 409.")


class ReviewDetailApi(APIView):
    @extend_schema(parameters=[PK], responses=ReviewOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _review_out(request, get_review(request, pk))

    @extend_schema(
        parameters=[PK],
        request=ReviewUpdateInputSerializer,
        responses=ReviewOutputSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Edit a review not yet approved (409 once approved or when someone else
        saved since the ``version`` you send)."""
        review = get_review(request, pk)
        data = ReviewUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.review_update(
            review=review,
            by=request.user,
            expected_version=values.pop("version", None),
            **values,
        )
        return _review_out(request, review)


class VersionInput(serializers.Serializer):
    version = VersionField()


REVIEW_TRANSITIONS = {
    "submit": services.review_submit,
    "send-back": services.review_send_back,
    "approve": services.review_approve,
    "publish": services.review_publish,
}


def _transition_api(
    name: str, service: Any, *, getter: Any, out: Any, serializer: Any, prefix: str
) -> type[APIView]:
    def post(self: APIView, request: Request, pk: int) -> Response:
        obj = getter(request, pk)
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        service(
            **{prefix: obj},
            by=request.user,
            expected_version=values.pop("version", None),
            **values,
        )
        return out(request, obj)

    schema = extend_schema(
        parameters=[PK],
        request=serializer,
        responses=ReviewOutputSerializer
        if prefix == "review"
        else ActionItemOutputSerializer,
        operation_id=f"{prefix}_{name.replace('-', '_')}",
    )
    title = "".join(part.title() for part in name.split("-"))
    entity = "Review" if prefix == "review" else "ActionItem"
    return type(f"{entity}{title}Api", (APIView,), {"post": schema(post)})


class MilestoneInputSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=30, help_text="INC-000123")
    at = serializers.DateTimeField()
    note = serializers.CharField(max_length=300, required=False, default="")
    version = VersionField()


class ReviewMilestoneApi(APIView):
    @extend_schema(
        parameters=[
            PK,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(MILESTONES)),
        ],
        request=MilestoneInputSerializer,
        responses=MilestoneOutputSerializer(many=True),
        operation_id="review_milestone_set",
    )
    def put(self, request: Request, pk: int, name: str) -> Response:
        """Correct when a milestone of a covered incident happened."""
        review = get_review(request, pk)
        if name not in MILESTONES:
            raise Http404
        data = MilestoneInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        incident = get_incident(request, values["incident"])
        services.review_milestone_set(
            review=review,
            by=request.user,
            incident=incident,
            name=name,
            at=values["at"],
            note=values["note"],
            expected_version=values.get("version"),
        )
        return self._list(review)

    @extend_schema(
        parameters=[
            PK,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(MILESTONES)),
        ],
        responses=MilestoneOutputSerializer(many=True),
        operation_id="review_milestones",
    )
    def get(self, request: Request, pk: int, name: str) -> Response:
        return self._list(get_review(request, pk))

    def _list(self, review: Review) -> Response:
        incidents = list(Incident.objects.filter(review_cover__review=review))
        milestones = selectors.review_milestones(review, incidents)
        return Response(MilestoneOutputSerializer(milestones, many=True).data)


# ---------------------------------------------------------------- action items
class ActionItemFilterSerializer(serializers.Serializer):
    mine = serializers.BooleanField(
        required=False, default=False, help_text="Only yours and your teams', open."
    )
    review = IdField(required=False)
    status = serializers.ChoiceField(choices=ActionItem.Status.choices, required=False)


class ActionItemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    review = IdField(required=False, allow_null=True, default=None)
    problem = IdRelatedField(
        queryset=Problem.objects.all(), required=False, allow_null=True, default=None
    )
    owner_user = IdRelatedField(
        queryset=_agents(), required=False, allow_null=True, default=None
    )
    owner_team = IdRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    due_on = serializers.DateField()
    external_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


class ActionItemListCreateApi(ListAPIView):
    serializer_class = ActionItemOutputSerializer

    def get_queryset(self) -> QuerySet[ActionItem]:
        _staff(self.request, "reviews.view_actionitem")
        filters = ActionItemFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        if values.get("mine"):
            items = selectors.my_action_items(
                user=self.request.user, today=timezone.localdate()
            )
        else:
            items = selectors.action_items_visible_to(self.request.user)
        if values.get("review"):
            items = items.filter(review_id=values["review"])
        if values.get("status"):
            items = items.filter(status=values["status"])
        return items

    @extend_schema(
        parameters=[ActionItemFilterSerializer], operation_id="action_items_list"
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request=ActionItemInputSerializer,
        responses={201: ActionItemOutputSerializer},
        operation_id="action_items_create",
    )
    def post(self, request: Request) -> Response:
        _staff(request, "reviews.view_actionitem")
        data = ActionItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if values["review"] is not None:
            values["review"] = get_review(request, values["review"])
        item = services.action_item_create(by=request.user, **values)
        return _item_out(request, item, status=status.HTTP_201_CREATED)


class ActionItemUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    owner_user = IdRelatedField(queryset=_agents(), required=False, allow_null=True)
    owner_team = IdRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    )
    due_on = serializers.DateField(required=False)
    external_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True
    )
    version = VersionField(help_text="The version you read; another is a 409.")


class ActionItemDetailApi(APIView):
    @extend_schema(parameters=[PK], responses=ActionItemOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _item_out(request, get_item(request, pk))

    @extend_schema(
        parameters=[PK],
        request=ActionItemUpdateInputSerializer,
        responses=ActionItemOutputSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        item = get_item(request, pk)
        data = ActionItemUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.action_item_update(
            item=item,
            by=request.user,
            expected_version=values.pop("version", None),
            **values,
        )
        return _item_out(request, item)


class DeclineInput(VersionInput):
    reason = serializers.CharField(max_length=2000)


ITEM_TRANSITIONS = {
    "start": (services.action_item_start, VersionInput),
    "complete": (services.action_item_complete, VersionInput),
    "decline": (services.action_item_decline, DeclineInput),
    "reopen": (services.action_item_reopen, VersionInput),
}

review_transition_views = {
    name: _transition_api(
        name,
        service,
        getter=get_review,
        out=_review_out,
        serializer=VersionInput,
        prefix="review",
    )
    for name, service in REVIEW_TRANSITIONS.items()
}
item_transition_views = {
    name: _transition_api(
        name,
        service,
        getter=get_item,
        out=_item_out,
        serializer=serializer,
        prefix="item",
    )
    for name, (service, serializer) in ITEM_TRANSITIONS.items()
}
