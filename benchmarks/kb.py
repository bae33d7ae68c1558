"""Knowledge-base benchmark: article search, the incident page with its knowledge
panels, and the report form's suggestions, at 100k articles and 1M incidents.

Seeds the incidents as ``benchmarks/console.py`` does and 100k published articles
straight from SQL (``generate_series``: titles, symptoms and bodies composed from
a service desk's vocabulary, their weighted search vectors, and the search
vocabulary), serves the project with gunicorn (production settings, PostgreSQL
and Redis), and drives each case with a closed loop of concurrent connections,
beside the agent queue measured in the same run as the baseline. Prints figures
and never asserts them. Exit status 1 means the database could not be prepared,
the server did not start, a login failed, or not a single request was answered 200.

    .venv/bin/python benchmarks/kb.py [--incidents N] [--articles N] [--requests N]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import urllib.parse
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

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_kb"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
INCIDENT_PAGES = 50
GOAL = "goal: each p95 within 2x the queue's p95 measured in this run"

# What the articles are about and what goes wrong, as people write it. A title is
# a subject and a trouble; the body three of the fixes. One article in 10,000
# mentions a zeppelin (the rare word).
SUBJECTS = [
    "VPN", "Outlook", "Wi-Fi", "printer", "laptop", "password", "Teams",
    "OneDrive", "payroll portal", "door badge", "external monitor", "keyboard",
    "Excel", "browser", "shared mailbox", "calendar", "scanner", "docking station",
    "authenticator app", "file share", "timesheet", "expenses app", "headset",
    "webcam", "software centre", "intranet", "database", "load balancer",
    "backup job", "certificate",
]  # fmt: skip
TROUBLES = [
    "disconnects every hour", "crashes on start", "is very slow",
    "shows an error after the update", "cannot sign in", "does not sync",
    "is not detected", "asks for the password again and again", "freezes",
    "stopped working this morning", "cannot be installed", "shows old data",
    "drops the connection", "is locked", "will not print", "runs out of space",
    "fails with a timeout", "is missing from the list", "keeps restarting",
    "returns access denied",
]  # fmt: skip
FIXES = [
    "Restart the device and try again.",
    "Sign out and sign in again with your usual account.",
    "Reset your password from the sign-in page if it expired.",
    "Install the pending updates from the software centre overnight.",
    "Clear the cache and remove old profiles.",
    "Reconnect to the office network or the VPN first.",
    "Check that the cable and the dock are firmly plugged in.",
    "Ask your team lead to grant access in the portal.",
    "Turn off the add-ins one by one to find the faulty one.",
    "Free disk space: at least 10 GB must stay available.",
    "Forget the network and join it again.",
    "Run the repair tool from Apps and features.",
    "Fail over to the standby unit before restarting the primary.",
    "Renew the certificate in the certificate manager.",
    "Rerun the job and check the storage target's free space.",
]
SEED_ARTICLES_SQL = """
INSERT INTO kb_article (
    title, symptoms, body, kind, audience, owner_team_id, problem_id, author_id,
    status, revision, created_at, updated_at, published_at, review_due_at,
    stale_reminded_at, search_vector
)
SELECT title, symptoms, body, kind, audience, team, NULL, %(author)s,
    'published', 2, published, published, published,
    published + interval '365 days', NULL,
    setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', symptoms), 'B')
        || setweight(to_tsvector('english', body), 'C')
FROM (
    SELECT i,
        initcap(s.subjects[1 + i %% array_length(s.subjects, 1)]) || ' '
            || s.troubles[1 + (i / 7) %% array_length(s.troubles, 1)]
            || ' (case ' || i || ')' AS title,
        'People see that the ' || s.subjects[1 + i %% array_length(s.subjects, 1)]
            || ' ' || s.troubles[1 + (i / 3) %% array_length(s.troubles, 1)]
            || CASE WHEN i %% 10000 = 0 THEN ' near the zeppelin hangar' ELSE '' END
            || '.' AS symptoms,
        s.fixes[1 + i %% array_length(s.fixes, 1)] || E'\\n\\n'
            || s.fixes[1 + (i / 5) %% array_length(s.fixes, 1)] || E'\\n\\n'
            || s.fixes[1 + (i / 11) %% array_length(s.fixes, 1)] AS body,
        (ARRAY['how_to', 'how_to', 'workaround', 'runbook', 'known_error'])
            [1 + i %% 5] AS kind,
        (ARRAY['public', 'internal'])[1 + (i / 2) %% 2] AS audience,
        (%(teams)s::bigint[])[1 + i %% array_length(%(teams)s::bigint[], 1)] AS team,
        %(now)s::timestamptz - (i %% 700) * interval '1 day' AS published
    FROM generate_series(1, %(size)s) AS i,
        (SELECT %(subjects)s::text[] AS subjects, %(troubles)s::text[] AS troubles,
            %(fixes)s::text[] AS fixes) AS s
) AS generated
"""
# The vocabulary a mistyped word is corrected against, as kb.services keeps it.
VOCABULARY_SQL = """
INSERT INTO kb_searchterm (word, stem, public, length, documents)
SELECT word, {stem}, public, length(word), ndoc FROM (
    SELECT word, true AS public, ndoc FROM ts_stat($$SELECT to_tsvector('simple',
        title || ' ' || symptoms || ' ' || body) FROM kb_article
        WHERE audience = 'public'$$)
    UNION ALL
    SELECT word, false, ndoc FROM ts_stat($$SELECT to_tsvector('simple',
        title || ' ' || symptoms || ' ' || body) FROM kb_article$$)
) AS words
WHERE length(word) BETWEEN 2 AND 60
ON CONFLICT (public, word) DO UPDATE SET documents = EXCLUDED.documents
"""

SEARCHES = {
    "common word": "password",
    "rare word": "zeppelin",
    "typo": "pasword reset",
    "question": "my laptop is very slow after the update",
    "no match": "quixotic gazebo",
}


def seed_articles(size: int) -> None:
    """Insert ``size`` published articles and their vocabulary; print the time."""
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model

    from incidents.models import Team

    params = {
        "size": size,
        "now": datetime.now(UTC),
        "author": get_user_model().objects.get(username="incident_manager").pk,
        "teams": list(Team.objects.order_by("pk").values_list("pk", flat=True)),
        "subjects": SUBJECTS,
        "troubles": TROUBLES,
        "fixes": FIXES,
    }
    seconds = console.timed_sql(SEED_ARTICLES_SQL, params)
    from kb.search import STEM_SQL

    vocabulary = console.timed_sql(
        VOCABULARY_SQL.format(stem=STEM_SQL.format(word="word"))
    )
    vacuum = console.timed_sql("VACUUM (ANALYZE) kb_article, kb_searchterm")
    from kb.models import Article, SearchTerm

    print(
        f"seeded {Article.objects.count():,} published articles in {seconds:.1f} s, "
        f"{SearchTerm.objects.count():,} vocabulary rows in {vocabulary:.1f} s, "
        f"VACUUM (ANALYZE) in {vacuum:.1f} s; 'password' in "
        f"{Article.objects.filter(title__icontains='password').count():,} titles",
        flush=True,
    )


def login_as(port: int, username: str, password: str, check: str) -> str:
    """Log in through the login form; returns the Cookie header."""
    status, cookies, page = console.request(port, "GET", "/login/", {})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or token is None:
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
    status, answer, _ = console.request(port, "POST", "/login/", headers, form)
    cookies.update(answer)
    if status != 302 or "sessionid" not in cookies:
        raise BenchError(f"POST /login/ as {username} answered {status}")
    cookie = "; ".join(f"{k}={cookies[k]}" for k in ("csrftoken", "sessionid"))
    if console.request(port, "GET", check, {"Cookie": cookie})[0] != 200:
        raise BenchError(f"GET {check} as {username} did not answer 200")
    return cookie


def build_cases() -> tuple[list[console.Case], list[console.Case]]:
    """The agent's cases (queue baseline first) and the requester's."""
    from incidents.models import Incident

    ids = console.open_ids()
    step = max(1, len(ids) // INCIDENT_PAGES)
    numbers = [Incident(pk=pk).number for pk in ids[::step]][:INCIDENT_PAGES]
    agent = [
        console.Case("queue ?view=team (baseline)", ["/console/?view=team"]),
        console.Case("queue ?view=open (baseline)", ["/console/?view=open"]),
        *(
            console.Case(f"search: {label}", [f"/kb/?q={urllib.parse.quote(q)}"])
            for label, q in SEARCHES.items()
        ),
        console.Case(
            f"incident page ({len(numbers)} open)",
            [f"/console/{n}/" for n in numbers],
        ),
        console.Case(
            "  its panels (htmx, after paint)",
            [f"/kb/incidents/{n}/panels/" for n in numbers],
            htmx=True,
        ),
    ]
    titles = ["vpn disconnects", "outlook crashes", "printer will not print",
              "cannot sign in", "my laptop is slow"]  # fmt: skip
    requester = [
        console.Case(
            "report form suggestions",
            [f"/portal/kb/suggest/?title={urllib.parse.quote(t)}" for t in titles],
            htmx=True,
        )
    ]
    return agent, requester


def print_table(results: list[console.CaseResult]) -> None:
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
    print(f"{GOAL} (queue p95 {baseline:.1f} ms, the slower of the two queue rows)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.incidents < 1000 or args.articles < 100 or args.requests < 1:
        parser.error("--incidents >= 1000, --articles >= 100, --requests >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="bench-kb-") as folder:
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
                f"{args.incidents:,} incidents, {args.articles:,} articles; "
                f"{WORKERS} gunicorn sync workers, {CONNECTIONS} connections, per "
                f"case at most {args.requests} requests or {args.seconds:g} s",
                flush=True,
            )
            console.seed_and_report(args.incidents)
            seed_articles(args.articles)
            from django.db import connections

            connections.close_all()
            agent_cases, requester_cases = build_cases()
            with logged_gunicorn(env, "bench-kb-gunicorn-") as (port, log):
                agent = login_as(port, "agent", password, "/console/")
                requester = login_as(port, "requester", password, "/portal/")
                print("Load (closed loop):", flush=True)
                results = [
                    console.run_case(port, case, agent, args) for case in agent_cases
                ]
                results += [
                    console.run_case(port, case, requester, args)
                    for case in requester_cases
                ]
                if all(r.ok == r.requests for r in results):
                    log.unlink()
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        print()
        print_table(results)
    if not any(r.ok for r in results):
        print("not a single request was answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
