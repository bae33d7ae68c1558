"""The Statuspage-shaped JSON (``/api/v2/...``) against the documented sample
responses: the same keys at every level, the same kinds of value, the documented
enumerations; and what each endpoint lists."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import (
    ComponentGroup,
    ComponentState,
    StatusComponent,
    StatusEntry,
)
from incidents.status import services as status
from tests.status.conftest import major, plan, publish, say
from tests.status.statuspage_samples import ENUMS, SAMPLES

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)$")
TIME_KEYS = {"scheduled_for", "scheduled_until", "display_at"}


def assert_shape(ours: Any, sample: Any, path: str = "") -> None:
    """``ours`` has exactly the sample's keys, recursively, with values of the
    same kind; where the sample has null, ours is null or a string."""
    if isinstance(sample, dict):
        assert isinstance(ours, dict), path
        assert set(ours) == set(sample), (path, set(ours) ^ set(sample))
        for key, value in sample.items():
            where = f"{path}.{key}"
            if (key.endswith("_at") or key in TIME_KEYS) and ours[key] is not None:
                assert TIMESTAMP.match(ours[key]), (where, ours[key])
            if value is None:
                assert ours[key] is None or isinstance(ours[key], str), where
            else:
                assert_shape(ours[key], value, where)
    elif isinstance(sample, list):
        assert isinstance(ours, list), path
        assert ours, f"{path}: the test data should fill this list"
        for n, item in enumerate(ours):
            model = sample[0]
            if isinstance(item, dict) and "group" in item:  # a group: the sample's
                model = next(s for s in sample if s["group"] == item["group"])
            assert_shape(item, model, f"{path}[{n}]")
    elif isinstance(sample, bool):
        assert isinstance(ours, bool), path
    elif isinstance(sample, int):
        assert isinstance(ours, int) and not isinstance(ours, bool), path
    else:
        assert isinstance(ours, type(sample)), (path, ours)


@pytest.fixture
def page(desk: SimpleNamespace) -> SimpleNamespace:
    """A group with Email and Website, an open entry with two messages, a
    resolved one, maintenance in progress on Website and more next week."""
    now = timezone.now()
    group = ComponentGroup.objects.create(name="Customer-facing", position=1)
    for position, service in enumerate([desk.email, desk.web]):
        StatusComponent.objects.create(service=service, group=group, position=position)
    open_entry = publish(desk, major(desk), at=now - timedelta(minutes=30))
    say(
        desk,
        open_entry,
        "identified",
        "Found it.",
        states={desk.email: "partial_outage"},
    )
    past = publish(
        desk,
        major(desk, title="Old", at=now - timedelta(days=3)),
        title="Website errors",
        states={desk.web: ComponentState.DEGRADED},
        at=now - timedelta(days=3),
    )
    say(desk, past, "resolved", "Fixed.", at=now - timedelta(days=2))
    for starts, title in [
        (now - timedelta(hours=1), "Now"),
        (now + timedelta(days=7), "Next"),
    ]:
        plan(
            desk,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            title=f"{title} maintenance",
            public_message="Expect short interruptions.",
            services=[desk.web, desk.internal],
        )
    return SimpleNamespace(open=open_entry, past=past)


@pytest.mark.parametrize("endpoint", sorted(SAMPLES))
def test_each_endpoint_has_the_documented_shape(
    client: Client, page: SimpleNamespace, endpoint: str
) -> None:
    response = client.get(f"/api/v2/{endpoint}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert_shape(response.json(), SAMPLES[endpoint])


def test_enumerations_take_only_documented_values(
    client: Client, page: SimpleNamespace
) -> None:
    summary = client.get("/api/v2/summary.json").json()
    assert summary["status"]["indicator"] in ENUMS["indicator"]
    for component in summary["components"]:
        assert component["status"] in ENUMS["component status"]
    everything = client.get("/api/v2/incidents.json").json()["incidents"]
    for incident in everything:
        assert incident["status"] in ENUMS["incident status"]
        assert incident["impact"] in ENUMS["impact"]
        for update in incident["incident_updates"]:
            assert update["status"] in ENUMS["incident status"]
    windows = client.get("/api/v2/scheduled-maintenances.json").json()
    for window in windows["scheduled_maintenances"]:
        assert window["status"] in ENUMS["maintenance status"]
        assert window["impact"] == "maintenance"
        for update in window["incident_updates"]:
            assert update["status"] in ENUMS["maintenance status"]


def test_what_each_endpoint_lists(client: Client, page: SimpleNamespace) -> None:
    def ids(endpoint: str, key: str) -> list[str]:
        return [i["id"] for i in client.get(f"/api/v2/{endpoint}").json()[key]]

    assert ids("incidents/unresolved.json", "incidents") == [page.open.public_id]
    assert ids("summary.json", "incidents") == [page.open.public_id]
    assert ids("incidents.json", "incidents") == [
        page.open.public_id,
        page.past.public_id,
    ]
    names = [
        w["name"]
        for w in client.get("/api/v2/summary.json").json()["scheduled_maintenances"]
    ]
    assert names == ["Now maintenance", "Next maintenance"]
    active = client.get("/api/v2/scheduled-maintenances/active.json").json()
    assert [w["name"] for w in active["scheduled_maintenances"]] == ["Now maintenance"]
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").json()
    assert [w["status"] for w in upcoming["scheduled_maintenances"]] == ["scheduled"]


def test_components_groups_and_states(client: Client, page: SimpleNamespace) -> None:
    components = client.get("/api/v2/components.json").json()["components"]
    by_name = {c["name"]: c for c in components}
    assert set(by_name) == {"Email", "Website", "Customer-facing"}  # no internal one
    group = by_name["Customer-facing"]
    assert group["group"] is True
    assert group["components"] == [by_name["Email"]["id"], by_name["Website"]["id"]]
    assert by_name["Email"]["group_id"] == group["id"]
    assert by_name["Email"]["status"] == "partial_outage"
    # Under maintenance while a window covers it and nothing worse does.
    assert by_name["Website"]["status"] == "under_maintenance"
    assert group["status"] == "partial_outage"


def test_an_incident_links_its_updates_page_and_shortlink(
    client: Client, page: SimpleNamespace
) -> None:
    summary = client.get("/api/v2/summary.json").json()
    [incident] = summary["incidents"]
    assert incident["page_id"] == summary["page"]["id"]
    assert [u["status"] for u in incident["incident_updates"]] == [
        "identified",
        "investigating",
    ]
    assert {u["incident_id"] for u in incident["incident_updates"]} == {incident["id"]}
    assert [c["name"] for c in incident["components"]] == ["Email"]
    target = client.get(urlsplit(incident["shortlink"]).path)
    assert target.status_code == 200 and incident["name"] in target.content.decode()


def test_maintenance_updates_follow_its_stage(
    client: Client, page: SimpleNamespace
) -> None:
    [active] = client.get("/api/v2/scheduled-maintenances/active.json").json()[
        "scheduled_maintenances"
    ]
    assert [u["status"] for u in active["incident_updates"]] == [
        "in_progress",
        "scheduled",
    ]
    assert active["incident_updates"][-1]["body"] == "Expect short interruptions."
    assert [c["name"] for c in active["components"]] == ["Website"]


def test_an_unknown_endpoint_is_404(client: Client) -> None:
    assert client.get("/api/v2/pages.json").status_code == 404


def test_unpublished_and_dismissed_entries_are_not_listed(
    client: Client, desk: SimpleNamespace
) -> None:
    incident = major(desk)
    entry = status.status_entry_propose(incident=incident)
    assert client.get("/api/v2/incidents.json").json()["incidents"] == []
    status.status_entry_dismiss(entry=entry, by=desk.manager)
    assert client.get("/api/v2/incidents.json").json()["incidents"] == []
    assert StatusEntry.objects.count() == 1
