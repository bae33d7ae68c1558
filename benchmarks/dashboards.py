"""Dashboards benchmark: the dashboard, a figure's list and a CSV download at 10k
and at 1M incidents, beside the agent queue measured in the same run.

For each size it recreates the database, seeds the incidents exactly as
``benchmarks/console.py`` does (two years, ids growing with logging time), fills
the dashboards' rollups from them with SQL (the rows the refresh would write: one
per day and key; see ``ROLLUP_SQL``), serves the project with gunicorn
(production settings, PostgreSQL and Redis), logs in as ``manager`` (and as
``agent`` for the queue), and drives each page with a closed loop of concurrent
connections. Then, in-process, it counts each page's SQL statements, and times
the periodic refresh after a hundred incidents were written through the
services (and, at the small size, a rebuild of the rollups from every incident
by the product's own code). It prints figures and never asserts them.

    .venv/bin/python benchmarks/dashboards.py [--incidents N] [--small N]
        [--requests N] [--seconds S]

The database named by ``DATABASE_URL`` is dropped and created again for each
size, so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import console
from common import (
    CONNECTIONS,
    WORKERS,
    BenchError,
    ClosedLoop,
    Tally,
    logged_gunicorn,
    percentile_ms,
    postgres_version,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_dashboards"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
TARGET_P95_MS = 300.0
FLAT_WITHIN = 1.5
WARM_UP = 5
HTTP_TIMEOUT = 35.0
IN_PROCESS_REPEATS = 5
WRITES_BEFORE_REFRESH = 100
SIGNATURES = 40
SMALL_REDIS_DB = 6


# ---------------------------------------------------------------- rollups by SQL
def _bucket_case(seconds: str) -> str:
    from dashboards.models import TIME_BUCKETS

    branches = " ".join(
        f"WHEN {seconds} <= {bound} THEN {i}" for i, bound in enumerate(TIME_BUCKETS)
    )
    return f"CASE {branches} ELSE {len(TIME_BUCKETS)} END"


def rollup_sql() -> str:
    """What the refresh would write for the seeded incidents, as one statement
    per rollup. The seed has no SLA ledger, so the SLA time of a clock is its
    wall-clock time here (the shape of the rows, which is what a read costs, is
    the same)."""
    from dashboards.models import ACK_BUCKETS, BUCKET_COUNT, RES_BUCKETS

    ack = "EXTRACT(EPOCH FROM acknowledged_at - logged_at)::bigint"
    res = "EXTRACT(EPOCH FROM resolved_at - logged_at)::bigint"
    zero_buckets = "NULL::int AS ab, NULL::int AS rb"
    buckets = ", ".join(
        [f"COUNT(*) FILTER (WHERE ab = {i})" for i in range(BUCKET_COUNT)]
        + [f"COUNT(*) FILTER (WHERE rb = {i})" for i in range(BUCKET_COUNT)]
    )
    counters = (
        "opened, reopened, known_error, alert_incidents, alert_occurrences, "
        "response_met, response_missed, resolution_met, resolution_missed, "
        "acknowledged, ack_seconds, resolved, resolve_seconds, updates_due, "
        "updates_on_time"
    )
    day = "((x AT TIME ZONE 'UTC')::date)"
    return f"""
WITH keyed AS (
    SELECT i.*, 0 AS svc FROM incidents_incident AS i
    UNION ALL
    SELECT i.*, l.service_id FROM incidents_incident AS i
    JOIN incidents_incident_services AS l ON l.incident_id = i.id
), k AS (
    SELECT svc, COALESCE(priority, 0) AS p, COALESCE(team_id, 0) AS t,
        COALESCE(category_id, 0) AS c, source AS s, logged_at, acknowledged_at,
        resolved_at, respond_breached_at, resolve_breached_at, respond_due_at,
        resolve_due_at, reopen_count, known_error, problem_id, id
    FROM keyed
), facts AS (
    SELECT svc, p, t, c, s, {day.replace("x", "logged_at")} AS day,
        1 AS opened, (reopen_count > 0)::int AS reopened,
        (known_error OR problem_id IS NOT NULL)::int AS known_error,
        (s = 'alert')::int AS alert_incidents,
        CASE WHEN s = 'alert' THEN 1 + id %% 5 ELSE 0 END AS alert_occurrences,
        0 AS response_met, 0 AS response_missed, 0 AS resolution_met,
        0 AS resolution_missed, 0 AS acknowledged, 0::bigint AS ack_seconds,
        0 AS resolved, 0::bigint AS resolve_seconds, {zero_buckets}
    FROM k
    UNION ALL
    SELECT svc, p, t, c, s,
        {day.replace("x", "COALESCE(respond_breached_at, acknowledged_at, respond_due_at)")},
        0, 0, 0, 0, 0,
        (respond_breached_at IS NULL AND acknowledged_at IS NOT NULL)::int,
        (respond_breached_at IS NOT NULL OR acknowledged_at IS NULL)::int,
        0, 0, 0, 0, 0, 0, {zero_buckets}
    FROM k WHERE p > 0 AND (respond_breached_at IS NOT NULL
        OR acknowledged_at IS NOT NULL OR respond_due_at <= %(now)s)
    UNION ALL
    SELECT svc, p, t, c, s,
        {day.replace("x", "COALESCE(resolve_breached_at, resolved_at, resolve_due_at)")},
        0, 0, 0, 0, 0, 0, 0,
        (resolve_breached_at IS NULL AND resolved_at IS NOT NULL)::int,
        (resolve_breached_at IS NOT NULL OR resolved_at IS NULL)::int,
        0, 0, 0, 0, {zero_buckets}
    FROM k WHERE p > 0 AND (resolve_breached_at IS NOT NULL
        OR resolved_at IS NOT NULL OR resolve_due_at <= %(now)s)
    UNION ALL
    SELECT svc, p, t, c, s, {day.replace("x", "acknowledged_at")},
        0, 0, 0, 0, 0, 0, 0, 0, 0, 1, {ack}, 0, 0, {_bucket_case(ack)}, NULL
    FROM k WHERE p > 0 AND acknowledged_at IS NOT NULL
    UNION ALL
    SELECT svc, p, t, c, s, {day.replace("x", "resolved_at")},
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, {res}, NULL, {_bucket_case(res)}
    FROM k WHERE p > 0 AND resolved_at IS NOT NULL
)
INSERT INTO dashboards_dailyrollup (day, service_id, priority, team_id, category_id,
    source, {counters}, {", ".join(ACK_BUCKETS)}, {", ".join(RES_BUCKETS)})
SELECT day, svc, p, t, c, s, SUM(opened), SUM(reopened), SUM(known_error),
    SUM(alert_incidents), SUM(alert_occurrences), SUM(response_met),
    SUM(response_missed), SUM(resolution_met), SUM(resolution_missed),
    SUM(acknowledged), SUM(ack_seconds), SUM(resolved), SUM(resolve_seconds), 0, 0,
    {buckets}
FROM facts
GROUP BY day, svc, p, t, c, s
"""


NOW_SQL = """
WITH keyed AS (
    SELECT i.*, 0 AS svc FROM incidents_incident AS i
    WHERE status IN ('new', 'triaged', 'investigating', 'awaiting_requester')
    UNION ALL
    SELECT i.*, l.service_id FROM incidents_incident AS i
    JOIN incidents_incident_services AS l ON l.incident_id = i.id
    WHERE status IN ('new', 'triaged', 'investigating', 'awaiting_requester')
)
INSERT INTO dashboards_nowrollup (service_id, priority, team_id, category_id, source,
    open, breaching, update_overdue, age_0, age_1, age_2, age_3, age_4)
SELECT svc, COALESCE(priority, 0), COALESCE(team_id, 0), COALESCE(category_id, 0),
    source, COUNT(*),
    COUNT(*) FILTER (WHERE (acknowledged_at IS NULL AND (respond_breached_at IS NOT NULL
        OR respond_due_at <= %(now)s)) OR resolve_breached_at IS NOT NULL
        OR resolve_due_at <= %(now)s),
    COUNT(*) FILTER (WHERE priority IN (1, 2) AND next_update_due_at <= %(now)s),
    COUNT(*) FILTER (WHERE %(now)s - logged_at <= interval '1 day'),
    COUNT(*) FILTER (WHERE %(now)s - logged_at > interval '1 day'
        AND %(now)s - logged_at <= interval '3 days'),
    COUNT(*) FILTER (WHERE %(now)s - logged_at > interval '3 days'
        AND %(now)s - logged_at <= interval '7 days'),
    COUNT(*) FILTER (WHERE %(now)s - logged_at > interval '7 days'
        AND %(now)s - logged_at <= interval '30 days'),
    COUNT(*) FILTER (WHERE %(now)s - logged_at > interval '30 days')
FROM keyed
GROUP BY 1, 2, 3, 4, 5
"""

SIGNATURE_SQL = """
INSERT INTO dashboards_signaturerollup (day, team_id, signature, alerts, occurrences)
SELECT (logged_at AT TIME ZONE 'UTC')::date, COALESCE(team_id, 0),
    'Prometheus: rule ' || (id %% %(signatures)s), COUNT(*), SUM(1 + id %% 5)
FROM incidents_incident WHERE source = 'alert'
GROUP BY 1, 2, 3
"""


def fill_rollups(now: datetime) -> tuple[float, dict[str, int]]:
    """Fill the rollups from the seeded incidents; returns the seconds it took
    and the row count of each."""
    from dashboards.models import DailyRollup, NowRollup, RollupState, SignatureRollup

    started = time.perf_counter()
    params = {"now": now, "signatures": SIGNATURES}
    for sql in (rollup_sql(), NOW_SQL, SIGNATURE_SQL):
        console.timed_sql(sql, params)
    RollupState.objects.update_or_create(
        pk=1, defaults={"refreshed_at": now, "token": secrets.token_hex(16)}
    )
    seconds = time.perf_counter() - started
    counts = {
        model.__name__: model.objects.count()
        for model in (DailyRollup, NowRollup, SignatureRollup)
    }
    return seconds, counts


# ---------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    label: str
    path: str
    who: str = "manager"

    @property
    def is_dashboard(self) -> bool:
        return self.path.startswith("/dashboards/?")


def _period(days: int, today: date) -> str:
    first = today - timedelta(days=days - 1)
    return f"start={first.isoformat()}&end={today.isoformat()}"


def build_cases(now: datetime) -> list[Case]:
    from incidents.models import Service, Team

    today = now.date()
    team = Team.objects.get(name="Service Desk").pk
    service = Service.objects.get(name="Email").pk
    filtered = f"team={team}&priority=3"
    cases = []
    for label, period in (
        ("7 days", "period=7d"),
        ("30 days", "period=30d"),
        ("90 days", "period=90d"),
        ("quarter", "period=quarter"),
    ):
        cases.append(Case(f"dashboard {label}", f"/dashboards/?{period}"))
        cases.append(
            Case(f"dashboard {label}, team+P3", f"/dashboards/?{period}&{filtered}")
        )
    cases.append(
        Case("dashboard 90 days, service", f"/dashboards/?period=90d&service={service}")
    )
    since = datetime.combine(today - timedelta(days=89), datetime.min.time(), UTC)
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    dated = urllib.parse.urlencode(
        {"since": since.isoformat(), "until": until.isoformat(), "at": now.isoformat()}
    )
    cases += [
        Case(
            "list: breaching now",
            f"/dashboards/incidents/?figure=breaching&at={urllib.parse.quote(now.isoformat())}",
        ),
        Case("list: opened, 90 days", f"/dashboards/incidents/?figure=opened&{dated}"),
        Case(
            "list: response missed, 90 days, team",
            f"/dashboards/incidents/?figure=response_missed&{dated}&team={team}",
        ),
        Case(
            "CSV: compliance by priority, 90 d",
            "/dashboards/compliance_priority.csv?period=90d",
        ),
        Case("CSV: volume, 90 d", "/dashboards/volume.csv?period=90d"),
        Case("queue ?view=team (agent)", "/console/?view=team", who="agent"),
        Case("queue ?view=open (agent)", "/console/?view=open", who="agent"),
    ]
    return cases


@dataclass
class Result:
    case: Case
    tally: Tally
    statements: int | None = None
    view_ms: float = float("nan")  # computed from the rollups (a cache miss)
    cached_ms: float = float("nan")  # the same page again (a hit, if cached)

    def p(self, percent: float) -> float:
        return percentile_ms(self.tally.latencies, percent)

    @property
    def ok(self) -> bool:
        return self.tally.statuses["200"] == sum(self.tally.statuses.values())


def run_case(
    port: int, cookies: dict[str, str], case: Case, args: argparse.Namespace
) -> Result:
    """Warm the case up (not measured), then measure it."""
    headers = {"Cookie": cookies[case.who]}
    for count in (WARM_UP, args.requests):
        loop = ClosedLoop(
            port, "GET", [case.path], headers, count, args.seconds, timeout=HTTP_TIMEOUT
        )
        tally, _ = loop.run()
    result = Result(case, tally)
    print(
        f"  {case.label:<40} p50 {result.p(50):7.1f} ms  p95 {result.p(95):7.1f} ms"
        f"  ({sum(tally.statuses.values())} requests, "
        f"{'all 200' if result.ok else dict(tally.statuses)})",
        flush=True,
    )
    for status, (path, body) in tally.samples.items():
        print(f"    {status} on {path}: {body[:300]}")
    return result


def in_process(results: list[Result]) -> None:
    """Each case in this process, no load: its SQL statements and time when the
    figures are computed from the rollups (a new refresh token before each
    request, so nothing comes from the cache), and its time when asked again."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from dashboards.models import RollupState

    clients = {}
    for who in ("manager", "agent"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(get_user_model().objects.get(username=who))
        client.get("/")
        clients[who] = client
    for result in results:
        client = clients[result.case.who]
        computed, again = [], []
        for _ in range(IN_PROCESS_REPEATS):
            RollupState.objects.filter(pk=1).update(token=secrets.token_hex(16))
            log = console.StatementLog()
            with connection.execute_wrapper(log):
                started = time.perf_counter()
                client.get(result.case.path)
                computed.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get(result.case.path)
            again.append(time.perf_counter() - started)
        result.statements = len(log.statements)
        result.view_ms = statistics.median(computed) * 1000
        result.cached_ms = statistics.median(again) * 1000


def time_refresh(now: datetime) -> tuple[int, float]:
    """Write incidents through the services (logged, triaged, taken), then time
    one refresh, which takes exactly those up."""
    from django.contrib.auth import get_user_model
    from django.db.models import Max

    from dashboards.models import RollupState
    from dashboards.services import rollup_refresh
    from incidents import services
    from incidents.models import Category, IncidentEvent

    agent = get_user_model().objects.get(username="agent")
    category = Category.objects.get(name="Software")
    # The rollups stand for everything written so far: the refresh reads on from
    # here (a settled checkpoint).
    last = IncidentEvent.objects.aggregate(last=Max("id"))["last"] or 0
    RollupState.objects.filter(pk=1).update(
        checkpoints=[[(now - timedelta(hours=1)).isoformat(), last]]
    )
    for n in range(WRITES_BEFORE_REFRESH):
        incident = services.incident_log(
            by=agent,
            title=f"Bench write {n}",
            source="agent",
            category=category,
            impact="medium",
            urgency="medium",
        )
        services.incident_triage(
            incident=incident,
            by=agent,
            category=category,
            impact="medium",
            urgency="medium",
        )
        services.incident_start_work(incident=incident, by=agent)
    started = time.perf_counter()
    result = rollup_refresh()
    return result.incidents, time.perf_counter() - started


def time_rebuild() -> tuple[int, float]:
    from dashboards.services import rollup_rebuild

    started = time.perf_counter()
    count = rollup_rebuild()
    return count, time.perf_counter() - started


# ---------------------------------------------------------------- one size
@dataclass
class SizeRun:
    size: int
    results: list[Result]
    fill_seconds: float
    rows: dict[str, int]
    refresh: tuple[int, float]
    rebuild: tuple[int, float] | None


def use_database(env: dict[str, str]) -> None:
    """Point this process's Django connection at ``env``'s database."""
    import dj_database_url
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = dj_database_url.parse(
        env["DATABASE_URL"]
    )["NAME"]


def seed_size(
    size: int, env: dict[str, str], password: str
) -> tuple[datetime, float, dict]:
    """Recreate ``env``'s database and seed it with ``size`` incidents and their
    rollups."""
    from django.db import connections

    connections.close_all()
    console.prepare(env, password)
    use_database(env)
    now = datetime.now(UTC)
    console.create_bench_agents()
    seconds, link_seconds, links = console.seed(size, now)
    fill_seconds, rows = fill_rollups(now)
    console.timed_sql("VACUUM (ANALYZE)")
    print(
        f"{size:,} incidents: seeded in {seconds:.1f} s ({links:,} service "
        f"links in {link_seconds:.1f} s); rollups filled in {fill_seconds:.1f} s: "
        + ", ".join(f"{name} {count:,} rows" for name, count in rows.items()),
        flush=True,
    )
    connections.close_all()
    return now, fill_seconds, rows


def measure(
    sizes: tuple[int, int],
    envs: tuple[dict[str, str], dict[str, str]],
    password: str,
    args: argparse.Namespace,
) -> tuple[SizeRun, SizeRun]:
    """Both sizes served at once, each case measured on the small one and then
    at once on the large one: the machine is shared, and whatever else runs on
    it weighs on both alike."""
    from django.core.cache import cache

    seeded = [
        seed_size(size, env, password) for size, env in zip(sizes, envs, strict=True)
    ]
    use_database(envs[1])
    cases = build_cases(seeded[1][0])
    results: tuple[list[Result], list[Result]] = ([], [])
    with (
        logged_gunicorn(envs[0], "bench-dashboards-small-") as (small_port, small_log),
        logged_gunicorn(envs[1], "bench-dashboards-large-") as (large_port, large_log),
    ):
        ports = (small_port, large_port)
        cookies = [
            {
                "manager": console.login(port, password, "manager", "/dashboards/"),
                "agent": console.login(port, password, "agent", "/console/"),
            }
            for port in ports
        ]
        for case in cases:
            for index, size in enumerate(sizes):
                print(f"{size:>9,}", end="", flush=True)
                results[index].append(
                    run_case(ports[index], cookies[index], case, args)
                )
    for log, found in ((small_log, results[0]), (large_log, results[1])):
        if all(r.ok for r in found):
            log.unlink()
        else:
            print(f"answers other than 200: the server log is kept in {log}")
    runs = []
    for index, (size, env) in enumerate(zip(sizes, envs, strict=True)):
        use_database(env)
        cache.clear()  # the other database's cached teams and figures
        in_process(results[index])
        refresh = time_refresh(seeded[index][0])
        built = time_rebuild() if index == 0 else None
        runs.append(
            SizeRun(
                size, results[index], seeded[index][1], seeded[index][2], refresh, built
            )
        )
    return runs[0], runs[1]


# ---------------------------------------------------------------- report
def print_report(small: SizeRun, large: SizeRun) -> None:
    print()
    header = (
        f"{'case':<40} {'small p50':>9} {'p95':>7} | {'large p50':>9} {'p95':>7} "
        f"| {'p95 ratio':>9} {'SQL':>4} {'computed ms':>15} {'again ms':>13}  target"
    )
    print(f"small = {small.size:,} incidents, large = {large.size:,}")
    print(header)
    print("-" * len(header))
    for a, b in zip(small.results, large.results, strict=True):
        ratio = b.p(95) / a.p(95) if a.p(95) else float("nan")
        marks = []
        if b.case.is_dashboard:
            marks.append("ok" if b.p(95) < TARGET_P95_MS else "MISS p95")
            marks.append("flat" if ratio <= FLAT_WITHIN else "NOT FLAT")
        sql = "?" if b.statements is None else str(b.statements)
        same = "" if a.statements == b.statements else f" (small {a.statements})"
        computed = f"{a.view_ms:.1f} / {b.view_ms:.1f}"
        again = f"{a.cached_ms:.1f} / {b.cached_ms:.1f}"
        print(
            f"{b.case.label:<40} {a.p(50):9.1f} {a.p(95):7.1f} | {b.p(50):9.1f} "
            f"{b.p(95):7.1f} | {ratio:9.2f} {sql:>4}{same} {computed:>15} "
            f"{again:>13}  " + ", ".join(marks)
        )
    print(
        "(in-process, no load, small / large: computed = from the rollups, a "
        "cache miss; again = the same page asked again)"
    )
    print(
        f"target: dashboard p95 < {TARGET_P95_MS:g} ms at {large.size:,} incidents, "
        f"and within {FLAT_WITHIN}x of {small.size:,}"
    )
    for run in (small, large):
        count, seconds = run.refresh
        print(
            f"{run.size:,}: a refresh after {WRITES_BEFORE_REFRESH} incidents written "
            f"through the services took up {count} incidents in {seconds * 1000:.0f} ms"
        )
        if run.rebuild:
            count, seconds = run.rebuild
            print(
                f"{run.size:,}: rebuilding the rollups from every incident (the "
                f"product's code) took {seconds:.1f} s for {count:,} incidents"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    if min(args.incidents, args.small) < 1000 or args.requests < 1 or args.seconds <= 0:
        parser.error("sizes of at least 1000; --requests and --seconds positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = "bench-" + secrets.token_urlsafe(16)  # never read as an option
    with tempfile.TemporaryDirectory(prefix="bench-dashboards-") as folder:
        settings_folder = Path(folder)
        console.write_settings(settings_folder)
        env = console.production_environment(
            DEFAULT_DATABASE_URL,
            DEFAULT_REDIS_URL,
            settings_module=console.SETTINGS_MODULE,
            python_path=[str(settings_folder), str(console.BASE_DIR)],
        )
        # Each server its own database and cache (the queue's options and the
        # figures are cached by key, and the two databases' ids differ).
        small_env = {
            **env,
            "DATABASE_URL": env["DATABASE_URL"] + "_small",
            "REDIS_URL": env["REDIS_URL"].rsplit("/", 1)[0] + f"/{SMALL_REDIS_DB}",
        }
        try:
            console.prepare(env, password)
            setup_django(env, settings_folder)
            print(
                f"PostgreSQL {postgres_version()}; two servers (small, large) of "
                f"{WORKERS} gunicorn sync workers each, {CONNECTIONS} connections, per "
                f"case at most {args.requests} requests or {args.seconds:g} s",
                flush=True,
            )
            small, large = measure(
                (args.small, args.incidents), (small_env, env), password, args
            )
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    print_report(small, large)
    return 0


if __name__ == "__main__":
    sys.exit(main())
