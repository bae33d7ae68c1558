"""Status page benchmark: ``/status`` and ``/api/v2/summary.json`` with 50
components, 90 days of history and 1M incidents behind them, beside a static
file served by the same gunicorn in the same run.

Seeds the incident table as the console benchmark does (``console.seed``), then
the status page's rows with the ORM: 50 public components in five groups, two
published entries a day over the last 90 days (each with its component impacts
and three messages), two open entries and maintenance windows past, present and
future. Serves the project with gunicorn (production settings, PostgreSQL and
Redis) and drives each page with a closed loop of concurrent connections; then
times a cache miss in this process (compute and render, with its queries). It
prints figures and never asserts them. Exit status 1 means the database could
not be prepared, the server did not start, or not a single request was answered
200.

    .venv/bin/python benchmarks/status.py [--incidents N] [--requests N] [--seconds S]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import (
    CONNECTIONS,
    HOST,
    WORKERS,
    BenchError,
    ClosedLoop,
    Tally,
    logged_gunicorn,
    percentile_ms,
    postgres_version,
    production_environment,
    setup_django,
)
from console import prepare, seed_and_report, write_settings

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_status"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
SETTINGS_MODULE = "bench_console_settings"  # the module console.write_settings writes

COMPONENTS = 50
GROUPS = 5
HISTORY_DAYS = 90
ENTRIES_PER_DAY = 2
WARM_UP_REQUESTS = 20
TARGET_RATIO = 1.5
STATIC_PATH = "/static/css/app.css"
CASES = [
    ("static file (baseline)", STATIC_PATH),
    ("/status", "/status"),
    ("/api/v2/summary.json", "/api/v2/summary.json"),
]
# The cases take turns, round after round, so a machine whose load drifts during
# the run weighs on the baseline as much as on the pages.
ROUNDS = 3
STATES = ["degraded_performance", "partial_outage", "major_outage"]
# As browsers send it: WhiteNoise then serves the static file's gzipped copy, and
# the status page its gzipped rendering.
HEADERS = {"Accept-Encoding": "gzip"}


# ---------------------------------------------------------------- seeding
def seed_status(now: datetime) -> dict[str, int]:
    """The status page's rows: components, groups, 90 days of entries with
    impacts and messages, open entries and maintenance. Returns counts."""
    from django.contrib.auth import get_user_model

    from incidents.models import (
        ComponentGroup,
        Incident,
        MaintenanceWindow,
        Service,
        StatusComponent,
        StatusEntry,
        StatusImpact,
        StatusMessage,
    )

    rng = random.Random(42)
    existing = Service.objects.filter(is_public=True).count()
    Service.objects.bulk_create(
        Service(name=f"Component {n:02d}", description="Seeded for the benchmark.")
        for n in range(COMPONENTS - existing)
    )
    services = list(Service.objects.filter(is_public=True).order_by("name"))
    # The demo's groups give way to the benchmark's five.
    StatusComponent.objects.all().delete()
    ComponentGroup.objects.all().delete()
    groups = ComponentGroup.objects.bulk_create(
        ComponentGroup(name=f"Group {n}", position=n) for n in range(GROUPS)
    )
    StatusComponent.objects.bulk_create(
        StatusComponent(service=s, group=groups[n % GROUPS], position=n)
        for n, s in enumerate(services)
    )
    closed = list(
        Incident.objects.filter(status="closed")
        .order_by("id")
        .values_list("pk", flat=True)[: HISTORY_DAYS * ENTRIES_PER_DAY + 2]
    )
    manager = get_user_model().objects.get(username="incident_manager")
    entries, spans, messages = [], [], []
    for n, incident_id in enumerate(closed):
        is_open = n >= len(closed) - 2
        start = now - timedelta(
            days=0 if is_open else n // ENTRIES_PER_DAY,
            minutes=rng.randint(30, 600),
        )
        length = timedelta(minutes=rng.randint(20, 200))
        entry = StatusEntry(
            incident_id=incident_id,
            status="published",
            title=f"Trouble number {n}",
            stage="identified" if is_open else "resolved",
            impact="major",
            proposed_at=start,
            published_at=start + timedelta(minutes=5),
            published_by=manager,
            started_at=start,
            resolved_at=None if is_open else start + length,
            updated_at=start + length,
        )
        entries.append(entry)
        for service in rng.sample(services, rng.randint(1, 3)):
            spans.append((entry, service, rng.choice(STATES), start, length, is_open))
        stages = ["investigating", "identified"] + ([] if is_open else ["resolved"])
        for k, stage in enumerate(stages):
            messages.append(
                (entry, stage, start + timedelta(minutes=5 + 10 * k), manager)
            )
    StatusEntry.objects.bulk_create(entries)
    StatusImpact.objects.bulk_create(
        StatusImpact(
            entry=entry,
            service=service,
            state=state,
            start_at=start,
            end_at=None if is_open else start + length,
        )
        for entry, service, state, start, length, is_open in spans
    )
    StatusMessage.objects.bulk_create(
        StatusMessage(
            entry=entry,
            stage=stage,
            body=f"{stage.title()}: a message of a few words for the public.",
            created_at=at,
            author=manager,
            fanout_done_at=at,
        )
        for entry, stage, at, manager in messages
    )
    windows = []
    for days in [-60, -30, -7, -1, 0, 3, 10, 20]:
        starts = now + timedelta(days=days, hours=-1 if days == 0 else 2)
        windows.append(
            MaintenanceWindow(
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                reason="Seeded for the benchmark.",
                public_title=f"Maintenance {days:+d} days",
                public_message="Short interruptions.",
                created_by=manager,
                created_at=starts - timedelta(days=7),
            )
        )
    MaintenanceWindow.objects.bulk_create(windows)
    for window in windows:
        window.services.set(rng.sample(services, 2))
    return {
        "components": len(services),
        "groups": GROUPS,
        "entries": len(entries),
        "impacts": len(spans),
        "messages": len(messages),
        "maintenance windows": len(windows),
    }


# ---------------------------------------------------------------- load
@dataclass
class Result:
    """One measured path."""

    label: str
    path: str
    tally: Tally
    elapsed: float
    size: int

    @property
    def ok(self) -> int:
        return self.tally.statuses.get("200", 0)

    @property
    def requests(self) -> int:
        return sum(self.tally.statuses.values())

    def p(self, percent: float) -> float:
        return percentile_ms(self.tally.latencies, percent)


def measure(port: int, args: argparse.Namespace) -> list[Result]:
    """Warm each path up (the first request fills the cache), then measure the
    cases in turn, ``ROUNDS`` times, ``--requests`` (or ``--seconds``) each."""
    results = {
        path: Result(label, path, Tally(), 0.0, _size(port, path))
        for label, path in CASES
    }
    for _, path in CASES:
        ClosedLoop(port, "GET", [path], HEADERS, WARM_UP_REQUESTS, args.seconds).run()
    for round_ in range(1, ROUNDS + 1):
        for label, path in CASES:
            loop = ClosedLoop(port, "GET", [path], HEADERS, args.requests, args.seconds)
            tally, elapsed = loop.run()
            result = results[path]
            result.tally.merge(tally)
            result.elapsed += elapsed
            print(
                f"  round {round_} {label:<24} {sum(tally.statuses.values()):>6} "
                f"requests in {elapsed:5.1f} s, p50 "
                f"{percentile_ms(tally.latencies, 50):6.2f} ms, p95 "
                f"{percentile_ms(tally.latencies, 95):6.2f} ms",
                flush=True,
            )
    return list(results.values())


def _size(port: int, path: str) -> int:
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers=HEADERS)
        return len(connection.getresponse().read())
    finally:
        connection.close()


def cold_costs(repeats: int = 5) -> list[str]:
    """A cache miss in this process: computing the content (and its queries),
    then rendering the page and summary.json from it; medians of ``repeats``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from incidents.status.selectors import status_page_compute
    from incidents.status.statuspage import shape
    from incidents.status.views import _json, _render_page

    compute, html, summary = [], [], []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            content = status_page_compute(now=timezone.now())
            compute.append(time.perf_counter() - started)
        started = time.perf_counter()
        page = _render_page(content)
        html.append(time.perf_counter() - started)
        started = time.perf_counter()
        body = _json(shape("summary", content))
        summary.append(time.perf_counter() - started)
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return [
        f"compute the content: {statistics.median(compute) * 1000:.1f} ms "
        f"({len(queries.captured_queries)} queries, {sql:.1f} ms of SQL)",
        f"render /status: {statistics.median(html) * 1000:.1f} ms, {len(page):,} bytes",
        f"render summary.json: {statistics.median(summary) * 1000:.1f} ms, "
        f"{len(body):,} bytes",
    ]


# ---------------------------------------------------------------- report
def print_table(results: list[Result]) -> None:
    baseline = next(r.p(95) for r in results if r.path == STATIC_PATH)
    header = (
        f"{'case':<26} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'gzipped':>8} {'p95 / static':>12}  target"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r.p(95) / baseline
        mark = (
            "" if r.path == STATIC_PATH else ("ok" if ratio <= TARGET_RATIO else "MISS")
        )
        print(
            f"{r.label:<26} {r.requests:>8} {r.requests / r.elapsed:>7.1f} "
            f"{r.p(50):>7.2f} {r.p(95):>7.2f} {r.p(99):>7.2f} {r.size:>8,} "
            f"{ratio:>11.2f}x  {mark}"
        )
    print(
        f"target: p95 within {TARGET_RATIO:g}x the static file's ({baseline:.2f} ms), "
        f"all {ROUNDS} rounds pooled"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument(
        "--requests", type=int, default=2000, help="per case and round (2000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="at most, per case and round (10)"
    )
    args = parser.parse_args(argv)
    if args.incidents < 1000 or args.requests < 1 or args.seconds <= 0:
        parser.error(
            "--incidents must be at least 1000; --requests and --seconds positive"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="bench-status-") as folder:
        settings_folder = Path(folder)
        write_settings(settings_folder)
        env = production_environment(
            DEFAULT_DATABASE_URL,
            DEFAULT_REDIS_URL,
            settings_module=SETTINGS_MODULE,
            python_path=[str(settings_folder)],
        )
        try:
            database = prepare(env, password)
            setup_django(env, settings_folder)
            redis_db = env["REDIS_URL"].rsplit("/", 1)[-1]
            print(
                f"PostgreSQL {postgres_version()}, database {database}, Redis db "
                f"{redis_db}; {args.incidents:,} incidents; {WORKERS} gunicorn sync "
                f"workers, {CONNECTIONS} connections, per case at most "
                f"{args.requests} requests or {args.seconds:g} s; "
                f"{os.cpu_count()} CPUs shared by client, server and databases",
                flush=True,
            )
            seed_and_report(args.incidents)
            counts = seed_status(datetime.now(UTC))
            print("status page: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            from django.db import connections

            from incidents.status.selectors import status_cache_clear

            status_cache_clear()
            connections.close_all()
            print("Load (closed loop, anonymous):", flush=True)
            with logged_gunicorn(env, "bench-status-gunicorn-") as (port, log):
                results = measure(port, args)
            if all(r.ok == r.requests for r in results):
                log.unlink()
            else:
                print(f"answers other than 200: the server log is kept in {log}")
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        print("\nA cache miss, in this process (no load):")
        for line in cold_costs():
            print(f"  {line}")
        print()
        print_table(results)
    if not any(r.ok for r in results):
        print("not a single request was answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
