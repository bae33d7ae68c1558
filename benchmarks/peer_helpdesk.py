"""The peer the console benchmark measures beside the project (``console.py
--peer``): django-helpdesk, installed from PyPI into a virtual environment of its
own, set up as its documentation says, on PostgreSQL, served by gunicorn with the
same workers as the project.

Nothing of the peer is committed: the virtual environment is made under
``var/bench-peer/`` on first use (and reused), the settings, URLs and seed script
below are written into a temporary folder, and its database is dropped and made
again at every run. It is seeded with ``PEER_TICKETS`` tickets in one queue that
takes public submissions and a staff user, ``agent``, signed in through its own
login form. Two of its pages are measured: the public form anyone can submit a
ticket through (anonymous), and a ticket's page as staff see it (the newest 50
tickets, each with three follow-ups).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from common import BASE_DIR, HOST, BenchError, gunicorn, recreate_database

PEER = "django-helpdesk"
PEER_VERSION = "2.6.1"
PEER_TICKETS = 100_000
TICKET_PAGES = 50
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_peer"
VENV = BASE_DIR / "var" / "bench-peer" / f"{PEER}-{PEER_VERSION}"
FORM_PATH = "/tickets/submit/"

# The peer's settings: its documented apps (teams off: they need pinax-teams),
# Django's default middleware and sessions, production mode.
SETTINGS_SOURCE = """\
import os

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
SITE_ID = 1
HELPDESK_TEAMS_MODE_ENABLED = False
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {{
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        }},
    }}
]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {name!r},
        "USER": {user!r},
        "PASSWORD": {password!r},
        "HOST": {host!r},
        "PORT": {port!r},
        "CONN_MAX_AGE": 60,
    }}
}}
USE_TZ = True
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

URLS_SOURCE = """\
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("healthz", lambda request: HttpResponse("ok")),
    path("admin/", admin.site.urls),
    path("", include("helpdesk.urls", namespace="helpdesk")),
]
"""

WSGI_SOURCE = """\
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""

SEED_SOURCE = """\
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from helpdesk.models import FollowUp, Queue, Ticket

tickets, pages, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
queue = Queue.objects.create(
    title="Service Desk", slug="desk", allow_public_submission=True
)
agent = get_user_model().objects.create_user(
    "agent", "agent@example.com", password, is_staff=True
)
with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO helpdesk_ticket (title, created, modified, status, on_hold, "
        "description, priority, queue_id, secret_key, submitter_email) "
        "SELECT 'Ticket ' || n, now() - n * interval '1 minute', "
        "now() - n * interval '1 minute', 1 + mod(n, 4), false, "
        "'Something broke (' || n || ')', 1 + mod(n, 5), %s, md5(n::text), "
        "'user' || n || '@example.com' FROM generate_series(1, %s) n",
        [queue.pk, tickets],
    )
    cursor.execute("VACUUM (ANALYZE)")  # autocommit: outside a transaction
newest = list(Ticket.objects.order_by("-id").values_list("pk", flat=True)[:pages])
for pk in newest:
    for n in range(3):
        FollowUp.objects.create(
            ticket_id=pk, title=f"Update {n}", comment=f"Checked ({n}).",
            public=True, user=agent,
        )
print(" ".join(str(pk) for pk in newest))
"""


def ensure_venv() -> Path:
    """The peer's virtual environment, made and installed on first use: the
    peer, and the same gunicorn and psycopg2 releases as the project's."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if marker.exists():
        return python
    print(f"installing {PEER} {PEER_VERSION} into {VENV} (once)", flush=True)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{PEER}=={PEER_VERSION}",
            f"gunicorn=={version('gunicorn')}",
            f"psycopg2-binary=={version('psycopg2-binary')}",
        ],
    ]
    for command in steps:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchError(
                f"installing {PEER} failed:\n{result.stdout}{result.stderr}"
            )
    marker.touch()
    return python


def _run(python: Path, folder: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(python), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(
            f"{PEER}: {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def prepare(
    folder: Path, database_url: str, secret_key: str, password: str
) -> tuple[dict[str, str], list[str]]:
    """Install the peer if needed, write its project into ``folder``, recreate
    its database, migrate and seed it; returns its environment and the paths of
    the ticket pages to measure."""
    import dj_database_url

    python = ensure_venv()
    params = dj_database_url.parse(database_url)
    recreate_database(database_url)
    (folder / "peer_settings.py").write_text(
        SETTINGS_SOURCE.format(
            name=params["NAME"],
            user=params["USER"] or "",
            password=params["PASSWORD"] or "",
            host=params["HOST"] or "",
            port=str(params["PORT"] or ""),
        )
    )
    (folder / "peer_urls.py").write_text(URLS_SOURCE)
    (folder / "peer_wsgi.py").write_text(WSGI_SOURCE)
    (folder / "peer_seed.py").write_text(SEED_SOURCE)
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "PYTHONPATH": str(folder),
        "DJANGO_SETTINGS_MODULE": "peer_settings",
        "SECRET_KEY": secret_key,
    }
    code = "from django.core.management import execute_from_command_line as e; e()"
    _run(python, folder, env, "-c", code, "migrate", "--noinput", "-v0")
    seeded = _run(
        python,
        folder,
        env,
        "peer_seed.py",
        str(PEER_TICKETS),
        str(TICKET_PAGES),
        password,
    )
    pages = [f"/tickets/{pk}/" for pk in seeded.split()]
    print(
        f"{PEER} {PEER_VERSION}: {PEER_TICKETS:,} tickets, "
        f"{len(pages)} ticket pages with 3 follow-ups each",
        flush=True,
    )
    return env, pages


@contextmanager
def serve(folder: Path, env: dict[str, str]) -> Iterator[int]:
    """Serve the peer with gunicorn (the project's workers) until the block ends;
    its log is in ``folder``."""
    with (
        (folder / "peer-gunicorn.log").open("wb") as log,
        gunicorn(
            env,
            log,
            app="peer_wsgi:application",
            binary=VENV / "bin" / "gunicorn",
            cwd=folder,
        ) as port,
    ):
        print(f"{PEER} on {HOST}:{port}", flush=True)
        yield port
