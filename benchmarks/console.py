"""Agent console benchmark: the queue and the incident page at 1M incidents.

Seeds the incident table on PostgreSQL straight from SQL (``generate_series``) with
a realistic mix (about 90% closed over two years, the open ones mostly recent, most
of them in the agent's team), serves the project with gunicorn (production
settings, PostgreSQL and Redis), logs in as ``agent`` and drives every queue view
and filter, the incident page (an ordinary one, and a P1 whose alert repeated 1,500
times, with 500 notes) and, signed in as ``requester``, the portal's report form,
with a closed loop of concurrent connections. Beside each it prints the ratio to a bare
Django page measured in the same run (``bare_page``: signed in, the 50 newest rows
of the same table); with ``--peer``, django-helpdesk's ticket page and public form
beside ours (``peer_helpdesk``). Then prints the plan of the main query of the
slowest cases. It prints figures and never asserts them: it is a measurement, not a test. Exit status 1 means the
database could not be prepared, the server did not start, the login failed, or not
a single request was answered 200.

    .venv/bin/python benchmarks/console.py [--incidents N] [--requests N] [--seconds S] [--peer]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import bare_page
import peer_helpdesk
from common import (
    BASE_DIR,
    CONNECTIONS,
    HOST,
    WORKERS,
    BenchError,
    ClosedLoop,
    Tally,
    logged_gunicorn,
    manage,
    percentile_ms,
    postgres_version,
    production_environment,
    recreate_database,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_console"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
SETTINGS_MODULE = "bench_console_settings"

WARM_UP_REQUESTS = 8
HTTP_TIMEOUT_SECONDS = 35.0
TARGET_P95_MS = 30.0
TARGET = (
    f"target: queue p95 < {TARGET_P95_MS:g} ms at 1M incidents, every view and filter"
)
DETAIL_PAGES = 50
HEAVY_TITLE = "Disk full on db-1 (bench P1)"
HEAVY_REPEATS = 1500
HEAVY_NOTES = 500
BARE_LABEL = "bare Django page (baseline)"
BARE_AGAIN_LABEL = "bare Django page (again, last)"
HEAVY_LABEL = "/console/INC-n/ (P1, long night)"
REPORT_LABEL = "/portal/report/ (requester)"
DETAIL_LABEL = f"/console/INC-n/ ({DETAIL_PAGES} open)"
PEER_NAME = f"{peer_helpdesk.PEER} {peer_helpdesk.PEER_VERSION}"
PEER_TICKET_LABEL = "peer: ticket page (staff)"
PEER_FORM_LABEL = "peer: public form (anonymous)"
# Each of the project's pages and the peer's page it is set beside.
PEER_PAIRS = {REPORT_LABEL: PEER_FORM_LABEL, DETAIL_LABEL: PEER_TICKET_LABEL}
# Goals, as ratios of p95 to the bare page's p95 in the same run.
GOALS = {"queue": 1.5, HEAVY_LABEL: 2.0}
EXPLAINED_CASES = 3
IN_PROCESS_REPEATS = 5
SERVICE_EVERY = 10
# Search terms no seeded title or description contains: the planner estimates
# more matches for a shorter one.
UNMATCHED_WORDS = ("kernel", "dns")
QUEUE_VIEWS = ("team", "mine", "unassigned", "open", "breaching", "major")
# (username, team) of the agents the seed spreads the assigned incidents over,
# besides the demo "agent" (who gets about 30% of the open incidents).
BENCH_AGENTS = [
    (f"bench_agent_{n:02d}", team)
    for n, team in enumerate(
        ["Service Desk"] * 10
        + ["Network Operations"] * 4
        + ["Security Operations", "Security Operations", "Systems", "Systems"]
        + ["Engineering", "Engineering"],
        start=1,
    )
]
# Where an incident is routed, as (category, team, share): most to Service Desk.
ROUTES = [
    ("Software", "Service Desk", 0.40),
    ("Hardware", "Service Desk", 0.30),
    ("Network", "Network Operations", 0.15),
    ("Security", "Security Operations", 0.07),
    ("Software", "Systems", 0.05),
    ("Software", "Engineering", 0.03),
]

# Every incident from one generate_series, each row's dice drawn once (random()
# after setseed, so every run seeds the same table). State: 90% closed, 2% resolved
# (within the confirmation grace), 8% open (new 2%, triaged 2%, investigating 3%,
# awaiting the requester 1%). Priority: P1 2%, P2 10%, P3 40%, P4 48%, with an
# impact and urgency the default matrix maps to it; new portal incidents are not
# triaged yet (no category, team, impact, urgency or priority). Closed incidents
# were logged over the last two years; new and triaged ones 80% in the last 12
# hours (the rest 3 to 30 days ago), the ones in work 60% in the last 3 days (the
# rest 3 to 60 days ago). The rows are inserted in logging order, so ids grow with
# logged_at. SLA columns follow incidents.sla.sync (wall-clock targets standing in
# for the office-hours calendar): due times while a clock runs, breaches the sweep
# would have recorded once a due time passed.
SEED_SQL = """
WITH draws AS (
    SELECT i, random() AS u_state, random() AS u_priority, random() AS u_route,
        random() AS u_source, random() AS u_assign, random() AS u_who,
        random() AS u_age, random() AS u_speed
    FROM generate_series(1, %(size)s) AS i
), classified AS (
    SELECT i, u_assign, u_who, u_age, u_speed, %(now)s::timestamptz AS now,
        CASE WHEN u_state < 0.90 THEN 'closed'
            WHEN u_state < 0.92 THEN 'resolved'
            WHEN u_state < 0.94 THEN 'new'
            WHEN u_state < 0.96 THEN 'triaged'
            WHEN u_state < 0.99 THEN 'investigating'
            ELSE 'awaiting_requester' END AS status,
        CASE WHEN u_priority < 0.02 THEN 1 WHEN u_priority < 0.12 THEN 2
            WHEN u_priority < 0.52 THEN 3 ELSE 4 END AS p,
        CASE WHEN u_source < 0.45 THEN 'alert' WHEN u_source < 0.75 THEN 'portal'
            ELSE 'agent' END AS source,
        CASE {route_case} END AS route
    FROM draws
), triaged AS (
    SELECT c.*, NOT (status = 'new' AND source = 'portal') AS triaged,
        status IN ('new', 'triaged', 'investigating', 'awaiting_requester') AS open,
        (ARRAY[15, 30, 720, 1440])[p] * interval '1 minute' AS respond_target,
        (ARRAY[240, 480, 5760, 10080])[p] * interval '1 minute' AS resolve_target
    FROM classified AS c
), logged AS (
    SELECT t.*,
        CASE WHEN status = 'closed'
            THEN now - interval '15 days' - u_age * interval '715 days'
            WHEN status = 'resolved'
            THEN now - u_age * interval '3 days' - interval '10 minutes'
                - u_speed * 1.1 * resolve_target
            WHEN status IN ('new', 'triaged') AND u_age < 0.8
            THEN now - interval '5 minutes' - u_age / 0.8 * interval '12 hours'
            WHEN status IN ('new', 'triaged')
            THEN now - interval '3 days' - (u_age - 0.8) * 5 * interval '27 days'
            WHEN u_age < 0.6
            THEN now - interval '5 minutes' - u_age / 0.6 * interval '3 days'
            ELSE now - interval '3 days' - (u_age - 0.6) * 2.5 * interval '57 days'
            END AS logged_at
    FROM triaged AS t
), milestones AS (
    SELECT l.*,
        CASE WHEN status IN ('new', 'triaged') THEN NULL
            ELSE LEAST(logged_at + u_speed * 1.1 * respond_target,
                logged_at + (now - logged_at) * u_speed) END AS acknowledged_at,
        CASE WHEN status IN ('closed', 'resolved')
            THEN logged_at + interval '10 minutes' + u_speed * 1.1 * resolve_target
            END AS resolved_at,
        CASE WHEN status = 'new' OR (status = 'triaged' AND u_assign < 0.5) THEN NULL
            WHEN u_who < (CASE WHEN open THEN 0.48 ELSE 0.05 END) THEN %(agent)s
            ELSE (%(agents)s::bigint[])[1 + floor(u_who * %(agent_count)s)::int]
            END AS assignee_id
    FROM logged AS l
)
INSERT INTO incidents_incident (
    title, description, category_id, impact, urgency, priority, source,
    requester_id, team_id, assignee_id, tier, problem_id, known_error,
    resolution_kind, resolution, verification, cancel_reason, contact, merged_into_id,
    follows_up_id, reopen_count, detected_at, logged_at, acknowledged_at,
    resolved_at, confirmation_due_at, closed_at, updated_at, respond_due_at,
    resolve_due_at, resolve_warn_at, respond_breached_at, resolve_breached_at,
    resolve_warned_at, unassigned_escalated_at, next_update_due_at,
    update_reminded_at, status, version, signature
)
SELECT
    (ARRAY['Disk full on db-', 'High latency on web-', 'VPN drops for user ',
        'Printer jammed on floor ', 'Payroll export failed for run ',
        'Mail delayed on mx-', 'Wi-Fi down in room ', 'Password reset loop for ',
        'Certificate expires on lb-', 'Backup failed on host-',
        'Laptop does not boot, asset ', 'Suspicious login for user '])[1 + i %% 12]
        || (1 + i * 7 %% 400),
    (ARRAY['', 'Users report it since this morning.',
        'Started after the last change window; see the attached logs.',
        'Intermittent, about one attempt in five fails.'])[1 + i %% 4],
    CASE WHEN triaged THEN (%(route_categories)s::bigint[])[route] END,
    CASE WHEN NOT triaged THEN ''
        WHEN p = 1 THEN 'high'
        WHEN p = 2 THEN (ARRAY['high', 'medium'])[1 + i %% 2]
        WHEN p = 3 THEN (ARRAY['medium', 'high', 'low'])[1 + i %% 3]
        ELSE (ARRAY['medium', 'low', 'low'])[1 + i %% 3] END,
    CASE WHEN NOT triaged THEN ''
        WHEN p = 1 THEN 'high'
        WHEN p = 2 THEN (ARRAY['medium', 'high'])[1 + i %% 2]
        WHEN p = 3 THEN (ARRAY['medium', 'low', 'high'])[1 + i %% 3]
        ELSE (ARRAY['low', 'medium', 'low'])[1 + i %% 3] END,
    CASE WHEN triaged THEN p END,
    source,
    CASE WHEN source = 'portal' THEN %(requester)s END,
    CASE WHEN triaged THEN (%(route_teams)s::bigint[])[route] END,
    assignee_id,
    CASE WHEN triaged THEN (%(route_tiers)s::int[])[route] ELSE 1 END,
    NULL,
    false,
    CASE WHEN resolved_at IS NOT NULL THEN 'permanent_fix' ELSE '' END,
    CASE WHEN resolved_at IS NOT NULL THEN 'Restarted the service.' ELSE '' END,
    CASE WHEN resolved_at IS NOT NULL THEN 'Error rate back to normal.' ELSE '' END,
    '',
    '',
    NULL,
    NULL,
    0,
    logged_at - interval '2 minutes',
    logged_at,
    acknowledged_at,
    resolved_at,
    CASE WHEN status = 'resolved' THEN resolved_at + interval '3 days' END,
    CASE WHEN status = 'closed' THEN resolved_at + u_age * interval '3 days' END,
    CASE WHEN status = 'closed' THEN resolved_at + u_age * interval '3 days'
        WHEN status = 'resolved' THEN resolved_at
        ELSE logged_at + (now - logged_at) * u_speed END,
    CASE WHEN triaged AND status IN ('new', 'triaged')
        THEN logged_at + respond_target END,
    CASE WHEN triaged AND status IN ('new', 'triaged', 'investigating')
        THEN logged_at + resolve_target END,
    CASE WHEN triaged AND status IN ('new', 'triaged', 'investigating')
        AND logged_at + 0.75 * resolve_target > now
        THEN logged_at + 0.75 * resolve_target END,
    CASE WHEN NOT triaged THEN NULL
        WHEN acknowledged_at IS NULL AND logged_at + respond_target < now
        THEN logged_at + respond_target
        WHEN acknowledged_at > logged_at + respond_target
        THEN logged_at + respond_target END,
    CASE WHEN NOT triaged OR status = 'awaiting_requester' THEN NULL
        WHEN resolved_at IS NULL AND logged_at + resolve_target < now
        THEN logged_at + resolve_target
        WHEN resolved_at > logged_at + resolve_target
        THEN logged_at + resolve_target END,
    CASE WHEN triaged AND open AND logged_at + 0.75 * resolve_target <= now
        THEN logged_at + 0.75 * resolve_target END,
    CASE WHEN triaged AND status = 'new' AND p <= 2
        AND logged_at + interval '15 minutes' < now
        THEN logged_at + interval '15 minutes' END,
    CASE WHEN triaged AND open AND p <= 2
        THEN now + (u_speed - 0.2) * (ARRAY[30, 60])[p] * interval '1 minute' END,
    NULL,
    status,
    (ARRAY[6, 5, 1, 2, 3, 4])[array_position(ARRAY['closed', 'resolved', 'new',
        'triaged', 'investigating', 'awaiting_requester'], status)],
    -- The error signature (incidents.signatures): the seeded links name no
    -- service first, so the category alone.
    CASE WHEN triaged
        THEN 'service:-:category:' || (%(route_categories)s::bigint[])[route]
        ELSE '' END
FROM milestones
ORDER BY logged_at
"""

# One service on every SERVICE_EVERY-th incident, taken in turn from the services.
SERVICES_SQL = """
INSERT INTO incidents_incident_services (incident_id, service_id)
SELECT id, (%(services)s::bigint[])[1 + (id / %(every)s) %% %(count)s]
FROM incidents_incident
WHERE id %% %(every)s = 0
"""

# The settings the server runs with: the project's own, with the collected static
# files in a temporary folder instead of the working tree's staticfiles/.
SETTINGS_SOURCE = """\
from itsm.settings import *  # noqa: F403

STATIC_ROOT = {static_root!r}
"""


# ---------------------------------------------------------------- environment
def write_settings(folder: Path) -> None:
    """Write the benchmark's settings module into ``folder``."""
    source = SETTINGS_SOURCE.format(static_root=str(folder / "static"))
    (folder / f"{SETTINGS_MODULE}.py").write_text(source)
    bare_page.write_bare_app(folder)


def bench_environment(settings_folder: Path) -> dict[str, str]:
    """This process's environment with the benchmark's settings: production mode
    over plain HTTP, on PostgreSQL and Redis, with the settings module from
    ``settings_folder``."""
    return production_environment(
        DEFAULT_DATABASE_URL,
        DEFAULT_REDIS_URL,
        settings_module=SETTINGS_MODULE,
        python_path=[str(settings_folder), str(BASE_DIR)],
    )


def prepare(env: dict[str, str], password: str) -> str:
    """Recreate the database, migrate, load the demo organisation and users, and
    collect the static files; returns the database's name."""
    database = recreate_database(env["DATABASE_URL"])
    manage(env, "migrate", "--noinput")
    # One argument: a password may start with "-", which argparse would take
    # for an option.
    manage(env, "seed_demo", f"--password={password}")
    manage(env, "collectstatic", "--noinput")
    return database


def timed_sql(sql: str, params: dict[str, Any] | None = None) -> float:
    """Run one statement on Django's connection; returns the seconds it took."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return time.perf_counter() - started


# ---------------------------------------------------------------- seeding
def create_bench_agents() -> None:
    """The extra agents (role Agent, each in one team)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from incidents.models import Team
    from incidents.roles import Role

    User = get_user_model()
    group = Group.objects.get(name=Role.AGENT)
    teams = {team.name: team for team in Team.objects.all()}
    for username, team in BENCH_AGENTS:
        user = User(username=username, email=f"{username}@example.com")
        user.set_unusable_password()
        user.save()
        user.groups.add(group)
        teams[team].members.add(user)


def seed_params(size: int, now: datetime) -> dict[str, Any]:
    """The ids and figures the seed statement needs."""
    from django.contrib.auth import get_user_model

    from incidents.models import Category, Team

    users = dict(get_user_model().objects.values_list("username", "pk"))
    categories = dict(Category.objects.values_list("name", "pk"))
    teams = {team.name: team for team in Team.objects.all()}
    agents = [users[username] for username, _ in BENCH_AGENTS]
    return {
        "size": size,
        "now": now,
        "agent": users["agent"],
        "requester": users["requester"],
        "agents": agents,
        "agent_count": len(agents),
        "route_categories": [categories[category] for category, _, _ in ROUTES],
        "route_teams": [teams[team].pk for _, team, _ in ROUTES],
        "route_tiers": [teams[team].tier for _, team, _ in ROUTES],
    }


def route_case() -> str:
    """The CASE branches that pick a route (1-based) from ``u_route``."""
    branches, total = [], 0.0
    for number, (_, _, share) in enumerate(ROUTES[:-1], start=1):
        total += share
        branches.append(f"WHEN u_route < {total:.2f} THEN {number}")
    return " ".join([*branches, f"ELSE {len(ROUTES)}"])


def seed(size: int, now: datetime) -> tuple[float, float, int]:
    """Insert ``size`` incidents and one service on every ``SERVICE_EVERY``-th;
    returns the seconds of each and the number of service links."""
    from incidents.models import Incident, Service

    timed_sql("SELECT setseed(0.42)")
    seconds = timed_sql(
        SEED_SQL.format(route_case=route_case()), seed_params(size, now)
    )
    services = list(Service.objects.order_by("name").values_list("pk", flat=True))
    params = {"services": services, "count": len(services), "every": SERVICE_EVERY}
    link_seconds = timed_sql(SERVICES_SQL, params)
    links = Incident.services.through.objects.count()
    return seconds, link_seconds, links


def describe_seed() -> list[str]:
    """What the seed made: incidents by status, and the size of some views."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from incidents.models import Incident

    by_status = dict(
        Incident.objects.order_by().values_list("status").annotate(n=Count("pk"))
    )
    open_ = Incident.objects.open()
    agent = get_user_model().objects.get(username="agent")
    breaching = open_.filter(resolve_breached_at__isnull=False).count()
    return [
        "by status: " + ", ".join(f"{s} {n:,}" for s, n in sorted(by_status.items())),
        f"open {open_.count():,}: in Service Desk "
        f"{open_.filter(team__name='Service Desk').count():,}, assigned to agent "
        f"{open_.filter(assignee=agent).count():,}, unassigned "
        f"{open_.filter(assignee__isnull=True).count():,}, P1/P2 "
        f"{open_.filter(priority__in=[1, 2]).count():,}, resolution breached "
        f"{breaching:,}",
    ]


# ---------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """One measured page: a label and the paths its requests rotate through."""

    label: str
    paths: list[str]
    htmx: bool = False
    user: str = "agent"  # who is signed in ("": nobody)
    bare: bool = False  # served by the bare Django app (bare_page)
    peer: bool = False  # served by the peer (peer_helpdesk), not the project

    @property
    def is_queue(self) -> bool:
        """Whether this is the queue (the target's subject)."""
        return self.paths[0].startswith("/console/?")


def open_ids() -> list[int]:
    """The ids of the open incidents, ascending."""
    from incidents.models import Incident

    return list(Incident.objects.open().order_by("id").values_list("pk", flat=True))


def build_cases(peer_pages: list[str] | None = None) -> list[Case]:
    """Every view, every filter, search, sort, a deep page, the htmx table and the
    incident page, with ids taken from the seeded data; with ``peer_pages``, the
    peer's ticket page and public form each right after the page it is set
    beside (the ordinary incident page, the report form)."""
    from incidents.models import Category, Incident, Service, Team

    ids = open_ids()
    middle = ids[len(ids) // 2]
    category = Category.objects.get(name="Software").pk
    team = Team.objects.get(name="Network Operations").pk
    service = Service.objects.get(name="Email").pk
    number = Incident(pk=ids[len(ids) // 3]).number
    step = max(1, len(ids) // DETAIL_PAGES)
    details = [f"/console/{Incident(pk=pk).number}/" for pk in ids[::step]]
    queries = [
        *(f"view={view}" for view in QUEUE_VIEWS),
        "view=open&state=investigating",
        "view=open&priority=1",
        f"view=open&category={category}",
        f"view=open&team={team}",
        f"view=open&service={service}",
        "view=open&source=alert",
        "view=open&sort=priority",
        f"view=open&q={number}",
        "view=open&q=disk",
        *(f"view=open&q={word}" for word in UNMATCHED_WORDS),
        f"view=open&after={middle}",
    ]
    # A number search opens the incident (a redirect); asked by the table's own
    # refresh (htmx) it still filters the queue, which is what is measured.
    cases = [
        Case(f"?{query}", [f"/console/?{query}"], htmx=query == f"view=open&q={number}")
        for query in queries
    ]
    cases.append(Case("?view=team, HX-Request", ["/console/?view=team"], htmx=True))
    cases.append(Case("?view=open, HX-Request", ["/console/?view=open"], htmx=True))
    details = details[:DETAIL_PAGES]
    cases.append(Case(DETAIL_LABEL, details))
    if peer_pages:
        cases.append(Case(PEER_TICKET_LABEL, peer_pages, peer=True))
    heavy = Incident.objects.get(title=HEAVY_TITLE)
    cases.append(Case(HEAVY_LABEL, [f"/console/{heavy.number}/"]))
    cases.append(Case(REPORT_LABEL, ["/portal/report/"], user="requester"))
    if peer_pages:
        cases.append(
            Case(PEER_FORM_LABEL, [peer_helpdesk.FORM_PATH], user="", peer=True)
        )
    # The bare page first and last: the faster of the two is the baseline, so a
    # machine that slowed down meanwhile does not flatter the ratios.
    return [
        Case(BARE_LABEL, [bare_page.PATH], bare=True),
        *cases,
        Case(BARE_AGAIN_LABEL, [bare_page.PATH], bare=True),
    ]


def seed_heavy_p1() -> None:
    """The P1 of a long night: born of an alert that repeated ``HEAVY_REPEATS``
    times (each delivery kept for the inspector), with ``HEAVY_NOTES`` work notes,
    through the services as in production. Before repeats were counted this made
    2,000 timeline entries; now the repeats are one counted line beside the notes."""
    from django.contrib.auth import get_user_model

    from incidents import services
    from incidents.models import Incident, Integration
    from incidents.services.alerts import AlertSignal, alert_ingest, integration_create

    integration, _ = integration_create(
        name="Bench Prometheus", kind=Integration.Kind.GENERIC
    )
    Integration.objects.filter(pk=integration.pk).update(default_impact="high")
    integration.refresh_from_db()
    signal = AlertSignal(
        dedup_key="bench-p1-disk",
        status="firing",
        title=HEAVY_TITLE,
        severity="critical",
    )
    payload = {"alertname": "DiskFull", "instance": "db-1:9100", "value": "97%"}
    for _ in range(HEAVY_REPEATS):
        alert_ingest(integration=integration, signals=[signal], payload=payload)
    incident = Incident.objects.get(title=HEAVY_TITLE)
    agent = get_user_model().objects.get(username="agent")
    for n in range(HEAVY_NOTES):
        services.incident_add_note(
            incident=incident, by=agent, kind="work_note", body=f"Checked db-1 ({n})."
        )
    incident.refresh_from_db()
    print(
        f"heavy P1 {incident.number}: priority {incident.priority}, "
        f"{incident.events.count():,} timeline entries",
        flush=True,
    )


# ---------------------------------------------------------------- login
def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, cookies set, body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT_SECONDS)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        return response.status, {k: m.value for k, m in cookies.items()}, answer
    finally:
        connection.close()


def login(
    port: int, password: str, username: str = "agent", home: str = "/console/"
) -> str:
    """Log in as ``username`` through the login form; returns the Cookie header
    (session and CSRF cookies) every measured request sends."""
    status, cookies, page = request(port, "GET", "/login/", {})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None or "csrftoken" not in cookies:
        raise BenchError(f"GET /login/ answered {status} without a CSRF token")
    form = urllib.parse.urlencode(
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token.group(1).decode(),
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookies['csrftoken']}",
    }
    status, answer_cookies, _ = request(port, "POST", "/login/", headers, form)
    cookies.update(answer_cookies)
    if status != 302 or "sessionid" not in cookies:
        raise BenchError(f"POST /login/ answered {status} without a session")
    cookie = "; ".join(f"{k}={cookies[k]}" for k in ("csrftoken", "sessionid"))
    status, _, _ = request(port, "GET", home, {"Cookie": cookie})
    if status != 200:
        raise BenchError(f"GET {home} after logging in answered {status}")
    return cookie


# ---------------------------------------------------------------- load
@dataclass
class CaseResult:
    """The figures of one case, and (filled in later, in-process) the SQL
    statements of one request and its slowest SELECT."""

    case: Case
    tally: Tally
    elapsed: float
    statements: int | None = None
    view_ms: float = math.nan
    sql_ms: float = math.nan
    main_sql: str = ""
    main_ms: float = math.nan
    error: str = ""

    @property
    def requests(self) -> int:
        """How many requests were sent."""
        return sum(self.tally.statuses.values())

    @property
    def ok(self) -> int:
        """How many were answered 200."""
        return self.tally.statuses["200"]

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the answered requests' latency, in ms."""
        return percentile_ms(self.tally.latencies, percent)

    @property
    def misses(self) -> bool:
        """Whether the case misses the p95 target (or got no 200 at all)."""
        return not self.percentile_ms(95) < TARGET_P95_MS or self.ok < self.requests


def case_loop(
    port: int, case: Case, headers: dict[str, str], count: int, seconds: float
) -> ClosedLoop:
    """A closed loop GETting the case's paths in turn."""
    return ClosedLoop(
        port,
        "GET",
        case.paths,
        headers,
        count,
        seconds,
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def run_case(
    port: int, case: Case, cookie: str, args: argparse.Namespace
) -> CaseResult:
    """Warm the case up (not measured), then measure it."""
    headers = {"Cookie": cookie} if cookie else {}
    if case.htmx:
        headers["HX-Request"] = "true"
    case_loop(port, case, headers, WARM_UP_REQUESTS, args.seconds).run()
    tally, elapsed = case_loop(port, case, headers, args.requests, args.seconds).run()
    result = CaseResult(case, tally, elapsed)
    print_case(result)
    return result


# ---------------------------------------------------------------- SQL and plans
@dataclass
class StatementLog:
    """The SQL statements run through Django's cursor, each as executed (values
    in place) with its seconds. Installed with ``connection.execute_wrapper``."""

    statements: list[tuple[str, float]] = field(default_factory=list)

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        """Run one statement, timing it and keeping its text."""
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            cursor = context["cursor"]
            text = context["connection"].ops.last_executed_query(cursor, sql, params)
            self.statements.append((text, elapsed))

    def main_query(self) -> tuple[str, float]:
        """The slowest SELECT reading the incident table (else the slowest
        SELECT), with its seconds; empty if there was no SELECT."""
        selects = [s for s in self.statements if s[0].lstrip().startswith("SELECT")]
        incidents = [s for s in selects if 'FROM "incidents_incident"' in s[0]]
        return max(incidents or selects, key=lambda s: s[1], default=("", math.nan))


@dataclass(frozen=True)
class InProcess:
    """One request of a case in this process: its status, wall time and SQL."""

    status: int
    seconds: float
    log: StatementLog


def get_in_process(case: Case, client: Any) -> InProcess:
    """GET the case's first path in this process, logging its SQL."""
    from django.db import connection

    headers = {"HX-Request": "true"} if case.htmx else {}
    log = StatementLog()
    started = time.perf_counter()
    with connection.execute_wrapper(log):
        response = client.get(case.paths[0], headers=headers)
    return InProcess(response.status_code, time.perf_counter() - started, log)


def analyse_sql(results: list[CaseResult]) -> None:
    """For each case, ``IN_PROCESS_REPEATS`` requests in this process (no load),
    logged in as ``agent``: the view's time, its SQL statements and their time,
    and its main query (medians over the requests; the statements of the last)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    clients: dict[str, Any] = {}
    for result in results:
        if result.case.bare or result.case.peer:  # another app: under load only
            continue
        if (client := clients.get(result.case.user)) is None:
            client = clients[result.case.user] = Client(HTTP_HOST=HOST)
            client.force_login(get_user_model().objects.get(username=result.case.user))
        try:
            runs = [
                get_in_process(result.case, client) for _ in range(IN_PROCESS_REPEATS)
            ]
        except Exception:
            result.error = traceback.format_exc()
            continue
        if any(run.status != 200 for run in runs):
            statuses = sorted({run.status for run in runs})
            result.error = f"in-process GET {result.case.paths[0]} answered {statuses}"
        last = runs[-1].log
        result.statements = len(last.statements)
        result.main_sql = last.main_query()[0]
        result.view_ms = statistics.median(run.seconds for run in runs) * 1000
        result.sql_ms = 1000 * statistics.median(
            sum(seconds for _, seconds in run.log.statements) for run in runs
        )
        result.main_ms = statistics.median(run.log.main_query()[1] for run in runs)
        result.main_ms *= 1000


def explain(sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one logged SELECT (it only reads)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def abbreviated(sql: str) -> str:
    """The statement with its column list shortened (the plan is of the whole)."""
    return re.sub(
        r"^SELECT (.+?) FROM ",
        lambda m: f"SELECT <{m.group(1).count(', ') + 1} columns> FROM ",
        sql,
        count=1,
        flags=re.DOTALL,
    )


def print_plans(results: list[CaseResult]) -> None:
    """The plan of the main query of the slowest cases (by p95)."""
    ranked = sorted(
        (r for r in results if r.main_sql),
        key=lambda r: r.percentile_ms(95) if r.tally.latencies else -1.0,
        reverse=True,
    )
    for result in ranked[:EXPLAINED_CASES]:
        print(
            f"\n== {result.case.label}: p95 {result.percentile_ms(95):.1f} ms under "
            f"load; in-process the view takes {result.view_ms:.1f} ms, its "
            f"{result.statements} statements {result.sql_ms:.1f} ms, this one "
            f"{result.main_ms:.1f} ms"
        )
        print(abbreviated(result.main_sql))
        print("EXPLAIN (ANALYZE, BUFFERS):")
        for line in explain(result.main_sql).splitlines():
            print(f"  {line}")


# ---------------------------------------------------------------- report
def print_case(result: CaseResult) -> None:
    """One line as a case ends, and its failures if any."""
    non_200 = result.requests - result.ok
    print(
        f"  {result.case.label:<32} {result.requests:>5} requests in "
        f"{result.elapsed:5.1f} s, {result.rate:6.1f} req/s, "
        f"p95 {result.percentile_ms(95):7.1f} ms, non-200 {non_200}",
        flush=True,
    )
    for status, (path, body) in result.tally.samples.items():
        print(f"    {status} on GET {path} ({result.tally.statuses[status]}x): {body}")


def baseline(results: list[CaseResult]) -> CaseResult:
    """The bare page's run with the lower p95 (it is measured first and last)."""
    return min((r for r in results if r.case.bare), key=lambda r: r.percentile_ms(95))


def print_table(results: list[CaseResult]) -> None:
    """The summary: one row per case, the target and the rows that miss it."""
    header = (
        f"{'case':<32} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'non-200':>7} | {'view ms':>7} {'SQL':>4} {'SQL ms':>6} "
        f"{'main ms':>7}  target"
    )
    print(
        f"{'':<32} {'under load (gunicorn, closed loop)':^49} | "
        f"{'in-process, no load':^28}"
    )
    bare = baseline(results)
    bare_p95 = bare.percentile_ms(95)
    print(header)
    print("-" * len(header))
    for r in results:
        sql = "?" if r.statements is None else str(r.statements)
        mark = "MISS" if r.misses else "ok"
        if r.case.peer:
            mark = PEER_NAME
        elif not r.case.is_queue:
            mark += " (not the queue)"
        print(
            f"{r.case.label:<32} {r.requests:>8} {r.rate:>6.1f} "
            f"{r.percentile_ms(50):>7.1f} {r.percentile_ms(95):>7.1f} "
            f"{r.percentile_ms(99):>7.1f} {r.requests - r.ok:>7} | "
            f"{r.view_ms:>7.1f} {sql:>4} {r.sql_ms:>6.1f} {r.main_ms:>7.1f}  {mark}"
            f"  {r.percentile_ms(95) / bare_p95:.2f}x bare"
        )
    print(TARGET)
    print_ratios(results, bare)
    missed = [r.case.label for r in results if r.misses and r.case.is_queue]
    print(
        f"queue rows missing it: {len(missed)} of "
        f"{sum(r.case.is_queue for r in results)}: {', '.join(missed) or 'none'}"
    )
    for r in results:
        if r.error:
            print(f"\n{r.case.label}: {r.error}")


def print_ratios(results: list[CaseResult], bare: CaseResult) -> None:
    """Each goal's page beside the bare Django page of the same run: p95 and
    requests per second as ratios."""
    bare_p95 = bare.percentile_ms(95)
    runs = ", ".join(f"{r.percentile_ms(95):.1f} ms" for r in results if r.case.bare)
    print(
        f"\nbeside the bare Django page: p95 {bare_p95:.1f} ms, {bare.rate:.1f} req/s "
        f"(the faster of its two runs, first and last: p95 {runs})"
    )
    queue = [r for r in results if r.case.is_queue]
    worst = max(queue, key=lambda r: r.percentile_ms(95))
    median = statistics.median(r.percentile_ms(95) for r in queue)
    print(
        f"  queue: p95 median of {len(queue)} rows {median / bare_p95:.2f}x, worst "
        f"({worst.case.label}) {worst.percentile_ms(95) / bare_p95:.2f}x; goal <= "
        f"{GOALS['queue']:g}x"
    )
    for r in results:
        if r.case.label in (HEAVY_LABEL, REPORT_LABEL):
            goal = GOALS.get(r.case.label)
            print(
                f"  {r.case.label}: p95 {r.percentile_ms(95) / bare_p95:.2f}x, "
                f"req/s {r.rate / bare.rate:.2f}x"
                + (f"; goal p95 <= {goal:g}x" if goal else "")
            )
    print_peer(results)


def print_peer(results: list[CaseResult]) -> None:
    """Each of the project's pages beside the peer's page measured right after it:
    requests per second and p95 as ratios (above 1x in req/s, below 1x in p95:
    the project is faster)."""
    by_label = {r.case.label: r for r in results}
    pairs = [
        (by_label[ours], by_label[theirs])
        for ours, theirs in PEER_PAIRS.items()
        if ours in by_label and theirs in by_label
    ]
    if not pairs:
        return
    print(f"\nbeside {PEER_NAME}, each measured right after ours:")
    for ours, theirs in pairs:
        print(
            f"  {ours.case.label} vs its {theirs.case.label.removeprefix('peer: ')}: "
            f"req/s {ours.rate:.1f} vs {theirs.rate:.1f} ({ours.rate / theirs.rate:.2f}x), "
            f"p95 {ours.percentile_ms(95):.1f} vs {theirs.percentile_ms(95):.1f} ms "
            f"({ours.percentile_ms(95) / theirs.percentile_ms(95):.2f}x)"
        )


def describe_setup(env: dict[str, str], database: str, args: argparse.Namespace) -> str:
    """One line saying what is measured where (no credentials)."""
    version = postgres_version()
    redis_db = env["REDIS_URL"].rsplit("/", 1)[-1]
    return (
        f"PostgreSQL {version}, database {database}, Redis db {redis_db}; "
        f"{args.incidents:,} incidents; {WORKERS} gunicorn sync workers, "
        f"{CONNECTIONS} connections, per case at most {args.requests} requests or "
        f"{args.seconds:g} s; {os.cpu_count()} CPUs shared by client, server and "
        "databases"
    )


# ---------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``--incidents``, ``--requests``, ``--seconds``, ``--peer``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--incidents",
        type=int,
        default=1_000_000,
        help="Incidents to seed (default 1000000, at least 1000).",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=400,
        help="At most this many requests per case (default 400).",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=15.0,
        help="At most this long per case, in seconds (default 15).",
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help=f"Also measure {PEER_NAME} (installed from PyPI into var/bench-peer/ "
        "on first use) beside the report form and the incident page.",
    )
    args = parser.parse_args(argv)
    if args.incidents < 1000 or args.requests < 1 or args.seconds <= 0:
        parser.error(
            "--incidents must be at least 1000; --requests and --seconds positive"
        )
    return args


def seed_and_report(size: int) -> None:
    """Seed the incidents, VACUUM (ANALYZE), and print what it took and made."""
    from django.db import connections

    now = datetime.now(UTC)
    create_bench_agents()
    seconds, link_seconds, links = seed(size, now)
    print(
        f"seeded {size:,} incidents in {seconds:.1f} s, {links:,} service links "
        f"in {link_seconds:.1f} s",
        flush=True,
    )
    seed_heavy_p1()
    vacuum = timed_sql("VACUUM (ANALYZE)")
    print(f"VACUUM (ANALYZE) in {vacuum:.1f} s")
    for line in describe_seed():
        print(f"  {line}")
    connections.close_all()


def load(
    env: dict[str, str],
    password: str,
    args: argparse.Namespace,
    peer: tuple[Path, dict[str, str], list[str]] | None = None,
) -> tuple[list[CaseResult], str | None]:
    """Serve with gunicorn, log in, and measure every case (and the peer's, when
    ``peer`` holds its folder, environment and ticket pages); returns the results
    and the server log's path if it was kept (any answer other than 200)."""
    cases = build_cases(peer[2] if peer else None)
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": bare_page.SETTINGS_MODULE}
    with (
        logged_gunicorn(env, "bench-console-gunicorn-") as (port, log),
        logged_gunicorn(bare_env, "bench-bare-gunicorn-") as (bare_port, bare_log),
        peer_helpdesk.serve(*peer[:2]) if peer else nullcontext() as peer_port,
    ):
        cookies = {
            "agent": login(port, password),
            "requester": login(port, password, "requester", "/portal/report/"),
            "": "",
        }
        peer_cookies = {"": ""}
        if peer_port:
            peer_cookies["agent"] = login(peer_port, password, "agent", "/tickets/")
        results = []
        for case in cases:
            if case.peer:
                target, cookie = peer_port, peer_cookies[case.user]
            else:
                target, cookie = (bare_port if case.bare else port), cookies[case.user]
            results.append(run_case(target, case, cookie, args))
    if all(r.ok == r.requests for r in results):
        log.unlink()
        bare_log.unlink()
        return results, None
    return results, f"{log} and {bare_log}"


def main(argv: list[str] | None = None) -> int:
    """Prepare, seed, measure, report; returns the exit status."""
    args = parse_args(argv)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        settings_folder = Path(folder)
        write_settings(settings_folder)
        env = bench_environment(settings_folder)
        try:
            database = prepare(env, password)
            setup_django(env, settings_folder)
            print(describe_setup(env, database, args), flush=True)
            seed_and_report(args.incidents)
            peer = None
            if args.peer:
                peer_folder = settings_folder / "peer"
                peer_folder.mkdir()
                peer_env, pages = peer_helpdesk.prepare(
                    peer_folder,
                    os.environ.get("PEER_DATABASE_URL")
                    or peer_helpdesk.DEFAULT_DATABASE_URL,
                    env["SECRET_KEY"],
                    password,
                )
                peer = (peer_folder, peer_env, pages)
            print("Load (closed loop, logged in as agent):", flush=True)
            results, log = load(env, password, args, peer)
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        analyse_sql(results)
        print()
        print_table(results)
        print_plans(results)
    if log:
        print(f"\nanswers other than 200: the server log is kept in {log}")
    if not any(r.ok for r in results):
        print("not a single request was answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
