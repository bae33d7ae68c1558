"""The admin's editors for configuration that a plain form shows badly: the
priority matrix as the 3x3 grid people think of, an integration's severity map
as a table of severity -> urgency rows, and the example request that shows how
to send an integration's alerts."""

from __future__ import annotations

import json
import shlex
from typing import Any

from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from incidents.models import Impact, Integration, Urgency

# Blank rows offered under the map's own, to add severities.
SPARE_ROWS = 3

ENDPOINTS = {
    Integration.Kind.ALERTMANAGER: "api:alerts-alertmanager",
    Integration.Kind.GRAFANA: "api:alerts-grafana",
    Integration.Kind.PAGERDUTY: "api:alerts-pagerduty",
    Integration.Kind.GENERIC: "api:alerts-generic",
}

# The smallest body each endpoint takes, as the tool sends it.
EXAMPLES: dict[str, dict[str, Any]] = {
    Integration.Kind.ALERTMANAGER: {
        "version": "4",
        "status": "firing",
        "receiver": "itsm",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "severity": "critical"},
                "annotations": {"summary": "Disk full on db-1"},
                "startsAt": "2026-03-02T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "example-db-1-disk",
            }
        ],
    },
    Integration.Kind.PAGERDUTY: {
        "event_action": "trigger",
        "routing_key": "<token>",
        "dedup_key": "db-1/disk",
        "payload": {
            "summary": "Disk full on db-1",
            "source": "db-1.example.com",
            "severity": "critical",
        },
    },
    Integration.Kind.GENERIC: {
        "dedup_key": "db-1/disk",
        "status": "firing",
        "title": "Disk full on db-1",
        "severity": "critical",
    },
}
EXAMPLES[Integration.Kind.GRAFANA] = {
    **EXAMPLES[Integration.Kind.ALERTMANAGER],
    "title": "[FIRING:1] DiskFull",
    "state": "alerting",
    "message": "Disk full on db-1",
}


def endpoint_url(integration: Integration) -> str:
    """Where ``integration``'s tool posts, as the README lists it (the trailing
    slash is optional; the pattern's reverse leaves it out)."""
    return settings.SITE_URL + reverse(ENDPOINTS[integration.kind]).rstrip("/") + "/"


def example_body(integration: Integration) -> dict[str, Any]:
    return EXAMPLES[integration.kind]


def example_request(integration: Integration) -> str:
    """A curl command that sends one example alert to ``integration``'s endpoint
    (the token stands as ``<token>``: only its hash is kept)."""
    body = json.dumps(example_body(integration), indent=2)
    return (
        f"curl -X POST {shlex.quote(endpoint_url(integration))} \\\n"
        "  -H 'Authorization: Bearer <token>' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-binary {shlex.quote(body)}"
    )


def matrix_rows(cells: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """The grid's rows: impact high to low, each with its urgency high to low."""
    urgencies = dict(Urgency.choices)
    return [
        {
            "label": label,
            "cells": [
                {
                    "name": f"cell-{impact}-{urgency}",
                    "urgency_label": urgencies[urgency],
                    "priority": cells.get((impact, urgency)),
                }
                for urgency in Urgency.values
            ],
        }
        for impact, label in Impact.choices
    ]


class SeverityMapWidget(forms.Widget):
    """One row per severity (text) and its urgency (a select), and spare rows."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        severities = data.getlist(f"{name}_severity")
        urgencies = data.getlist(f"{name}_urgency")
        return list(zip(severities, urgencies, strict=False))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}_severity" not in data

    def render(
        self, name: str, value: Any, attrs: Any = None, renderer: Any = None
    ) -> SafeString:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = {}
        pairs = list(value.items()) if isinstance(value, dict) else list(value or [])
        rows = [{"severity": s, "urgency": u} for s, u in pairs]
        rows += [{"severity": "", "urgency": ""}] * SPARE_ROWS
        return mark_safe(  # noqa: S308 - rendered by a template, which escapes
            render_to_string(
                "admin/incidents/widgets/severity_map.html",
                {
                    "widget": {
                        "name": name,
                        "rows": rows,
                        "urgencies": Urgency.choices,
                    }
                },
            )
        )


class SeverityMapField(forms.Field):
    """Rows of (severity, urgency) into the map: severities lower case and
    unique, each with a known urgency; a row without a severity is dropped."""

    widget = SeverityMapWidget

    def to_python(self, value: Any) -> dict[str, str]:
        if isinstance(value, dict):
            return value
        found: dict[str, str] = {}
        errors = []
        for severity, urgency in value or []:
            severity = (severity or "").strip().lower()
            if not severity:
                continue
            if urgency not in Urgency.values:
                errors.append(f"Choose an urgency for “{severity}”.")
            elif severity in found:
                errors.append(f"“{severity}” is listed twice.")
            else:
                found[severity] = urgency
        if errors:
            raise forms.ValidationError(errors)
        return found


class IntegrationForm(forms.ModelForm):
    severity_map = SeverityMapField(
        required=False,
        help_text="Alert severity to urgency: high, medium or low.",
    )

    class Meta:
        model = Integration
        fields = [
            "name",
            "kind",
            "is_active",
            "default_category",
            "default_service",
            "default_impact",
            "severity_map",
            "recovery",
            "grouping",
            "group_within_minutes",
            "rate_limit_per_minute",
        ]
