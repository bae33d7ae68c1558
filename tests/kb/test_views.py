"""The knowledge base's pages: the console's /kb/, the incident page's panels, and
the portal's help articles and report suggestions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents import services as incident_services
from incidents.models import Impact, Incident, IncidentEvent, Problem, Urgency
from incidents.roles import Role
from kb import services
from kb.models import Article
from kb.search import article_search
from kb.selectors import articles_visible_to, reads_internal
from tests.factories import make_category, make_team, make_user
from tests.kb.conftest import make_article

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kb(desk: Any) -> SimpleNamespace:
    """A public and an internal published article, a draft of the desk, a draft of
    another team, a retired article; and a requester."""
    team, agent, lead = desk
    other_team = make_team(name="Systems")
    outsider = make_user(role=Role.AGENT, username="sam")
    other_team.members.add(outsider)
    return SimpleNamespace(
        team=team,
        agent=agent,
        lead=lead,
        outsider=outsider,
        requester=make_user(role=Role.REQUESTER, username="rita"),
        public=make_article(
            team=team,
            by=agent,
            publish_by=lead,
            title="VPN disconnects every hour",
            symptoms="The VPN drops while you work.",
            body="Turn on **Keep connection alive**.",
            audience="public",
        ),
        internal=make_article(
            team=team,
            by=agent,
            publish_by=lead,
            title="Fail over the VPN concentrator",
            body="Make the standby active.",
            audience="internal",
            kind="runbook",
        ),
        draft=make_article(team=team, by=agent, title="VPN draft notes"),
        other_draft=make_article(team=other_team, by=outsider, title="VPN secrets"),
    )


# ---------------------------------------------------------------- who reads what
def test_visibility_by_role(kb: SimpleNamespace) -> None:
    def visible(user: Any) -> set[int]:
        return set(articles_visible_to(user).values_list("pk", flat=True))

    assert visible(kb.requester) == {kb.public.pk}
    assert visible(kb.agent) == {kb.public.pk, kb.internal.pk, kb.draft.pk}
    assert visible(kb.outsider) == {kb.public.pk, kb.internal.pk, kb.other_draft.pk}
    assert visible(make_user()) == set()


def test_search_results_are_always_openable_by_the_same_person(
    kb: SimpleNamespace,
) -> None:
    for user in (kb.requester, kb.agent, kb.outsider):
        client = _client(user)
        for query in ("vpn", "vpn concentrator", "draft notes", "secrets", "vnp"):
            result = article_search(
                articles=articles_visible_to(user),
                query=query,
                public_vocabulary=not reads_internal(user),
            )
            for article in result.articles:
                url = (
                    f"/kb/{article.number}/"
                    if reads_internal(user)
                    else f"/portal/kb/{article.number}/"
                )
                assert client.get(url).status_code == 200, (user, query, url)


def test_requester_gets_404_for_internal_draft_and_missing_articles(
    kb: SimpleNamespace,
) -> None:
    client = _client(kb.requester)
    assert client.get(f"/portal/kb/{kb.public.number}/").status_code == 200
    for article in (kb.internal, kb.draft):
        assert client.get(f"/portal/kb/{article.number}/").status_code == 404
    assert client.get("/portal/kb/KB-999999/").status_code == 404
    assert client.get("/portal/kb/not-a-number/").status_code == 404
    assert client.get(f"/kb/{kb.public.number}/").status_code == 403


def test_agent_gets_404_for_another_teams_draft(kb: SimpleNamespace) -> None:
    client = _client(kb.agent)
    assert client.get(f"/kb/{kb.other_draft.number}/").status_code == 404
    assert client.get(f"/kb/{kb.draft.number}/").status_code == 200


def test_portal_search_shows_public_articles_only(kb: SimpleNamespace) -> None:
    response = _client(kb.requester).get("/portal/kb/", {"q": "vpn"})
    assert kb.public.title.encode() not in response.content  # the title is marked
    assert b"<mark>VPN</mark> disconnects every hour" in response.content
    assert b"concentrator" not in response.content
    assert b"draft" not in response.content


# ---------------------------------------------------------------- console pages
def test_list_filters_and_marks_stale_articles(kb: SimpleNamespace) -> None:
    Article.objects.filter(pk=kb.internal.pk).update(review_due_at="2000-01-01T00:00Z")
    client = _client(kb.agent)
    page = client.get("/kb/").content.decode()
    assert kb.draft.number in page and kb.other_draft.number not in page
    assert page.count("Stale") == 1
    runbooks = client.get("/kb/", {"kind": "runbook"}).content.decode()
    assert kb.internal.number in runbooks and kb.public.number not in runbooks


def test_console_search_highlights_and_corrects(kb: SimpleNamespace) -> None:
    page = _client(kb.agent).get("/kb/", {"q": "concentrater"}).content.decode()
    assert "Showing results for <strong>concentrator</strong>" in page
    assert "<mark>concentrator</mark>" in page


def test_article_body_is_rendered_inert(kb: SimpleNamespace) -> None:
    article = make_article(
        team=kb.team, by=kb.agent, body="<script>alert(1)</script> **bold**"
    )
    page = _client(kb.agent).get(f"/kb/{article.number}/").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <strong>bold</strong>" in page


def test_write_and_publish_from_the_console(kb: SimpleNamespace) -> None:
    client = _client(kb.lead)
    response = client.post(
        "/kb/new/",
        {
            "title": "Outlook crashes",
            "body": "Start in safe mode.",
            "kind": "how_to",
            "audience": "public",
            "owner_team": kb.team.pk,
        },
    )
    article = Article.objects.get(title="Outlook crashes")
    assert response["Location"] == f"/kb/{article.number}/"
    response = client.post(f"/kb/{article.number}/publish/")
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED


def test_new_article_with_empty_title_is_a_form_error(kb: SimpleNamespace) -> None:
    response = _client(kb.agent).post(
        "/kb/new/",
        {"title": "", "kind": "how_to", "audience": "public", "owner_team": kb.team.pk},
    )
    assert response.status_code == 400
    assert b"This field is required" in response.content


def test_agent_may_not_publish(kb: SimpleNamespace) -> None:
    response = _client(kb.agent).post(f"/kb/{kb.draft.number}/publish/")
    assert response.status_code == 403
    kb.draft.refresh_from_db()
    assert kb.draft.status == Article.Status.DRAFT


def test_publishing_a_retired_article_is_409(kb: SimpleNamespace) -> None:
    services.article_retire(article=kb.internal, by=kb.lead)
    response = _client(kb.lead).post(f"/kb/{kb.internal.number}/publish/")
    assert response.status_code == 409
    assert b"Cannot publish" in response.content


def test_stale_edit_is_409_and_keeps_the_text(kb: SimpleNamespace) -> None:
    client = _client(kb.agent)
    seen = kb.draft.revision
    services.article_update(
        article=kb.draft, by=kb.agent, revision=seen, body="someone else"
    )
    response = client.post(
        f"/kb/{kb.draft.number}/edit/",
        {
            "title": "VPN draft notes",
            "body": "my careful rewrite",
            "kind": "how_to",
            "audience": "internal",
            "owner_team": kb.team.pk,
            "revision": seen,
        },
    )
    assert response.status_code == 409
    assert b"my careful rewrite" in response.content
    kb.draft.refresh_from_db()
    assert kb.draft.body == "someone else"


def test_version_page_shows_what_changed(kb: SimpleNamespace) -> None:
    article = kb.public
    services.article_unpublish(article=article, by=kb.agent)
    services.article_update(
        article=article,
        by=kb.agent,
        revision=article.revision,
        body="Turn on **Keep connection alive**.\nThen reconnect.",
    )
    services.article_publish(article=article, by=kb.lead)
    client = _client(kb.agent)
    page = client.get(f"/kb/{article.number}/versions/2/").content.decode()
    assert '<span class="kb-added">+Then reconnect.</span>' in page
    assert client.get(f"/kb/{article.number}/versions/1/").status_code == 200
    assert client.get(f"/kb/{article.number}/versions/3/").status_code == 404


def test_attachments_follow_the_articles_visibility(kb: SimpleNamespace) -> None:
    files = {}
    for name, article in (("public", kb.public), ("internal", kb.internal)):
        (files[name],) = services.article_attach(
            article=article,
            by=kb.agent,
            files=[SimpleUploadedFile("shot.png", PNG, content_type="image/png")],
        )
    requester = _client(kb.requester)
    shown = requester.get(f"/kb/files/{files['public'].pk}/")
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"
    assert "sandbox" in shown["Content-Security-Policy"]
    assert requester.get(f"/kb/files/{files['internal'].pk}/").status_code == 404
    assert (
        _client(kb.agent).get(f"/kb/files/{files['internal'].pk}/").status_code == 200
    )


def test_attaching_a_refused_file_is_400(kb: SimpleNamespace) -> None:
    upload = SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 100)
    response = _client(kb.agent).post(
        f"/kb/{kb.draft.number}/files/", {"attachments": upload}
    )
    assert response.status_code == 400
    assert not kb.draft.attachments.exists()


# ---------------------------------------------------------------- incident panels
@pytest.fixture
def known_error(kb: SimpleNamespace) -> SimpleNamespace:
    problem = Problem.objects.create(
        title="VPN concentrator drops idle tunnels",
        workaround="Turn on keep-alive in the client.",
        is_known_error=True,
    )
    article = make_article(
        team=kb.team,
        by=kb.agent,
        publish_by=kb.lead,
        title="VPN tunnel drops every hour",
        symptoms="Remote users lose the VPN tunnel hourly.",
        kind="known_error",
        audience="public",
        problem=problem,
    )
    incident = incident_services.incident_log(
        by=None, title="VPN tunnel drops for remote users", source="alert"
    )
    return SimpleNamespace(problem=problem, article=article, incident=incident)


def test_incident_page_loads_the_panels_after_it_paints(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    page = _client(kb.agent).get(f"/console/{known_error.incident.number}/")
    url = f"/kb/incidents/{known_error.incident.number}/panels/"
    assert f'hx-get="{url}" hx-trigger="load"'.encode() in page.content


def _queries_before_and_after_more_articles(
    kb: SimpleNamespace, url: str
) -> tuple[int, int]:
    """The queries of one GET of ``url``, and of one after ten more matching
    articles were published."""
    client = _client(kb.agent)
    client.get(url)  # warm the caches the page reads
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(10):
        make_article(
            team=kb.team, by=kb.agent, publish_by=kb.lead, title=f"VPN tunnel {n}"
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    return len(before), len(after)


def test_incident_page_query_count_does_not_depend_on_the_kb(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    url = f"/console/{known_error.incident.number}/"
    before, after = _queries_before_and_after_more_articles(kb, url)
    assert after == before


def test_panels_query_count_is_constant(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    url = f"/kb/incidents/{known_error.incident.number}/panels/"
    before, after = _queries_before_and_after_more_articles(kb, url)
    assert after == before


def test_panel_names_the_known_error_and_links_in_one_click(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    client = _client(kb.agent)
    number = known_error.incident.number
    panel = client.get(f"/kb/incidents/{number}/panels/").content.decode()
    assert (
        f"Known error: {known_error.article.number} / {known_error.problem.number}"
        in panel
    )
    assert "Turn on keep-alive in the client." in panel
    response = client.post(f"/kb/incidents/{number}/link/{known_error.article.number}/")
    assert response["Location"] == f"/console/{number}/"
    incident = Incident.objects.get(pk=known_error.incident.pk)
    assert incident.problem == known_error.problem and incident.known_error
    assert (
        f"Linked to {known_error.problem.number}"
        in client.get(f"/kb/incidents/{number}/panels/").content.decode()
    )


def test_apply_this_article_is_on_the_timeline(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    client = _client(kb.agent)
    number = known_error.incident.number
    client.post(
        f"/kb/incidents/{number}/use/{known_error.article.number}/",
        {"kind": "applied"},
    )
    event = known_error.incident.events.get(kind=IncidentEvent.Kind.ARTICLE_APPLIED)
    assert event.data["article"] == known_error.article.number
    page = client.get(f"/console/{number}/").content.decode()
    assert f"Article applied · alex: {known_error.article.number}" in page


def test_apply_with_bad_kind_is_400(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    response = _client(kb.agent).post(
        f"/kb/incidents/{known_error.incident.number}/use/"
        f"{known_error.article.number}/",
        {"kind": "deleted"},
    )
    assert response.status_code == 400


def test_panels_are_for_the_console_only(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    url = f"/kb/incidents/{known_error.incident.number}/panels/"
    assert _client(kb.requester).get(url).status_code == 403


def _resolved(kb: SimpleNamespace, title: str, resolution: str) -> Incident:
    category = make_category(team=kb.team, name=f"Network {title[:5]}")
    incident = incident_services.incident_log(
        by=kb.agent, title=title, description="Users cannot work.", source="agent"
    )
    incident_services.incident_triage(
        incident=incident,
        by=kb.agent,
        category=category,
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
    )
    incident_services.incident_start_work(incident=incident, by=kb.agent)
    return incident_services.incident_resolve(
        incident=incident,
        by=kb.agent,
        resolution_kind="workaround",
        resolution=resolution,
        verification="User confirmed.",
    )


def test_similar_incidents_show_their_resolution(
    kb: SimpleNamespace, known_error: SimpleNamespace
) -> None:
    _resolved(kb, "VPN tunnel drops at the branch", "Restarted the concentrator.")
    _resolved(kb, "Printer out of toner", "Replaced the toner.")
    panel = (
        _client(kb.agent)
        .get(f"/kb/incidents/{known_error.incident.number}/panels/")
        .content.decode()
    )
    assert "Restarted the concentrator." in panel
    assert "Replaced the toner." not in panel


def test_resolved_incident_offers_helped_and_write_an_article(
    kb: SimpleNamespace,
) -> None:
    incident = _resolved(kb, "VPN disconnects every hour", "Enabled keep-alive.")
    client = _client(kb.lead)
    panel = client.get(f"/kb/incidents/{incident.number}/panels/").content.decode()
    assert "This article helped" in panel
    assert f"/kb/new/?from={incident.number}" in panel
    form = client.get(f"/kb/new/?from={incident.number}").content.decode()
    assert 'value="VPN disconnects every hour"' in form
    assert "Enabled keep-alive." in form
    client.post(
        f"/kb/incidents/{incident.number}/use/{kb.public.number}/", {"kind": "helped"}
    )
    assert incident.events.filter(kind=IncidentEvent.Kind.ARTICLE_HELPED).exists()


# ---------------------------------------------------------------- portal suggestions
def test_report_form_asks_the_kb_for_suggestions(kb: SimpleNamespace) -> None:
    page = _client(kb.requester).get("/portal/report/").content.decode()
    assert 'hx-get="/portal/kb/suggest/"' in page
    assert page.index('id="kb-suggestions"') < page.index('id="similar"')


def test_suggestions_offer_public_articles_for_the_typed_title(
    kb: SimpleNamespace,
) -> None:
    response = _client(kb.requester).get(
        "/portal/kb/suggest/", {"title": "vpn disconnects"}
    )
    body = response.content.decode()
    assert f"/portal/kb/{kb.public.number}/" in body
    assert kb.internal.number not in body
    empty = _client(kb.requester).get("/portal/kb/suggest/", {"title": "zz"})
    assert b"help articles" not in empty.content


def test_similar_incidents_put_the_same_alerts_earlier_incident_first(
    kb: SimpleNamespace,
) -> None:
    from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
    from kb.suggestions import similar_incidents

    integration, _ = integration_create(name="prom", kind="alertmanager")

    def fire() -> Incident:
        alert_ingest(
            integration=integration,
            signals=[AlertSignal(dedup_key="disk-db1", status="firing", title="Disk")],
            payload={},
        )
        return Incident.objects.filter(alerts__dedup_key="disk-db1").latest("id")

    first = fire()
    incident_services.incident_update(
        incident=first, by=kb.agent, title="Storage filled up on db1"
    )
    category = make_category(team=kb.team)
    incident_services.incident_triage(
        incident=first, by=kb.agent, category=category, impact="low", urgency="low"
    )
    incident_services.incident_start_work(incident=first, by=kb.agent)
    incident_services.incident_resolve(
        incident=first,
        by=kb.agent,
        resolution_kind="permanent_fix",
        resolution="Rotated the logs.",
        verification="Disk at 40%.",
    )
    incident_services.incident_confirm(incident=first, by=kb.lead)
    again = fire()
    assert again.pk != first.pk
    assert similar_incidents(incident=again, user=kb.agent) == [first]


def test_panel_offers_an_open_problem_and_links_to_it(kb: SimpleNamespace) -> None:
    problem = Problem.objects.create(
        title="Printer fuser overheats", workaround="Print single-sided."
    )
    incident = incident_services.incident_log(
        by=kb.agent, title="Printer on floor 3 overheats", source="agent"
    )
    client = _client(kb.agent)
    url = f"/kb/incidents/{incident.number}/panels/"
    panel = client.get(url).content.decode()
    assert f"Open problem: {problem.number}" in panel
    assert "Print single-sided." in panel
    client.post(f"/kb/incidents/{incident.number}/problem/{problem.pk}/")
    incident.refresh_from_db()
    assert incident.problem == problem
    assert f"Linked to {problem.number}" in client.get(url).content.decode()
    missing = client.post(f"/kb/incidents/{incident.number}/problem/{2**70}/")
    assert missing.status_code == 404
