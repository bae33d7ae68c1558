"""Settings for the incident management service.

Every value that differs between machines comes from the environment (the README lists
each variable). With no environment at all the service runs for development on an
embedded SQLite database and an embedded, file-based Celery broker under ``var/``, so
one command serves it; with ``DATABASE_URL`` and ``REDIS_URL`` it runs on PostgreSQL
and Redis.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from itsm.env import envbool, envint, envlist, envstr, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
load_env_file(Path(envstr("ENV_FILE", str(BASE_DIR / ".env"))))
# Embedded database, broker, cache and beat schedule live here (git-ignored).
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)

# ---------------------------------------------------------------- secret key guard
# Only ever used with DEBUG on; the guard below refuses it otherwise.
DEV_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"


def secret_key_is_weak(key: str) -> bool:
    """A key is weak when it is a development key or too short or too plain to guess
    at: the same bar as Django's own ``security.W009`` deploy check."""
    return (
        not key
        or key == DEV_SECRET_KEY
        or key.startswith("django-insecure")
        or len(key) < 50
        or len(set(key)) < 5
    )


SECRET_KEY = envstr("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and secret_key_is_weak(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or is a development key. With DEBUG off, set SECRET_KEY "
        "to a random string of at least 50 characters, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
        "For local development set DEBUG=1 instead."
    )

ALLOWED_HOSTS = envlist(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty. With DEBUG off, list the host names this service "
        "answers to, comma-separated (e.g. ALLOWED_HOSTS=itsm.example.com)."
    )
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# ---------------------------------------------------------------- applications
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "authcache",
    "incidents",
    "kb",
    "reviews",
    "dashboards",
]

MIDDLEWARE = [
    # First: probes answer before host validation and the HTTPS redirect, so a load
    # balancer or orchestrator can ask by IP over plain HTTP.
    "itsm.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header on every response (below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The public status page's kept renderings, as cheap as a static file.
    "incidents.status.middleware.CachedStatusPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The reader's time zone, kept in the session at login (incidents/timezones.py).
    "incidents.timezones.TimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Answers a locked-out login with the lock's page (see "Login lock" below).
    "axes.middleware.AxesMiddleware",
    # Last, so it sees a view's exception first: an unreachable database is a 503.
    "itsm.errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "itsm.urls"
WSGI_APPLICATION = "itsm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "itsm.navigation.navigation",
            ],
        },
    },
]

# ---------------------------------------------------------------- database
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    _database = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database = dj_database_url.parse(f"sqlite:///{VAR_DIR / 'db.sqlite3'}")

if _database["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write the same file: WAL lets readers run
    # beside a writer, and IMMEDIATE takes the write lock when a transaction begins,
    # so two writers queue on busy_timeout instead of failing mid-transaction with
    # "database is locked".
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **_database.get("OPTIONS", {}),
    }
    _database["CONN_MAX_AGE"] = 0
elif _database["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the server is unreachable, so /readyz answers within seconds.
    _database["OPTIONS"] = {"connect_timeout": 5, **_database.get("OPTIONS", {})}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- Redis: broker and cache
REDIS_URL = envstr("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"

REDIS_BROKER_TRANSPORT_OPTIONS = {
    # Longer than any countdown or ETA we schedule, so Redis never redelivers a task
    # that is still waiting for its time.
    "visibility_timeout": 2 * 60 * 60,
    # Publishing gives up at once when Redis is down (kombu's default retries for
    # about 6 s): the request that asked goes on, and its outbox rows wait for the
    # notification sweep. Workers reconnect by their own, patient, loop.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 3,
}

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, keeping its redis.Redis client between calls.
            "BACKEND": "itsm.redis_cache.KeptClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "itsm",
            # A Redis that hangs must cost a request a second, not a worker:
            # every reader of the cache falls back to the database.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
else:
    # The cache must be shared by every process (web, worker), so not local memory.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # Kombu's filesystem transport: a real broker in a folder, no server to run.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)

# Rendered HTML kept by its content (itsm/fragments.py): a key is a digest of all
# a fragment prints, so each process keeps its own copies and none is ever stale.
# Whole incident pages too, by their rows and stamp (incidents/console/page.py),
# and whole queue pages, with their rows filled in (itsm/pages.py).
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    # About 30 KB a fragment at most: a few tens of MB a process.
    "OPTIONS": {"MAX_ENTRIES": envint("FRAGMENT_CACHE_ENTRIES", 1000)},
}

# ---------------------------------------------------------------- Celery
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task's row in the database is its truth; the broker only carries the nudge. Late
# acks plus prefetch 1 mean a worker that dies mid-task leaves it for another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How often beat brings the dashboards' rollups up to date (the pages say so).
DASHBOARDS_REFRESH_SECONDS = envint("DASHBOARDS_REFRESH_SECONDS", 20)

# Accepted alerts get their incidents from a worker right after the request; the
# sweep places any whose task was lost, so this bounds the delay of an outage.
ALERT_PLACEMENT_SWEEP_SECONDS = envint("ALERT_PLACEMENT_SWEEP_SECONDS", 10)
# How long one request's ask for a worker stands before another request may ask
# again (a lost ask costs at most this, or the sweep's period).
ALERT_PLACEMENT_ASK_SECONDS = 5
# Placers one placement task runs at once (PostgreSQL; SQLite takes one writer).
ALERT_PLACEMENT_THREADS = envint("ALERT_PLACEMENT_THREADS", 3)

CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "itsm.tasks.worker_heartbeat_record",
        "schedule": 30.0,
    },
    "sla-sweep": {
        "task": "incidents.tasks.sla_sweep_task",
        "schedule": float(envint("SLA_SWEEP_SECONDS", 30)),
    },
    "notification-sweep": {
        "task": "incidents.tasks.notification_sweep_task",
        "schedule": float(envint("NOTIFICATION_SWEEP_SECONDS", 30)),
    },
    "pending-cache-drops": {
        "task": "authcache.tasks.pending_cache_drops_task",
        "schedule": 10.0,
    },
    "alert-placement-sweep": {
        "task": "incidents.tasks.alert_placement_task",
        "schedule": float(ALERT_PLACEMENT_SWEEP_SECONDS),
    },
    "alert-maintenance-sweep": {
        "task": "incidents.tasks.alert_maintenance_sweep_task",
        "schedule": 60.0,
    },
    "alert-delivery-prune": {
        "task": "incidents.tasks.alert_delivery_prune_task",
        "schedule": 60 * 60.0,
    },
    "attachments-prune": {
        "task": "incidents.tasks.attachments_prune_task",
        "schedule": 24 * 60 * 60.0,
    },
    "dashboards-refresh": {
        "task": "dashboards.tasks.rollup_refresh_task",
        "schedule": float(DASHBOARDS_REFRESH_SECONDS),
    },
    "dashboards-digest": {
        "task": "dashboards.tasks.digest_send_task",
        "schedule": 60 * 60.0,
    },
    "kb-stale-articles": {
        "task": "kb.tasks.article_remind_stale_task",
        "schedule": 60 * 60.0,
    },
    "reviews-reminders": {
        "task": "reviews.tasks.reviews_remind_task",
        "schedule": 15 * 60.0,
    },
    "status-fanout-sweep": {
        "task": "incidents.status.tasks.status_fanout_sweep_task",
        "schedule": 30.0,
    },
}

# Demo data of other apps, loaded by `manage.py seed_demo` after the incidents' own
# (see incidents/management/commands/seed_demo.py).
DEMO_LOADERS = [
    "kb.demo.demo_seed",
    "reviews.problems.demo.demo_seed",
    "reviews.demo.demo_seed",
]

# What runs when an incident is resolved (incidents.services._base.incident_resolved):
# dotted paths of ``hook(*, incident, at)``, the only way from incidents to the apps
# built on it. The reviews app opens a post-incident review when one is due.
INCIDENT_RESOLVED_HOOKS = ["reviews.hooks.incident_resolved"]

# ---------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidents.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["incidents.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "itsm.api.NewestFirstCursorPagination",
    "EXCEPTION_HANDLER": "itsm.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM incident management API",
    "DESCRIPTION": "Alert intake for monitoring tools, and incidents for scripts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "AlertStatusEnum": ["firing", "resolved"],
        "NoteKindEnum": "incidents.models.IncidentNote.Kind",
        "LevelEnum": "incidents.models.Urgency",
        "ArticleKindEnum": "kb.models.ArticleKind",
        "ArticleUseKindEnum": "kb.models.ArticleUse.Kind",
        "ProblemStatusEnum": "incidents.models.Problem.Status",
        "ProblemStatusFilterEnum": "reviews.problems.api.views.STATUS_FILTER",
        "ActionItemSourceEnum": "reviews.models.ActionItem.Source",
        "IncidentSourceEnum": "incidents.models.Incident.Source",
    },
}
# The team that receives a portal report naming no service ("I don't know"); if
# no team has this name, the first tier-1 team does.
SERVICE_DESK_TEAM = envstr("SERVICE_DESK_TEAM", "Service Desk")
# Alert payloads above this are answered 413 without being read further.
API_MAX_BODY_BYTES = 1024 * 1024
# Raw alert deliveries (the alert inspector) are kept this long.
ALERT_DELIVERY_RETENTION_DAYS = envint("ALERT_DELIVERY_RETENTION_DAYS", 30)

# ---------------------------------------------------------------- status page
# How long the public status page's content is cached (and browsers and proxies may
# keep it); 0 computes it on every request.
STATUS_CACHE_SECONDS = envint("STATUS_CACHE_SECONDS", 30)
if STATUS_CACHE_SECONDS < 0:
    raise ImproperlyConfigured(
        f"STATUS_CACHE_SECONDS={STATUS_CACHE_SECONDS} must be 0 or more"
    )
# Subscription requests accepted per hour for one address and from one client.
STATUS_SUBSCRIBE_PER_HOUR_ADDRESS = envint("STATUS_SUBSCRIBE_PER_HOUR_ADDRESS", 3)
STATUS_SUBSCRIBE_PER_HOUR_CLIENT = envint("STATUS_SUBSCRIBE_PER_HOUR_CLIENT", 10)
# Subscribers whose outbox rows one fan-out transaction writes.
STATUS_FANOUT_BATCH = envint("STATUS_FANOUT_BATCH", 500)
# Subscriber webhooks may go to private addresses (tests, closed networks only).
STATUS_WEBHOOKS_ALLOW_PRIVATE = envbool("STATUS_WEBHOOKS_ALLOW_PRIVATE", False)

# ---------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lock backend first: it refuses a locked username and address before any
# password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the permissions read from the cache (authcache/).
    "authcache.permissions.CachedModelBackend",
]
# Sessions read from the cache and kept in the database (authcache/sessions.py):
# a cache that is down costs a query, never a sign-in; a logout ends the session
# in both. A cached copy is kept at most this long.
SESSION_ENGINE = "authcache.sessions"
SESSION_CACHE_SECONDS = envint("SESSION_CACHE_SECONDS", 900)
# Cached permissions: exact to the last change of role (a version), and kept at
# most this long besides.
PERMISSION_CACHE_SECONDS = envint("PERMISSION_CACHE_SECONDS", 900)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# ---------------------------------------------------------------- login lock
# After LOGIN_FAILURE_LIMIT failed logins for one username from one address, that
# username is locked on that address for LOGIN_LOCKOUT_MINUTES. The key is the
# pair: one address cannot lock everyone out (an address alone would, behind a
# shared proxy or NAT, and a username alone would let anyone lock any user), and
# the person can still log in from elsewhere meanwhile.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "itsm.views.login_locked"
AXES_CLIENT_IP_CALLABLE = "itsm.proxy.client_address"
# Failed attempts are kept for the lock; a log row per successful login is not
# needed by it and would only grow.
AXES_DISABLE_ACCESS_LOG = True
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= timedelta():
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be 1 or more"
    )

# ---------------------------------------------------------------- i18n and time
LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE={TIME_ZONE!r} is not a known time zone"
    ) from None
USE_I18N = True
USE_TZ = True
# One date-time format everywhere (itsm/formats/en/formats.py), in the reader's zone.
FORMAT_MODULE_PATH = ["itsm.formats"]
CELERY_TIMEZONE = TIME_ZONE

# ---------------------------------------------------------------- static files
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files in production; plain files while developing, so no
    # collectstatic is needed before `make run` or the tests.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Fixed at start-up from the environment, not from the runtime DEBUG flag, which the
# test runner turns off: development serves files straight from the source folders.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

# ---------------------------------------------------------------- requester portal
# Attachments live outside the web root and have no URL of their own: they are
# served only by a view that checks who is asking.
ATTACHMENTS_DIR = Path(envstr("ATTACHMENTS_DIR", str(VAR_DIR / "attachments")))
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_FILES = envint("ATTACHMENT_MAX_FILES", 5)
# A portal report or reply may carry every allowed file and this much beside
# them for the form's fields; a larger body is refused before it is read.
PORTAL_FORM_ALLOWANCE_BYTES = 1024 * 1024
# The largest body any view reads; a chunked body (no Content-Length) is read up
# to one byte past it, so each view still refuses a larger one by its own rule.
REQUEST_BODY_MAX_BYTES = max(
    API_MAX_BODY_BYTES,
    ATTACHMENT_MAX_FILES * ATTACHMENT_MAX_BYTES + PORTAL_FORM_ALLOWANCE_BYTES,
)
# Reports one requester may send per hour (the portal's report form).
PORTAL_REPORTS_PER_HOUR = envint("PORTAL_REPORTS_PER_HOUR", 10)
# The address people reach the service at, for links in emails.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# ---------------------------------------------------------------- email
EMAIL_HOST = envstr("EMAIL_HOST")
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "itsm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------- HTTPS and cookies
# Secure by default whenever DEBUG is off; each can be relaxed explicitly.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
TRUST_X_FORWARDED_PROTO = envbool("TRUST_X_FORWARDED_PROTO", False)
if TRUST_X_FORWARDED_PROTO:
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front of the service that each append the address they were reached
# from to X-Forwarded-For (itsm/proxy.py): one behind the proxy the README
# describes, none when clients connect straight to the service.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 1 if TRUST_X_FORWARDED_PROTO else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} must be 0 or more"
    )
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------- Content-Security-Policy
# Scripts and styles only from our own static files: no inline script or style, no
# eval (htmx runs with allowEval off, see base.html), nothing from elsewhere. A
# page that needs more widens it for itself (the API docs, itsm/urls.py); an
# attachment's download sets its own, stricter one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# ---------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "filters": {"forbidden_on_one_line": {"()": "itsm.errors.ForbiddenOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"django.request": {"filters": ["forbidden_on_one_line"]}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}
