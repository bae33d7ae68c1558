"""What the knowledge-base API answers with."""

from __future__ import annotations

from rest_framework import serializers

from kb.models import Article, ArticleUse, ArticleVersion


class ArticleOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    owner_team = serializers.IntegerField(source="owner_team_id", read_only=True)
    problem = serializers.IntegerField(
        source="problem_id", read_only=True, allow_null=True
    )
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    categories = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "number",
            "title",
            "symptoms",
            "body",
            "kind",
            "audience",
            "status",
            "owner_team",
            "services",
            "categories",
            "problem",
            "revision",
            "created_at",
            "updated_at",
            "published_at",
            "review_due_at",
        ]
        read_only_fields = fields


class SearchHitOutputSerializer(serializers.Serializer):
    article = ArticleOutputSerializer()
    score = serializers.FloatField()
    title_html = serializers.CharField(help_text="The title, matching words in <mark>.")
    excerpt_html = serializers.CharField(
        help_text="A passage of the text, escaped, matching words in <mark>."
    )


class SearchOutputSerializer(serializers.Serializer):
    query = serializers.CharField()
    corrected = serializers.CharField(
        help_text="The query as corrected; empty if no word was corrected."
    )
    fell_back = serializers.BooleanField(
        help_text="Some results match only some of the words."
    )
    results = SearchHitOutputSerializer(many=True, source="hits")


class VersionOutputSerializer(serializers.ModelSerializer):
    published_by = serializers.CharField(source="published_by.get_username")

    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "symptoms", "body", "published_by", "published_at"]
        read_only_fields = fields


class UseOutputSerializer(serializers.ModelSerializer):
    article = serializers.CharField(source="article.number")
    incident = serializers.CharField(source="incident.number")

    class Meta:
        model = ArticleUse
        fields = ["article", "incident", "kind", "signature", "at"]
        read_only_fields = fields
