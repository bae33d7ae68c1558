"""Reviews benchmark: the review page and "my action items" at 1M incidents and
20k reviews (three action items each), beside the agent queue measured in the
same run as the baseline, and the recurrence check that runs inside every
incident resolution (in-process, with its plan).

Seeds the incidents as ``benchmarks/console.py`` does, and the reviews, their
covers and action items straight from SQL (``generate_series``): published
reviews of the oldest incidents, one action item a review owned by the agent, two
by the agent's team, due dates spread around today so some are overdue. Serves the
project with gunicorn (production settings, PostgreSQL and Redis) and drives each
case with a closed loop of concurrent connections. Prints figures and never
asserts them. Exit status 1 means the database could not be prepared, the server
did not start, a login failed, or not a single request was answered 200.

    .venv/bin/python benchmarks/reviews.py [--incidents N] [--reviews N] [--requests N]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import console
from common import (
    CONNECTIONS,
    WORKERS,
    BenchError,
    logged_gunicorn,
    postgres_version,
    production_environment,
    setup_django,
)

# benchmarks/kb.py (its login and table), under another name: "kb" is the app.
_spec = importlib.util.spec_from_file_location(
    "kb_bench", Path(__file__).with_name("kb.py")
)
kb_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kb_bench)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_reviews"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
REVIEW_PAGES = 50
RECURRENCE_RUNS = 200
GOAL = "goal: each p95 within 2x the queue's p95 measured in this run"

SEED_REVIEWS = """
INSERT INTO reviews_review (incident_id, reason, open_note, signature, status,
    owner_id, due_at, summary, five_whys, root_cause, workaround,
    contributing_factors, went_well, went_badly, version, created_at, updated_at,
    approved_by_id, approved_at, published_at)
SELECT i.id, 'major', '', '', 'published', %(agent)s, i.logged_at + interval '7 days',
    'The service was down for part of the morning.',
    '["It failed", "Its disk filled", "Logs never rotated"]'::jsonb,
    'Logs were never rotated.', 'Restart it.', 'A muted alert.', 'Paging.',
    'Slow diagnosis.', 1, i.logged_at, i.logged_at, %(lead)s, i.logged_at,
    i.logged_at
FROM incidents_incident i
WHERE i.id IN (
    SELECT id FROM incidents_incident j
    WHERE NOT EXISTS (SELECT 1 FROM reviews_reviewincident c WHERE c.incident_id = j.id)
    ORDER BY id LIMIT %(size)s
)
"""
SEED_COVERS = """
INSERT INTO reviews_reviewincident (review_id, incident_id, added_at)
SELECT id, incident_id, created_at FROM reviews_review r
WHERE NOT EXISTS (SELECT 1 FROM reviews_reviewincident c WHERE c.review_id = r.id)
"""
SEED_ITEMS = """
INSERT INTO reviews_actionitem (title, description, source, review_id, signature,
    owner_user_id, owner_team_id, due_on, status, wont_do_reason, external_url,
    version, created_at, updated_at)
SELECT 'Follow-up ' || r.id || '.' || g, '', 'review', r.id, '',
    CASE WHEN g = 1 THEN %(agent)s END, CASE WHEN g > 1 THEN %(team)s END,
    current_date + ((r.id * 7 + g) %% 120 - 30)::int, 'open', '', '', 1, now(), now()
FROM reviews_review r, generate_series(1, 3) g
"""


def seed_reviews(size: int) -> tuple[int, list[int]]:
    """Published reviews of the oldest ``size`` incidents with three action items
    each; returns the agent's team's item count and the review ids."""
    from django.contrib.auth import get_user_model

    from reviews.models import ActionItem, Review

    users = get_user_model().objects.in_bulk(
        ["agent", "incident_manager"], field_name="username"
    )
    agent = users["agent"]
    team = agent.teams.order_by("pk").first()
    params = {
        "agent": agent.pk,
        "lead": users["incident_manager"].pk,
        "team": team.pk,
        "size": size,
    }
    started = time.perf_counter()
    for sql in (SEED_REVIEWS, SEED_COVERS, SEED_ITEMS):
        console.timed_sql(sql, params)
    console.timed_sql("VACUUM (ANALYZE)")
    reviews = Review.objects.count()
    items = ActionItem.objects.count()
    print(
        f"seeded {reviews:,} reviews and {items:,} action items in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    ids = list(
        Review.objects.filter(status="published", owner__username="agent")
        .order_by("id")
        .values_list("pk", flat=True)[:: max(1, reviews // REVIEW_PAGES)]
    )
    return items, ids[:REVIEW_PAGES]


def recurrence_check() -> None:
    """Time the recurrence check the resolution hook runs (at least 3 incidents
    of one signature in 30 days?) on the busiest signature, in-process; print its
    p50/p95 and its plan."""
    from django.db import connection
    from django.db.models import Count

    from incidents.models import Incident
    from incidents.selectors import recurring_incidents
    from reviews.selectors import signature_recurs

    busiest = (
        Incident.objects.exclude(signature="")
        .values("signature")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        print("recurrence check: no signed incidents in the seed")
        return
    signature = busiest["signature"]
    since = datetime.now(UTC) - timedelta(days=30)
    timings = []
    for _ in range(RECURRENCE_RUNS):
        started = time.perf_counter()
        signature_recurs(signature, since=since, count=3)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"recurrence check ({signature!r}, {busiest['n']:,} incidents in all): "
        f"p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms "
        f"over {RECURRENCE_RUNS} runs"
    )
    query = recurring_incidents(signature, since=since)[:3].values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) AS q", params)
        for (line,) in cursor.fetchall():
            print(f"  {line}")


def build_cases(review_ids: list[int]) -> list[console.Case]:
    return [
        console.Case("queue ?view=team (baseline)", ["/console/?view=team"]),
        console.Case("queue ?view=open (baseline)", ["/console/?view=open"]),
        console.Case(
            f"review page ({len(review_ids)} reviews)",
            [f"/reviews/{pk}/" for pk in review_ids],
        ),
        console.Case("my action items", ["/reviews/action-items/"]),
        console.Case("review list", ["/reviews/"]),
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.incidents < 1000 or not 1 <= args.reviews <= args.incidents:
        parser.error("--incidents >= 1000, 1 <= --reviews <= --incidents")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="bench-reviews-") as folder:
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
                f"{args.incidents:,} incidents, {args.reviews:,} reviews; "
                f"{WORKERS} gunicorn sync workers, {CONNECTIONS} connections, per "
                f"case at most {args.requests} requests or {args.seconds:g} s",
                flush=True,
            )
            console.seed_and_report(args.incidents)
            _, review_ids = seed_reviews(args.reviews)
            recurrence_check()
            from django.db import connections

            connections.close_all()
            with logged_gunicorn(env, "bench-reviews-gunicorn-") as (port, log):
                agent = kb_bench.login_as(port, "agent", password, "/console/")
                print("Load (closed loop, logged in as agent):", flush=True)
                results = [
                    console.run_case(port, case, agent, args)
                    for case in build_cases(review_ids)
                ]
                if all(r.ok == r.requests for r in results):
                    log.unlink()
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        print()
        kb_bench.print_table(results)
    if not any(r.ok for r in results):
        print("not a single request was answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
