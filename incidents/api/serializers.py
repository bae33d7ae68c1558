"""What the incidents API returns. Inputs are declared next to their views."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Incident, IncidentEvent, IncidentNote, StakeholderUpdate
from incidents.selectors import incident_alerts, incident_allowed_transitions
from incidents.sla.sync import sla_clocks


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


def _number(incident_id: int | None) -> str | None:
    return f"INC-{incident_id:06d}" if incident_id else None


class IncidentOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    phase = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    category = RefSerializer(allow_null=True)
    team = RefSerializer(allow_null=True)
    assignee = PersonSerializer(allow_null=True)
    requester = PersonSerializer(allow_null=True)
    services = RefSerializer(many=True)
    merged_into = serializers.SerializerMethodField()
    follows_up = serializers.SerializerMethodField()
    problem = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "number",
            "title",
            "description",
            "status",
            "phase",
            "priority",
            "impact",
            "urgency",
            "source",
            "category",
            "services",
            "requester",
            "team",
            "assignee",
            "tier",
            "known_error",
            "problem",
            "resolution_kind",
            "resolution",
            "verification",
            "cancel_reason",
            "merged_into",
            "follows_up",
            "reopen_count",
            "detected_at",
            "logged_at",
            "acknowledged_at",
            "resolved_at",
            "confirmation_due_at",
            "closed_at",
            "updated_at",
            "version",
            "allowed_transitions",
        ]

    def get_phase(self, incident: Incident) -> str:
        return incident.phase.label

    def get_priority(self, incident: Incident) -> str | None:
        return f"P{incident.priority}" if incident.priority else None

    def get_merged_into(self, incident: Incident) -> str | None:
        return _number(incident.merged_into_id)

    def get_follows_up(self, incident: Incident) -> str | None:
        return _number(incident.follows_up_id)

    def get_problem(self, incident: Incident) -> str | None:
        return f"PRB-{incident.problem_id:06d}" if incident.problem_id else None

    def get_allowed_transitions(self, incident: Incident) -> list[str]:
        """What the caller may start now from this state (input-dependent guards
        are checked when the transition is posted)."""
        return incident_allowed_transitions(incident, self.context["request"].user)


class NoteOutputSerializer(serializers.ModelSerializer):
    author = PersonSerializer()

    class Meta:
        model = IncidentNote
        fields = ["id", "kind", "author", "body", "created_at"]


class UpdateOutputSerializer(serializers.ModelSerializer):
    author = PersonSerializer()

    class Meta:
        model = StakeholderUpdate
        fields = ["id", "body", "is_public", "author", "created_at"]


class EventOutputSerializer(serializers.ModelSerializer):
    actor = PersonSerializer(allow_null=True)
    data = serializers.DictField()

    class Meta:
        model = IncidentEvent
        fields = ["id", "kind", "actor", "at", "data"]


class SlaClockSerializer(serializers.Serializer):
    clock = serializers.CharField()
    running = serializers.BooleanField()
    used_seconds = serializers.FloatField()
    target_seconds = serializers.FloatField()
    due = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    explanation = serializers.CharField()


class AlertLinkSerializer(serializers.Serializer):
    href = serializers.URLField()
    text = serializers.CharField()


class AlertOutputSerializer(serializers.Serializer):
    """An alert as the Alerts panel shows it; links are only http(s) ones."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    integration = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=["firing", "acknowledged", "recovered"])
    severity = serializers.CharField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    occurrences = serializers.IntegerField()
    repeats = serializers.IntegerField()
    labels = serializers.DictField(child=serializers.CharField())
    annotations = serializers.DictField(child=serializers.CharField())
    links = AlertLinkSerializer(many=True)


class IncidentDetailOutputSerializer(IncidentOutputSerializer):
    """One incident, with its SLA clocks and why they say what they say, and (for
    staff) the alerts monitoring sent about it."""

    sla = serializers.SerializerMethodField()
    alerts = serializers.SerializerMethodField()

    class Meta(IncidentOutputSerializer.Meta):
        fields = [*IncidentOutputSerializer.Meta.fields, "sla", "alerts"]

    @extend_schema_field(AlertOutputSerializer(many=True))
    def get_alerts(self, incident: Incident) -> list[dict]:
        request = self.context.get("request")
        if request is None or not request.user.has_perm("incidents.view_incident"):
            return []  # alerts are staff things; a requester sees their ticket
        return [item.as_data() for item in incident_alerts(incident=incident)]

    @extend_schema_field(SlaClockSerializer(many=True))
    def get_sla(self, incident: Incident) -> list[dict]:
        return [
            {
                "clock": view.clock,
                "running": view.reading.running,
                "used_seconds": view.reading.used,
                "target_seconds": view.reading.target,
                "due": view.reading.due,
                "breached_at": view.breached_at,
                "explanation": view.explanation,
            }
            for view in sla_clocks(incident, now=timezone.now())
        ]
