"""The baseline page the console benchmark prints its pages beside: bare Django,
signed in, listing the 50 newest rows of the incident table (the same table, at the
same size).

It is served by its own gunicorn (the same workers, database and session cookie as
the project's) with the least a signed-in Django page needs: the session and
authentication middleware, the auth, contenttypes and sessions apps (Django's
database sessions: a query for the session, one for the user), one ORM-free query
and a template. Whatever the project's pages cost beyond it is the project's
own: its middleware, permissions, queries and rendering.
"""

from __future__ import annotations

from pathlib import Path

SETTINGS_MODULE = "bench_bare_settings"
URLS_MODULE = "bench_bare_urls"
PATH = "/bench/bare/"

SETTINGS_SOURCE = f"""\
from itsm.settings import DATABASES, SECRET_KEY  # noqa: F401

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "authcache",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
# The project's backend, by name only: a session remembers the backend that
# signed it in and is refused by a server without it. This page checks no
# permission, and reads its sessions with Django's own database engine.
AUTHENTICATION_BACKENDS = ["authcache.permissions.CachedModelBackend"]
ROOT_URLCONF = "{URLS_MODULE}"
TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates"}}]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

URLS_SOURCE = f"""\
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path

PAGE = engines["django"].from_string(
    "<!doctype html><title>Newest incidents</title><table>"
    "{{% for id, title, logged_at in rows %}}"
    "<tr><td>{{{{ id }}}}</td><td>{{{{ title }}}}</td><td>{{{{ logged_at }}}}</td></tr>"
    "{{% endfor %}}</table>"
)


@login_required
def newest(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, title, logged_at FROM incidents_incident "
            "ORDER BY id DESC LIMIT 50"
        )
        rows = cursor.fetchall()
    return HttpResponse(PAGE.render({{"rows": rows}}, request))


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [path("{PATH.strip("/")}/", newest), path("healthz", healthz)]
"""


def write_bare_app(folder: Path) -> str:
    """Write the bare page's settings and URLs into ``folder`` (on the server's
    Python path); returns the settings module's name."""
    (folder / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_SOURCE)
    (folder / f"{URLS_MODULE}.py").write_text(URLS_SOURCE)
    return SETTINGS_MODULE
