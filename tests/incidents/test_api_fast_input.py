"""The plain-Python check of alert bodies accepts only what the serializers accept,
and makes of it exactly what they make; everything else goes to the serializers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from incidents.api.alerts import (
    AlertmanagerPayloadSerializer,
    GenericAlertSerializer,
    GrafanaPayloadSerializer,
    PagerDutyEventSerializer,
)
from incidents.api.fast_input import validated_or_none
from tests.incidents.test_api_alerts import ALERTMANAGER, GENERIC, GRAFANA, pagerduty

SENDERS = [
    (AlertmanagerPayloadSerializer, ALERTMANAGER),
    (GrafanaPayloadSerializer, GRAFANA),
    (GenericAlertSerializer, GENERIC),
    (PagerDutyEventSerializer, pagerduty()),
]
IDS = ["alertmanager", "grafana", "generic", "pagerduty"]

# Text as senders send it, leaning towards the edges: blanks, padding, each
# field's length limit and one past it, choices, dates good and bad.
TEXTS = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "firing",
        "resolved",
        " firing",
        "trigger",
        "resolve",
        "acknowledge",
        "critical",
        " padded ",
        "2026-11-27T07:50:00Z",
        "2026-11-27T07:50:00+02:00",
        "2026-11-27 07:50",
        "2026-11-27",
        "2026-02-30T00:00:00Z",
        "0001-01-01T00:00:00Z",
        *("x" * n for n in (32, 33, 100, 101, 200, 201, 255, 256)),
        *(" " + "x" * n + " " for n in (32, 100, 200, 255)),
    ]
)
SCALARS = st.one_of(
    TEXTS,
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "summary", "status"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a body a value could be changed or removed."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _mutated(body: dict[str, Any], path: tuple, new: Any, remove: bool) -> Any:
    body = copy.deepcopy(body)
    holder = body
    for step in path[:-1]:
        holder = holder[step]
    if remove and isinstance(holder, dict):
        del holder[path[-1]]
    else:
        holder[path[-1]] = new
    return body


def _serializer_says(serializer_class: type, body: Any) -> dict | None:
    serializer = serializer_class(data=body)
    return serializer.validated_data if serializer.is_valid() else None


@pytest.mark.parametrize(("serializer_class", "body"), SENDERS, ids=IDS)
def test_each_senders_usual_body_takes_the_fast_path(
    serializer_class: type, body: dict
) -> None:
    fast = validated_or_none(serializer_class, body)
    assert fast is not None
    assert fast == _serializer_says(serializer_class, body)


@pytest.mark.parametrize(("serializer_class", "body"), SENDERS, ids=IDS)
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fast_path_accepts_nothing_the_serializer_refuses(
    serializer_class: type, body: dict, data: st.DataObject
) -> None:
    """Whatever a body turns into, the fast path either gives up or agrees with
    the serializer exactly (a few changes at once, any of them a removal)."""
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(body)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        new = data.draw(st.one_of(TEXTS, JSON))
        body = _mutated(body, path, new, data.draw(st.integers(0, 4)) == 0)
    fast = validated_or_none(serializer_class, body)
    if fast is not None:
        assert fast == _serializer_says(serializer_class, body)


def test_a_serializer_with_a_field_it_does_not_know_always_goes_to_drf() -> None:
    class WithEmail(serializers.Serializer):
        email = serializers.EmailField()

    assert validated_or_none(WithEmail, {"email": "a@example.com"}) is None


def test_field_validators_always_go_to_drf() -> None:
    class WithFieldValidator(serializers.Serializer):
        name = serializers.CharField()

        def validate_name(self, value: str) -> str:
            raise serializers.ValidationError("never")

    assert validated_or_none(WithFieldValidator, {"name": "x"}) is None
