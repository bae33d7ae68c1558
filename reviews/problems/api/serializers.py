"""What the problems API answers with."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import Incident, Problem, ProblemEvent


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProblemOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    owner_team = TeamRefSerializer(allow_null=True)
    incident_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id",
            "number",
            "title",
            "description",
            "root_cause",
            "workaround",
            "status",
            "is_known_error",
            "owner_team",
            "version",
            "incident_count",
            "created_at",
            "resolved_at",
            "closed_at",
        ]


class ProblemDetailOutputSerializer(ProblemOutputSerializer):
    known_error_article = serializers.CharField(
        allow_null=True, help_text="The number of its known-error article (KE-...)."
    )

    class Meta(ProblemOutputSerializer.Meta):
        fields = [*ProblemOutputSerializer.Meta.fields, "known_error_article"]


class LinkedIncidentSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "number", "title", "status", "priority", "logged_at"]


class ProblemEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.get_username", allow_null=True, default=None
    )
    data = serializers.DictField()

    class Meta:
        model = ProblemEvent
        fields = ["id", "kind", "actor", "at", "data"]


class ProposalSerializer(serializers.Serializer):
    signature = serializers.CharField()
    count = serializers.IntegerField()
    days = serializers.IntegerField()
    label = serializers.CharField()
