"""The agent console in the browser: the queue and the incident page."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents import selectors, services
from incidents.console.queue import countdown
from incidents.models import Incident, IncidentEvent, IncidentNote, MajorIncident
from incidents.services.attachments import attachments_check
from tests.factories import (
    make_incident,
    make_service,
    make_team,
    make_user,
    signed_in,
)
from tests.incidents.conftest import incident_in

pytestmark = pytest.mark.django_db

S = Incident.Status


@pytest.fixture
def browser(org: SimpleNamespace) -> Client:
    client = Client()
    client.force_login(org.agent)
    return client


def numbers(response: Any) -> list[str]:
    return numbers_in(response.content.decode())


def numbers_in(html: str) -> list[str]:
    return re.findall(r">(INC-\d{6})</a>", html)


def page(incident: Incident, tail: str = "") -> str:
    return f"/console/{incident.number}/{tail}"


# ---------------------------------------------------------------- the queue
def test_queue_defaults_to_my_teams_open_incidents(
    org: SimpleNamespace, browser: Client
) -> None:
    mine = incident_in(S.TRIAGED, org)
    elsewhere = make_incident(title="Other team", category=None)
    services.incident_assign(
        incident=elsewhere, by=None, assignee=None, team=make_team()
    )
    closed = incident_in(S.CLOSED, org)
    listed = numbers(browser.get("/console/"))
    assert mine.number in listed
    assert elsewhere.number not in listed and closed.number not in listed


@pytest.mark.parametrize("view", ["mine", "unassigned", "major", "open", "breaching"])
def test_queue_views(org: SimpleNamespace, browser: Client, view: str) -> None:
    taken = incident_in(S.INVESTIGATING, org)  # P2, assigned to the agent
    waiting = incident_in(S.TRIAGED, org)  # P2, unassigned
    minor = services.incident_log(
        by=org.agent, title="Mouse", source="agent", impact="low", urgency="low"
    )
    listed = set(numbers(browser.get("/console/", {"view": view})))
    expected = {
        "mine": {taken.number},
        "unassigned": {waiting.number, minor.number},
        "major": {taken.number, waiting.number},
        "open": {taken.number, waiting.number, minor.number},
        "breaching": {taken.number, waiting.number},  # logged in March: overdue
    }[view]
    assert listed == expected


def test_queue_filters_and_search(org: SimpleNamespace, browser: Client) -> None:
    triaged = incident_in(S.TRIAGED, org)
    new = incident_in(S.NEW, org)
    assert numbers(browser.get("/console/", {"view": "open", "state": "new"})) == [
        new.number
    ]
    found = browser.get("/console/", {"view": "open", "q": triaged.number})
    assert found.headers["Location"] == page(triaged)
    response = browser.get("/console/", {"view": "open", "priority": "9"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_queue_filters_by_service(org: SimpleNamespace, browser: Client) -> None:
    vpn = make_service(name="VPN")
    mail = [make_incident(title=f"Mail {n}", services=[org.service]) for n in range(3)]
    make_incident(title="VPN", services=[vpn])
    make_incident(title="Nothing named")
    both = make_incident(title="Both", services=[org.service, vpn])
    listed = numbers(
        browser.get("/console/", {"view": "open", "service": org.service.pk})
    )
    assert listed == [i.number for i in (both, *reversed(mail))]


def test_queue_pages_by_keyset(org: SimpleNamespace, browser: Client) -> None:
    made = [make_incident(title=f"Alert {n}").number for n in range(55)]
    first = browser.get("/console/", {"view": "open"})
    first_numbers = numbers(first)
    assert len(first_numbers) == 50
    link = re.search(r'href="\?([^"]*after=\d+)"', first.content.decode()).group(1)
    second = browser.get("/console/?" + link.replace("&amp;", "&"))
    second_numbers = numbers(second)
    assert sorted(first_numbers + second_numbers) == sorted(made)
    assert "Older incidents" not in second.content.decode()


@pytest.mark.parametrize("spelling", ["INC-{:06d}", "inc-{}", "{}", " {:04d} "])
def test_queue_search_by_number_finds_that_incident_alone(
    org: SimpleNamespace, browser: Client, spelling: str
) -> None:
    wanted = make_incident(title="Mail is down")
    # Text containing the number is not a match: a number names one incident.
    make_incident(title=f"Disk full on db-{wanted.pk}")
    make_incident(title="Other", description=f"see {wanted.number}")
    term = spelling.format(wanted.pk)
    # The page opens it; the table (polled by the page) lists it alone.
    response = browser.get("/console/", {"view": "open", "q": term})
    assert (response.status_code, response.headers["Location"]) == (302, page(wanted))
    table = browser.get(
        "/console/", {"view": "open", "q": term}, HTTP_HX_REQUEST="true"
    )
    assert numbers(table) == [wanted.number]


def test_a_number_search_opens_the_incident_from_any_view(
    org: SimpleNamespace, browser: Client
) -> None:
    # Cancelled and in no team of the agent: no view would list it.
    elsewhere = make_incident(title="Old VPN trouble", category=None)
    services.incident_cancel(incident=elsewhere, by=None, reason="Duplicate call")
    for view in ("team", "mine", "unassigned", "open", "major", "breaching"):
        response = browser.get("/console/", {"view": view, "q": elsewhere.number})
        assert response.headers["Location"] == page(elsewhere), view


def test_a_number_search_for_what_one_may_not_see_opens_nothing(
    org: SimpleNamespace,
) -> None:
    theirs = make_incident(title="Someone else's")
    client = signed_in(org.requester)  # no console, and not their incident
    assert client.get("/console/", {"q": theirs.number}).status_code == 403
    missing = signed_in(org.agent).get("/console/", {"q": "INC-999999"})
    assert missing.status_code == 200
    assert "No incidents here." in missing.content.decode()


def test_a_search_without_hits_here_says_how_many_other_views_have(
    org: SimpleNamespace, browser: Client
) -> None:
    other = make_team(name="Network")
    for n in range(2):
        services.incident_assign(
            incident=make_incident(title=f"VPN drops {n}"),
            by=None,
            assignee=None,
            team=other,
        )
    html = browser.get("/console/", {"view": "team", "q": "vpn"}).content.decode()
    assert "No incidents here." in html
    assert (
        '<a href="?view=open&amp;q=vpn">2 open incidents in All open</a> match' in html
    )
    nothing = browser.get("/console/", {"view": "team", "q": "printer"}).content
    assert "No open incident matches this search in any view." in nothing.decode()
    # Made in "All open" with no other filter: nowhere else to point to.
    html = browser.get("/console/", {"view": "open", "q": "printer"}).content.decode()
    assert "in any view" not in html and "No incidents here." in html


def test_queue_search_by_text_matches_title_or_description(
    org: SimpleNamespace, browser: Client
) -> None:
    title = make_incident(title="DNS lookups time out")
    description = make_incident(title="Slow web", description="resolver: dns errors")
    make_incident(title="Disk full")
    response = browser.get("/console/", {"view": "open", "q": "Dns"})
    assert numbers(response) == [description.number, title.number]
    assert numbers(browser.get("/console/", {"view": "open", "q": "kernel"})) == []


@pytest.mark.postgres
def test_queue_text_search_has_trigram_indexes_on_postgres() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'incidents_incident' AND indexname LIKE %s",
            ["%_trgm"],
        )
        indexes = dict(cursor.fetchall())
    assert set(indexes) == {"incident_title_trgm", "incident_description_trgm"}
    assert all("gin_trgm_ops" in definition for definition in indexes.values())


def _walk(browser: Client, params: dict[str, str]) -> list[str]:
    """Every number the queue lists, following "Older incidents" to the end."""
    listed: list[str] = []
    query = "&".join(f"{k}={v}" for k, v in params.items())
    while True:
        response = browser.get("/console/?" + query)
        listed += numbers(response)
        html = response.content.decode()
        more = re.search(r'href="\?([^"]*after=[\d.]+)"', html)
        if more is None:
            return listed
        query = more.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("sort", ["newest", "priority"])
def test_queue_pages_through_every_incident_once(
    org: SimpleNamespace, browser: Client, monkeypatch: Any, sort: str
) -> None:
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 3)
    levels = [("high", "high"), ("low", "low"), (None, None), ("high", "medium")]
    made = [
        make_incident(title=f"Alert {n}", impact=impact or "", urgency=urgency or "")
        for n in range(4)
        for impact, urgency in levels
    ]
    if sort == "priority":  # P1, P2, P3, P4, none; newest first within each
        made.sort(key=lambda i: (i.priority or 9, -i.pk))
    else:
        made.sort(key=lambda i: -i.pk)
    listed = _walk(browser, {"view": "open", "sort": sort})
    assert listed == [incident.number for incident in made]


def test_queue_poll_returns_only_the_table(
    org: SimpleNamespace, browser: Client
) -> None:
    incident_in(S.TRIAGED, org)
    response = browser.get("/console/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("<table") and "<html" not in html


@pytest.mark.parametrize("count", [3, 30])
def test_queue_costs_constant_queries(
    org: SimpleNamespace, browser: Client, django_assert_num_queries: Any, count: int
) -> None:
    for _ in range(count):
        incident_in(S.TRIAGED, org)
    # the user, the page of incidents, their services (the session and the
    # permissions come from the cache); the first time also the categories,
    # teams, services and team members the selects offer (and which teams are
    # mine), which later requests take from the cache
    with django_assert_num_queries(7):
        assert browser.get("/console/").status_code == 200
    with django_assert_num_queries(3):
        assert browser.get("/console/").status_code == 200
    with django_assert_num_queries(3):
        response = browser.get("/console/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200


def test_my_teams_follows_a_change_of_membership_and_plans_no_subquery(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.TRIAGED, org)  # routed to the agent's team

    def my_teams() -> str:
        return browser.get("/console/?view=team").content.decode()

    assert incident.number in my_teams()
    org.team.members.remove(org.agent)
    org.upper.members.add(org.agent)
    assert incident.number not in my_teams()
    # The teams come from the cached options: the statement names them, and the
    # database plans no look-up of the membership table for it.
    with CaptureQueriesContext(connection) as captured:
        my_teams()
    page = [q["sql"] for q in captured if 'FROM "incidents_incident"' in q["sql"]]
    assert len(page) == 1 and "incidents_team_members" not in page[0]


def test_queue_selects_follow_changes_at_once(
    org: SimpleNamespace, browser: Client
) -> None:
    assert "Payroll" not in browser.get("/console/").content.decode()
    make_service(name="Payroll")
    org.team.members.add(make_user(username="casey"))
    html = browser.get("/console/").content.decode()
    assert ">Payroll</option>" in html and ">casey</option>" in html
    org.team.members.remove(org.agent)
    assert ">alex</option>" not in browser.get("/console/").content.decode()


@pytest.mark.usefixtures("cache_down")
def test_queue_and_saves_work_with_the_cache_down(
    org: SimpleNamespace, browser: Client
) -> None:
    incident_in(S.TRIAGED, org)
    make_service(name="Payroll")  # clearing the options fails; the save does not
    html = browser.get("/console/").content.decode()
    assert ">Payroll</option>" in html and len(numbers_in(html)) == 1


def test_queue_row_shows_what_the_table_says(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.TRIAGED, org)  # P2, overdue since March
    fresh = services.incident_log(
        by=org.agent,
        title="Disk <full>",
        source="agent",
        category=org.category,
        impact="low",
        urgency="low",
        services=[org.service],
    )
    html = browser.get("/console/", {"view": "open"}).content.decode()
    row = re.search(
        rf"<tr class=\"p2 breached\">.*?{incident.number}.*?</tr>", html, re.S
    )
    assert row and row.group(0).count("missed") == 2
    row = re.search(rf"<tr class=\"p4\">.*?{fresh.number}.*?</tr>", html, re.S)
    assert row is not None, html
    cells = row.group(0)
    assert f'href="/console/{fresh.number}/"' in cells
    assert "Disk &lt;full&gt;" in cells and '<span class="tag">Email</span>' in cells
    assert ">P4</span>" in cells and "Service Desk" in cells
    # both targets ahead, counting down (the calendar decides how far)
    countdowns = r"<time datetime=\"[^\"]+\">\d+ (?:d \d+ h|h \d+ min|min)</time>"
    assert len(re.findall(countdowns, cells)) == 2


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (59, "0 min"),
        (45 * 60, "45 min"),
        (3 * 3600 + 300, "3 h 5 min"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
    ],
)
def test_queue_countdown(seconds: float, text: str) -> None:
    assert countdown(seconds) == text


def test_requester_cannot_open_the_console(org: SimpleNamespace) -> None:
    incident = incident_in(S.NEW, org)
    client = Client()
    client.force_login(org.requester)
    assert client.get("/console/").status_code == 403
    assert client.get(page(incident)).status_code == 403
    response = client.post(page(incident, "note/"), {"kind": "reply", "body": "x"})
    assert response.status_code == 403


def test_console_does_not_let_a_manager_confirm_for_the_requester(
    org: SimpleNamespace,
) -> None:
    incident = incident_in(S.RESOLVED, org)
    client = Client()
    client.force_login(org.incident_manager)
    html = client.get(page(incident)).content.decode()
    assert "Confirm the fix" not in html
    response = client.post(page(incident, "confirm/"), {"version": incident.version})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED


# ---------------------------------------------------------------- the incident page
def test_page_offers_only_what_the_state_allows(
    org: SimpleNamespace, browser: Client
) -> None:
    html = browser.get(page(incident_in(S.TRIAGED, org))).content.decode()
    offered = re.findall(r"<summary>([^<]+)</summary>", html)
    assert "Take and start work" in offered and "Cancel" in offered
    assert "Resolve" not in offered and "Reopen" not in offered


@pytest.mark.parametrize("extra", [0, 12])
def test_page_costs_constant_queries(
    org: SimpleNamespace,
    browser: Client,
    django_assert_num_queries: Any,
    extra: int,
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    for n in range(extra):
        services.incident_add_note(
            incident=incident, by=org.agent, kind="reply", body=f"n{n}"
        )
        services.incident_post_update(incident=incident, by=org.agent, body=f"u{n}")
        services.incident_reply(
            incident=incident,
            by=org.agent,
            body=f"file {n}",
            files=attachments_check([SimpleUploadedFile(f"{n}.log", b"ok")]),
        )
    # The SLA policies come from the cache, filled by the writes above. The P2
    # is a major incident: its record is one of them, its responders and
    # stakeholders one more; the collapsed actions' forms (and their choices)
    # are fetched when opened.
    with django_assert_num_queries(12):
        assert browser.get(page(incident)).status_code == 200
    # Shown again unchanged, the page is kept (incidents.console.page): the user,
    # the incident with its stamp, and the SLA clocks' spans.
    with django_assert_num_queries(3):
        assert browser.get(page(incident)).status_code == 200


def test_note_is_added_and_the_page_comes_back(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = browser.post(
        page(incident, "note/"),
        {
            "kind": "work_note",
            "body": "Relay logs show TLS errors",
            "version": incident.version,
        },
    )
    assert response.status_code == 302 and response["Location"] == page(incident)
    note = incident.notes.last()
    assert (note.kind, note.body) == (
        IncidentNote.Kind.WORK_NOTE,
        "Relay logs show TLS errors",
    )


def test_saved_note_tells_the_browser_to_drop_its_draft(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    key = f"itsm:draft:{org.agent.pk}:{incident.number}:note"
    html = browser.get(page(incident)).content.decode()
    assert f'data-draft="{key}"' in html and "data-draft-saved" not in html
    response = browser.post(
        page(incident, "note/"),
        {"kind": "work_note", "body": "Checked the relay", "version": 1},
        follow=True,
    )
    assert f'data-draft-saved="{key}"' in response.content.decode()
    # once shown, the confirmation is gone: a reload keeps a new draft
    assert "data-draft-saved" not in browser.get(page(incident)).content.decode()


def test_failed_action_keeps_the_draft(org: SimpleNamespace, browser: Client) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = browser.post(
        page(incident, "resolve/"),
        {"resolution_kind": "workaround", "resolution": "Restarted", "version": 1},
    )
    assert response.status_code == 400
    assert "data-draft-saved" not in response.content.decode()


def test_logged_incident_tells_the_browser_to_drop_the_new_form_draft(
    org: SimpleNamespace, browser: Client
) -> None:
    key = f"itsm:draft:{org.agent.pk}:new:incident"
    assert f'data-draft="{key}"' in browser.get("/console/new/").content.decode()
    response = browser.post("/console/new/", {"title": "Printer on fire"}, follow=True)
    html = response.content.decode()
    assert f'data-draft-saved="{key}"' in html and "Logged INC-" in html


@pytest.mark.parametrize(
    ("referer", "back"),
    [
        ("http://testserver/console/INC-000001/", "/console/INC-000001/"),
        ("http://testserver/console/?view=mine", "/console/?view=mine"),
        ("https://elsewhere.example/console/INC-000001/", "/console/"),
        ("http://testserver/admin/", "/console/"),
        ("", "/console/"),
    ],
)
def test_form_sent_with_an_expired_session_comes_back_to_its_page(
    org: SimpleNamespace, referer: str, back: str
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = Client().post(
        page(incident, "note/"),
        {"kind": "work_note", "body": "Lost?", "version": 1},
        HTTP_REFERER=referer,
    )
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.path, parse_qs(location.query)) == ("/login/", {"next": [back]})
    assert not incident.notes.exists()


def test_failed_resolve_keeps_the_text_and_says_why(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    response = browser.post(
        page(incident, "resolve/"),
        {
            "resolution_kind": "workaround",
            "resolution": "Restarted the relay at 03:12",
            "verification": "",
            "version": incident.version,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Restarted the relay at 03:12" in html
    assert "This field is required." in html
    incident.refresh_from_db()
    assert incident.status == S.INVESTIGATING


def test_a_change_made_meanwhile_is_a_conflict_with_the_text_kept(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    seen = incident.version
    services.incident_escalate(incident=incident, by=org.agent, reason="DBA needed")
    response = browser.post(
        page(incident, "resolve/"),
        {
            "resolution_kind": "workaround",
            "resolution": "Cleared the queue by hand",
            "verification": "Mail flows again",
            "version": seen,
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else" in html
    assert "Cleared the queue by hand" in html
    incident.refresh_from_db()
    assert incident.status == S.INVESTIGATING and incident.resolution == ""


def test_action_not_allowed_now_is_409(org: SimpleNamespace, browser: Client) -> None:
    incident = incident_in(S.NEW, org)
    response = browser.post(
        page(incident, "resolve/"),
        {
            "resolution_kind": "workaround",
            "resolution": "x",
            "verification": "y",
            "version": incident.version,
        },
    )
    assert response.status_code == 409
    assert "it is new" in response.content.decode()


def test_an_action_answers_get_with_its_form_and_nothing_else(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.NEW, org)
    form = browser.get(page(incident, "triage/"), HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    html = form.content.decode()
    assert html.lstrip().startswith("<form") and 'id="triage-category"' in html
    assert "<html" not in html
    # Without htmx (no JavaScript: the placeholder's link), a page of its own.
    assert "<html" in browser.get(page(incident, "triage/")).content.decode()
    assert browser.put(page(incident, "note/")).status_code == 405
    assert browser.post(page(incident, "explode/")).status_code == 404
    assert browser.get(page(incident, "explode/")).status_code == 404


def test_a_form_not_offered_now_is_not_served(
    org: SimpleNamespace, browser: Client
) -> None:
    """A new incident cannot be resolved: its resolve form is refused with why,
    and changes nothing."""
    incident = incident_in(S.NEW, org)
    answer = browser.get(page(incident, "resolve/"), HTTP_HX_REQUEST="true")
    assert answer.status_code == 409
    assert "no longer offered" in answer.content.decode()
    assert "<form" not in answer.content.decode()
    requester = signed_in(org.requester)
    assert requester.get(page(incident, "triage/")).status_code in (302, 403)


def test_the_page_holds_only_the_forms_its_first_screen_shows(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    html = browser.get(page(incident)).content.decode()
    assert 'id="note-body"' in html  # open on the page
    assert 'id="resolve-resolution"' not in html and 'id="edit-title"' not in html
    for action in ("resolve", "assign", "edit", "escalate"):
        url = f"/console/{incident.number}/{action}/"
        assert f'data-lazy-form="{url}"' in html and f'href="{url}"' in html


def test_the_collapsed_actions_follow_the_state_the_incident_and_the_person(
    org: SimpleNamespace, browser: Client
) -> None:
    # Kept as fragments: each change must show at the next load.
    working = incident_in(S.INVESTIGATING, org)
    html = browser.get(page(working)).content.decode()
    assert 'id="act-resolve"' in html and 'id="act-assign"' in html
    assert f'data-draft-lazy="itsm:draft:{org.agent.pk}:{working.number}:' in html
    done = incident_in(S.RESOLVED, org)
    html = browser.get(page(done)).content.decode()
    assert 'id="act-reopen"' in html and 'id="act-assign"' not in html
    assert f"/console/{done.number}/reopen/" in html
    assert working.number not in html
    manager = signed_in(org.incident_manager)
    html = manager.get(page(working)).content.decode()
    assert f'data-draft-lazy="itsm:draft:{org.incident_manager.pk}:' in html
    assert f'data-draft-lazy="itsm:draft:{org.agent.pk}:' not in html


def test_user_text_is_escaped_on_the_page(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = services.incident_log(
        by=org.agent, title="<script>alert(1)</script>", source="agent"
    )
    html = browser.get(page(incident)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_user_text_is_escaped_in_the_queue_and_its_selects(
    org: SimpleNamespace, browser: Client
) -> None:
    make_service(name="<img src=x onerror=alert(1)>")
    org.category.name = "<b>Soft</b>"
    org.category.save()
    services.incident_log(
        by=org.agent,
        title="<script>alert(2)</script>",
        source="agent",
        category=org.category,
    )
    html = browser.get("/console/", {"view": "open"}).content.decode()
    for raw in ("<img src=x", "<b>Soft</b>", "<script>alert(2)"):
        assert raw not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;b&gt;Soft&lt;/b&gt;" in html


def test_new_incident_form_logs_and_redirects(
    org: SimpleNamespace, browser: Client
) -> None:
    response = browser.post(
        "/console/new/",
        {
            "title": "Printer on fire",
            "category": org.category.pk,
            "impact": "high",
            "urgency": "medium",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == page(incident)
    assert (incident.priority, incident.team, incident.source) == (2, org.team, "agent")
    assert browser.post("/console/new/", {"title": ""}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"team": str(2**70)},
        {"q": "INC-" + "9" * 30},
        {"after": "9" * 30},
        {"after": "1.9"},
    ],
)
def test_queue_answers_numbers_beyond_64_bits(
    org: SimpleNamespace, browser: Client, params: dict
) -> None:
    assert browser.get("/console/", {"view": "open", **params}).status_code == 200


def test_page_of_a_number_beyond_64_bits_is_404(browser: Client) -> None:
    assert browser.get("/console/INC-" + "9" * 30 + "/").status_code == 404


@pytest.mark.parametrize(
    ("impact", "urgency", "answer"),
    [
        ("high", "high", "P1 critical"),
        ("low", "medium", "P4 low"),
        ("", "high", "set impact"),
    ],
)
def test_new_form_shows_priority_live(
    browser: Client, impact: str, urgency: str, answer: str
) -> None:
    response = browser.get("/console/priority/", {"impact": impact, "urgency": urgency})
    assert response.content.decode().startswith(answer)


def test_bulk_assign_assigns_each_and_reports_each(
    org: SimpleNamespace, browser: Client
) -> None:
    first, second = incident_in(S.TRIAGED, org), incident_in(S.TRIAGED, org)
    outside = make_incident(title="No team")  # nobody in its (empty) team
    response = browser.post(
        "/console/bulk-assign/",
        {
            "incident": [first.number, second.number, outside.number],
            "assignee": org.agent.pk,
            "next": "/console/?view=unassigned",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/console/?view=unassigned"
    html = response.content.decode()
    assert f"Assigned to alex: {first.number}, {second.number}." in html
    assert f"{outside.number}: Choose a team first." in html
    for incident in (first, second, outside):
        incident.refresh_from_db()
    assert first.assignee == second.assignee == org.agent and outside.assignee is None


def test_bulk_assign_needs_a_selection(org: SimpleNamespace, browser: Client) -> None:
    response = browser.post(
        "/console/bulk-assign/", {"assignee": org.agent.pk}, follow=True
    )
    assert "Select the incidents to assign first." in response.content.decode()


def test_bulk_assign_only_to_agents_of_my_teams(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.TRIAGED, org)
    browser.post(
        "/console/bulk-assign/",
        {"incident": [incident.number], "assignee": org.requester.pk},
        follow=True,
    )
    incident.refresh_from_db()
    assert incident.assignee is None


def test_page_shows_the_newest_timeline_entries_only(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    start = incident.logged_at
    IncidentEvent.objects.bulk_create(
        IncidentEvent(
            incident=incident,
            kind=IncidentEvent.Kind.ALERT_OCCURRENCE,
            at=start + timedelta(seconds=n),
            data={"rule": f"storm {n}"},
        )
        for n in range(selectors.TIMELINE_LIMIT + 5)
    )

    def timeline(query: str = "") -> str:
        html = browser.get(page(incident) + query).content.decode()
        return html.split('id="timeline-h"')[1].split("</section>")[0]

    first = timeline()
    assert first.count("<li>") == selectors.TIMELINE_SHOWN
    assert f"storm {selectors.TIMELINE_LIMIT + 4}" in first  # the newest
    assert f"Only the newest {selectors.TIMELINE_SHOWN} entries are shown" in first
    assert "?timeline=all" in first
    more = timeline("?timeline=all")
    assert more.count("<li>") == selectors.TIMELINE_LIMIT
    assert "storm 0<" not in more
    assert "Only the newest 200 entries are shown;" in more


def test_page_shows_the_newest_notes_until_asked_for_all(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    start = incident.logged_at
    IncidentNote.objects.bulk_create(
        IncidentNote(
            incident=incident,
            kind=IncidentNote.Kind.WORK_NOTE,
            author=org.agent,
            body=f"Checked relay {n}.",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(selectors.NOTES_SHOWN + 3)
    )

    def conversation(query: str = "") -> str:
        html = browser.get(page(incident) + query).content.decode()
        return html.split('id="conversation-h"')[1].split("</ol>")[0]

    first = conversation()
    assert first.count("Checked relay") == selectors.NOTES_SHOWN
    assert "Checked relay 2." not in first and "Checked relay 3." in first
    assert f"Checked relay {selectors.NOTES_SHOWN + 2}." in first  # the newest
    assert first.index("Checked relay 3.") < first.index("Checked relay 4.")
    assert "?notes=all" in first
    every = conversation("?notes=all")
    assert every.count("Checked relay") == selectors.NOTES_SHOWN + 3
    assert "?notes=all" not in every


def test_a_short_timeline_is_shown_whole(org: SimpleNamespace) -> None:
    incident = incident_in(S.INVESTIGATING, org)
    found = selectors.incident_timeline(incident=incident)
    assert not found.truncated
    assert len(found.rows) == incident.events.count()


def test_an_ended_incident_offers_no_major_declaration(org: SimpleNamespace) -> None:
    closed, live = incident_in(S.CLOSED, org), incident_in(S.INVESTIGATING, org)
    # The org's incidents are P2s, declared major by the system: as if they were
    # not, so that only the state decides.
    MajorIncident.objects.filter(incident__in=[closed, live]).delete()
    manager = signed_in(org.incident_manager)
    html = manager.get(page(closed)).content.decode()
    assert "act-declare_major" not in html and "Declare major incident" not in html
    answer = manager.get(page(closed, "declare_major/"), HTTP_HX_REQUEST="true")
    assert answer.status_code == 409
    assert "act-declare_major" in manager.get(page(live)).content.decode()
    answer = manager.get(page(live, "declare_major/"), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and 'id="declare_major-' in answer.content.decode()


# ---------------------------------------------------------------- kept fragments
def test_the_page_shows_what_changed_since_it_was_last_rendered(
    org: SimpleNamespace, browser: Client
) -> None:
    # The timeline, notes and updates are kept by what they print
    # (itsm.fragments); each change below must still show at the next load.
    incident = incident_in(S.INVESTIGATING, org)
    before = browser.get(page(incident)).content.decode()
    services.incident_add_note(
        incident=incident, by=org.agent, kind="work_note", body="Relay restarted"
    )
    services.incident_post_update(incident=incident, by=org.agent, body="Mitigated")
    old_name = org.agent.username
    assert f"· {old_name}" in before
    org.agent.username = "renamed-agent"
    org.agent.save(update_fields=["username"])
    after = browser.get(page(incident)).content.decode()
    assert "Relay restarted" not in before and "Relay restarted" in after
    assert "Mitigated" not in before and "Mitigated" in after
    assert after.count("· Work note ·") == before.count("· Work note ·") + 1
    # Every line naming the agent names them as they are called now.
    assert "· renamed-agent ·" in after
    for shown in (f"· {old_name} ·", f"· {old_name}:", f"· {old_name}</li>"):
        assert shown not in after


def test_the_queue_shows_a_change_at_the_next_load(
    org: SimpleNamespace, browser: Client
) -> None:
    incident = incident_in(S.TRIAGED, org)
    assert "Printer on fire" not in browser.get("/console/").content.decode()
    incident = services.incident_update(
        incident=incident, by=org.agent, title="Printer on fire"
    )
    assert "Printer on fire" in browser.get("/console/").content.decode()
    services.incident_assign(incident=incident, by=org.agent, assignee=org.agent)
    row = re.search(
        rf"<tr[^>]*>(?:(?!</tr>).)*{incident.number}(?:(?!</tr>).)*</tr>",
        browser.get("/console/").content.decode(),
        re.S,
    )
    assert row is not None and org.agent.username in row.group(0)


def test_the_filters_show_what_was_chosen_at_every_load(browser: Client) -> None:
    # The selects are kept by what they print: the chosen option is part of it.
    def selected(query: dict[str, str]) -> list[str]:
        html = browser.get("/console/", query).content.decode()
        select = html.split('<select name="state"')[1].split("</select>")[0]
        return re.findall(r'<option value="([^"]*)" selected>', select)

    assert selected({"view": "open"}) == [""]
    assert selected({"view": "open", "state": "new"}) == ["new"]
    assert selected({"view": "open", "state": "triaged"}) == ["triaged"]
    assert selected({"view": "open"}) == [""]
