"""What the reviews API answers with."""

from __future__ import annotations

from rest_framework import serializers

from reviews.models import ActionItem, Review


class ActionItemOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    review = serializers.IntegerField(source="review_id", allow_null=True)
    problem = serializers.IntegerField(source="problem_id", allow_null=True)
    article = serializers.IntegerField(source="article_id", allow_null=True)
    owner_user = serializers.IntegerField(source="owner_user_id", allow_null=True)
    owner_team = serializers.IntegerField(source="owner_team_id", allow_null=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "number",
            "title",
            "description",
            "source",
            "review",
            "problem",
            "article",
            "owner_user",
            "owner_team",
            "due_on",
            "status",
            "wont_do_reason",
            "external_url",
            "version",
            "created_at",
            "updated_at",
            "completed_at",
        ]
        read_only_fields = fields


class MilestoneOutputSerializer(serializers.Serializer):
    incident = serializers.IntegerField(source="incident_id")
    name = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    recorded = serializers.DateTimeField(allow_null=True)
    edited = serializers.BooleanField()


class ReviewOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    incident = serializers.CharField(source="incident.number")
    incidents = serializers.SerializerMethodField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    problem = serializers.IntegerField(source="problem_id", allow_null=True)
    five_whys = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Review
        fields = [
            "id",
            "number",
            "incident",
            "incidents",
            "reason",
            "open_note",
            "signature",
            "status",
            "owner",
            "due_at",
            "summary",
            "five_whys",
            "root_cause",
            "workaround",
            "contributing_factors",
            "went_well",
            "went_badly",
            "problem",
            "version",
            "created_at",
            "updated_at",
            "approved_at",
            "published_at",
        ]
        read_only_fields = fields

    def get_incidents(self, review: Review) -> list[str]:
        return [f"INC-{cover.incident_id:06d}" for cover in review.covers.all()]
