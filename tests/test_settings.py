"""Settings come from the environment, and refuse to start half-configured.

Each case imports the settings in a fresh interpreter with a controlled environment,
exactly as a server process would.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
STRONG_KEY = secrets.token_urlsafe(50)
# Variables the settings read; cleared so the machine's own values cannot leak in.
_SETTINGS_ENV = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "TIME_ZONE",
    "VAR_DIR",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "TRUST_X_FORWARDED_PROTO",
    "TRUSTED_PROXY_COUNT",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
)


def run_django(
    code: str, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _SETTINGS_ENV}
    base.update(
        {
            "DJANGO_SETTINGS_MODULE": "itsm.settings",
            "VAR_DIR": str(tmp_path),
            "ENV_FILE": str(tmp_path / "no.env"),  # no local .env: as in production
        }
    )
    base.update(env)
    script = "import django\ndjango.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "key",
    [
        None,
        "django-insecure-development-only-never-use-this-key-in-production",
        "django-insecure-" + "x" * 60,
        "short-but-random-8d7f",
        "a" * 60,
    ],
    ids=["missing", "dev-key", "insecure-prefix", "too-short", "too-plain"],
)
def test_settings_refuse_weak_secret_key_with_debug_off(
    tmp_path: Path, key: str | None
) -> None:
    env = {"DEBUG": "0", "ALLOWED_HOSTS": "itsm.example.com"}
    if key is not None:
        env["SECRET_KEY"] = key
    result = run_django("", tmp_path, **env)
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: SECRET_KEY is missing or is a development key"
        in result.stderr
    )


def test_settings_start_with_strong_secret_key_and_debug_off(tmp_path: Path) -> None:
    result = run_django(
        "from django.conf import settings; print(settings.DEBUG)",
        tmp_path,
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="itsm.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_default_to_debug_off(tmp_path: Path) -> None:
    result = run_django("", tmp_path)  # no DEBUG, no SECRET_KEY
    assert "SECRET_KEY is missing" in result.stderr


def test_settings_use_development_key_only_with_debug_on(tmp_path: Path) -> None:
    result = run_django(
        "from django.conf import settings; print(settings.SECRET_KEY)",
        tmp_path,
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("django-insecure-")


def test_settings_refuse_empty_allowed_hosts_with_debug_off(tmp_path: Path) -> None:
    result = run_django("", tmp_path, DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        (
            "SECURE_HSTS_SECONDS",
            "a year",
            "SECURE_HSTS_SECONDS='a year' is not an integer",
        ),
        (
            "TIME_ZONE",
            "Mars/Olympus",
            "TIME_ZONE='Mars/Olympus' is not a known time zone",
        ),
        ("LOGIN_FAILURE_LIMIT", "five", "LOGIN_FAILURE_LIMIT='five' is not an integer"),
        ("LOGIN_LOCKOUT_MINUTES", "0", "LOGIN_LOCKOUT_MINUTES must be 1 or more"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT=-1 must be 0 or more"),
    ],
)
def test_settings_name_a_malformed_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    env = {"DEBUG": "1", name: value}
    result = run_django("", tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {
            "TRUST_X_FORWARDED_PROTO": "1",
            "LOGIN_FAILURE_LIMIT": "10",
            "LOGIN_LOCKOUT_MINUTES": "30",
        },
    ],
    ids=["direct", "behind-a-proxy"],
)
def test_check_deploy_is_clean_in_production_settings(
    tmp_path: Path, extra: dict[str, str]
) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k not in _SETTINGS_ENV},
            "DEBUG": "0",
            "SECRET_KEY": STRONG_KEY,
            "ALLOWED_HOSTS": "itsm.example.com",
            "VAR_DIR": str(tmp_path),
            "ENV_FILE": str(tmp_path / "no.env"),
            **extra,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_carry_the_csp_and_the_login_lock(tmp_path: Path) -> None:
    code = """
from django.conf import settings
from django.test import Client
response = Client(HTTP_HOST="itsm.example.com").get("/api/v1/incidents/", secure=True)
print(response["Content-Security-Policy"])
print(settings.AUTHENTICATION_BACKENDS[0], settings.AXES_LOCKOUT_PARAMETERS)
print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME, settings.TRUSTED_PROXY_COUNT)
"""
    result = run_django(
        code,
        tmp_path,
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="itsm.example.com",
        TRUST_X_FORWARDED_PROTO="1",
    )
    assert result.returncode == 0, result.stderr
    policy, lock, limits = result.stdout.strip().splitlines()
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe" not in policy
    assert lock == "axes.backends.AxesStandaloneBackend [['username', 'ip_address']]"
    assert limits == "5 0:15:00 1"  # behind the proxy: its X-Forwarded-For entry


def test_embedded_sqlite_runs_in_wal_mode_with_immediate_transactions(
    tmp_path: Path,
) -> None:
    # With IMMEDIATE, a transaction holds the write lock from BEGIN, so a second
    # writer is refused at once (busy timeout 0) even before the first one writes.
    code = """
import sqlite3
from django.db import connection, transaction
from django.conf import settings
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
with transaction.atomic():
    connection.cursor().execute("SELECT 1")
    other = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        print("second writer got the lock")
    except sqlite3.OperationalError as exc:
        print(exc)
"""
    result = run_django(code, tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["wal", "database is locked"]
    assert (tmp_path / "db.sqlite3").exists()


def test_embedded_broker_and_cache_without_redis_url(tmp_path: Path) -> None:
    code = """
from django.conf import settings
print(settings.CELERY_BROKER_URL, settings.CACHES["default"]["BACKEND"])
"""
    result = run_django(code, tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "filesystem://",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]
    assert (tmp_path / "broker" / "queue").is_dir()


def test_redis_url_sets_broker_and_cache(tmp_path: Path) -> None:
    code = """
from django.conf import settings
print(settings.CELERY_BROKER_URL, settings.CACHES["default"]["LOCATION"])
"""
    url = "redis://cache.example.com:6379/3"
    result = run_django(code, tmp_path, DEBUG="1", REDIS_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [url, url]


def test_database_url_selects_postgres(tmp_path: Path) -> None:
    code = """
from django.conf import settings
db = settings.DATABASES["default"]
print(db["ENGINE"], db["HOST"], db["NAME"], db["OPTIONS"]["connect_timeout"])
"""
    result = run_django(
        code,
        tmp_path,
        DEBUG="1",
        DATABASE_URL="postgres://u:p@db.example.com:5432/itsm",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.example.com",
        "itsm",
        "5",
    ]


def test_local_env_file_gives_defaults_the_environment_overrides(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "dev.env"
    env_file.write_text("# comment\nDEBUG=1\nTIME_ZONE='Europe/Amsterdam'\n")
    code = "from django.conf import settings; print(settings.DEBUG, settings.TIME_ZONE)"
    result = run_django(code, tmp_path, ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "Europe/Amsterdam"]
    result = run_django(code, tmp_path, ENV_FILE=str(env_file), TIME_ZONE="UTC")
    assert result.stdout.split() == ["True", "UTC"]
