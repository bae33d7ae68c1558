"""The worker's half of alert intake: opening the incidents of accepted alerts.

``alert_accept`` writes a new alert with no incident and asks a worker, after its
commit, to place it (``placement_ask``). The worker runs passes over every alert
that waits (``AWAITING_PLACEMENT``), oldest first, each in a transaction of its
own: the integration's row is locked first when it groups (as every request that
may open a grouped incident does), then the alert's, which is re-read under the
lock, so two workers, or a worker and a sweep, never place one alert twice, and
the alert's unique open key still allows one incident per key. An alert that
another transaction holds is skipped and found again by the next pass.

Why no alert is forgotten: a pass starts by taking away the "asked" key. A
request that commits before that is seen by the pass; one that commits after
finds the key gone, adds it and asks again. A worker killed in a pass leaves its
uncommitted alert waiting, and the beat sweep, which runs the same passes, places
whatever a lost message or a dead worker left behind.

Placing an alert is some twenty short statements, so a placer mostly waits on
the database: on PostgreSQL one task runs ``ALERT_PLACEMENT_THREADS`` placers at
once, each over its own share of the alerts (by id) on its own connection, and
so keeps one worker slot busy, not all of them. Every placer takes the "asked"
key away at the start of each of its passes, which keeps the rule above true
for each share.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import F

from incidents.models import Alert, Integration
from incidents.models.alerts import AWAITING_PLACEMENT
from incidents.services.alerts import PLACEMENT_ASKED, alert_place, placement_ask
from incidents.services.retry import retried

logger = logging.getLogger(__name__)

BATCH = 200
# How long one task places before it hands the rest to a fresh task (so other
# tasks, such as the new incidents' notifications, get a worker slot in a
# storm), and how long it waits for alerts others hold.
TASK_SECONDS = 5.0
BUSY_PAUSE_SECONDS = 0.05


@retried
@transaction.atomic
def _place_one(pk: int, integration: Integration) -> bool | None:
    """Place alert ``pk`` if it still waits: True if placed, None if another
    transaction holds it (it is tried again), False if it no longer waits."""
    if integration.grouping != Integration.Grouping.ALERT:
        Integration.objects.select_for_update().filter(pk=integration.pk).exists()
    alert = (
        Alert.objects.select_for_update(skip_locked=True)
        .filter(AWAITING_PLACEMENT, pk=pk)
        .first()
    )
    if alert is None:
        return (
            None if Alert.objects.filter(AWAITING_PLACEMENT, pk=pk).exists() else False
        )
    alert.integration = integration
    alert_place(alert)
    return True


def _placement_pass(failed: set[int], share: int, shares: int) -> tuple[int, int]:
    """One pass over the waiting alerts of one share, in id order; (placed,
    busy)."""
    placed = busy = 0
    integrations: dict[int, Integration] = {}
    after = 0
    waiting = Alert.objects.filter(AWAITING_PLACEMENT)
    if shares > 1:
        waiting = waiting.alias(share=F("pk") % shares).filter(share=share)
    while True:
        batch = list(
            waiting.filter(pk__gt=after)
            .exclude(pk__in=failed)
            .order_by("pk")
            .values_list("pk", "integration_id")[:BATCH]
        )
        if not batch:
            return placed, busy
        missing = {i for _, i in batch} - integrations.keys()
        integrations.update(Integration.objects.in_bulk(missing))
        for pk, integration_id in batch:
            after = pk
            try:
                done = _place_one(pk, integrations[integration_id])
            except Exception:
                # One alert that cannot be placed must not hold up the others;
                # it stays waiting, and the next sweep tries it again.
                logger.exception("alert %s could not be placed", pk)
                failed.add(pk)
                continue
            placed += done is True
            busy += done is None


def alerts_place_awaiting(*, seconds: float = TASK_SECONDS) -> int:
    """Place every accepted alert that waits for its incident, in passes until a
    pass finds none (or ``seconds`` have gone, when a fresh task is asked for
    the rest). Safe to run in any number of workers at once. Returns how many
    alerts it placed."""
    deadline = time.monotonic() + seconds
    shares = (
        settings.ALERT_PLACEMENT_THREADS if connection.vendor == "postgresql" else 1
    )
    if shares <= 1:
        return _place_share(0, 1, deadline)
    with ThreadPoolExecutor(shares, thread_name_prefix="alert-placer") as pool:
        placers = [
            pool.submit(_place_share_on_own_connection, share, shares, deadline)
            for share in range(shares)
        ]
        return sum(placer.result() for placer in placers)


def _place_share_on_own_connection(share: int, shares: int, deadline: float) -> int:
    try:
        return _place_share(share, shares, deadline)
    finally:
        connections.close_all()  # this thread's, which nothing else would close


def _place_share(share: int, shares: int, deadline: float) -> int:
    placed = 0
    failed: set[int] = set()
    while True:
        with contextlib.suppress(Exception):
            cache.delete(PLACEMENT_ASKED)
        done, busy = _placement_pass(failed, share, shares)
        placed += done
        if not done and not busy:
            return placed
        if time.monotonic() > deadline:
            placement_ask()
            return placed
        if not done:
            # Only alerts other transactions hold are left: let them finish.
            time.sleep(BUSY_PAUSE_SECONDS)
