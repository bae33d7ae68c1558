"""Validate a well-formed request body in plain Python, or hand it back to DRF.

A DRF serializer deep-copies every declared field, nested ones included, for each
request before it validates anything: for the Alertmanager and Grafana webhooks
that is most of the cost of validation, on the busiest endpoint we have. Here a
body is checked against the very same declared fields, with the same rules (type,
blank, length, choices, range, dates, defaults), without the copies.

The rule that keeps it honest: this path only ever *accepts*. At the first thing
it does not handle, or that DRF would refuse, it gives up and the caller runs the
serializer, so every 400 is DRF's own answer, word for word. What it accepts
comes out as the serializer's ``validated_data`` would. Field types or options
it does not know make it give up on that serializer altogether.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core import validators as django_validators
from rest_framework import fields, serializers
from rest_framework.fields import empty

_TEXT_VALIDATORS = (
    django_validators.MaxLengthValidator,
    django_validators.MinLengthValidator,
    django_validators.ProhibitNullCharactersValidator,
    fields.ProhibitSurrogateCharactersValidator,
)
_NUMBER_VALIDATORS = (
    django_validators.MaxValueValidator,
    django_validators.MinValueValidator,
)


class _GiveUp(Exception):
    """The body is not one this path can vouch for: let the serializer decide."""


Check = Callable[[Any], Any]


def validated_or_none(
    serializer_class: type[serializers.Serializer], data: Any
) -> dict[str, Any] | None:
    """What ``serializer_class(data=data).validated_data`` would be, when the body
    is valid and plainly shaped; None when the serializer must look at it (it is
    invalid, or uses something this module does not check)."""
    check = _plan(serializer_class)
    if check is None:
        return None
    try:
        return check(data)
    except (_GiveUp, serializers.ValidationError):
        return None


@functools.cache
def _plan(serializer_class: type[serializers.Serializer]) -> Check | None:
    """The check for one serializer class, built once; None if any of its fields
    (or theirs) is of a kind this module does not handle."""
    try:
        return _serializer_check(serializer_class)
    except _GiveUp:
        return None


def _serializer_check(serializer_class: type[serializers.Serializer]) -> Check:
    declared = serializer_class._declared_fields
    if getattr(serializer_class, "Meta", None) is not None or any(
        hasattr(serializer_class, f"validate_{name}") for name in declared
    ):
        raise _GiveUp  # model serializers, per-field or class-level validators
    plan = []
    for name, field in declared.items():
        if field.read_only or field.write_only or field.source not in (None, name):
            raise _GiveUp
        plan.append((name, field.required, field.default, _field_check(field)))
    custom_validate = serializer_class.validate is not serializers.Serializer.validate

    def check(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise _GiveUp
        result = {}
        for name, required, default, check_value in plan:
            value = data.get(name, empty)
            if value is empty:
                if required:
                    raise _GiveUp
                if default is empty:
                    continue  # optional, no default: absent from the result
                result[name] = default() if callable(default) else default
            elif value is None:
                raise _GiveUp  # none of our fields takes null
            else:
                result[name] = check_value(value)
        if custom_validate:
            # A fresh instance costs little: its fields are copied only when read.
            result = serializer_class().validate(result)
        return result

    return check


def _field_check(field: fields.Field) -> Check:
    if field.allow_null and type(field) is not fields.DictField:
        raise _GiveUp
    kind = type(field)
    if isinstance(field, serializers.ListSerializer):
        return _list_check(field, _serializer_check(type(field.child)))
    if isinstance(field, serializers.Serializer):
        return _serializer_check(kind)
    if kind is fields.CharField:
        return _text_check(field)
    if kind is fields.ChoiceField:
        return _choice_check(field)
    if kind is fields.IntegerField:
        return _integer_check(field)
    if kind is fields.DateTimeField:
        return _datetime_check(field)
    if kind is fields.DictField:
        return _dict_check(field)
    if kind is fields.ListField:
        return _list_check(field, _child_check(field.child))
    if kind is fields.JSONField and not field.binary:
        return lambda value: value  # parsed JSON is JSON
    raise _GiveUp


def _only(field: fields.Field, allowed: tuple[type, ...]) -> None:
    if any(not isinstance(v, allowed) for v in field.validators):
        raise _GiveUp


def _text_check(field: fields.CharField) -> Check:
    _only(field, _TEXT_VALIDATORS)
    trim, allow_blank = field.trim_whitespace, field.allow_blank
    longest, shortest = field.max_length, field.min_length

    def check(value: Any) -> str:
        # DRF also turns numbers into text; those rare bodies go to it.
        if not isinstance(value, str):
            raise _GiveUp
        if trim:
            value = value.strip()
        if value == "":
            if not allow_blank:
                raise _GiveUp
            return ""
        if (longest is not None and len(value) > longest) or (
            shortest is not None and len(value) < shortest
        ):
            raise _GiveUp
        # NUL and lone surrogates never get here: BoundedJSONParser refuses them.
        return value

    return check


def _choice_check(field: fields.ChoiceField) -> Check:
    if field.validators:
        raise _GiveUp
    choices = dict(field.choice_strings_to_values)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in choices:
            raise _GiveUp
        return choices[value]

    return check


def _integer_check(field: fields.IntegerField) -> Check:
    _only(field, _NUMBER_VALIDATORS)
    lowest, highest = field.min_value, field.max_value

    def check(value: Any) -> int:
        if type(value) is not int:  # bool is an int to Python, not to DRF
            raise _GiveUp
        if (lowest is not None and value < lowest) or (
            highest is not None and value > highest
        ):
            raise _GiveUp
        return value

    return check


def _datetime_check(field: fields.DateTimeField) -> Check:
    if field.validators:
        raise _GiveUp

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise _GiveUp
        # DRF's own parsing and time zone rule; it keeps no state, so the declared
        # field serves every request. Its ValidationError means "give up".
        return field.to_internal_value(value)

    return check


def _child_check(child: fields.Field) -> Check:
    if type(child) is fields._UnvalidatedField:
        return lambda value: value
    return _field_check(child)


def _dict_check(field: fields.DictField) -> Check:
    if field.validators:
        raise _GiveUp
    allow_empty = field.allow_empty
    unvalidated = type(field.child) is fields._UnvalidatedField
    check_item = _child_check(field.child)

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or (not allow_empty and not value):
            raise _GiveUp
        if unvalidated:
            return dict(value)  # JSON object keys are text already
        result = {}
        for key, item in value.items():
            if item is None:
                raise _GiveUp
            result[key] = check_item(item)
        return result

    return check


def _list_check(field: fields.Field, check_item: Check) -> Check:
    if field.validators or getattr(field, "max_length", None) is not None:
        raise _GiveUp
    if getattr(field, "min_length", None) is not None:
        raise _GiveUp
    allow_empty = field.allow_empty

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list) or (not allow_empty and not value):
            raise _GiveUp
        result = []
        for item in value:
            if item is None:
                raise _GiveUp
            result.append(check_item(item))
        return result

    return check
