"""The dashboards over the API: the same figures as the page, for the same
period and filters, within the same scope (404 for people who may read no
dashboard)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.access import dashboard_scope
from dashboards.forms import PERIODS, DashboardForm
from dashboards.selectors import Dashboard, Names, Table, dashboard_data
from incidents.models import Incident, Priority

TABLE_NAMES = [
    "headline",
    "compliance_priority",
    "compliance_team",
    "compliance_category",
    "compliance_service",
    "times",
    "volume",
    "backlog",
    "communication",
    "noise",
]


class DashboardQuery(serializers.Serializer):
    """The period (a preset, or ``start`` and ``end`` dates) and the filters."""

    period = serializers.ChoiceField(choices=PERIODS, required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    team = serializers.IntegerField(required=False)
    category = serializers.IntegerField(required=False)
    service = serializers.IntegerField(required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    source = serializers.ChoiceField(choices=Incident.Source.choices, required=False)


class ColumnOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class TableOutput(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    columns = ColumnOutput(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField())
    )


class PeriodOutput(serializers.Serializer):
    first = serializers.DateField()
    last = serializers.DateField()
    label = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()


class DashboardOutput(serializers.Serializer):
    as_of = serializers.DateTimeField(allow_null=True)
    period = PeriodOutput()
    headline = TableOutput()
    tables = TableOutput(many=True)


def _table(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "title": table.title,
        "note": table.note,
        "columns": [{"key": c.key, "label": c.label} for c in table.columns],
        "rows": table.records(),
    }


def _dashboard(request: Request) -> Dashboard:
    scope = dashboard_scope(request.user)
    if scope is None:
        raise NotFound
    names = Names.load()
    data = request.query_params.copy()
    data.setdefault("period", "30d")
    form = DashboardForm(
        data,
        scope=scope,
        teams=list(names.teams.items()),
        categories=list(names.categories.items()),
        services=list(names.services.items()),
    )
    if not form.is_valid():
        raise ValidationError(
            {
                name: [error["message"] for error in errors]
                for name, errors in form.errors.get_json_data().items()
            }
        )
    return dashboard_data(
        scope=scope,
        period=form.period_of(timezone.localdate()),
        filters=form.filters(),
        names=names,
    )


class DashboardApi(APIView):
    @extend_schema(
        parameters=[DashboardQuery],
        responses=DashboardOutput,
        operation_id="dashboards_summary",
    )
    def get(self, request: Request) -> Response:
        """Every table of the dashboard."""
        data = _dashboard(request)
        period = data.period
        return Response(
            {
                "as_of": data.as_of,
                "period": {
                    "first": period.first,
                    "last": period.last,
                    "label": period.label,
                    "since": period.since,
                    "until": period.until,
                },
                "headline": _table(data.headline),
                "tables": [_table(table) for table in data.tables.values()],
            }
        )


class DashboardTableApi(APIView):
    @extend_schema(
        parameters=[
            DashboardQuery,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=TABLE_NAMES),
        ],
        responses=TableOutput,
        operation_id="dashboards_table",
    )
    def get(self, request: Request, name: str) -> Response:
        """One table of the dashboard: its rows as objects, one key per column."""
        if name not in TABLE_NAMES:
            raise NotFound
        return Response(_table(_dashboard(request).table(name)))
