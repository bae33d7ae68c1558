"""The error signature: what makes two incidents "the same error" for the recurrence
rules of post-incident reviews and problems.

An alert-born incident is signed by its alert (the integration and the alert's
fingerprint or dedup key), so the same alert firing again after its incident ended
is a recurrence. Any other incident is signed by its first affected service (the
lowest id, since a set of services has no order) and its category. An incident with
neither a service nor a category has no signature and never recurs.
"""

from __future__ import annotations

from collections.abc import Iterable

ALERT_PREFIX = "alert:"


def alert_signature(integration_id: int, dedup_key: str) -> str:
    """The signature of incidents opened by one alert of one integration."""
    return f"{ALERT_PREFIX}{integration_id}:{dedup_key}"[:300]


def classified_signature(*, category_id: int | None, service_ids: Iterable[int]) -> str:
    """The signature of an incident that no alert opened: its first service and its
    category (``-`` for either that is missing); empty when both are."""
    first_service = min(service_ids, default=None)
    if first_service is None and category_id is None:
        return ""
    service = "-" if first_service is None else first_service
    category = "-" if category_id is None else category_id
    return f"service:{service}:category:{category}"


def is_alert_signature(signature: str) -> bool:
    return signature.startswith(ALERT_PREFIX)
