"""The problems API. Reads start from ``problems_visible_to``, the same rule as the
pages (a requester gets 404 on every endpoint); every write is one service call;
each state change is its own POST endpoint."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.views import IdField, IdRelatedField, VersionField, get_incident
from incidents.models import Incident, Problem, ProblemEvent, Team
from reviews.problems import recurrence, selectors, services
from reviews.problems.api.serializers import (
    LinkedIncidentSerializer,
    ProblemDetailOutputSerializer,
    ProblemEventSerializer,
    ProblemOutputSerializer,
    ProposalSerializer,
)

NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="PRB-000012"
)


class ProblemsApi(APIView):
    """Every problem endpoint: answered 404 to anyone who may not read problems,
    so a requester learns nothing of them."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not request.user.has_perm(selectors.READ_PERMISSION):
            raise Http404


def get_problem(request: Request, number: str) -> Problem:
    try:
        return selectors.problem_get(user=request.user, number=number)
    except Problem.DoesNotExist:
        raise Http404 from None


def _output(request: Request, problem: Problem, **kwargs: Any) -> Response:
    fresh = selectors.with_incident_count(
        selectors.problems_visible_to(request.user).select_related("owner_team")
    ).get(pk=problem.pk)
    article = services.known_error_article(fresh)
    fresh.known_error_article = article.number if article else None
    return Response(ProblemDetailOutputSerializer(fresh).data, **kwargs)


# ---------------------------------------------------------------- list, create
STATUS_FILTER = [("active", "Open or known error"), *Problem.Status.choices]


class ProblemFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_FILTER, required=False)
    team = IdField(required=False)
    q = serializers.CharField(max_length=200, required=False)


class ProblemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    root_cause = serializers.CharField(required=False, allow_blank=True, default="")
    workaround = serializers.CharField(required=False, allow_blank=True, default="")
    owner_team = IdRelatedField(queryset=Team.objects.all())
    incidents = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        default=list,
        max_length=100,
        help_text="Numbers of incidents to link (INC-000123).",
    )


class ProblemListCreateApi(ProblemsApi, ListAPIView):
    serializer_class = ProblemOutputSerializer

    def get_queryset(self) -> QuerySet[Problem]:
        filters = ProblemFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.problem_list(user=self.request.user, **filters.validated_data)

    @extend_schema(parameters=[ProblemFilterSerializer], operation_id="problems_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request=ProblemInputSerializer,
        responses={201: ProblemDetailOutputSerializer},
        operation_id="problems_create",
    )
    def post(self, request: Request) -> Response:
        data = ProblemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        incidents = [get_incident(request, n) for n in values.pop("incidents")]
        problem = services.problem_create(
            by=request.user, incidents=incidents, **values
        )
        return _output(request, problem, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- one problem
class ProblemUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.CharField(required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)
    owner_team = IdRelatedField(queryset=Team.objects.all(), required=False)
    version = VersionField(help_text="The version you read; another is a 409.")


class ProblemDetailApi(ProblemsApi):
    @extend_schema(parameters=[NUMBER], responses=ProblemDetailOutputSerializer)
    def get(self, request: Request, number: str) -> Response:
        return _output(request, get_problem(request, number))

    @extend_schema(
        parameters=[NUMBER],
        request=ProblemUpdateInputSerializer,
        responses=ProblemDetailOutputSerializer,
    )
    def patch(self, request: Request, number: str) -> Response:
        """Edit the text or owner team (409 when someone else saved since the
        ``version`` you send, or the problem is closed)."""
        problem = get_problem(request, number)
        data = ProblemUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        services.problem_update(
            problem=problem, by=request.user, version=version, **values
        )
        return _output(request, problem)


class ProblemVersionInput(serializers.Serializer):
    version = VersionField()


TRANSITIONS = {
    **services.PROBLEM_TRANSITIONS,
    "publish-workaround": services.problem_publish_workaround,
}


class ProblemTransitionApi(ProblemsApi):
    """``POST /api/v1/problems/{number}/{known-error|resolve|close|
    publish-workaround}/``: 409 when the state does not allow it, 400 when it
    lacks what it needs (a workaround, a root cause)."""

    transition_name = ""

    def post(self, request: Request, number: str) -> Response:
        problem = get_problem(request, number)
        data = ProblemVersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        TRANSITIONS[self.transition_name](
            problem=problem,
            by=request.user,
            version=data.validated_data.get("version"),
        )
        return _output(request, problem)

    @classmethod
    def for_transition(cls, name: str) -> type[ProblemTransitionApi]:
        def post(self: ProblemTransitionApi, request: Request, number: str) -> Response:
            return cls.post(self, request, number)

        schema = extend_schema(
            parameters=[NUMBER],
            request=ProblemVersionInput,
            responses=ProblemDetailOutputSerializer,
            operation_id=f"problems_{name.replace('-', '_')}",
        )
        return type(
            f"Problem{name.title().replace('-', '')}Api",
            (cls,),
            {"transition_name": name, "post": schema(post)},
        )


# ---------------------------------------------------------------- incidents
class IncidentRefInput(serializers.Serializer):
    incident = serializers.CharField(max_length=30, help_text="INC-000123")


class ProblemIncidentsApi(ProblemsApi, ListAPIView):
    """The incidents linked to the problem, newest first, a page at a time."""

    serializer_class = LinkedIncidentSerializer

    def get_queryset(self) -> QuerySet[Incident]:
        problem = get_problem(self.request, self.kwargs["number"])
        return Incident.objects.filter(problem=problem)

    @extend_schema(parameters=[NUMBER], operation_id="problems_incidents_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        parameters=[NUMBER],
        request=IncidentRefInput,
        responses={201: LinkedIncidentSerializer},
        operation_id="problems_incidents_link",
    )
    def post(self, request: Request, number: str) -> Response:
        """Link an incident (on both timelines)."""
        problem = get_problem(request, number)
        data = IncidentRefInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = get_incident(request, data.validated_data["incident"])
        services.problem_link_incident(
            problem=problem, incident=incident, by=request.user
        )
        return Response(
            LinkedIncidentSerializer(incident).data, status=status.HTTP_201_CREATED
        )


class ProblemUnlinkApi(ProblemsApi):
    @extend_schema(
        parameters=[NUMBER],
        request=IncidentRefInput,
        responses=LinkedIncidentSerializer,
        operation_id="problems_incidents_unlink",
    )
    def post(self, request: Request, number: str) -> Response:
        """Unlink an incident (on both timelines); 400 if it is not linked here."""
        problem = get_problem(request, number)
        data = IncidentRefInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = get_incident(request, data.validated_data["incident"])
        services.problem_unlink_incident(
            problem=problem, incident=incident, by=request.user
        )
        return Response(LinkedIncidentSerializer(incident).data)


class ProblemTimelineApi(ProblemsApi, ListAPIView):
    """The problem's timeline, newest first, a page at a time."""

    serializer_class = ProblemEventSerializer

    def get_queryset(self) -> QuerySet[ProblemEvent]:
        problem = get_problem(self.request, self.kwargs["number"])
        return ProblemEvent.objects.filter(problem=problem).select_related("actor")

    @extend_schema(parameters=[NUMBER], operation_id="problems_timeline")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


# ---------------------------------------------------------------- recurrence
class RecurrenceInput(serializers.Serializer):
    signature = serializers.CharField(max_length=300)


class RecurringApi(ProblemsApi):
    @extend_schema(
        responses=ProposalSerializer(many=True), operation_id="problems_recurring"
    )
    def get(self, request: Request) -> Response:
        """Error signatures that recur by the rule with no open problem."""
        proposals = recurrence.recurring_proposals()
        return Response(ProposalSerializer(proposals, many=True).data)

    @extend_schema(
        request=RecurrenceInput,
        responses={201: ProblemDetailOutputSerializer},
        operation_id="problems_recurring_create",
    )
    def post(self, request: Request) -> Response:
        """Create the problem for a recurring signature, linked to its incidents
        (400 when it no longer recurs, or a problem covers it)."""
        data = RecurrenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        problem = recurrence.problem_create_from_recurrence(
            by=request.user, signature=data.validated_data["signature"]
        )
        return _output(request, problem, status=status.HTTP_201_CREATED)
