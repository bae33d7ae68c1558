"""Alert storm: many monitors at once, every kind of delivery mixed, then the
invariants checked against the database.

Serves the project with gunicorn (production settings, PostgreSQL and Redis) and
drives the Alertmanager endpoint with a closed loop of 32 concurrent connections:
first the keys are opened, then a mixed storm of new keys, repeats, recoveries,
re-fires and deliveries of several alerts at once (the same alerts in different
orders). It prints the answers by status, p50/p95 latency, throughput, and the
invariants: one incident per distinct key, one occurrence per alert posted, no
answer 5xx. It asserts nothing; the exit status is 1 when the database could not
be prepared or the server did not start.

    .venv/bin/python benchmarks/storm.py [--requests N] [--connections C]

The database named by ``DATABASE_URL`` is dropped and created again at every run,
so its name must contain "bench".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from common import (
    WORKERS,
    BenchError,
    ClosedLoop,
    Tally,
    logged_gunicorn,
    manage,
    percentile_ms,
    production_environment,
    recreate_database,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/itsm_bench_storm"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/2"
PATH = "/api/v1/alerts/alertmanager/"
HTTP_TIMEOUT_SECONDS = 60.0

# Keys opened before the storm, and the few of them that multi-alert deliveries
# share (few, so that concurrent deliveries hold the same alerts).
OPEN_KEYS = 1000
SHARED_KEYS = 12
# What the storm's requests are, by share of the whole.
MIX = {
    "new": 0.15,
    "repeat": 0.35,
    "recovery": 0.15,
    "re-fire": 0.15,
    "multi": 0.20,
}


# ---------------------------------------------------------------- payloads
def alert(key: str, status: str) -> dict[str, Any]:
    """One alert of an Alertmanager webhook."""
    return {
        "status": status,
        "labels": {"alertname": "StormTest", "instance": key, "severity": "critical"},
        "annotations": {"summary": f"Storm alert {key}"},
        "startsAt": "2026-11-27T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom:9090/graph",
        "fingerprint": key,
    }


def delivery(alerts: list[tuple[str, str]]) -> bytes:
    """An Alertmanager webhook (version 4) carrying these (key, status) alerts."""
    statuses = {status for _, status in alerts}
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="StormTest"}',
            "truncatedAlerts": 0,
            "status": "firing" if "firing" in statuses else "resolved",
            "receiver": "itsm",
            "groupLabels": {"alertname": "StormTest"},
            "commonLabels": {"alertname": "StormTest"},
            "commonAnnotations": {},
            "externalURL": "http://am:9093",
            "alerts": [alert(key, status) for key, status in alerts],
        }
    ).encode()


@dataclass
class Plan:
    """The requests of a phase, and what they carry: the alerts posted (each is
    one occurrence) and the distinct keys that fire."""

    bodies: list[bytes] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    alerts: int = 0
    keys: set[str] = field(default_factory=set)

    def add(self, kind: str, alerts: list[tuple[str, str]]) -> None:
        self.bodies.append(delivery(alerts))
        self.kinds[kind] += 1
        self.alerts += len(alerts)
        self.keys.update(key for key, status in alerts if status == "firing")


def opening_plan(run_id: str) -> tuple[Plan, list[str]]:
    """Every key of the storm fired once, alone: each opens its incident."""
    keys = [f"{run_id}-open-{n}" for n in range(OPEN_KEYS)]
    plan = Plan()
    for key in keys:
        plan.add("new", [(key, "firing")])
    return plan, keys


def storm_plan(run_id: str, keys: list[str], requests: int, rng: random.Random) -> Plan:
    """The mixed storm over keys already open (so no recovery can arrive before
    its alert's first firing, whatever the order of the answers), plus keys never
    seen before, each fired exactly once."""
    shared = keys[:SHARED_KEYS]
    recovered: list[str] = []
    plan = Plan()
    kinds, weights = zip(*MIX.items(), strict=True)
    for n in range(requests):
        kind = rng.choices(kinds, weights)[0]
        if kind == "new":
            plan.add(kind, [(f"{run_id}-new-{n}", "firing")])
        elif kind == "repeat":
            plan.add(kind, [(rng.choice(keys), "firing")])
        elif kind == "recovery":
            key = rng.choice(keys)
            recovered.append(key)
            plan.add(kind, [(key, "resolved")])
        elif kind == "re-fire":
            plan.add(kind, [(rng.choice(recovered or keys), "firing")])
        else:
            chosen = rng.sample(shared, rng.randint(2, 4))
            statuses = rng.choices(["firing", "resolved"], [3, 1], k=len(chosen))
            plan.add(kind, list(zip(chosen, statuses, strict=True)))
    return plan


# ---------------------------------------------------------------- run
@dataclass(frozen=True)
class Phase:
    """What a phase posted, what came back and how long it took."""

    name: str
    plan: Plan
    tally: Tally
    elapsed: float


def run_phase(name: str, port: int, token: str, plan: Plan, connections: int) -> Phase:
    """Post every body of the plan once, ``connections`` at a time."""
    loop = ClosedLoop(
        port,
        "POST",
        [PATH],
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        len(plan.bodies),
        3600.0,
        bodies=plan.bodies,
        expected="202",
        timeout=HTTP_TIMEOUT_SECONDS,
        connections=connections,
    )
    tally, elapsed = loop.run()
    phase = Phase(name, plan, tally, elapsed)
    print_phase(phase)
    return phase


def print_phase(phase: Phase) -> None:
    """One line of figures, then the mix and the first body of each failure."""
    lat, requests = phase.tally.latencies, phase.tally.requests
    statuses = dict(sorted(phase.tally.statuses.items()))
    print(
        f"  {phase.name:<8} {requests:>6} requests ({phase.plan.alerts} alerts) in "
        f"{phase.elapsed:6.1f} s, {requests / phase.elapsed:6.1f} req/s, "
        f"p50 {percentile_ms(lat, 50):7.1f} ms, p95 {percentile_ms(lat, 95):7.1f} ms, "
        f"p99 {percentile_ms(lat, 99):7.1f} ms; answers {statuses}",
        flush=True,
    )
    print(f"           mix {dict(phase.plan.kinds)}", flush=True)
    for status, (_, body) in phase.tally.samples.items():
        print(f"           first {status}: {body[:300]}", flush=True)


def whole(phases: list[Phase]) -> Phase:
    """All phases as one."""
    plan, tally = Plan(), Tally("202")
    for phase in phases:
        plan.bodies += phase.plan.bodies
        plan.kinds.update(phase.plan.kinds)
        plan.alerts += phase.plan.alerts
        plan.keys |= phase.plan.keys
        tally.merge(phase.tally)
    return Phase("all", plan, tally, sum(p.elapsed for p in phases))


def database_counts() -> dict[str, int]:
    """What the storm left in the database."""
    from django.db.models import Sum

    from incidents.models import Alert, AlertDelivery, Incident

    return {
        "incidents": Incident.objects.count(),
        "occurrences": Alert.objects.aggregate(n=Sum("occurrences"))["n"] or 0,
        "deliveries": AlertDelivery.objects.count(),
    }


def print_invariants(storm: Phase, counts: dict[str, int]) -> bool:
    """Compare the database with what was posted; returns whether all held."""
    statuses = storm.tally.statuses
    server_errors = sum(
        n for status, n in statuses.items() if status.isdigit() and int(status) >= 500
    )
    unanswered = sum(n for status, n in statuses.items() if not status.isdigit())
    checks = [
        ("incidents == distinct keys", counts["incidents"], len(storm.plan.keys)),
        ("occurrences == alerts posted", counts["occurrences"], storm.plan.alerts),
        ("deliveries == posts", counts["deliveries"], len(storm.plan.bodies)),
        ("answers 5xx == 0", server_errors, 0),
        ("requests unanswered == 0", unanswered, 0),
    ]
    print("Invariants:")
    for label, found, expected in checks:
        verdict = "holds" if found == expected else "FAILS"
        print(f"  {label:<30} {found:>7} vs {expected:<7} {verdict}")
    return all(found == expected for _, found, expected in checks)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=20_000,
        help="Requests in all, the opening of the keys included (default 20000).",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="Concurrent connections (default 32).",
    )
    parser.add_argument("--seed", type=int, default=11, help="Seed of the mix.")
    args = parser.parse_args(argv)
    if args.requests <= OPEN_KEYS or args.connections < 1:
        parser.error(f"--requests must be over {OPEN_KEYS}, --connections positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = production_environment(DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL)
    run_id = f"s{args.seed}"
    try:
        database = recreate_database(env["DATABASE_URL"])
        print(
            f"PostgreSQL database {database}, Redis db "
            f"{env['REDIS_URL'].rsplit('/', 1)[-1]}; {WORKERS} gunicorn sync "
            f"workers, {args.connections} connections, {args.requests} requests; "
            f"{os.cpu_count()} CPUs shared by client, server and databases",
            flush=True,
        )
        manage(env, "migrate", "--noinput")
        output = manage(env, "create_integration", "storm", "--kind", "alertmanager")
        token = output.strip().splitlines()[-1].strip()
        opening, keys = opening_plan(run_id)
        mixed = storm_plan(
            run_id, keys, args.requests - OPEN_KEYS, random.Random(args.seed)
        )
        print("Load (closed loop):", flush=True)
        with logged_gunicorn(env, "storm-gunicorn-") as (port, log):
            phases = [
                run_phase("open", port, token, opening, args.connections),
                run_phase("storm", port, token, mixed, args.connections),
            ]
        setup_django(env)
        counts = database_counts()
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    storm = whole(phases)
    print()
    print_phase(storm)
    held = print_invariants(storm, counts)
    if held:
        log.unlink()
    else:
        print(f"server log kept: {log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
