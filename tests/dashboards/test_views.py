"""The dashboard pages: who sees what, every figure's list holding exactly as
many incidents as the figure, CSV downloads, constant query counts."""

from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client

from dashboards.models import DigestSubscription
from tests.dashboards.conftest import NOW
from tests.factories import make_user

pytestmark = pytest.mark.django_db

WEEK = "?start=2026-03-02&end=2026-03-08"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def at_now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def figure_links(html: str) -> list[tuple[str, int]]:
    """Every link of the page to a figure's incidents, with the figure shown."""
    found = re.findall(r'<a href="(/dashboards/incidents/\?[^"]+)">([\d,]+)</a>', html)
    return [
        (url.replace("&amp;", "&"), int(text.replace(",", ""))) for url, text in found
    ]


def listed_count(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    match = re.search(r'<span class="count">(\d+)</span>', response.content.decode())
    assert match, url
    return int(match.group(1))


@pytest.mark.parametrize("who", ["manager", "incident_manager", "agent"])
def test_every_figure_lists_exactly_its_incidents(
    refreshed: SimpleNamespace, at_now: Any, who: str
) -> None:
    client = client_for(getattr(refreshed.people, who))
    response = client.get(f"/dashboards/{WEEK}")
    assert response.status_code == 200
    links = figure_links(response.content.decode())
    figures = {parse_qs(urlsplit(url).query)["figure"][0] for url, _ in links}
    assert figures >= {
        "opened",
        "reopened",
        "known_error",
        "response_met",
        "response_missed",
        "resolution_met",
        "resolution_missed",
        "acknowledged",
        "resolved",
        "breaching",
        "update_overdue",
        "backlog",
    }
    for url, shown in links:
        assert listed_count(client, url) == shown, url


def test_a_filtered_dashboard_links_to_filtered_lists(
    refreshed: SimpleNamespace, at_now: Any
) -> None:
    client = client_for(refreshed.people.manager)
    response = client.get(f"/dashboards/{WEEK}&priority=1")
    links = figure_links(response.content.decode())
    assert links
    for url, shown in links:
        assert parse_qs(urlsplit(url).query)["priority"] == ["1"]
        assert listed_count(client, url) == shown


def test_an_agent_sees_only_their_teams(
    refreshed: SimpleNamespace, at_now: Any
) -> None:
    outsider = client_for(refreshed.people.outsider)
    page = outsider.get(f"/dashboards/{WEEK}").content.decode()
    assert "Your teams' incidents only" in page
    assert figure_links(page) == []  # nothing in the Network team
    # The other team's incidents are not listed to them, even asked for.
    own = client_for(refreshed.people.agent).get(f"/dashboards/{WEEK}")
    url = dict((u.split("&")[0], u) for u, _ in figure_links(own.content.decode()))
    opened = next(
        u for u, _ in figure_links(own.content.decode()) if "figure=opened" in u
    )
    assert listed_count(outsider, opened) == 0
    assert url  # the agent of the team does see figures
    # A team they are not in cannot be chosen.
    response = outsider.get(f"/dashboards/{WEEK}&team={refreshed.people.team.pk}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/dashboards/",
        "/dashboards/incidents/?figure=opened",
        "/dashboards/headline.csv",
    ],
)
def test_a_requester_gets_404(refreshed: SimpleNamespace, path: str) -> None:
    assert client_for(refreshed.people.requester).get(path).status_code == 404
    assert client_for(make_user()).get(path).status_code == 404


def test_anonymous_people_go_to_login(client: Client) -> None:
    response = client.get("/dashboards/")
    assert response.status_code == 302
    assert "/login/?next=/dashboards/" in response["Location"]


def test_the_page_says_how_fresh_and_which_time(
    refreshed: SimpleNamespace, at_now: Any
) -> None:
    page = client_for(refreshed.people.manager).get("/dashboards/").content.decode()
    assert "Figures as of" in page and "2026-03-04 12:00:00" in page
    assert "Days and times in UTC" in page
    assert "business time" in page and "real time" in page


def test_figures_not_computed_yet_say_so(people: SimpleNamespace) -> None:
    page = client_for(people.manager).get("/dashboards/").content.decode()
    assert "Figures not computed yet" in page


@pytest.mark.parametrize(
    "query",
    [
        "?start=2026-03-08&end=2026-03-02",
        "?start=2026-03-02",
        "?start=2020-01-01&end=2026-01-01",
        "?period=forever",
        "?priority=9",
        "?team=abc",
    ],
)
def test_bad_periods_and_filters_are_400(people: SimpleNamespace, query: str) -> None:
    response = client_for(people.manager).get(f"/dashboards/{query}")
    assert response.status_code == 400
    assert 'class="form-error"' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?figure=nonsense",
        "?figure=opened&since=yesterday",
        "?figure=opened&since=2026-03-03T00:00:00Z&until=2026-03-02T00:00:00Z",
    ],
)
def test_bad_figure_lists_are_400(people: SimpleNamespace, query: str) -> None:
    response = client_for(people.manager).get(f"/dashboards/incidents/{query}")
    assert response.status_code == 400


def test_csv_of_each_table(refreshed: SimpleNamespace, at_now: Any) -> None:
    client = client_for(refreshed.people.manager)
    page = client.get(f"/dashboards/{WEEK}").content.decode()
    names = re.findall(r'href="/dashboards/([a-z_]+)\.csv\?', page)
    assert set(names) == {
        "headline",
        "compliance_priority",
        "compliance_team",
        "compliance_category",
        "compliance_service",
        "times",
        "volume",
        "backlog",
        "communication",
        "noise",
    }
    response = client.get(f"/dashboards/compliance_priority.csv{WEEK}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        "compliance_priority-20260302-20260308.csv" in response["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "Priority",
            "Response met",
            "Response missed",
            "Response %",
            "Resolution met",
            "Resolution missed",
            "Resolution %",
        ],
        ["1", "0", "2", "0.0", "0", "2", "0.0"],
        ["3", "2", "1", "66.7", "2", "0", "100.0"],
    ]
    assert client.get(f"/dashboards/nonsense.csv{WEEK}").status_code == 404


def test_the_dashboard_costs_the_same_queries_whatever_it_shows(
    refreshed: SimpleNamespace, at_now: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(refreshed.people.manager)
    client.get("/dashboards/")  # the session and permissions, once
    # user, names (3), state, 5 rollup reads, reviews (the session and the
    # permissions come from the cache)
    # and action items (2), digest
    with django_assert_num_queries(13):
        client.get(f"/dashboards/{WEEK}")
    with django_assert_num_queries(13):
        client.get(
            f"/dashboards/?period=quarter&priority=1&service={refreshed.people.service.pk}"
        )


def test_the_same_dashboard_again_comes_from_the_cache_until_the_next_refresh(
    refreshed: SimpleNamespace, at_now: Any, django_assert_num_queries: Any
) -> None:
    from dashboards.services import rollup_refresh
    from incidents import services

    client = client_for(refreshed.people.manager)
    url = f"/dashboards/{WEEK}"
    assert 'Open and past a target now</th><td class="num"><a' in (
        client.get(url).content.decode()
    )
    # user, names (3), state, digest: no rollup read
    with django_assert_num_queries(6):
        client.get(url)
    p = refreshed.people
    services.incident_triage(
        incident=refreshed.f,
        by=p.agent,
        category=p.category,
        impact="medium",
        urgency="medium",
    )
    services.incident_start_work(incident=refreshed.f, by=p.agent)
    rollup_refresh(now=NOW)  # a new token: the page reads the new rollups
    with django_assert_num_queries(13):
        page = client.get(url).content.decode()
    breaching = re.search(r"Open and past a target now</th><td[^>]*>(.*?)</td>", page)
    assert ">1</a>" in breaching.group(1)  # D only now


def test_an_agents_dashboard_adds_one_query_for_their_teams(
    refreshed: SimpleNamespace, at_now: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(refreshed.people.agent)
    with django_assert_num_queries(14):
        client.get(f"/dashboards/{WEEK}")


def test_digest_opt_in_and_out(people: SimpleNamespace) -> None:
    client = client_for(people.manager)
    response = client.post(
        "/dashboards/digest/", {"subscribe": "on", "next": "/dashboards/?period=7d"}
    )
    assert (
        response.status_code == 302 and response["Location"] == "/dashboards/?period=7d"
    )
    assert DigestSubscription.objects.filter(user=people.manager).exists()
    assert "Stop the weekly digest" in client.get("/dashboards/").content.decode()
    client.post("/dashboards/digest/", {"next": "https://elsewhere.example/"})
    assert not DigestSubscription.objects.filter(user=people.manager).exists()
    requester = client_for(people.requester)
    assert requester.post("/dashboards/digest/", {"subscribe": "on"}).status_code == 404
    assert not DigestSubscription.objects.filter(user=people.requester).exists()
