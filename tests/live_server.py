"""A real gunicorn serving the project on the test database, for tests of what
only a real server shows (chunked bodies, a database that goes away).

The listening socket is bound here, on a port the system picks, and handed to
gunicorn (``fd://``): no port is guessed, and none can be taken in between.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

HOST = "127.0.0.1"
STARTUP_SECONDS = 30.0


def database_address() -> tuple[str, int]:
    """Where the test database's server listens."""
    db = connection.settings_dict
    return db["HOST"] or HOST, int(db["PORT"] or 5432)


def server_env(
    tmp_path: Path, *, database_port: int | None = None, **overrides: str
) -> dict[str, str]:
    """The environment of a server on the test database (reached on
    ``database_port`` of this machine, when given: a proxy's) and the suite's
    Redis."""
    db = connection.settings_dict
    host, port = database_address()
    if database_port is not None:
        host, port = HOST, database_port
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings",
        "DEBUG": "1",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"
        ),
        "VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request to the server: its status, headers and body. A body given as
    an iterable of pieces is sent chunked (``Transfer-Encoding: chunked``)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _healthy(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz", timeout=2)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


@contextmanager
def gunicorn_serving(env: dict[str, str], log: Path) -> Iterator[int]:
    """Serve the project with one gunicorn worker until the block ends; yields
    the port. The server's output goes to ``log``."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "itsm.wsgi:application",
                "--bind",
                f"fd://{listener.fileno()}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            pass_fds=[listener.fileno()],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    listener.close()  # gunicorn holds its own copy
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not start:\n{log.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
