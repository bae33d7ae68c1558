"""Tools for tests that race real transactions against each other on PostgreSQL:
run callables at the same moment, each on its own connection, and hold an
incident's row lock so that a writer is sure to wait for it.

Nothing here waits a fixed time: waiting is for a condition (a barrier, a backend
that PostgreSQL reports as waiting for a lock), with a generous timeout that only
a broken test reaches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

TIMEOUT = 30.0


@dataclass
class Outcome:
    """What one callable came to: its result, or the exception it raised."""

    result: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def value(self) -> Any:
        """The result; re-raises what the callable raised."""
        assert self.done.wait(TIMEOUT), "the callable never finished"
        if self.error is not None:
            raise self.error
        return self.result


def _run(call: Callable[[], Any], outcome: Outcome, barrier: Any = None) -> None:
    try:
        if barrier is not None:
            barrier.wait(timeout=TIMEOUT)
        outcome.result = call()
    except BaseException as exc:  # noqa: BLE001 - handed to the test to look at
        outcome.error = exc
    finally:
        connection.close()  # each thread has its own connection: give it back
        outcome.done.set()


def start(call: Callable[[], Any]) -> Outcome:
    """Run ``call`` in a thread of its own (its own database connection)."""
    outcome = Outcome()
    threading.Thread(target=_run, args=(call, outcome), daemon=True).start()
    return outcome


def together(calls: list[Callable[[], Any]]) -> list[Outcome]:
    """Run every call in its own thread, all released at once by a barrier, and
    wait until all have finished."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]
    threads = [
        threading.Thread(target=_run, args=(call, outcome, barrier), daemon=True)
        for call, outcome in zip(calls, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert all(o.done.is_set() for o in outcomes), "a call never finished"
    return outcomes


def lock_waiters() -> int:
    """How many backends of this database wait for a lock just now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for_lock_waiters(count: int) -> None:
    """Wait until ``count`` backends wait for a lock (a writer reached the row
    another transaction holds)."""
    deadline = time.monotonic() + TIMEOUT
    while lock_waiters() < count:
        assert time.monotonic() < deadline, f"never {count} backends waiting"
        time.sleep(0.01)


@contextmanager
def row_locked(row: Model, then: Callable[[], Any] | None = None) -> Iterator[None]:
    """Hold ``row``'s lock (as a service holds it) in another transaction for the
    block; when the block ends, run ``then`` in that transaction and commit. A
    writer started in the block waits for the lock, so whatever ``then`` changes
    is sure to land between the writer's reading the row and its locking it."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Should ``then`` and the writer deadlock, the writer is the one
                # PostgreSQL aborts: it checks for a deadlock long before this does.
                cursor.execute("SET LOCAL deadlock_timeout = '20s'")
            type(row).objects.select_for_update(no_key=True).get(pk=row.pk)
            locked.set()
            assert release.wait(TIMEOUT), "the lock was never released"
            if then is not None:
                then()

    holder = start(hold)
    assert locked.wait(TIMEOUT), "could not take the lock"
    try:
        yield
    finally:
        release.set()
        holder.value()
