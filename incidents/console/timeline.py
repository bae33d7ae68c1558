"""How the incident page words a timeline entry: what changed, from what to what,
and for an escalation who was told and why."""

from __future__ import annotations

from typing import Any

from incidents.models import Impact, IncidentEvent, Priority, Urgency

# Stored values whose label reads better than the value.
_LABELS: dict[str, dict[Any, str]] = {
    "impact": dict(Impact.choices),
    "urgency": dict(Urgency.choices),
    "priority": {value: f"P{value}" for value in Priority.values},
}
_LONG = 60  # a longer text (a description) is cut, the API has it whole


def _value(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict) and "name" in value:
        return str(value["name"])
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    text = _LABELS.get(field, {}).get(value, str(value))
    return text if len(text) <= _LONG else text[: _LONG - 1] + "…"


def field_change(data: dict[str, Any]) -> str:
    """``field: old → new``, with names for relations and labels for choices."""
    field = data.get("field", "")
    old = data.get("old_names", data.get("old"))
    new = data.get("new_names", data.get("new"))
    return f"{field}: {_value(field, old)} → {_value(field, new)}"


def describe(kind: str, data: dict[str, Any]) -> str:
    """The detail of an entry of ``kind`` with ``data``, after its kind ("" when
    the kind says it all)."""
    if data.get("transition"):
        return f"{data['source']} → {data['target']}"
    if kind == IncidentEvent.Kind.FIELD_CHANGED:
        return field_change(data)
    if kind == IncidentEvent.Kind.ESCALATED and "told" in data:
        told = ", ".join(data["told"]) or "nobody"
        return f"tier {data['from_tier']} → {data['to_tier']}; told {told} ({data['told_why']})"
    if data.get("rule"):  # an alert's occurrence, by the alert's name
        return f"{data['name']}: {data['rule']}" if data.get("name") else data["rule"]
    if data.get("article"):
        return f"{data['article']} {data.get('title', '')}"
    return ""
