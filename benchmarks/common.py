"""What the benchmark scripts share: the throw-away PostgreSQL database, management
commands, production-like settings, a gunicorn server, the closed-loop HTTP driver
and nearest-rank percentiles.

The scripts run as ``.venv/bin/python benchmarks/<name>.py``, so this folder is on
``sys.path`` and they import this module as ``common``.
"""

from __future__ import annotations

import http.client
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = BASE_DIR / ".venv" / "bin"
HOST = "127.0.0.1"

WORKERS = 2
CONNECTIONS = 4
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


class BenchError(Exception):
    """The benchmark cannot go on (database, migration or server trouble)."""


# ---------------------------------------------------------------- environment
def production_environment(
    default_database_url: str,
    default_redis_url: str,
    settings_module: str = "itsm.settings",
    python_path: Sequence[str] = (),
) -> dict[str, str]:
    """This process's environment with the benchmark's settings: production mode
    over plain HTTP, on PostgreSQL and Redis. ``DATABASE_URL`` and ``REDIS_URL``
    keep their values when set; ``python_path`` goes before ``PYTHONPATH``."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=os.environ.get("DATABASE_URL") or default_database_url,
        REDIS_URL=os.environ.get("REDIS_URL") or default_redis_url,
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
    )
    path = [*python_path, env.get("PYTHONPATH", "")]
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
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
    try:
        connection = psycopg2.connect(
            dbname="postgres",
            user=params["USER"] or None,
            password=params["PASSWORD"] or None,
            host=params["HOST"] or None,
            port=params["PORT"] or None,
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        raise BenchError(f"cannot connect to PostgreSQL: {exc}") from exc
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
    """Run a management command in a child process; returns its standard output."""
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


def setup_django(env: dict[str, str], *folders: Path) -> None:
    """Configure Django in this process with the benchmark's environment, with
    ``folders`` and the project on ``sys.path``."""
    os.environ.update(env)
    sys.path[:0] = [*(str(folder) for folder in folders), str(BASE_DIR)]
    import django

    django.setup()


def postgres_version() -> str:
    """The PostgreSQL server's version, through Django's connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    return version


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
def gunicorn(
    env: dict[str, str],
    log: IO[bytes],
    *,
    app: str = "itsm.wsgi:application",
    binary: Path = BIN / "gunicorn",
    cwd: Path = BASE_DIR,
) -> Iterator[int]:
    """Serve the project (or ``app`` from ``cwd``, with another gunicorn) until the
    block ends; yields its port."""
    port = free_port()
    command = [
        str(binary),
        app,
        "--workers",
        str(WORKERS),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_healthy(server, port)
        yield port
    finally:
        stop(server)


@contextmanager
def logged_gunicorn(env: dict[str, str], log_prefix: str) -> Iterator[tuple[int, Path]]:
    """Serve with gunicorn, its output in a temporary log file; yields the port
    and the log's path. If the block fails with ``BenchError``, the log's last
    lines go to stderr. The log is kept: the caller removes it if all went well."""
    with tempfile.NamedTemporaryFile(
        prefix=log_prefix, suffix=".log", delete=False
    ) as log:
        try:
            with gunicorn(env, log) as port:
                print(f"gunicorn on {HOST}:{port}", flush=True)
                yield port, Path(log.name)
        except BenchError:
            log.flush()
            tail = Path(log.name).read_text(errors="replace").splitlines()[-40:]
            print(
                "\n".join(tail), f"(server log: {log.name})", sep="\n", file=sys.stderr
            )
            raise


@contextmanager
def celery_worker(env: dict[str, str], log: IO[bytes]) -> Iterator[None]:
    """Run a Celery worker (as ``make run`` does: threads, concurrency 2) until
    the block ends. The caller waits for what the worker should have done."""
    command = [
        str(BIN / "celery"),
        "-A",
        "itsm",
        "worker",
        "--loglevel=WARNING",
        "--pool=threads",
        "--concurrency=2",
        "--without-gossip",
        "--without-mingle",
    ]
    worker = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield
    finally:
        stop(worker)


# ---------------------------------------------------------------- load
@dataclass
class Tally:
    """What one connection (or a whole phase) saw: latencies in seconds of the
    answered requests, answers by status (or by exception name), and the first
    path and body of each status other than ``expected``."""

    expected: str = "200"
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    samples: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        """How many requests it counted, answered or not."""
        return sum(self.statuses.values())

    def add(self, status: str, latency: float | None, path: str, body: bytes) -> None:
        """Count one answer."""
        self.statuses[status] += 1
        if latency is not None:
            self.latencies.append(latency)
        if status != self.expected and status not in self.samples:
            self.samples[status] = (path, body.decode(errors="replace")[:500])

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        for status, sample in other.samples.items():
            self.samples.setdefault(status, sample)


class ClosedLoop:
    """``connections`` threads (default ``CONNECTIONS``), each sending its next
    request as soon as the last one is answered, until ``count`` requests are sent
    or ``seconds`` have passed.
    The n-th request goes to ``paths[n % len(paths)]`` with the body
    ``bodies[n % len(bodies)]`` (None: no body)."""

    def __init__(
        self,
        port: int,
        method: str,
        paths: list[str],
        headers: dict[str, str],
        count: int,
        seconds: float,
        *,
        bodies: list[bytes | None] | None = None,
        expected: str = "200",
        timeout: float = 10.0,
        connections: int = CONNECTIONS,
    ) -> None:
        self.port = port
        self.method = method
        self.paths = paths
        self.headers = headers
        self.bodies = bodies or [None]
        self.count = count
        self.seconds = seconds
        self.expected = expected
        self.timeout = timeout
        self.connections = connections
        self.deadline = 0.0
        self.sent = 0
        self.lock = threading.Lock()

    def next_request(self) -> tuple[str, bytes | None] | None:
        """The next request's path and body, or None once the count or time is
        used up."""
        with self.lock:
            if self.sent >= self.count or time.perf_counter() >= self.deadline:
                return None
            path = self.paths[self.sent % len(self.paths)]
            body = self.bodies[self.sent % len(self.bodies)]
            self.sent += 1
            return path, body

    def send(
        self,
        connection: http.client.HTTPConnection,
        path: str,
        body: bytes | None,
        tally: Tally,
    ) -> None:
        """Send one request and count what came of it."""
        started = time.perf_counter()
        try:
            connection.request(self.method, path, body=body, headers=self.headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            tally.add(type(exc).__name__, None, path, b"")
            return
        tally.add(str(response.status), time.perf_counter() - started, path, answer)
        if response.will_close:
            connection.close()  # sync workers close after each answer; reopen next

    def connection_loop(self, tally: Tally) -> None:
        """One connection's loop; http.client reconnects when the server closed."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            while (request := self.next_request()) is not None:
                self.send(connection, *request, tally)
        finally:
            connection.close()

    def run(self) -> tuple[Tally, float]:
        """Run the loop; returns the merged tally and the wall time in seconds."""
        tallies = [Tally(self.expected) for _ in range(self.connections)]
        threads = [
            threading.Thread(target=self.connection_loop, args=(tally,), daemon=True)
            for tally in tallies
        ]
        started = time.perf_counter()
        self.deadline = started + self.seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.seconds + 2 * self.timeout)
        elapsed = time.perf_counter() - started
        total = Tally(self.expected)
        for tally in tallies:
            total.merge(tally)
        return total, elapsed


def percentile_ms(latencies: list[float], percent: float) -> float:
    """Nearest-rank percentile of latencies in seconds, in ms (NaN if none)."""
    ordered = sorted(latencies)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1] * 1000
