"""Real processes for end-to-end tests: a Redis of the test's own, Celery workers
(with their beat), gunicorn, all on the test database. Every server takes a free
port chosen when it starts; every process is started in a session of its own, so
that stopping or killing it takes its children (an embedded beat) along, and is
stopped when the test ends, whatever happened.

Waiting is for a condition, polled, with a timeout that only a broken test
reaches; the last lines of each process's log go into the failure message.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection

HOST = "127.0.0.1"
TIMEOUT = 90.0
# What a Celery worker logs once it consumes: "celery.apps.worker one@host ready."
_WORKER_READY = re.compile(r"celery\.apps\.worker \S+ ready\.")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The test database, as the other processes reach it."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or HOST}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def project_env(tmp_path: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a project process on the test database and this broker
    (and cache), its files under ``tmp_path``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "INFO",
        **extra,
    }


class Process:
    """A child process in a session of its own, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.log = log
        self._output: IO[bytes] = log.open("ab")
        self.popen = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and its children: no clean-up, no goodbye."""
        if self.running():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        """Ask the process and its children to stop; kill them if they do not."""
        if self.running():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        with _suppress_gone():
            os.killpg(self.popen.pid, signal.SIGKILL)  # children left behind
        self._output.close()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.name} ({self.log})\n" + "\n".join(text)


@contextmanager
def _suppress_gone() -> Iterator[None]:
    try:
        yield
    except ProcessLookupError:
        pass


class Processes:
    """The processes of one test: started through it, all stopped at the end."""

    def __init__(self, tmp_path: Path, stack: ExitStack) -> None:
        self.tmp_path = tmp_path
        self.stack = stack
        self.started: list[Process] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        process = Process(name, command, env, self.tmp_path / f"{name}.log")
        self.started.append(process)
        self.stack.callback(process.stop)
        return process

    def logs(self) -> str:
        return "\n".join(process.tail() for process in self.started)

    def wait_until(
        self, what: str, condition: Callable[[], bool], timeout: float = TIMEOUT
    ) -> None:
        """Poll ``condition`` until it holds; fail with the logs if it never does."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"never: {what}\n{self.logs()}")
            time.sleep(0.1)

    # ------------------------------------------------------------ the servers
    def redis(self, port: int | None = None) -> tuple[Process, str]:
        """A Redis of the test's own, nothing persisted; returns it and its URL."""
        port = port or free_port()
        folder = self.tmp_path / "redis"
        folder.mkdir(exist_ok=True)
        command = [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ]
        process = self.start(f"redis-{port}-{len(self.started)}", command, {})
        self.wait_until(f"Redis answers on {port}", lambda: _answers(port))
        return process, f"redis://{HOST}:{port}/0"

    def worker(self, name: str, env: dict[str, str], *, beat: bool) -> Process:
        """A Celery worker (solo pool), with an embedded beat if ``beat``."""
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "itsm",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--hostname={name}@%h",
        ]
        if beat:
            command += ["--beat", f"--schedule={self.tmp_path / name}-schedule"]
        process = self.start(name, command, env)
        # Returned once it consumes. While it starts (connecting, then meeting its
        # neighbours through the broker) a broker that goes away can end the
        # start-up itself, which is not what a test of a running worker tries.
        self.wait_until(
            f"{name} is ready",
            lambda: (
                _WORKER_READY.search(process.log.read_text(errors="replace"))
                is not None
            ),
        )
        return process

    def gunicorn(self, name: str, env: dict[str, str]) -> int:
        """A gunicorn serving the project; returns its port once it is healthy."""
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "itsm.wsgi:application",
            "--workers",
            "1",
            "--bind",
            f"{HOST}:{port}",
        ]
        self.start(name, command, env)
        self.wait_until(f"{name} answers /healthz", lambda: _healthy(port))
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Start processes through the yielded object; all are stopped at the end."""
    with ExitStack() as stack:
        yield Processes(tmp_path, stack)


def call(
    port: int, method: str, path: str, *, token: str, body: dict | None = None
) -> tuple[int, Any]:
    """One JSON request with a bearer token; returns the status and the body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body or {}),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
            },
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data.decode(errors="replace")
