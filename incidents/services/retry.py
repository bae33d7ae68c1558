"""Deadlocks and serialisation failures, run again from where the transaction began.

Row locks are taken in one order wherever the code chooses it (the alerts of a
delivery by key, two incidents by id), so the common deadlocks cannot happen.
Some still can: two kinds of write that need the same rows the other way round,
such as a recovery (its alert, then its incident) meeting a merge (the incident,
then its alerts). PostgreSQL then aborts one of the two transactions so that the
other can go on. The aborted one did nothing: it is run again from its start, a
few times at most, instead of failing its request.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 5
# The pause before attempt n is random, up to n times this: the two transactions
# that met should not meet again at once.
PAUSE_SECONDS = 0.02
# The SQLSTATEs of a transaction PostgreSQL rolled back so that another could go on.
RETRYABLE = {"40P01": "deadlock detected", "40001": "serialisation failure"}


def _retryable(exc: OperationalError) -> str | None:
    return RETRYABLE.get(getattr(exc.__cause__, "pgcode", None) or "")


def retried(func: Callable[..., T]) -> Callable[..., T]:
    """Run ``func``, which opens its own transaction, again when PostgreSQL
    aborted that transaction as a deadlock victim or for a serialisation failure:
    at most ``ATTEMPTS`` times in all, after a short random pause. Inside an
    enclosing transaction nothing is retried: all of that transaction was
    aborted, so the failure goes up to where it began."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        attempt = 1
        while True:
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                reason = _retryable(exc)
                if reason is None or attempt >= ATTEMPTS:
                    raise
                logger.warning(
                    "%s: %s; attempt %d of %d, trying again",
                    func.__qualname__,
                    reason,
                    attempt,
                    ATTEMPTS,
                )
            time.sleep(random.uniform(0, PAUSE_SECONDS * attempt))
            attempt += 1

    return run
