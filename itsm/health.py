"""Liveness and readiness probes, and the worker heartbeat they report.

- ``GET /healthz`` answers 200 while the process can answer at all, touching nothing.
- ``GET /readyz`` answers 200 when the database and the broker both answer, else 503;
  its JSON body names every check and what failed.

Both are answered by a middleware placed first, before host validation and the HTTPS
redirect: probes come from load balancers and orchestrators, by IP and over plain HTTP.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone

from itsm.celery import app as celery_app

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "worker-heartbeat"
# Long enough to outlive a few missed beats, so the age shown stays meaningful.
HEARTBEAT_TTL_SECONDS = 15 * 60


def check_database() -> None:
    """Raise unless the default database answers a query."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """Raise unless the Celery broker accepts a connection (no retries: a probe must
    answer within seconds, and the orchestrator does the retrying)."""
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0)
        if conn.transport.driver_type == "filesystem":
            # The embedded broker "connects" to anything; what matters is that the
            # folders it moves messages through exist and are writable.
            options = celery_app.conf.broker_transport_options
            for key in ("data_folder_in", "data_folder_out", "control_folder"):
                folder = options[key]
                if not os.access(folder, os.W_OK | os.X_OK):
                    raise OSError(f"broker folder {folder} is missing or not writable")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
}


def worker_heartbeat_record(*, now: datetime | None = None) -> None:
    """Record that a worker ran a beat-scheduled task just now."""
    cache.set(
        HEARTBEAT_CACHE_KEY, (now or timezone.now()).isoformat(), HEARTBEAT_TTL_SECONDS
    )


def worker_heartbeat_read(*, now: datetime | None = None) -> dict[str, object]:
    """The last heartbeat and its age, or nulls if none is recent or the cache is down."""
    try:
        seen = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:  # the broker check already reports an unreachable Redis
        seen = None
    if seen is None:
        return {"last_heartbeat": None, "age_seconds": None}
    age = (now or timezone.now()) - datetime.fromisoformat(seen)
    return {"last_heartbeat": seen, "age_seconds": round(age.total_seconds())}


def readiness() -> tuple[bool, dict[str, object]]:
    """Run every readiness check; the worker heartbeat is reported but does not count,
    since the web tier can serve while workers restart."""
    checks: dict[str, str] = {}
    failed: list[str] = []
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("readiness check %s failed: %r", name, exc)
            # The exception's type only: the message can carry host names and users.
            checks[name] = f"failed: {type(exc).__name__}"
            failed.append(name)
        else:
            checks[name] = "ok"
    body = {
        "status": "unavailable" if failed else "ready",
        "failed": failed,
        "checks": checks,
        "worker": worker_heartbeat_read(),
    }
    return not failed, body


def _healthz() -> HttpResponse:
    return JsonResponse({"status": "alive"})


def _readyz() -> HttpResponse:
    ready, body = readiness()
    return JsonResponse(body, status=200 if ready else 503)


PROBES: dict[str, Callable[[], HttpResponse]] = {
    "/healthz": _healthz,
    "/readyz": _readyz,
}


class HealthCheckMiddleware:
    """Answer the probe paths (with or without a trailing slash) before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/"))
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response = probe()
        response["Cache-Control"] = "no-store"
        return response
