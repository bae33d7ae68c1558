"""The incidents API. Reads start from ``incidents_visible_to``; every write is one
service call; each lifecycle transition is its own POST endpoint."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView, get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import services
from incidents.api.serializers import (
    EventOutputSerializer,
    IncidentDetailOutputSerializer,
    IncidentOutputSerializer,
    NoteOutputSerializer,
    UpdateOutputSerializer,
)
from incidents.models import (
    MAX_ID,
    Category,
    Impact,
    Incident,
    IncidentNote,
    Priority,
    Problem,
    Service,
    Team,
    Urgency,
)
from incidents.selectors import incident_list, incidents_visible_to
from incidents.services.actions import incident_act


def get_incident(request: Request, number: str) -> Incident:
    """The incident with this number if the caller may see it; 404 otherwise, so
    nobody learns which numbers exist."""
    try:
        return incidents_visible_to(request.user).by_number(number)
    except Incident.DoesNotExist:
        raise Http404 from None


def _require_staff_read(request: Request) -> None:
    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied("Only staff read this.")


def _related(queryset: QuerySet) -> serializers.PrimaryKeyRelatedField:
    return IdRelatedField(queryset=queryset)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related row by id; an id beyond 64 bits is "does not exist" (400), not a
    number the database driver chokes on."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool) and data > MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class IdField(serializers.IntegerField):
    """A database id: 1 up to the largest 64-bit integer (beyond it, a 400)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class VersionField(serializers.IntegerField):
    """The ``version`` the caller last read; a mismatch is answered 409."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, min_value=1, max_value=MAX_ID, **kwargs)


# ---------------------------------------------------------------- list and create
class IncidentFilterSerializer(serializers.Serializer):
    state = serializers.MultipleChoiceField(
        choices=Incident.Status.choices, required=False
    )
    priority = serializers.MultipleChoiceField(choices=Priority.choices, required=False)
    team = IdField(required=False)
    assignee = serializers.CharField(
        required=False, help_text="A user id, 'me' or 'none'."
    )
    category = IdField(required=False)
    service = IdField(required=False)
    source = serializers.ChoiceField(choices=Incident.Source.choices, required=False)
    search = serializers.CharField(required=False, max_length=200)

    def validate_assignee(self, value: str) -> str:
        if value not in ("me", "none") and not value.isdigit():
            raise serializers.ValidationError("Use a user id, 'me' or 'none'.")
        return value


def filter_incidents(
    queryset: QuerySet[Incident], filters: dict[str, Any], user: Any
) -> QuerySet[Incident]:
    lookups: dict[str, Any] = {}
    if filters.get("state"):
        lookups["status__in"] = filters["state"]
    if filters.get("priority"):
        lookups["priority__in"] = [int(p) for p in filters["priority"]]
    for name in ("team", "category", "source"):
        if name in filters:
            lookups[f"{name}_id" if name != "source" else name] = filters[name]
    if "service" in filters:
        lookups["services"] = filters["service"]
    assignee = filters.get("assignee")
    if assignee == "me":
        lookups["assignee"] = user
    elif assignee == "none":
        lookups["assignee__isnull"] = True
    elif assignee:
        lookups["assignee_id"] = int(assignee)
    queryset = queryset.filter(**lookups)
    if term := filters.get("search", "").strip():
        match = Q(title__icontains=term) | Q(description__icontains=term)
        try:
            match |= Q(pk=Incident.objects.by_number(term).pk)
        except Incident.DoesNotExist:
            pass
        queryset = queryset.filter(match)
    return queryset


class IncidentCreateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = _related(Category.objects.all())
    impact = serializers.ChoiceField(choices=Impact.choices, required=False, default="")
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, default=""
    )
    services = IdRelatedField(
        queryset=Service.objects.all(), many=True, required=False, default=list
    )
    requester = IdField(required=False)
    detected_at = serializers.DateTimeField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["category"].required = False
        fields["category"].allow_null = True
        return fields


class IncidentListCreateApi(ListAPIView):
    serializer_class = IncidentOutputSerializer

    def get_queryset(self) -> QuerySet[Incident]:
        filters = IncidentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return filter_incidents(
            incident_list(user=self.request.user),
            filters.validated_data,
            self.request.user,
        )

    @extend_schema(parameters=[IncidentFilterSerializer], operation_id="incidents_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request=IncidentCreateInputSerializer,
        responses={201: IncidentOutputSerializer},
        operation_id="incidents_create",
    )
    def post(self, request: Request) -> Response:
        data = IncidentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        is_agent = request.user.has_perm("incidents.add_incident")
        requester_id = values.pop("requester", None)
        if is_agent:
            requester = None
            if requester_id is not None:
                requester = get_object_or_404(get_user_model(), pk=requester_id)
            source = Incident.Source.AGENT
        else:
            requester, source = request.user, Incident.Source.PORTAL
        incident = services.incident_log(
            by=request.user, requester=requester, source=source, **values
        )
        output = IncidentOutputSerializer(incident, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- one incident
class IncidentUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    category = _related(Category.objects.all())
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    services = IdRelatedField(queryset=Service.objects.all(), many=True, required=False)
    version = VersionField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["category"].required = False
        return fields


NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="INC-000123"
)


class IncidentDetailApi(APIView):
    @extend_schema(parameters=[NUMBER], responses=IncidentDetailOutputSerializer)
    def get(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        return Response(
            IncidentDetailOutputSerializer(incident, context={"request": request}).data
        )

    @extend_schema(
        parameters=[NUMBER],
        request=IncidentUpdateInputSerializer,
        responses=IncidentOutputSerializer,
    )
    def patch(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        data = IncidentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.incident_update(
            incident=incident,
            by=request.user,
            expected_version=values.pop("version", None),
            **values,
        )
        return Response(
            IncidentOutputSerializer(incident, context={"request": request}).data
        )


# ---------------------------------------------------------------- transitions
class TriageInput(serializers.Serializer):
    category = _related(Category.objects.all())
    impact = serializers.ChoiceField(choices=Impact.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    team = IdRelatedField(queryset=Team.objects.all(), required=False)
    services = IdRelatedField(queryset=Service.objects.all(), many=True, required=False)
    known_error = serializers.BooleanField(required=False, default=False)
    problem = IdRelatedField(queryset=Problem.objects.all(), required=False)
    version = VersionField()


class VersionOnlyInput(serializers.Serializer):
    version = VersionField()


class QuestionInput(serializers.Serializer):
    question = serializers.CharField()
    version = VersionField()


class ResolveInput(serializers.Serializer):
    resolution_kind = serializers.ChoiceField(choices=Incident.ResolutionKind.choices)
    resolution = serializers.CharField()
    verification = serializers.CharField()
    version = VersionField()


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField()
    version = VersionField()


class MergeInput(serializers.Serializer):
    into = serializers.CharField(
        help_text="The number of the incident that carries on."
    )
    version = VersionField()


# Each transition's endpoint: its input; the service comes from incident_act.
TRANSITION_ENDPOINTS: dict[str, type[serializers.Serializer]] = {
    "triage": TriageInput,
    "start_work": VersionOnlyInput,
    "wait_for_requester": QuestionInput,
    "resume": VersionOnlyInput,
    "resolve": ResolveInput,
    "confirm": VersionOnlyInput,
    "reopen": ReasonInput,
    "cancel": ReasonInput,
    "merge": MergeInput,
}


class IncidentTransitionApi(APIView):
    """``POST /api/v1/incidents/{number}/transitions/{name}/``: one lifecycle
    transition, each its own endpoint with its own input. 409 with the reason when
    the state does not allow it now."""

    transition_name: str = ""

    def post(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        data = TRANSITION_ENDPOINTS[self.transition_name](data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "into" in values:
            values["into"] = get_incident(request, values["into"])
        incident_act(
            self.transition_name,
            incident=incident,
            by=request.user,
            version=values.pop("version", None),
            **values,
        )
        incident = get_incident(request, incident.number)  # fresh, with relations
        return Response(
            IncidentOutputSerializer(incident, context={"request": request}).data
        )

    @classmethod
    def for_transition(cls, name: str) -> type[IncidentTransitionApi]:
        input_class = TRANSITION_ENDPOINTS[name]

        @extend_schema(
            parameters=[NUMBER],
            request=input_class,
            responses=IncidentOutputSerializer,
            operation_id=f"incidents_{name}",
            summary=f"Transition: {name}",
        )
        def post(
            self: IncidentTransitionApi, request: Request, number: str
        ) -> Response:
            return cls.post(self, request, number)

        class_name = f"Incident{name.title().replace('_', '')}Api"
        return type(class_name, (cls,), {"transition_name": name, "post": post})


class IncidentCloseApi(APIView):
    """There is no closing by hand: the requester confirms, or the system closes
    an unconfirmed incident once its grace period has passed."""

    @extend_schema(
        parameters=[NUMBER],
        request=None,
        responses={403: None},
        operation_id="incidents_close",
    )
    def post(self, request: Request, number: str) -> Response:
        get_incident(request, number)
        raise PermissionDenied(
            "Only the system closes an unconfirmed incident, once its grace period "
            "has passed; the requester confirms with 'confirm'."
        )


class AssignInput(serializers.Serializer):
    assignee = IdField(allow_null=True)
    team = IdRelatedField(queryset=Team.objects.all(), required=False)
    version = VersionField()


class EscalateInput(serializers.Serializer):
    reason = serializers.CharField()
    to_team = IdRelatedField(queryset=Team.objects.all(), required=False)
    version = VersionField()


class IncidentAssignApi(APIView):
    @extend_schema(
        parameters=[NUMBER], request=AssignInput, responses=IncidentOutputSerializer
    )
    def post(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        data = AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        assignee_id = values.pop("assignee")
        assignee = (
            get_object_or_404(get_user_model(), pk=assignee_id) if assignee_id else None
        )
        services.incident_assign(
            incident=incident,
            by=request.user,
            assignee=assignee,
            expected_version=values.pop("version", None),
            **values,
        )
        return Response(
            IncidentOutputSerializer(incident, context={"request": request}).data
        )


class IncidentEscalateApi(APIView):
    @extend_schema(
        parameters=[NUMBER], request=EscalateInput, responses=IncidentOutputSerializer
    )
    def post(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        data = EscalateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.incident_escalate(
            incident=incident,
            by=request.user,
            expected_version=values.pop("version", None),
            **values,
        )
        return Response(
            IncidentOutputSerializer(incident, context={"request": request}).data
        )


# ---------------------------------------------------------------- notes, updates, timeline
class NoteInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IncidentNote.Kind.choices)
    body = serializers.CharField()


class IncidentNotesApi(GenericAPIView):
    """Work notes and replies. Requesters see replies only, never work notes."""

    serializer_class = NoteOutputSerializer
    pagination_class = None

    @extend_schema(parameters=[NUMBER], responses=NoteOutputSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        notes = incident.notes.select_related("author")
        if not request.user.has_perm("incidents.view_incident"):
            notes = notes.filter(kind=IncidentNote.Kind.REPLY)
        return Response(NoteOutputSerializer(notes, many=True).data)

    @extend_schema(
        parameters=[NUMBER], request=NoteInput, responses={201: NoteOutputSerializer}
    )
    def post(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.incident_add_note(
            incident=incident, by=request.user, **data.validated_data
        )
        return Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)


class UpdateInput(serializers.Serializer):
    body = serializers.CharField()
    is_public = serializers.BooleanField(default=False)


class IncidentUpdatesApi(GenericAPIView):
    """The stakeholder communication log. Requesters see the public updates."""

    serializer_class = UpdateOutputSerializer
    pagination_class = None

    @extend_schema(parameters=[NUMBER], responses=UpdateOutputSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        updates = incident.updates.select_related("author")
        if not request.user.has_perm("incidents.view_incident"):
            updates = updates.filter(is_public=True)
        return Response(UpdateOutputSerializer(updates, many=True).data)

    @extend_schema(
        parameters=[NUMBER],
        request=UpdateInput,
        responses={201: UpdateOutputSerializer},
    )
    def post(self, request: Request, number: str) -> Response:
        incident = get_incident(request, number)
        data = UpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        update = services.incident_post_update(
            incident=incident, by=request.user, **data.validated_data
        )
        return Response(
            UpdateOutputSerializer(update).data, status=status.HTTP_201_CREATED
        )


class IncidentTimelineApi(GenericAPIView):
    """The incident's timeline, oldest first. Staff only: it records internal work."""

    serializer_class = EventOutputSerializer
    pagination_class = None

    @extend_schema(parameters=[NUMBER], responses=EventOutputSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        _require_staff_read(request)
        incident = get_incident(request, number)
        events = incident.events.select_related("actor")
        return Response(EventOutputSerializer(events, many=True).data)
