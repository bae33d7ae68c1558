"""Problems benchmark: the problem page with 5,000 linked incidents (paged), the
problem list with its recurrence proposals, the problem API, and the recurrence
check for one incident, at 1M incidents.

Seeds the incidents as ``benchmarks/console.py`` does, then 1,000 problems straight
from SQL, one of them linked to 5,000 incidents with a timeline entry for each
link; serves the project with gunicorn (production settings, PostgreSQL and
Redis) and drives each page with a closed loop of concurrent connections, beside
the agent queue measured in the same run as the baseline. The recurrence check
(``reviews.problems.recurrence.recurring_proposal_for``) is also timed in this
process for incidents of every category, with its query count. Prints figures and
never asserts them. Exit status 1 means the database could not be prepared, the
server did not start, a login failed, or not a single request was answered 200.

    .venv/bin/python benchmarks/problems.py [--incidents N] [--requests N]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

import console
from common import (
    CONNECTIONS,
    WORKERS,
    BenchError,
    logged_gunicorn,
    percentile_ms,
    postgres_version,
    production_environment,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_problems"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
PROBLEMS = 1_000
LINKED = 5_000
CHECKS = 200
GOAL = "goal: each p95 within 2x the queue's p95 measured in this run"

SEED_PROBLEMS_SQL = """
INSERT INTO incidents_problem (
    title, description, root_cause, workaround, is_known_error, owner_team_id,
    status, version, created_at, resolved_at, closed_at
)
SELECT 'Problem ' || i || ': ' || (ARRAY['VPN drops', 'Mail delayed',
        'Disk fills up', 'Printer jams', 'Login loops'])[1 + i %% 5],
    'Seen on several incidents.', '', '', s = 'known_error',
    (%(teams)s::bigint[])[1 + i %% array_length(%(teams)s::bigint[], 1)],
    s, 1, %(now)s::timestamptz - i * interval '1 hour',
    CASE WHEN s IN ('resolved', 'closed') THEN %(now)s::timestamptz END,
    CASE WHEN s = 'closed' THEN %(now)s::timestamptz END
FROM (
    SELECT i, (ARRAY['open', 'known_error', 'resolved', 'closed'])[1 + i %% 4] AS s
    FROM generate_series(1, %(size)s) AS i
) AS generated
"""
# The big problem: every n-th incident, 5,000 of them, and one timeline entry each.
LINK_SQL = """
UPDATE incidents_incident SET problem_id = %(problem)s
WHERE id IN (
    SELECT id FROM incidents_incident WHERE id %% %(every)s = 0
    ORDER BY id LIMIT %(linked)s
)
"""
LINK_EVENTS_SQL = """
INSERT INTO incidents_problemevent (problem_id, kind, actor_id, at, data)
SELECT %(problem)s, 'incident_linked', NULL, logged_at,
    jsonb_build_object('incident', id, 'number', 'INC-' || lpad(id::text, 6, '0'))
FROM incidents_incident WHERE problem_id = %(problem)s
"""


def seed_problems(incidents: int) -> str:
    """Insert the problems and link the big one; returns its number."""
    from datetime import UTC, datetime

    from incidents.models import Incident, Problem, Team

    now = datetime.now(UTC)
    teams = list(Team.objects.order_by("pk").values_list("pk", flat=True))
    seconds = console.timed_sql(
        SEED_PROBLEMS_SQL, {"size": PROBLEMS, "teams": teams, "now": now}
    )
    big = Problem.objects.filter(status=Problem.Status.OPEN).order_by("pk").first()
    params = {"problem": big.pk, "every": max(1, incidents // LINKED), "linked": LINKED}
    link = console.timed_sql(LINK_SQL, params)
    events = console.timed_sql(LINK_EVENTS_SQL, {"problem": big.pk})
    vacuum = console.timed_sql(
        "VACUUM (ANALYZE) incidents_problem, incidents_problemevent, incidents_incident"
    )
    linked = Incident.objects.filter(problem=big).count()
    print(
        f"seeded {PROBLEMS:,} problems in {seconds:.1f} s; {big.number} linked to "
        f"{linked:,} incidents in {link:.1f} s, their timeline in {events:.1f} s; "
        f"VACUUM (ANALYZE) in {vacuum:.1f} s",
        flush=True,
    )
    return big.number


def build_cases(big: str) -> list[console.Case]:
    from incidents.models import Problem

    small = [
        p.number
        for p in Problem.objects.filter(status=Problem.Status.OPEN)
        .exclude(pk=int(big.split("-")[1]))
        .order_by("-pk")[:20]
    ]
    return [
        console.Case("queue ?view=team (baseline)", ["/console/?view=team"]),
        console.Case("queue ?view=open (baseline)", ["/console/?view=open"]),
        console.Case("problem list (+ recurrence)", ["/problems/"]),
        console.Case("problem list ?status=active", ["/problems/?status=active"]),
        console.Case(f"{big} page 1 (5,000 linked)", [f"/problems/{big}/"]),
        console.Case(
            f"{big} pages 2-100",
            [f"/problems/{big}/?page={n}" for n in range(2, 101)],
        ),
        console.Case("problem pages (few linked)", [f"/problems/{n}/" for n in small]),
        console.Case("API recurring", ["/api/v1/problems/recurring/"]),
        console.Case(f"API {big} incidents", [f"/api/v1/problems/{big}/incidents/"]),
    ]


def time_recurrence_check() -> tuple[list[float], set[int], int]:
    """``recurring_proposal_for`` for the newest incidents of every signature, in
    this process: the latencies, the query counts seen, and how many proposed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.models import Incident
    from reviews.problems.recurrence import recurring_proposal_for

    incidents = list(Incident.objects.exclude(signature="").order_by("-id")[:CHECKS])
    latencies, counts, proposed = [], set(), 0
    for incident in incidents:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            proposal = recurring_proposal_for(incident)
            latencies.append(time.perf_counter() - started)
        counts.add(len(queries))
        proposed += proposal is not None
    return latencies, counts, proposed


def time_proposals(repeats: int = 5) -> list[float]:
    """The problem list's proposals computed afresh (what a cache miss costs)."""
    from django.utils import timezone

    from reviews.problems.recurrence import recurring_proposals

    latencies = []
    for _ in range(repeats):
        started = time.perf_counter()
        recurring_proposals(now=timezone.now())
        latencies.append(time.perf_counter() - started)
    return latencies


def explain_recurrence() -> str:
    """The plan of the recurrence count, to show it is an index range."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from incidents.models import Incident
    from incidents.selectors import recurring_incidents

    signature = (
        Incident.objects.exclude(signature="")
        .order_by("-id")
        .values_list("signature", flat=True)
        .first()
    )
    query = recurring_incidents(
        signature, since=timezone.now() - timedelta(days=30)
    ).order_by()
    sql, params = query.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) q", params
        )
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def print_table(
    results: list[console.CaseResult],
    check: tuple[list[float], set[int], int],
    proposals: list[float],
) -> None:
    baseline = max(
        r.percentile_ms(95) for r in results if r.case.label.startswith("queue")
    )
    header = (
        f"{'case':<34} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'non-200':>7}  {'p95 / queue p95':>15}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r.percentile_ms(95) / baseline if baseline else float("nan")
        print(
            f"{r.case.label:<34} {r.requests:>8} {r.rate:>6.1f} "
            f"{r.percentile_ms(50):>7.1f} {r.percentile_ms(95):>7.1f} "
            f"{r.requests - r.ok:>7}  {ratio:>14.2f}x"
        )
    latencies, counts, proposed = check
    p95 = percentile_ms(latencies, 95)
    print(
        f"{'recurrence check (in process)':<34} {len(latencies):>8} {'':>6} "
        f"{percentile_ms(latencies, 50):>7.2f} {p95:>7.2f} {'':>7}  "
        f"{p95 / baseline:>14.2f}x"
    )
    print(
        f"{'recurrence proposals (uncached)':<34} {len(proposals):>8} {'':>6} "
        f"{percentile_ms(proposals, 50):>7.1f} {percentile_ms(proposals, 95):>7.1f} "
        f"{'':>7}  {percentile_ms(proposals, 95) / baseline:>14.2f}x"
    )
    print(
        f"  the recurrence check's queries: {sorted(counts)}; {proposed} of "
        f"{len(latencies)} checked incidents would be proposed a problem"
    )
    print(f"{GOAL} (queue p95 {baseline:.1f} ms, the slower of the two queue rows)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.incidents < LINKED * 2 or args.requests < 1:
        parser.error(f"--incidents >= {LINKED * 2}, --requests >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="bench-problems-") as folder:
        settings_folder = Path(folder)
        console.write_settings(settings_folder)
        env = production_environment(
            DEFAULT_DATABASE_URL,
            DEFAULT_REDIS_URL,
            settings_module=console.SETTINGS_MODULE,
            python_path=[str(settings_folder), str(console.BASE_DIR)],
        )
        try:
            database = console.prepare(env, password)
            setup_django(env, settings_folder)
            print(
                f"PostgreSQL {postgres_version()}, database {database}; "
                f"{args.incidents:,} incidents, {PROBLEMS:,} problems; "
                f"{WORKERS} gunicorn sync workers, {CONNECTIONS} connections, per "
                f"case at most {args.requests} requests or {args.seconds:g} s",
                flush=True,
            )
            console.seed_and_report(args.incidents)
            big = seed_problems(args.incidents)
            check = time_recurrence_check()
            proposals = time_proposals()
            plan = explain_recurrence()
            from django.db import connections

            connections.close_all()
            cases = build_cases(big)
            connections.close_all()
            with logged_gunicorn(env, "bench-problems-gunicorn-") as (port, log):
                agent = console.login(port, password)
                print("Load (closed loop, signed in as agent):", flush=True)
                results = [console.run_case(port, case, agent, args) for case in cases]
                if all(r.ok == r.requests for r in results):
                    log.unlink()
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        print()
        print_table(results, check, proposals)
        print("\nthe recurrence count's plan:")
        print(plan)
    if not any(r.ok for r in results):
        print("not a single request was answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
