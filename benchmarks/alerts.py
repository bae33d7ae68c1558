"""Alert intake benchmark: throughput, latency and SQL statements per alert.

Serves the project with gunicorn (production settings, PostgreSQL and Redis) and
drives the four alert endpoints with a closed loop of concurrent keep-alive
connections, first with alerts never seen before ("new": each is accepted, and a
Celery worker running beside the server opens its incident), then with a small set
of alerts that are already open ("repeat": each adds an occurrence). After each
phase of new alerts it waits for the worker and prints the time from each alert's
acceptance to its incident (p50/p95/max). The baseline, measured in the same run by the same server: a bare
Django view that inserts one row per request ("bare insert": the body parsed and
one ``AlertDelivery`` written by the ORM, nothing else), printed beside every row
as the ratio of its req/s and p95. It prints figures and never asserts them: it is a measurement, not a
test. Exit status 1 means the server could not start or an endpoint failed
wholesale (not a single 202 in a phase).

    .venv/bin/python benchmarks/alerts.py [--requests N] [--seconds S] [--show-sql]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import (
    BASE_DIR,
    CONNECTIONS,
    HOST,
    WORKERS,
    BenchError,
    ClosedLoop,
    Tally,
    celery_worker,
    logged_gunicorn,
    manage,
    percentile_ms,
    production_environment,
    recreate_database,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"

REPEAT_KEYS = 50
BARE_PATH = "/bench/bare-insert/"
GOAL = "goal: a new alert >= 0.5x the bare insert's req/s, with p95 <= 2x its p95"
INCIDENT_GOAL = "goal: time-to-incident p95 < 2 s at the steady rate"
# The steady phase's new alerts per second: a storm of 1,500 new alerts a
# minute, sent at that pace whatever the answers take.
STEADY_RATE = 25.0
BACKLOG_WAIT_SECONDS = 600
# How long, after a phase of new alerts, the worker may take to open the last
# of their incidents before the benchmark gives up on it.
PLACEMENT_WAIT_SECONDS = 120.0

# The server's settings: the project's, with one more URL, the baseline view.
SETTINGS_MODULE = "bench_alerts_settings"
SETTINGS_TEXT = """from itsm.settings import *  # noqa: F403

ROOT_URLCONF = "bench_alerts_urls"
"""
URLS_TEXT = f'''import json

from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from incidents.models import AlertDelivery, Integration


@csrf_exempt
def bare_insert(request):
    """The baseline: parse the body, insert one row, answer 202."""
    data = json.loads(request.body)
    integration_id = Integration.objects.values_list("pk", flat=True).first()
    delivery = AlertDelivery.objects.create(
        integration_id=integration_id, received_at=timezone.now(), payload=data
    )
    return JsonResponse({{"delivery": str(delivery.pk)}}, status=202)


urlpatterns = [path("{BARE_PATH[1:]}", bare_insert), path("", include("itsm.urls"))]
'''


def write_settings(folder: Path) -> None:
    (folder / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_TEXT)
    (folder / "bench_alerts_urls.py").write_text(URLS_TEXT)


HTTP_TIMEOUT_SECONDS = 10.0
TARGET = (
    "target: >= 700 alerts/s, p95 < 8 ms "
    f"({WORKERS} gunicorn sync workers, {CONNECTIONS} connections)"
)

Payload = dict[str, Any]


# ---------------------------------------------------------------- payloads
def alertmanager_payload(key: str, token: str) -> Payload:
    """A Prometheus Alertmanager webhook (version 4) with one firing alert."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="X"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "itsm",
        "groupLabels": {"alertname": "X"},
        "commonLabels": {"alertname": "X", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "HighLatency",
                    "severity": "critical",
                    "instance": "web-1",
                },
                "annotations": {
                    "summary": "High latency on web-1",
                    "description": "p95 above 2s",
                },
                "startsAt": "2026-11-27T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom:9090/graph",
                "fingerprint": key,
            }
        ],
    }


def grafana_payload(key: str, token: str) -> Payload:
    """A Grafana alerting webhook: Alertmanager's shape plus Grafana's fields."""
    payload = alertmanager_payload(key, token)
    payload.update(
        title="[FIRING:1] HighLatency",
        state="alerting",
        message="**Firing** HighLatency on web-1",
        orgId=1,
    )
    for alert in payload["alerts"]:
        alert.update(values={"A": 2.5}, dashboardURL="", panelURL="")
    return payload


def pagerduty_payload(key: str, token: str) -> Payload:
    """A PagerDuty Events API v2 trigger, carrying the token as routing key."""
    return {
        "routing_key": token,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {
            "summary": "Disk full on db-1",
            "source": "db-1",
            "severity": "critical",
        },
    }


def generic_payload(key: str, token: str) -> Payload:
    """Our own generic JSON alert."""
    return {
        "dedup_key": key,
        "status": "firing",
        "title": "Queue backlog",
        "severity": "warning",
        "description": "backlog above 10k",
    }


@dataclass(frozen=True)
class Endpoint:
    """An alert endpoint, the integration kind it takes and its payload maker."""

    kind: str
    path: str
    payload: Callable[[str, str], Payload]


ENDPOINTS = (
    Endpoint("alertmanager", "/api/v1/alerts/alertmanager/", alertmanager_payload),
    Endpoint("grafana", "/api/v1/alerts/grafana/", grafana_payload),
    Endpoint("pagerduty", "/api/v1/alerts/pagerduty/", pagerduty_payload),
    Endpoint("generic", "/api/v1/alerts/", generic_payload),
)


def request_headers(token: str) -> dict[str, str]:
    """Headers of every alert request."""
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def encoded_bodies(endpoint: Endpoint, token: str, keys: list[str]) -> list[bytes]:
    """Request bodies for these alert keys, encoded ahead of the measurement."""
    return [json.dumps(endpoint.payload(key, token)).encode() for key in keys]


# ---------------------------------------------------------------- environment
def bench_environment(settings_folder: Path) -> dict[str, str]:
    """This process's environment with the benchmark's settings: production mode
    over plain HTTP, on PostgreSQL and Redis, with the baseline's URL."""
    return production_environment(
        DEFAULT_DATABASE_URL,
        DEFAULT_REDIS_URL,
        settings_module=SETTINGS_MODULE,
        python_path=[str(settings_folder), str(BASE_DIR)],
    )


def create_integrations(env: dict[str, str]) -> dict[str, str]:
    """One integration per endpoint; returns each kind's token (the last line the
    command prints)."""
    tokens = {}
    for endpoint in ENDPOINTS:
        output = manage(
            env, "create_integration", f"bench-{endpoint.kind}", "--kind", endpoint.kind
        )
        tokens[endpoint.kind] = output.strip().splitlines()[-1].strip()
    return tokens


# ---------------------------------------------------------------- SQL per alert
@dataclass(frozen=True)
class SqlCount:
    """Statements one request ran, and its answer's status."""

    statements: list[str]
    status: int

    def __str__(self) -> str:
        mark = "" if self.status == 202 else f" (HTTP {self.status})"
        return f"{len(self.statements)}{mark}"


def count_sql(tokens: dict[str, str], run_id: str) -> dict[tuple[str, str], SqlCount]:
    """Per endpoint, the SQL statements of one new alert and of one repeat of an
    open alert, counted in this process with Django's test client."""
    import django

    django.setup()
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    counts = {}

    def post(endpoint: Endpoint, key: str) -> int:
        token = tokens[endpoint.kind]
        response = client.post(
            endpoint.path,
            data=json.dumps(endpoint.payload(key, token)),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code

    for endpoint in ENDPOINTS:
        repeat_key = f"sql-{run_id}-{endpoint.kind}-repeat"
        post(endpoint, repeat_key)
        for phase, key in (
            ("new", f"sql-{run_id}-{endpoint.kind}-new"),
            ("repeat", repeat_key),
        ):
            with CaptureQueriesContext(connection) as ctx:
                status = post(endpoint, key)
            statements = [query["sql"] for query in ctx.captured_queries]
            counts[endpoint.kind, phase] = SqlCount(statements, status)
    connections.close_all()
    return counts


# ---------------------------------------------------------------- load
@dataclass(frozen=True)
class PhaseResult:
    """The figures of one endpoint's phase."""

    endpoint: str
    phase: str
    tally: Tally
    elapsed: float
    # Seconds from each new alert's acceptance to its incident (the worker's
    # placement); empty for other phases.
    to_incident: list[float] = field(default_factory=list)
    unplaced: int = 0

    @property
    def requests(self) -> int:
        return sum(self.tally.statuses.values())

    @property
    def accepted(self) -> int:
        return self.tally.statuses["202"]

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the answered requests' latency, in ms."""
        return percentile_ms(self.tally.latencies, percent)


def phase_loop(
    port: int,
    endpoint: Endpoint,
    headers: dict[str, str],
    bodies: list[bytes],
    count: int,
    seconds: float,
) -> ClosedLoop:
    """A closed loop POSTing these bodies in turn to the endpoint."""
    return ClosedLoop(
        port,
        "POST",
        [endpoint.path],
        headers,
        count,
        seconds,
        bodies=list(bodies),
        expected="202",
        timeout=HTTP_TIMEOUT_SECONDS,
    )


class PacedLoop(ClosedLoop):
    """Requests started at a steady ``rate`` per second (each on the first free
    connection), as senders in a storm deliver, rather than as fast as the
    server answers."""

    def __init__(self, *args: Any, rate: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rate = rate
        self.started: float | None = None
        self.scheduled = 0

    def next_request(self) -> tuple[str, bytes | None] | None:
        with self.lock:
            if self.started is None:
                self.started = time.perf_counter()
            slot = self.started + self.scheduled / self.rate
            self.scheduled += 1
        delay = slot - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return super().next_request()


def run_accept(
    port: int, endpoint: Endpoint, token: str, run_id: str, args: argparse.Namespace
) -> PhaseResult:
    """New alerts while no worker runs: each request's own cost, beside the bare
    insert's (measured the same way)."""
    keys = [f"{run_id}-{endpoint.kind}-accept-{i}" for i in range(args.requests)]
    bodies = encoded_bodies(endpoint, token, keys)
    loop = phase_loop(
        port, endpoint, request_headers(token), bodies, args.requests, args.seconds
    )
    tally, elapsed = loop.run()
    result = PhaseResult(endpoint.kind, "accept", tally, elapsed)
    print_phase(result)
    return result


def run_endpoint(
    port: int, endpoint: Endpoint, token: str, run_id: str, args: argparse.Namespace
) -> list[PhaseResult]:
    """Warm the repeat alerts up (not measured), then measure new and repeat."""
    headers = request_headers(token)
    new_keys = [f"{run_id}-{endpoint.kind}-new-{i}" for i in range(args.requests)]
    repeat_keys = [f"{run_id}-{endpoint.kind}-open-{i}" for i in range(REPEAT_KEYS)]
    new_bodies = encoded_bodies(endpoint, token, new_keys)
    repeat_bodies = encoded_bodies(endpoint, token, repeat_keys)

    warm_up, _ = phase_loop(
        port, endpoint, headers, repeat_bodies, REPEAT_KEYS, args.seconds
    ).run()
    if warm_up.statuses["202"] != REPEAT_KEYS:
        report_failures(f"{endpoint.kind} warm-up", warm_up)

    steady_keys = [f"{run_id}-{endpoint.kind}-steady-{i}" for i in range(args.requests)]
    steady_bodies = encoded_bodies(endpoint, token, steady_keys)
    results = []
    for phase, bodies in (
        ("new", new_bodies),
        ("steady", steady_bodies),
        ("repeat", repeat_bodies),
    ):
        loop = phase_loop(port, endpoint, headers, bodies, args.requests, args.seconds)
        if phase == "steady":
            loop = PacedLoop(
                port,
                "POST",
                [endpoint.path],
                headers,
                args.requests,
                args.seconds,
                bodies=list(bodies),
                expected="202",
                timeout=HTTP_TIMEOUT_SECONDS,
                rate=args.steady_rate,
            )
        since = datetime.now(UTC)
        tally, elapsed = loop.run()
        to_incident, unplaced = (
            times_to_incident(endpoint.kind, since)
            if phase in ("new", "steady")
            else ([], 0)
        )
        result = PhaseResult(
            endpoint.kind, phase, tally, elapsed, to_incident, unplaced
        )
        print_phase(result)
        results.append(result)
    return results


def times_to_incident(kind: str, since: datetime) -> tuple[list[float], int]:
    """Wait for the worker to open the incidents of the alerts this endpoint's
    integration accepted since ``since``; returns the seconds each took, from
    its acceptance (``first_seen_at``) to its placement (``placed_at``, written
    in the transaction that opens the incident), and how many were still
    waiting when the wait ran out."""
    from incidents.models import Alert

    accepted = Alert.objects.filter(
        integration__name=f"bench-{kind}", first_seen_at__gte=since
    )
    deadline = time.monotonic() + PLACEMENT_WAIT_SECONDS
    while True:
        waiting = accepted.filter(placed_at=None).count()
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    times = [
        (placed - seen).total_seconds()
        for seen, placed in accepted.exclude(placed_at=None).values_list(
            "first_seen_at", "placed_at"
        )
    ]
    return times, waiting


def print_backlog_opened() -> None:
    """Wait for the worker to open every alert accepted before it started, and
    print how fast it did: its throughput with nothing else to do."""
    from incidents.models import Alert

    waiting = Alert.objects.filter(placed_at=None, maintenance_window=None)
    backlog = waiting.count()
    started = time.monotonic()
    deadline = started + BACKLOG_WAIT_SECONDS
    while waiting.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    left = waiting.count()
    print(
        f"  worker opened the {backlog - left} incidents accepted before it "
        f"started in {elapsed:.1f} s ({(backlog - left) / elapsed:.0f}/s)"
        + (f"; {left} still waiting" if left else ""),
        flush=True,
    )


BARE = Endpoint("bare insert", BARE_PATH, lambda key, token: {"key": key})


def run_bare(port: int, run_id: str, args: argparse.Namespace) -> PhaseResult:
    """The baseline: one row inserted per request, by a bare Django view."""
    bodies = [json.dumps({"key": f"{run_id}-{i}"}).encode() for i in range(100)]
    headers = {"Content-Type": "application/json"}
    loop = phase_loop(port, BARE, headers, bodies, args.requests, args.seconds)
    tally, elapsed = loop.run()
    result = PhaseResult(BARE.kind, "insert", tally, elapsed)
    print_phase(result)
    return result


# ---------------------------------------------------------------- report
def report_failures(label: str, tally: Tally) -> None:
    """Print every answer other than 202, with the first body of each."""
    failures = {s: n for s, n in tally.statuses.items() if s != "202"}
    print(f"  {label}: answers other than 202: {failures}")
    for status, (_, body) in tally.samples.items():
        print(f"    {status}: {body}")


def print_phase(result: PhaseResult) -> None:
    """One line as a phase ends, and its failures if any."""
    non_202 = result.requests - result.accepted
    print(
        f"  {result.endpoint:<12} {result.phase:<6} {result.requests:>6} requests "
        f"in {result.elapsed:5.1f} s, {result.rate:7.1f} req/s, "
        f"p95 {result.percentile_ms(95):6.2f} ms, non-202 {non_202}",
        flush=True,
    )
    if result.to_incident or result.unplaced:
        print(f"  {'':<12} {'':<6} time-to-incident {incident_figures(result)}")
    if non_202:
        report_failures(f"{result.endpoint} {result.phase}", result.tally)


def incident_figures(result: PhaseResult) -> str:
    """Time-to-incident of a phase of new alerts: p50/p95/max in ms."""
    times = result.to_incident
    text = (
        f"p50 {percentile_ms(times, 50):.0f} ms, p95 {percentile_ms(times, 95):.0f} "
        f"ms, max {max(times) * 1000:.0f} ms over {len(times)} incidents"
        if times
        else "no incident opened"
    )
    if result.unplaced:
        text += f"; {result.unplaced} alerts still waiting after "
        text += f"{PLACEMENT_WAIT_SECONDS:g} s"
    return text


def print_sql(counts: dict[tuple[str, str], SqlCount], show_sql: bool) -> None:
    """SQL statements per alert, and with ``show_sql`` the statements."""
    print("SQL statements per alert (in-process, django.test.Client):")
    for endpoint in ENDPOINTS:
        new = counts[endpoint.kind, "new"]
        repeat = counts[endpoint.kind, "repeat"]
        print(f"  {endpoint.kind:<12} new {new!s:<6} repeat {repeat}")
    if not show_sql:
        return
    for (kind, phase), count in counts.items():
        print(f"\n-- {kind} {phase}: {len(count.statements)} statements")
        for number, statement in enumerate(count.statements, 1):
            print(f"{number:>3}. {statement}")


def print_table(
    results: list[PhaseResult],
    counts: dict[tuple[str, str], SqlCount],
    steady_rate: float,
) -> None:
    """The summary: the bare insert first, then one row per endpoint and phase,
    each with its req/s and p95 as a ratio of the bare insert's."""
    bare = results[0]
    header = (
        f"{'endpoint':<12} {'phase':<6} {'requests':>8} {'req/s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'non-202':>7} {'SQL':>5} "
        f"{'x req/s':>8} {'x p95':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        # The bare insert: the integration looked up, the row inserted.
        sql = counts.get((r.endpoint, r.phase), "2")
        rate = r.rate / bare.rate if bare.rate else float("nan")
        p95 = r.percentile_ms(95) / bare.percentile_ms(95) if bare.requests else 0
        print(
            f"{r.endpoint:<12} {r.phase:<6} {r.requests:>8} {r.rate:>8.1f} "
            f"{r.percentile_ms(50):>7.2f} {r.percentile_ms(95):>7.2f} "
            f"{r.percentile_ms(99):>7.2f} {r.requests - r.accepted:>7} {sql!s:>5} "
            f"{rate:>8.2f} {p95:>6.2f}"
        )
    print(TARGET)
    print("accept: new alerts before the worker starts (the request's own cost);")
    print("new: the same with the worker opening incidents on the same 2 cores")
    print(GOAL)
    print("Time from a new alert's acceptance (202) to its incident, by the worker,")
    print(
        "  new alerts as fast as the server takes them (the worker catches up after):"
    )
    for r in results:
        if r.phase == "new":
            print(f"  {r.endpoint:<12} {incident_figures(r)}")
    print(f"  new alerts at a steady {steady_rate:g}/s:")
    for r in results:
        if r.phase == "steady":
            print(f"  {r.endpoint:<12} {incident_figures(r)}")
    print(INCIDENT_GOAL)


def describe_setup(env: dict[str, str], database: str, args: argparse.Namespace) -> str:
    """One line saying what is measured where (no credentials)."""
    redis_db = env["REDIS_URL"].rsplit("/", 1)[-1]
    return (
        f"PostgreSQL database {database}, Redis db {redis_db}; "
        f"{WORKERS} gunicorn sync workers, {CONNECTIONS} connections, "
        f"per phase at most {args.requests} requests or {args.seconds:g} s; "
        f"{os.cpu_count()} CPUs shared by client, server and databases"
    )


# ---------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=3000,
        help="At most this many requests per phase (default 3000).",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="At most this long per phase, in seconds (default 20).",
    )
    parser.add_argument(
        "--steady-rate",
        type=float,
        default=STEADY_RATE,
        help=f"New alerts per second of the steady phase (default {STEADY_RATE:g}).",
    )
    parser.add_argument(
        "--show-sql",
        action="store_true",
        help="Print the SQL statements of one new and one repeat alert.",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.seconds <= 0 or args.steady_rate <= 0:
        parser.error("--requests, --seconds and --steady-rate must be positive")
    return args


def load_phases(
    env: dict[str, str], tokens: dict[str, str], run_id: str, args: argparse.Namespace
) -> list[PhaseResult]:
    """Serve with gunicorn and run every endpoint's phases against it."""
    with (
        logged_gunicorn(env, "bench-gunicorn-") as (port, log),
        tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log") as wlog,
    ):
        results = [run_bare(port, run_id, args)]
        # Like the bare insert, with no worker running yet: what accepting a
        # new alert costs the request itself. The worker opens these later.
        results += [
            run_accept(port, endpoint, tokens[endpoint.kind], run_id, args)
            for endpoint in ENDPOINTS
        ]
        with celery_worker(env, wlog):
            print_backlog_opened()
            results += [
                result
                for endpoint in ENDPOINTS
                for result in run_endpoint(
                    port, endpoint, tokens[endpoint.kind], run_id, args
                )
            ]
    if all(r.accepted == r.requests for r in results):
        log.unlink()
    else:
        print(f"server log kept: {log}")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as folder:
        write_settings(Path(folder))
        return measure(args, bench_environment(Path(folder)), folder)


def measure(args: argparse.Namespace, env: dict[str, str], folder: str) -> int:
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    sys.path.insert(0, folder)
    run_id = secrets.token_hex(4)
    try:
        database = recreate_database(env["DATABASE_URL"])
        print(describe_setup(env, database, args), flush=True)
        manage(env, "migrate", "--noinput")
        tokens = create_integrations(env)
        counts = count_sql(tokens, run_id)
        print_sql(counts, args.show_sql)
        print("Load (closed loop; the steady phase paced):", flush=True)
        results = load_phases(env, tokens, run_id, args)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print()
    print_table(results, counts, args.steady_rate)
    failed = [f"{r.endpoint} {r.phase}" for r in results if r.accepted == 0]
    if failed:
        print(f"no request was accepted in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
