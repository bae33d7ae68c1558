"""SLA sweep benchmark: one sweep over 10k and 1M incidents, 1,000 of them due.

Seeds the incident table on PostgreSQL straight from SQL (``generate_series``),
with exactly 1,000 open incidents whose response target has passed unrecorded and
every other incident not due for any rule (most closed, the open ones with their
targets ahead), then times ``sla_sweep(now=...)`` run after run until a run acts
on nothing, and prints the plan of each rule's selection query. Each rule claims at
most ``BATCH`` incidents per run, so 1,000 due incidents take two runs, and the
third must find nothing left (idempotency). It prints figures and never asserts
them: it is a measurement, not a test.

    .venv/bin/python benchmarks/sla_sweep.py [--sizes 10000,1000000]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from common import (
    BenchError,
    manage,
    postgres_version,
    recreate_database,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_sla"
DEFAULT_SIZES = "10000,1000000"
DUE = 1000
MAX_RUNS = 10

# Every incident row from one generate_series: row i is due (an open incident whose
# response target passed without a breach recorded, no team, P3, assigned) when it
# is one of the first DUE multiples of the stride, which spreads the due rows over
# the whole table. The others are not due for any rule: 85% closed, 3% resolved
# with the confirmation grace still running, 2% cancelled, 10% open with every
# target ahead (new P1/P2 ones unassigned but already escalated).
SEED_SQL = """
INSERT INTO incidents_incident (
    title, description, impact, urgency, priority, source, tier, known_error,
    resolution_kind, resolution, verification, cancel_reason, contact, reopen_count,
    detected_at, logged_at, acknowledged_at, resolved_at, confirmation_due_at,
    closed_at, updated_at, status, version, assignee_id, category_id,
    follows_up_id, merged_into_id, requester_id, team_id, problem_id,
    next_update_due_at, resolve_breached_at, resolve_due_at, resolve_warn_at,
    resolve_warned_at, respond_breached_at, respond_due_at,
    unassigned_escalated_at, update_reminded_at, signature
)
SELECT
    'Bench incident ' || i,
    '',
    (ARRAY['high', 'high', 'medium', 'low'])[p],
    (ARRAY['high', 'medium', 'medium', 'low'])[p],
    p,
    (ARRAY['alert', 'portal', 'agent'])[1 + i %% 3],
    1,
    false,
    CASE WHEN status IN ('closed', 'resolved') THEN 'permanent_fix' ELSE '' END,
    CASE WHEN status IN ('closed', 'resolved') THEN 'Restarted the service.'
        ELSE '' END,
    CASE WHEN status IN ('closed', 'resolved') THEN 'Error rate back to normal.'
        ELSE '' END,
    CASE WHEN status = 'cancelled' THEN 'Not an incident.' ELSE '' END,
    '',
    0,
    logged - interval '2 minutes',
    logged,
    CASE WHEN due OR status IN ('new', 'triaged', 'cancelled') THEN NULL
        ELSE logged + interval '10 minutes' END,
    CASE WHEN status IN ('closed', 'resolved') THEN logged + interval '6 hours' END,
    CASE WHEN status = 'resolved' THEN logged + interval '6 hours 3 days' END,
    CASE WHEN status = 'closed' THEN logged + interval '1 day 6 hours'
        WHEN status = 'cancelled' THEN logged + interval '30 minutes' END,
    CASE WHEN status = 'closed' THEN logged + interval '1 day 6 hours'
        WHEN status = 'resolved' THEN logged + interval '6 hours'
        WHEN status = 'cancelled' THEN logged + interval '30 minutes'
        ELSE logged + interval '10 minutes' END,
    status,
    1 + i %% 7,
    CASE WHEN status IN ('new', 'cancelled') THEN NULL ELSE %(agent)s END,
    NULL, NULL, NULL, NULL, NULL, NULL,
    CASE WHEN NOT due AND open AND p <= 2
        THEN now + interval '1 minute' * (1 + i %% 30) END,
    CASE WHEN status = 'closed' AND i %% 23 = 0 THEN logged + interval '4 hours' END,
    CASE WHEN due THEN now + interval '1 day'
        WHEN status IN ('new', 'triaged', 'investigating')
        THEN now + interval '1 minute' * (60 + i %% 4320) END,
    CASE WHEN due THEN now + interval '12 hours'
        WHEN status IN ('new', 'triaged', 'investigating')
        THEN now + interval '1 minute' * (30 + i %% 2000) END,
    CASE WHEN status = 'closed' AND i %% 13 = 0 THEN logged + interval '3 hours' END,
    CASE WHEN status = 'closed' AND i %% 11 = 0 THEN logged + interval '15 minutes'
        END,
    CASE WHEN due THEN now - interval '1 second' * (60 + i %% 3600)
        WHEN status IN ('new', 'triaged')
        THEN now + interval '1 minute' * (1 + i %% 240) END,
    CASE WHEN status = 'new' AND p <= 2 THEN logged + interval '15 minutes' END,
    NULL,
    ''
FROM (
    SELECT i, due, p, status, status IN %(open_statuses)s AS open, now,
        CASE WHEN due THEN now - interval '1 day' - interval '1 second' * i
            WHEN status IN ('closed', 'cancelled')
            THEN now - interval '1 minute' * (1440 + i %% 525600)
            WHEN status = 'resolved'
            THEN now - interval '1 minute' * (360 + i %% 2880)
            ELSE now - interval '1 minute' * (30 + i %% 2880) END AS logged
    FROM (
        SELECT i, due, now,
            CASE WHEN due THEN 3 ELSE 1 + i %% 4 END AS p,
            CASE WHEN due THEN 'investigating'
                WHEN i %% 100 < 85 THEN 'closed'
                WHEN i %% 100 < 88 THEN 'resolved'
                WHEN i %% 100 < 90 THEN 'cancelled'
                WHEN i %% 100 < 93 THEN 'new'
                WHEN i %% 100 < 95 THEN 'triaged'
                WHEN i %% 100 < 98 THEN 'investigating'
                ELSE 'awaiting_requester' END AS status
        FROM (
            SELECT i, %(now)s::timestamptz AS now,
                i %% %(stride)s = 0 AND i <= %(stride)s * %(due)s AS due
            FROM generate_series(1, %(size)s) AS i
        ) AS numbered
    ) AS classified
) AS seeded
"""


# ---------------------------------------------------------------- environment
def bench_environment() -> dict[str, str]:
    """This process's environment with the benchmark's settings: development mode
    on PostgreSQL, without Redis (the sweep needs no broker)."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        DJANGO_SETTINGS_MODULE="itsm.settings",
        DEBUG="1",
        LOG_LEVEL="WARNING",
    )
    return env


@contextmanager
def timed() -> Iterator[list[float]]:
    """Measure the block's wall time; the seconds are in the yielded list's first
    item once the block ends."""
    seconds: list[float] = [math.nan]
    started = time.perf_counter()
    try:
        yield seconds
    finally:
        seconds[0] = time.perf_counter() - started


# ---------------------------------------------------------------- seeding
def bench_agent_id() -> int:
    """The id of the user every assigned incident is assigned to."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-agent")
    return user.pk


def empty_incidents() -> None:
    """Remove every incident and everything that refers to one."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_incident RESTART IDENTITY CASCADE")


def seed(size: int, now: datetime) -> float:
    """Insert ``size`` incidents, exactly ``DUE`` of them due at ``now``; returns
    the seconds it took."""
    from django.db import connection

    from incidents.models import Incident

    params = {
        "size": size,
        "stride": size // DUE,
        "due": DUE,
        "now": now,
        "agent": bench_agent_id(),
        "open_statuses": tuple(str(s) for s in Incident.OPEN_STATUSES),
    }
    with timed() as seconds, connection.cursor() as cursor:
        cursor.execute(SEED_SQL, params)
    return seconds[0]


def vacuum_analyze() -> float:
    """VACUUM (ANALYZE) the incident table, so the planner knows its statistics
    and autovacuum does not start in the middle of a sweep; returns the seconds."""
    from django.db import connection

    with timed() as seconds, connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) incidents_incident")
    return seconds[0]


def describe_seed(now: datetime) -> str:
    """How many incidents the seed made, by status, and how many are due."""
    from django.db.models import Count

    from incidents.models import Incident

    by_status = (
        Incident.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    due = Incident.objects.filter(
        respond_due_at__lte=now, respond_breached_at__isnull=True
    ).count()
    statuses = ", ".join(f"{status} {n}" for status, n in by_status)
    return f"{statuses}; response due now: {due}"


# ---------------------------------------------------------------- plans
def print_plans(now: datetime) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) the one selection query of each sweep rule. The
    queries only read, so running them changes nothing."""
    from incidents.sla import sweep

    for name in sweep.RULES:
        _, order_by = sweep.conditions(now)[name]
        plan = sweep.due_query(now, name).explain(analyze=True, buffers=True)
        print(f"  {name} (order by {order_by}):")
        for line in plan.splitlines():
            print(f"    {line}")


# ---------------------------------------------------------------- sweeps
@dataclass
class StatementTally:
    """SQL statements run through Django's cursor, counted and timed by their
    first word (SELECT, UPDATE, INSERT, SAVEPOINT...); commits are not statements
    here. Installed with ``connection.execute_wrapper``."""

    count: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        """Run one statement, counting and timing it."""
        kind = sql.split(None, 1)[0].upper() if sql.strip() else "?"
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count[kind] += 1
            self.seconds[kind] = self.seconds.get(kind, 0.0) + elapsed

    @property
    def total(self) -> int:
        """How many statements ran."""
        return sum(self.count.values())

    def __str__(self) -> str:
        return ", ".join(
            f"{kind} {n} ({self.seconds[kind]:.2f} s)"
            for kind, n in self.count.most_common()
        )


class FailureLog(logging.Handler):
    """Keeps the messages of the errors the sweep logs (a rule that raised is
    logged with its traceback and counted as 0)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def sweep_failures() -> Iterator[list[str]]:
    """Collect the errors the sweep module logs while the block runs."""
    logger = logging.getLogger("incidents.sla.sweep")
    handler = FailureLog()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


@dataclass(frozen=True)
class SweepRun:
    """One ``sla_sweep`` call: what each rule acted on, the wall time, the SQL
    statements it ran, and the errors it logged."""

    counts: dict[str, int]
    seconds: float
    statements: StatementTally
    failures: list[str]

    @property
    def acted(self) -> int:
        """How many incidents the rules acted on, all together."""
        return sum(self.counts.values())


@dataclass
class SizeResult:
    """The figures of one table size."""

    size: int
    seed_seconds: float
    vacuum_seconds: float
    runs: list[SweepRun] = field(default_factory=list)

    def run_cell(self, index: int) -> str:
        """A run's seconds and what it acted on, or a dash if there was none."""
        if index >= len(self.runs):
            return "-"
        run = self.runs[index]
        return f"{run.seconds:.3f} ({run.acted})"


def sweep_once(now: datetime) -> SweepRun:
    """Time one ``sla_sweep(now=now)`` call."""
    from django.db import connection

    from incidents.sla.sweep import sla_sweep

    statements = StatementTally()
    with (
        sweep_failures() as failures,
        connection.execute_wrapper(statements),
        timed() as seconds,
    ):
        counts = sla_sweep(now=now)
    return SweepRun(counts, seconds[0], statements, failures)


def sweep_until_idle(now: datetime) -> list[SweepRun]:
    """Sweep again and again at the same instant until a run acts on nothing
    (at most ``MAX_RUNS`` runs), printing each run."""
    runs: list[SweepRun] = []
    while len(runs) < MAX_RUNS:
        run = sweep_once(now)
        runs.append(run)
        counts = ", ".join(f"{name} {n}" for name, n in run.counts.items())
        print(f"  run {len(runs)}: {run.seconds:.3f} s; {counts}")
        print(
            f"    {run.statements.total} SQL statements: {run.statements}", flush=True
        )
        for message in run.failures:
            print(f"    FAILED: {message} (traceback on stderr)", flush=True)
        if run.acted == 0:
            break
    return runs


def describe_outcome(now: datetime) -> str:
    """What the sweeps left: breaches recorded and SLA_BREACHED timeline events."""
    from incidents.models import Incident, IncidentEvent

    breached = Incident.objects.filter(
        respond_due_at__lte=now, respond_breached_at__isnull=False
    ).count()
    events = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.SLA_BREACHED).count()
    left = Incident.objects.filter(
        respond_due_at__lte=now, respond_breached_at__isnull=True
    ).count()
    return (
        f"response breaches recorded {breached}, SLA_BREACHED events {events}, "
        f"still due {left} (seeded due: {DUE})"
    )


def measure(size: int) -> SizeResult:
    """Seed one size, print the plans, sweep until idle and report."""
    now = datetime.now(UTC)
    print(f"\n== {size:,} incidents ({DUE:,} due), now = {now.isoformat()}")
    empty_incidents()
    result = SizeResult(size, seed(size, now), math.nan)
    print(f"  seeded in {result.seed_seconds:.2f} s", flush=True)
    result.vacuum_seconds = vacuum_analyze()
    print(f"  VACUUM (ANALYZE) in {result.vacuum_seconds:.2f} s", flush=True)
    print(f"  {describe_seed(now)}")
    print("Selection queries, EXPLAIN (ANALYZE, BUFFERS) before the first run:")
    print_plans(now)
    print("Sweeps at the same instant:")
    result.runs = sweep_until_idle(now)
    print(f"  {describe_outcome(now)}")
    return result


# ---------------------------------------------------------------- report
def print_table(results: list[SizeResult]) -> None:
    """The summary: one row per size."""
    from incidents.sla.sweep import BATCH

    header = (
        f"{'incidents':>10} {'seed s':>8} {'vacuum s':>9} "
        f"{'run 1 s (acted)':>17} {'run 2 s (acted)':>17} {'idle run s':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        idle = r.runs[-1].seconds if r.runs and r.runs[-1].acted == 0 else math.nan
        print(
            f"{r.size:>10,} {r.seed_seconds:>8.2f} {r.vacuum_seconds:>9.2f} "
            f"{r.run_cell(0):>17} {r.run_cell(1):>17} {idle:>11.3f}"
        )
    print(
        "Across sizes, the sweep times of the same run should be about equal: each "
        "rule reads only what is due\nthrough its index (an index scan over what is "
        f"due, never a table scan). Each rule acts on at most {BATCH} incidents\n"
        f"per run, so {DUE:,} due incidents take {math.ceil(DUE / BATCH)} runs; "
        "the idle run (acting on nothing) is the idempotency check."
    )


# ---------------------------------------------------------------- main
def parse_sizes(text: str) -> list[int]:
    """Comma-separated table sizes, each at least ``DUE``."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not sizes or min(sizes) < DUE:
        raise argparse.ArgumentTypeError(f"every size must be at least {DUE}")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``--sizes``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes(DEFAULT_SIZES),
        help=f"Comma-separated incident counts (default {DEFAULT_SIZES}).",
    )
    return parser.parse_args(argv)


def describe_setup(database: str, sizes: list[int]) -> str:
    """One line saying what is measured where (no credentials)."""
    version = postgres_version()
    listed = ", ".join(f"{size:,}" for size in sizes)
    return (
        f"PostgreSQL {version}, database {database}; sizes {listed}, {DUE:,} due "
        f"each; {os.cpu_count()} CPUs shared by Python and PostgreSQL"
    )


def main(argv: list[str] | None = None) -> int:
    """Prepare the database, measure every size, print the table; returns the
    exit status."""
    args = parse_args(argv)
    env = bench_environment()
    try:
        database = recreate_database(env["DATABASE_URL"])
        manage(env, "migrate", "--noinput")
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    os.environ.pop("REDIS_URL", None)  # as in the child processes: no broker
    setup_django(env)
    print(describe_setup(database, args.sizes), flush=True)
    results: list[SizeResult] = [measure(size) for size in args.sizes]
    print()
    print_table(results)
    failures = [m for r in results for run in r.runs for m in run.failures]
    if failures:
        print(f"the sweep logged {len(failures)} rule failures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
