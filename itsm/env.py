"""Typed readers for settings that come from the environment.

Each reader returns the default when the variable is unset or empty, and raises
``ImproperlyConfigured`` naming the variable when a value is present but malformed:
a typo in production should stop the service at start, not run it half-configured.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def envstr(name: str, default: str = "") -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def envbool(name: str, default: bool) -> bool:
    value = envstr(name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean (use 1/0, true/false)"
    )


def envint(name: str, default: int) -> int:
    value = envstr(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def envlist(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    value = envstr(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def load_env_file(path: Path) -> None:
    """Read ``KEY=VALUE`` lines from a local ``.env`` file into the environment,
    without overriding what the environment already says. ``make`` writes one with
    ``DEBUG=1`` in a development checkout; production sets its environment itself
    and has no such file (the Docker image excludes it)."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip("\"'"))
