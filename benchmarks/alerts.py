"""Alert intake benchmark: throughput, latency and SQL statements per alert.

Serves the project with gunicorn (production settings, PostgreSQL and Redis) and
drives the four alert endpoints with a closed loop of concurrent keep-alive
connections, first with alerts never seen before ("new": each opens an incident),
then with a small set of alerts that are already open ("repeat": each adds an
occurrence). It prints figures and never asserts them: it is a measurement, not a
test. Exit status 1 means the server could not start or an endpoint failed
wholesale (not a single 202 in a phase).

    .venv/bin/python benchmarks/alerts.py [--requests N] [--seconds S] [--show-sql]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = BASE_DIR / ".venv" / "bin"
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"

WORKERS = 2
CONNECTIONS = 4
REPEAT_KEYS = 50
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
HTTP_TIMEOUT_SECONDS = 10.0
TARGET = (
    "target: >= 700 alerts/s, p95 < 8 ms "
    f"({WORKERS} gunicorn sync workers, {CONNECTIONS} connections)"
)

Payload = dict[str, Any]


class BenchError(Exception):
    """The benchmark cannot go on (database, migration or server trouble)."""


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
def bench_environment() -> dict[str, str]:
    """This process's environment with the benchmark's settings: production mode
    over plain HTTP, on PostgreSQL and Redis."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        REDIS_URL=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        DJANGO_SETTINGS_MODULE="itsm.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
    )
    return env


def recreate_database(database_url: str) -> str:
    """Drop the benchmark database if it exists and create it empty; returns its
    name. Refuses a database whose name does not say it is for benchmarks."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    params = dj_database_url.parse(database_url)
    name = params["NAME"]
    if "bench" not in name:
        raise BenchError(
            f"refusing to drop database {name!r}: DATABASE_URL must name a "
            "database used only for benchmarks (its name containing 'bench')"
        )
    connection = psycopg2.connect(
        dbname="postgres",
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        connect_timeout=5,
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            database = sql.Identifier(name)
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database)
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(database))
    finally:
        connection.close()
    return name


def manage(env: dict[str, str], *args: str, timeout: float = 300.0) -> str:
    """Run a management command; returns its standard output."""
    command = [str(BIN / "python"), "manage.py", *args]
    result = subprocess.run(
        command,
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


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


# ---------------------------------------------------------------- server
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def healthz_status(port: int) -> int | None:
    """The status of ``GET /healthz``, or None if nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_until_healthy(server: subprocess.Popen[bytes], port: int) -> None:
    """Wait (at most ``STARTUP_SECONDS``) until the server answers ``/healthz``."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with status {server.returncode}")
        if healthz_status(port) == 200:
            return
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer /healthz within {STARTUP_SECONDS} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server: politely, then by force after ``STOP_SECONDS``."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_SECONDS)


@contextmanager
def gunicorn(env: dict[str, str], log: IO[bytes]) -> Iterator[int]:
    """Serve the project with gunicorn until the block ends; yields its port."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "itsm.wsgi:application",
        "--workers",
        str(WORKERS),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_healthy(server, port)
        yield port
    finally:
        stop(server)


# ---------------------------------------------------------------- load
@dataclass
class Tally:
    """What one connection (or a whole phase) saw: latencies in seconds, answers
    by status (or by exception name), and the first body of each unexpected one."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def add(self, status: str, latency: float | None, body: bytes = b"") -> None:
        self.statuses[status] += 1
        if latency is not None:
            self.latencies.append(latency)
        if status != "202" and status not in self.samples:
            self.samples[status] = body.decode(errors="replace")[:500]

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        for status, body in other.samples.items():
            self.samples.setdefault(status, body)


class ClosedLoop:
    """``CONNECTIONS`` threads, each sending its next request as soon as the last
    one is answered, until ``count`` requests are sent or ``seconds`` have passed.
    Bodies are taken in turn from ``bodies``, cycling if there are fewer."""

    def __init__(
        self,
        port: int,
        path: str,
        headers: dict[str, str],
        bodies: list[bytes],
        count: int,
        seconds: float,
    ) -> None:
        self.port = port
        self.path = path
        self.headers = headers
        self.bodies = bodies
        self.count = count
        self.seconds = seconds
        self.deadline = 0.0
        self.sent = 0
        self.lock = threading.Lock()

    def next_body(self) -> bytes | None:
        """The next request's body, or None once the count or time is used up."""
        with self.lock:
            if self.sent >= self.count or time.perf_counter() >= self.deadline:
                return None
            body = self.bodies[self.sent % len(self.bodies)]
            self.sent += 1
            return body

    def send(self, connection: http.client.HTTPConnection, body: bytes) -> Tally:
        """Send one request and return what came of it."""
        tally = Tally()
        started = time.perf_counter()
        try:
            connection.request("POST", self.path, body=body, headers=self.headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            tally.add(type(exc).__name__, None)
            return tally
        tally.add(str(response.status), time.perf_counter() - started, answer)
        if response.will_close:
            connection.close()  # sync workers close after each answer; reopen next
        return tally

    def connection_loop(self, tally: Tally) -> None:
        """One connection's loop; http.client reconnects when the server closed."""
        connection = http.client.HTTPConnection(
            HOST, self.port, timeout=HTTP_TIMEOUT_SECONDS
        )
        try:
            while (body := self.next_body()) is not None:
                tally.merge(self.send(connection, body))
        finally:
            connection.close()

    def run(self) -> tuple[Tally, float]:
        """Run the loop; returns the merged tally and the wall time in seconds."""
        tallies = [Tally() for _ in range(CONNECTIONS)]
        threads = [
            threading.Thread(target=self.connection_loop, args=(tally,), daemon=True)
            for tally in tallies
        ]
        started = time.perf_counter()
        self.deadline = started + self.seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.seconds + 2 * HTTP_TIMEOUT_SECONDS)
        elapsed = time.perf_counter() - started
        total = Tally()
        for tally in tallies:
            total.merge(tally)
        return total, elapsed


@dataclass(frozen=True)
class PhaseResult:
    """The figures of one endpoint's phase."""

    endpoint: str
    phase: str
    tally: Tally
    elapsed: float

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
        ordered = sorted(self.tally.latencies)
        if not ordered:
            return math.nan
        rank = max(1, math.ceil(percent / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


def run_endpoint(
    port: int, endpoint: Endpoint, token: str, run_id: str, args: argparse.Namespace
) -> list[PhaseResult]:
    """Warm the repeat alerts up (not measured), then measure new and repeat."""
    headers = request_headers(token)
    new_keys = [f"{run_id}-{endpoint.kind}-new-{i}" for i in range(args.requests)]
    repeat_keys = [f"{run_id}-{endpoint.kind}-open-{i}" for i in range(REPEAT_KEYS)]
    new_bodies = encoded_bodies(endpoint, token, new_keys)
    repeat_bodies = encoded_bodies(endpoint, token, repeat_keys)

    warm_up, _ = ClosedLoop(
        port, endpoint.path, headers, repeat_bodies, REPEAT_KEYS, args.seconds
    ).run()
    if warm_up.statuses["202"] != REPEAT_KEYS:
        report_failures(f"{endpoint.kind} warm-up", warm_up)

    results = []
    for phase, bodies in (("new", new_bodies), ("repeat", repeat_bodies)):
        loop = ClosedLoop(
            port, endpoint.path, headers, bodies, args.requests, args.seconds
        )
        tally, elapsed = loop.run()
        result = PhaseResult(endpoint.kind, phase, tally, elapsed)
        print_phase(result)
        results.append(result)
    return results


# ---------------------------------------------------------------- report
def report_failures(label: str, tally: Tally) -> None:
    """Print every answer other than 202, with the first body of each."""
    failures = {s: n for s, n in tally.statuses.items() if s != "202"}
    print(f"  {label}: answers other than 202: {failures}")
    for status, body in tally.samples.items():
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
    if non_202:
        report_failures(f"{result.endpoint} {result.phase}", result.tally)


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
    results: list[PhaseResult], counts: dict[tuple[str, str], SqlCount]
) -> None:
    """The summary: one row per endpoint and phase."""
    header = (
        f"{'endpoint':<12} {'phase':<6} {'requests':>8} {'req/s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'non-202':>7} {'SQL':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        sql = counts[r.endpoint, r.phase]
        print(
            f"{r.endpoint:<12} {r.phase:<6} {r.requests:>8} {r.rate:>8.1f} "
            f"{r.percentile_ms(50):>7.2f} {r.percentile_ms(95):>7.2f} "
            f"{r.percentile_ms(99):>7.2f} {r.requests - r.accepted:>7} {sql!s:>5}"
        )
    print(TARGET)


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
        "--show-sql",
        action="store_true",
        help="Print the SQL statements of one new and one repeat alert.",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.seconds <= 0:
        parser.error("--requests and --seconds must be positive")
    return args


def load_phases(
    env: dict[str, str], tokens: dict[str, str], run_id: str, args: argparse.Namespace
) -> list[PhaseResult]:
    """Serve with gunicorn and run every endpoint's phases against it."""
    with tempfile.NamedTemporaryFile(
        prefix="bench-gunicorn-", suffix=".log", delete=False
    ) as log:
        try:
            with gunicorn(env, log) as port:
                print(f"gunicorn on {HOST}:{port}", flush=True)
                results = [
                    result
                    for endpoint in ENDPOINTS
                    for result in run_endpoint(
                        port, endpoint, tokens[endpoint.kind], run_id, args
                    )
                ]
        except BenchError:
            log.flush()
            tail = Path(log.name).read_text(errors="replace").splitlines()[-40:]
            print(
                "\n".join(tail), f"(server log: {log.name})", sep="\n", file=sys.stderr
            )
            raise
    if all(r.accepted == r.requests for r in results):
        Path(log.name).unlink()
    else:
        print(f"server log kept: {log.name}")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = bench_environment()
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    run_id = secrets.token_hex(4)
    try:
        database = recreate_database(env["DATABASE_URL"])
        print(describe_setup(env, database, args), flush=True)
        manage(env, "migrate", "--noinput")
        tokens = create_integrations(env)
        counts = count_sql(tokens, run_id)
        print_sql(counts, args.show_sql)
        print("Load (closed loop):", flush=True)
        results = load_phases(env, tokens, run_id, args)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print()
    print_table(results, counts)
    failed = [f"{r.endpoint} {r.phase}" for r in results if r.accepted == 0]
    if failed:
        print(f"no request was accepted in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
