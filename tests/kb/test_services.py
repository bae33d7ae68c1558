"""Writing, publishing, versions, uses on incidents and stale reminders, through
the knowledge base's services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from incidents.models import Incident, IncidentEvent, Notification, Problem
from incidents.services import incident_log
from incidents.services.alerts import AlertSignal, alert_ingest, integration_create
from kb import services
from kb.models import BODY_MAX_BYTES, Article, ArticleUse, ReviewPeriod, SearchTerm
from kb.selectors import automation_candidates
from kb.services import ArticleConflict
from tests.factories import make_category, make_service
from tests.kb.conftest import make_article

pytestmark = pytest.mark.django_db
S = Article.Status


# ---------------------------------------------------------------- writing
def test_article_create_refuses_an_empty_title(desk: Any) -> None:
    team, agent, _ = desk
    with pytest.raises(ValidationError) as error:
        services.article_create(by=agent, title="   ", owner_team=team)
    assert "title" in error.value.message_dict
    assert not Article.objects.exists()


def test_article_create_refuses_a_body_over_the_limit(desk: Any) -> None:
    team, agent, _ = desk
    with pytest.raises(ValidationError) as error:
        services.article_create(
            by=agent, title="Big", owner_team=team, body="é" * (BODY_MAX_BYTES // 2 + 1)
        )
    assert "body" in error.value.message_dict
    assert not Article.objects.exists()


def test_article_create_keeps_raw_html_as_typed(desk: Any) -> None:
    team, agent, _ = desk
    body = "<script>alert(1)</script> [x](javascript:alert(1))"
    article = make_article(team=team, by=agent, body=body)
    article.refresh_from_db()
    assert article.body == body


def test_article_create_needs_the_write_permission(desk: Any, end_user: Any) -> None:
    team, _, _ = desk
    with pytest.raises(PermissionDenied):
        services.article_create(by=end_user, title="x", owner_team=team)


def test_only_a_known_error_documents_a_problem(desk: Any) -> None:
    team, agent, _ = desk
    problem = Problem.objects.create(title="Tunnel drops")
    with pytest.raises(ValidationError):
        services.article_create(
            by=agent, title="x", owner_team=team, kind="how_to", problem=problem
        )


def test_article_update_refuses_a_stale_revision_and_writes_nothing(
    desk: Any,
) -> None:
    team, agent, _ = desk
    article = make_article(team=team, by=agent, body="first")
    seen = article.revision
    services.article_update(article=article, by=agent, revision=seen, body="second")
    stale = Article.objects.get(pk=article.pk)
    stale.revision = seen  # a copy read before the other save
    with pytest.raises(ArticleConflict) as conflict:
        services.article_update(article=stale, by=agent, revision=seen, body="mine")
    assert conflict.value.code == "stale"
    assert Article.objects.get(pk=article.pk).body == "second"


def test_article_update_edits_drafts_only(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, publish_by=lead)
    with pytest.raises(ArticleConflict) as conflict:
        services.article_update(
            article=article, by=agent, revision=article.revision, body="x"
        )
    assert conflict.value.code == "not_draft"


# ---------------------------------------------------------------- lifecycle
def test_agents_write_but_do_not_publish(desk: Any) -> None:
    team, agent, _ = desk
    article = make_article(team=team, by=agent)
    with pytest.raises(PermissionDenied):
        services.article_publish(article=article, by=agent)
    assert Article.objects.get(pk=article.pk).status == S.DRAFT


def test_publish_keeps_each_published_text_as_a_version(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, body="v1 text", publish_by=lead)
    services.article_unpublish(article=article, by=agent)
    services.article_update(
        article=article, by=agent, revision=article.revision, body="v2 text"
    )
    services.article_publish(article=article, by=lead)
    versions = list(article.versions.order_by("number").values_list("number", "body"))
    assert versions == [(1, "v1 text"), (2, "v2 text")]


def test_publish_sets_the_review_date_by_the_kinds_period(desk: Any) -> None:
    team, agent, lead = desk
    ReviewPeriod.objects.create(kind="runbook", review_after=timedelta(days=90))
    now = timezone.now()
    runbook = make_article(team=team, by=agent, kind="runbook")
    services.article_publish(article=runbook, by=lead, now=now)
    how_to = make_article(team=team, by=agent, kind="how_to")
    services.article_publish(article=how_to, by=lead, now=now)
    assert runbook.review_due_at == now + timedelta(days=90)
    assert how_to.review_due_at == now + timedelta(days=365)


@pytest.mark.parametrize(
    ("start", "transition", "allowed"),
    [
        (S.DRAFT, "publish", True),
        (S.DRAFT, "unpublish", False),
        (S.DRAFT, "retire", False),
        (S.PUBLISHED, "publish", False),
        (S.PUBLISHED, "unpublish", True),
        (S.PUBLISHED, "retire", True),
        (S.RETIRED, "publish", False),
        (S.RETIRED, "unpublish", False),
        (S.RETIRED, "retire", False),
    ],
)
def test_lifecycle_table(desk: Any, start: str, transition: str, allowed: bool) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent)
    if start != S.DRAFT:
        services.article_publish(article=article, by=lead)
    if start == S.RETIRED:
        services.article_retire(article=article, by=lead)
    service = getattr(services, f"article_{transition}")
    if allowed:
        service(article=article, by=lead)
        assert article.status != start
    else:
        with pytest.raises(ArticleConflict):
            service(article=article, by=lead)
        assert Article.objects.get(pk=article.pk).status == start


def test_status_cannot_be_assigned_directly(desk: Any) -> None:
    team, agent, _ = desk
    article = make_article(team=team, by=agent)
    with pytest.raises(AttributeError):
        article.status = S.PUBLISHED
    with pytest.raises(TransitionNotAllowed):
        article.retire()


def test_publish_refuses_a_stale_copy(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent)
    stale = Article.objects.get(pk=article.pk)
    services.article_update(article=article, by=agent, revision=1, title="New title")
    with pytest.raises(ArticleConflict):
        services.article_publish(article=stale, by=lead)
    assert Article.objects.get(pk=article.pk).status == S.DRAFT


def test_publish_teaches_the_search_its_words(desk: Any) -> None:
    team, agent, lead = desk
    make_article(team=team, by=agent, title="Zebrafish printer", audience="internal")
    assert not SearchTerm.objects.filter(word="zebrafish").exists()
    make_article(
        team=team,
        by=agent,
        title="Zebrafish printer",
        audience="internal",
        publish_by=lead,
    )
    words = set(
        SearchTerm.objects.filter(word="zebrafish").values_list("public", flat=True)
    )
    # An internal article's words are never offered to requesters' queries.
    assert words == {False}


# ---------------------------------------------------------------- use on incidents
def _alert_incident(fingerprint: str = "vpn-tunnel-down") -> Incident:
    integration, _ = integration_create(name="prom", kind="alertmanager")
    alert_ingest(
        integration=integration,
        signals=[
            AlertSignal(dedup_key=fingerprint, status="firing", title="VPN tunnel down")
        ],
        payload={},
    )
    return Incident.objects.get(alerts__dedup_key=fingerprint)


def test_apply_writes_the_timeline_and_a_counted_row(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, publish_by=lead, kind="workaround")
    incident = _alert_incident()
    use = services.article_use_record(article=article, incident=incident, by=agent)
    event = incident.events.get(kind=IncidentEvent.Kind.ARTICLE_APPLIED)
    assert event.actor == agent
    assert event.data["article"] == article.number
    assert use.signature.startswith("alert:") and use.signature.endswith(
        ":vpn-tunnel-down"
    )


def test_apply_twice_records_once(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, publish_by=lead)
    incident = incident_log(by=agent, title="x", source="agent")
    first = services.article_use_record(article=article, incident=incident, by=agent)
    again = services.article_use_record(article=article, incident=incident, by=agent)
    assert first.pk == again.pk
    assert incident.events.filter(kind=IncidentEvent.Kind.ARTICLE_APPLIED).count() == 1


def test_apply_needs_a_published_article_and_an_incident_worker(
    desk: Any, manager: Any
) -> None:
    team, agent, lead = desk
    draft = make_article(team=team, by=agent)
    incident = incident_log(by=agent, title="x", source="agent")
    with pytest.raises(ArticleConflict):
        services.article_use_record(article=draft, incident=incident, by=agent)
    published = make_article(team=team, by=agent, publish_by=lead)
    with pytest.raises(PermissionDenied):
        services.article_use_record(article=published, incident=incident, by=manager)
    assert not ArticleUse.objects.exists()


def test_signature_without_alert_is_category_and_first_service(desk: Any) -> None:
    team, agent, lead = desk
    category = make_category(team=team)
    service = make_service()
    incident = incident_log(
        by=agent, title="x", source="agent", category=category, services=[service]
    )
    assert services.error_signature(incident) == (
        f"category:{category.pk}:service:{service.pk}"
    )


def test_three_uses_of_one_fix_make_an_automation_candidate(desk: Any) -> None:
    team, agent, lead = desk
    article = make_article(team=team, by=agent, publish_by=lead)
    category = make_category(team=team)
    for _ in range(3):
        incident = incident_log(by=agent, title="x", source="agent", category=category)
        services.article_use_record(article=article, incident=incident, by=agent)
    other = incident_log(by=agent, title="y", source="agent")
    services.article_use_record(article=article, incident=other, by=agent)
    candidates = list(automation_candidates())
    assert candidates == [
        {
            "article": article.pk,
            "signature": f"category:{category.pk}:service:-",
            "uses": 3,
        }
    ]


def test_link_known_error_links_the_incident_to_its_problem(desk: Any) -> None:
    team, agent, lead = desk
    problem = Problem.objects.create(title="Tunnel drops", is_known_error=True)
    article = make_article(
        team=team, by=agent, publish_by=lead, kind="known_error", problem=problem
    )
    incident = incident_log(by=agent, title="VPN drops", source="agent")
    services.incident_link_known_error(incident=incident, by=agent, article=article)
    incident.refresh_from_db()
    assert incident.problem == problem and incident.known_error
    assert incident.events.filter(kind=IncidentEvent.Kind.PROBLEM_LINKED).exists()


# ---------------------------------------------------------------- stale reminders
def test_stale_articles_remind_their_team_once(desk: Any) -> None:
    team, agent, lead = desk
    team.email = "desk@example.com"
    team.save()
    now = timezone.now()
    old = make_article(team=team, by=agent)
    services.article_publish(article=old, by=lead, now=now - timedelta(days=400))
    fresh = make_article(team=team, by=agent)
    services.article_publish(article=fresh, by=lead, now=now)

    assert services.article_remind_stale(now=now) == 1
    assert services.article_remind_stale(now=now) == 0  # safe to run twice
    sent = Notification.objects.get(event=services.STALE_EVENT)
    assert sent.recipient == "desk@example.com"
    assert old.number in sent.subject
    assert old.is_stale(now) and not fresh.is_stale(now)


def test_a_stale_reminder_says_what_to_do_links_the_article_in_the_leads_zone(
    desk: Any, settings: Any
) -> None:
    from datetime import UTC, datetime

    from incidents.services.inbox import profile_update

    settings.SITE_URL = "https://itsm.example.com"
    team, agent, lead = desk
    lead.email = "lead@example.com"
    lead.save()
    team.lead = lead
    team.save()
    profile_update(user=lead, time_zone="America/New_York", email_events=[])
    published = datetime(2025, 3, 2, 15, 0, tzinfo=UTC)
    article = make_article(team=team, by=agent)
    services.article_publish(article=article, by=lead, now=published)
    article.refresh_from_db()
    services.article_remind_stale(now=article.review_due_at + timedelta(days=1))
    sent = Notification.objects.get(event=services.STALE_EVENT)
    link = f"https://itsm.example.com/kb/{article.number}/"
    due = article.review_due_at.astimezone(ZoneInfo("America/New_York"))
    assert f"due for review on {due:%a} {due.day} {due:%b %Y, %H:%M} E" in sent.body
    assert "What to do" in sent.body and f"Open the article: {link}" in sent.body
    assert "review_due:" not in sent.body and "T15:00" not in sent.body
    assert f'<a href="{link}">' in sent.html_body


def test_republishing_a_stale_article_starts_a_new_period(desk: Any) -> None:
    team, agent, lead = desk
    lead.email = "lead@example.com"
    lead.save()
    team.lead = lead
    team.save()
    now = timezone.now()
    article = make_article(team=team, by=agent)
    services.article_publish(article=article, by=lead, now=now - timedelta(days=400))
    services.article_remind_stale(now=now)
    services.article_unpublish(article=article, by=agent, now=now)
    services.article_publish(article=article, by=lead, now=now)
    later = now + timedelta(days=366)
    assert services.article_remind_stale(now=later) == 1
    assert list(
        Notification.objects.filter(event=services.STALE_EVENT).values_list(
            "recipient", flat=True
        )
    ) == ["lead@example.com", "lead@example.com"]


def test_stale_sweep_task_runs_from_beat(settings: Any) -> None:
    from kb.tasks import article_remind_stale_task

    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "kb.tasks.article_remind_stale_task"
    )
    assert entry["schedule"] <= 24 * 60 * 60
    assert article_remind_stale_task.apply().get() == 0


def test_incident_attachment_prune_leaves_article_files_alone(
    desk: Any, attachments_dir: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents.services.attachments import attachments_prune_orphans

    team, agent, _ = desk
    article = make_article(team=team, by=agent)
    (saved,) = services.article_attach(
        article=article,
        by=agent,
        files=[SimpleUploadedFile("log.txt", b"a log line\n")],
    )
    later = timezone.now() + timedelta(days=30)
    assert attachments_prune_orphans(now=later) == []
    assert saved.file.storage.exists(saved.file.name)
