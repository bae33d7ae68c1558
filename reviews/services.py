"""Every write to reviews and action items.

Each public service is one transaction that locks the row it changes and brings
the caller's copy up to date with it, refuses a stale version (409), checks the
caller's permission (403) and the lifecycle (409), validates the input (400) before
writing anything, and appends to the review's own timeline. ``by=None`` is the
system itself (the resolution hook, the sweeps).

A review is opened, exactly once per incident, by ``review_open_for_resolution``
(called through the incidents' resolution hook, ``reviews.hooks``) or by hand by an
incident manager (``review_open``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import connection, models, transaction
from django.utils import timezone
from django_fsm import can_proceed

from incidents.exceptions import IncidentConflict
from incidents.models import Incident, IncidentEvent, Priority, Problem, Team
from incidents.sla.clock import Calendar
from incidents.sla.policies import policy_for
from kb.models import Article, ArticleUse
from reviews.models import (
    MILESTONES,
    ActionItem,
    Review,
    ReviewArticle,
    ReviewEvent,
    ReviewIncident,
    ReviewMilestone,
    ReviewPolicy,
)
from reviews.selectors import can_see_all, may_write, signature_recurs

User = AbstractBaseUser
T = TypeVar("T")
AGENT_PERMISSION = "incidents.use_agent_console"
REVIEW_TEXT_FIELDS = (
    "summary",
    "root_cause",
    "workaround",
    "contributing_factors",
    "went_well",
    "went_badly",
)
MAX_WHYS = 10
AUTOMATE_KINDS = (Article.Kind.WORKAROUND, Article.Kind.RUNBOOK)


class ReviewConflict(IncidentConflict):
    """The review or action item does not allow this now (approved, already
    covered, wrong state), or someone else saved it since the caller read it:
    HTTP 409 like the incidents' conflicts."""


# ---------------------------------------------------------------- shared
def _adopt(obj: models.Model, row: models.Model) -> None:
    """Give the caller's copy the row's values (see incidents.services._base):
    set in the instance dictionary, because the status field is protected."""
    for field in type(obj)._meta.concrete_fields:
        obj.__dict__[field.attname] = getattr(row, field.attname)
        if field.is_relation and field.is_cached(obj):
            field.delete_cached_value(obj)
    obj._update_initial_state()


def _lock(obj: Review | ActionItem, *, expected_version: int | None) -> None:
    row = type(obj).objects.select_for_update().get(pk=obj.pk)
    _adopt(obj, row)
    if expected_version is not None and expected_version != row.version:
        raise ReviewConflict(
            f"{obj.number} was changed by someone else meanwhile; reload it and "
            "try again.",
            code="stale",
        )


def _save(obj: Review | ActionItem, *, at: datetime, exclude: list[str]) -> None:
    obj.updated_at = at
    obj.full_clean(exclude=["status", *exclude], validate_constraints=False)
    obj.version += 1
    obj.save()


def _record(
    review: Review, kind: str, *, by: User | None, at: datetime, **data: Any
) -> ReviewEvent:
    return ReviewEvent.objects.create(
        review=review, kind=kind, actor=by, at=at, data=data
    )


def _service(func: Callable[..., T]) -> Callable[..., T]:
    """One transaction; on failure the caller's objects are reloaded, so nothing
    half-applied in memory outlives the rollback."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except Exception:
            for name in ("review", "item"):
                obj = kwargs.get(name)
                if isinstance(obj, Review | ActionItem) and obj.pk is not None:
                    fresh = type(obj).objects.filter(pk=obj.pk).first()
                    if fresh is not None:
                        _adopt(obj, fresh)
            raise

    return run


def _require(by: User | None, permission: str, action: str) -> None:
    if by is not None and not by.has_perm(permission):
        raise PermissionDenied(f"You may not {action}.")


def _require_writer(review: Review, by: User | None, action: str) -> None:
    if review.is_read_only:
        raise ReviewConflict(
            f"{review.number} is {review.get_status_display().lower()} and read-only.",
            code="read_only",
        )
    if by is not None and not may_write(review, by):
        raise PermissionDenied(f"You may not {action}.")


def _check_owner(user: User | None, field: str) -> None:
    if user is not None and not (user.is_active and user.has_perm(AGENT_PERMISSION)):
        raise ValidationError({field: "The owner must be an agent."})


# ---------------------------------------------------------------- due dates
def _is_business_day(calendar: Calendar, day: date) -> bool:
    if day in calendar.holidays:
        return False
    if calendar.is_24x7:
        return day.weekday() < 5
    return bool(calendar.intervals(day))


def business_days_after(
    start: datetime, days: int, *, priority: int | None
) -> datetime:
    """The end of the ``days``-th business day after ``start``, by the SLA
    calendar of ``priority`` (24x7 calendars count Monday to Friday; without a
    policy, UTC weekdays): the close of its last working interval, or midnight."""
    found = policy_for(priority) or policy_for(Priority.P3)
    calendar = found[1] if found else Calendar()
    day = calendar.local(start).date()
    counted = 0
    for _ in range(days * 7 + 400):  # holidays cannot stall it forever
        if counted >= days:
            break
        day += timedelta(days=1)
        if _is_business_day(calendar, day):
            counted += 1
    intervals = calendar.intervals(day)
    end = intervals[-1][1] if intervals else datetime.combine(day, time(23, 59))
    return calendar.instant(end)


def review_due(reason: str, priority: int | None, *, at: datetime) -> datetime:
    policy = ReviewPolicy.current()
    if reason == Review.Reason.RECURRING or priority not in Priority.major():
        days = policy.due_recurring_days
    elif priority == Priority.P1:
        days = policy.due_p1_days
    else:
        days = policy.due_p2_days
    return business_days_after(at, days, priority=priority)


# ---------------------------------------------------------------- opening
def _was_major(incident: Incident) -> bool:
    """P1 or P2 now, or at any time while it was open (a priority change put on
    the timeline from or to one)."""
    if incident.priority in Priority.major():
        return True
    majors = [int(p) for p in Priority.major()]
    return IncidentEvent.objects.filter(
        models.Q(data__old__in=majors) | models.Q(data__new__in=majors),
        incident=incident,
        kind=IncidentEvent.Kind.FIELD_CHANGED,
        data__field="priority",
    ).exists()


def _create(
    *,
    incident: Incident,
    covers: list[int],
    reason: str,
    by: User | None,
    at: datetime,
    note: str = "",
    signature: str = "",
) -> Review:
    owner = by if by is not None else incident.assignee
    if owner is not None and not owner.has_perm(AGENT_PERMISSION):
        owner = None
    review = Review.objects.create(
        incident=incident,
        reason=reason,
        open_note=note,
        signature=signature,
        owner=owner,
        due_at=review_due(reason, incident.priority, at=at),
        created_at=at,
        updated_at=at,
    )
    ReviewIncident.objects.bulk_create(
        [ReviewIncident(review=review, incident_id=pk, added_at=at) for pk in covers]
    )
    _record(
        review,
        "opened",
        by=by,
        at=at,
        reason=reason,
        note=note,
        incidents=[Incident(pk=pk).number for pk in covers],
    )
    return review


def _signature_lock(signature: str) -> None:
    """Serialise the recurrence decision per signature: two incidents of one
    signature resolved at once must not each open a review. SQLite has one writer
    at a time already (the development database)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [signature])


@_service
def review_open_for_resolution(*, incident: Incident, at: datetime) -> Review | None:
    """An incident was resolved: open its review if one is due and none covers
    it yet. Due for a P1 or P2 (now or at any time while open); for a P3/P4 only
    when its error signature recurred ``recurrence_count`` times within the
    window, and then the review covers every such incident not yet reviewed (a
    recurring review still being written takes the new one in instead). Never for
    a one-off P3/P4; never a second one for a reopened and resolved incident."""
    if ReviewIncident.objects.filter(incident=incident).exists():
        return None
    if _was_major(incident):
        return _create(
            incident=incident,
            covers=[incident.pk],
            reason=Review.Reason.MAJOR,
            by=None,
            at=at,
        )
    signature = incident.signature
    if not signature:
        return None
    from incidents.selectors import recurring_incidents

    _signature_lock(signature)
    policy = ReviewPolicy.current()
    ongoing = (
        Review.objects.filter(signature=signature, reason=Review.Reason.RECURRING)
        .exclude(status__in=Review.READ_ONLY)
        .order_by("-id")
        .first()
    )
    if ongoing is not None:
        ReviewIncident.objects.create(review=ongoing, incident=incident, added_at=at)
        _record(ongoing, "incident_added", by=None, at=at, incident=incident.number)
        return ongoing
    since = at - policy.recurrence_window
    if not signature_recurs(signature, since=since, count=policy.recurrence_count):
        return None
    recurring = recurring_incidents(signature, since=since)
    covers = list(
        recurring.filter(review_cover__isnull=True)
        .exclude(priority__in=Priority.major())
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    if incident.pk not in covers:
        covers.append(incident.pk)
    return _create(
        incident=incident,
        covers=covers,
        reason=Review.Reason.RECURRING,
        by=None,
        at=at,
        note=f"{len(covers)} incidents with signature {signature} within "
        f"{policy.recurrence_window.days} days.",
        signature=signature,
    )


@_service
def review_open(
    *, incident: Incident, by: User, note: str, now: datetime | None = None
) -> Review:
    """Open a review by hand (an incident manager), for an incident no review
    covers yet, with the reason it deserves one."""
    _require(by, "reviews.open_review", "open a review")
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Say why this incident needs a review."})
    Incident.objects.select_for_update(no_key=True).get(pk=incident.pk)
    if ReviewIncident.objects.filter(incident=incident).exists():
        raise ReviewConflict(
            f"{incident.number} already has a review.", code="already_reviewed"
        )
    return _create(
        incident=incident,
        covers=[incident.pk],
        reason=Review.Reason.MANUAL,
        by=by,
        at=now or timezone.now(),
        note=note,
    )


# ---------------------------------------------------------------- writing
@_service
def review_update(
    *,
    review: Review,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
    owner: User | None | object = ...,
    due_at: datetime | None = None,
    five_whys: list[str] | None = None,
    problem: Problem | None | object = ...,
    **texts: str,
) -> Review:
    """Edit a review that is not yet approved: its texts (summary, root cause,
    workaround, contributing factors, what went well and badly), the five whys,
    its owner (an agent), its due date (not in the past) and its problem."""
    _lock(review, expected_version=expected_version)
    _require_writer(review, by, "edit this review")
    at = now or timezone.now()
    unknown = set(texts) - set(REVIEW_TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown review fields: {sorted(unknown)}")
    changed: list[str] = []
    if owner is not ...:
        _check_owner(owner, "owner")
        if owner != review.owner:
            review.owner = owner
            changed.append("owner")
    if due_at is not None and due_at != review.due_at:
        if due_at < at:
            raise ValidationError({"due_at": "The due date cannot be in the past."})
        review.due_at = due_at
        changed.append("due_at")
    if five_whys is not None:
        whys = [w.strip() for w in five_whys if w and w.strip()]
        if len(whys) > MAX_WHYS:
            raise ValidationError({"five_whys": f"At most {MAX_WHYS} whys."})
        if any(len(w) > 1000 for w in whys):
            raise ValidationError({"five_whys": "Each why is at most 1000 characters."})
        if whys != review.five_whys:
            review.five_whys = whys
            changed.append("five_whys")
    if problem is not ...:
        if problem != review.problem:
            review.problem = problem
            changed.append("problem")
    for name, value in texts.items():
        value = (value or "").strip()
        if value != getattr(review, name):
            setattr(review, name, value)
            changed.append(name)
    if changed:
        _save(review, at=at, exclude=["incident", "owner", "problem"])
        _record(review, "edited", by=by, at=at, fields=changed)
    return review


@_service
def review_milestone_set(
    *,
    review: Review,
    by: User,
    incident: Incident,
    name: str,
    at: datetime,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ReviewMilestone:
    """Correct when a milestone of a covered incident really happened (not in the
    future). The dashboards then use this time."""
    _lock(review, expected_version=expected_version)
    _require_writer(review, by, "edit this review")
    moment = now or timezone.now()
    if name not in MILESTONES:
        raise ValidationError({"name": f"Unknown milestone {name!r}."})
    if not review.covers.filter(incident=incident).exists():
        raise ValidationError({"incident": "This review does not cover it."})
    if at > moment:
        raise ValidationError({"at": "A milestone cannot be in the future."})
    milestone, _ = ReviewMilestone.objects.update_or_create(
        incident=incident,
        name=name,
        defaults={
            "review": review,
            "at": at,
            "note": note.strip()[:300],
            "by": by,
            "edited_at": moment,
        },
    )
    _save(review, at=moment, exclude=["incident", "owner", "problem"])
    _record(
        review,
        "milestone_edited",
        by=by,
        at=moment,
        incident=incident.number,
        milestone=name,
        to=at.isoformat(),
    )
    return milestone


@_service
def review_link_article(
    *,
    review: Review,
    by: User,
    article: Article,
    relation: str = ReviewArticle.Relation.LINKED,
    now: datetime | None = None,
) -> ReviewArticle:
    """Record an article the review created, updated or points to. Allowed on an
    approved review too: the knowledge base keeps moving after the review."""
    _lock(review, expected_version=None)
    if by is not None and not (may_write(review, by) or can_see_all(by)):
        if not (review.is_read_only and by.has_perm("reviews.change_review")):
            raise PermissionDenied("You may not link articles to this review.")
    if relation not in ReviewArticle.Relation.values:
        raise ValidationError({"relation": "Unknown relation."})
    at = now or timezone.now()
    link, created = ReviewArticle.objects.get_or_create(
        review=review, article=article, defaults={"relation": relation, "at": at}
    )
    if created:
        _record(review, "article_" + relation, by=by, at=at, article=article.number)
    return link


# ---------------------------------------------------------------- lifecycle
TRANSITION_VERBS = {
    "submit": "submit",
    "send_back": "send back",
    "approve": "approve",
    "publish": "publish",
}


def _transition(review: Review, name: str, *, by: User | None, at: datetime) -> None:
    method = getattr(review, name)
    verb = TRANSITION_VERBS[name]
    if not can_proceed(method):
        raise ReviewConflict(
            f"Cannot {verb} {review.number}: it is "
            f"{review.get_status_display().lower()}.",
            code="invalid_transition",
        )
    if by is not None:
        rule = method._django_fsm.get_transition(review.status)
        if not rule.has_perm(review, by):
            raise PermissionDenied(f"You may not {verb} this review.")
    source = review.status
    method()
    _save(review, at=at, exclude=["incident", "owner", "problem"])
    _record(review, name, by=by, at=at, source=source, target=review.status)


@_service
def review_submit(
    *,
    review: Review,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Review:
    """Hand the draft in for approval; it needs a root cause (or five whys) and
    an owner first."""
    _lock(review, expected_version=expected_version)
    if review.status == Review.Status.DRAFT:
        _require_writer(review, by, "submit this review")
    missing = {}
    if not (review.root_cause or review.five_whys):
        missing["root_cause"] = "Write the root cause or the five whys first."
    if review.owner_id is None:
        missing["owner"] = "Give the review an owner first."
    if missing and review.status == Review.Status.DRAFT:
        raise ValidationError(missing)
    at = now or timezone.now()
    _transition(review, "submit", by=by, at=at)
    review.submitted_by = by
    review.save(update_fields=["submitted_by"])
    return review


@_service
def review_send_back(
    *,
    review: Review,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Review:
    """Back to draft for more work (whoever may write it, or an approver)."""
    _lock(review, expected_version=expected_version)
    if not (by.has_perm("reviews.approve_review") or may_write(review, by)):
        if review.status == Review.Status.IN_REVIEW:
            raise PermissionDenied("You may not send this review back.")
    _transition(review, "send_back", by=by, at=now or timezone.now())
    return review


@_service
def review_approve(
    *,
    review: Review,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Review:
    """Approve a submitted review (incident managers and managers). Whoever
    submitted it may approve it only if the policy allows self-approval. From
    here on the review is read-only."""
    _lock(review, expected_version=expected_version)
    if (
        review.status == Review.Status.IN_REVIEW
        and review.submitted_by_id == by.pk
        and not ReviewPolicy.current().allow_self_approval
    ):
        raise PermissionDenied("You may not approve a review you submitted yourself.")
    at = now or timezone.now()
    _transition(review, "approve", by=by, at=at)
    review.approved_by = by
    review.approved_at = at
    review.save(update_fields=["approved_by", "approved_at"])
    return review


@_service
def review_publish(
    *,
    review: Review,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Review:
    """Publish an approved review: every agent may read it, print it, export it."""
    _lock(review, expected_version=expected_version)
    at = now or timezone.now()
    _transition(review, "publish", by=by, at=at)
    review.published_at = at
    review.save(update_fields=["published_at"])
    return review


# ---------------------------------------------------------------- action items
def _check_item_fields(
    *,
    owner_user: User | None,
    owner_team: Team | None,
    due_on: date | None,
    external_url: str,
    today: date,
    due_changed: bool = True,
) -> None:
    errors: dict[str, str] = {}
    if owner_user is None and owner_team is None:
        errors["owner"] = "Give the action item an owner: a person or a team."
    elif owner_user is not None and owner_team is not None:
        errors["owner"] = "The owner is a person or a team, not both."
    elif owner_user is not None and not (
        owner_user.is_active and owner_user.has_perm(AGENT_PERMISSION)
    ):
        errors["owner"] = "The owner must be an agent."
    if due_on is None:
        errors["due_on"] = "Give a due date."
    elif due_changed and due_on < today:
        errors["due_on"] = "The due date cannot be in the past."
    if external_url:
        try:
            URLValidator(schemes=["http", "https"])(external_url)
        except ValidationError:
            errors["external_url"] = "Give a web address (http or https)."
    if errors:
        raise ValidationError(errors)


def _require_item_writer(item: ActionItem, by: User | None) -> None:
    if by is None:
        return
    if not by.has_perm("reviews.change_actionitem"):
        raise PermissionDenied("You may not change this action item.")


def _item_event(item: ActionItem, kind: str, *, by: User | None, at: datetime) -> None:
    if item.review_id:
        _record(item.review, kind, by=by, at=at, item=item.number, title=item.title)


@_service
def action_item_create(
    *,
    by: User | None,
    title: str,
    due_on: date | None,
    owner_user: User | None = None,
    owner_team: Team | None = None,
    review: Review | None = None,
    problem: Problem | None = None,
    description: str = "",
    external_url: str = "",
    now: datetime | None = None,
) -> ActionItem:
    """Add an action item to a review not yet approved (or to a problem), with an
    owner (an agent or a team) and a due date not in the past."""
    _require(by, "reviews.add_actionitem", "add action items")
    at = now or timezone.now()
    if review is not None:
        _lock(review, expected_version=None)
        _require_writer(review, by, "add action items to this review")
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the action item a title."})
    _check_item_fields(
        owner_user=owner_user,
        owner_team=owner_team,
        due_on=due_on,
        external_url=external_url.strip(),
        today=timezone.localdate(at),
    )
    item = ActionItem(
        title=title,
        description=description.strip(),
        source=ActionItem.Source.REVIEW if review else ActionItem.Source.PROBLEM,
        review=review,
        problem=problem or (review.problem if review else None),
        owner_user=owner_user,
        owner_team=owner_team,
        due_on=due_on,
        external_url=external_url.strip(),
        created_by=by,
        created_at=at,
        updated_at=at,
    )
    item.full_clean(exclude=["status", "review", "problem", "owner_user", "owner_team"])
    item.save()
    _item_event(item, "action_item_added", by=by, at=at)
    return item


@_service
def action_item_update(
    *,
    item: ActionItem,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
    title: str | None = None,
    description: str | None = None,
    owner_user: User | None | object = ...,
    owner_team: Team | None | object = ...,
    due_on: date | None = None,
    external_url: str | None = None,
) -> ActionItem:
    """Edit an action item's title, description, owner, due date (not moved into
    the past) and tracker link."""
    _lock(item, expected_version=expected_version)
    _require_item_writer(item, by)
    at = now or timezone.now()
    if title is not None:
        if not title.strip():
            raise ValidationError({"title": "Give the action item a title."})
        item.title = title.strip()
    if description is not None:
        item.description = description.strip()
    if owner_user is not ...:
        item.owner_user = owner_user
    if owner_team is not ...:
        item.owner_team = owner_team
    due_changed = due_on is not None and due_on != item.due_on
    if due_on is not None:
        item.due_on = due_on
    if external_url is not None:
        item.external_url = external_url.strip()
    _check_item_fields(
        owner_user=item.owner_user,
        owner_team=item.owner_team,
        due_on=item.due_on,
        external_url=item.external_url,
        today=timezone.localdate(at),
        due_changed=due_changed,
    )
    _save(
        item,
        at=at,
        exclude=["review", "problem", "owner_user", "owner_team", "article"],
    )
    _item_event(item, "action_item_edited", by=by, at=at)
    return item


def _item_transition(
    item: ActionItem, name: str, *, by: User | None, at: datetime
) -> None:
    method = getattr(item, name)
    if not can_proceed(method, check_conditions=False):
        raise ReviewConflict(
            f"Cannot {name.replace('_', ' ')} {item.number}: it is "
            f"{item.get_status_display().lower()}.",
            code="invalid_transition",
        )
    method()
    _save(
        item,
        at=at,
        exclude=["review", "problem", "owner_user", "owner_team", "article"],
    )
    _item_event(item, f"action_item_{item.status}", by=by, at=at)


@_service
def action_item_start(
    *,
    item: ActionItem,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Work on it has begun."""
    _lock(item, expected_version=expected_version)
    _require_item_writer(item, by)
    _item_transition(item, "start", by=by, at=now or timezone.now())
    return item


@_service
def action_item_complete(
    *,
    item: ActionItem,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Done."""
    _lock(item, expected_version=expected_version)
    _require_item_writer(item, by)
    at = now or timezone.now()
    item.completed_at = at
    _item_transition(item, "complete", by=by, at=at)
    return item


@_service
def action_item_decline(
    *,
    item: ActionItem,
    by: User,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Won't do, with the reason why."""
    _lock(item, expected_version=expected_version)
    _require_item_writer(item, by)
    if not reason.strip():
        raise ValidationError({"reason": "Say why it will not be done."})
    at = now or timezone.now()
    item.wont_do_reason = reason.strip()
    item.completed_at = at
    _item_transition(item, "decline", by=by, at=at)
    return item


@_service
def action_item_reopen(
    *,
    item: ActionItem,
    by: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Not done after all: open again."""
    _lock(item, expected_version=expected_version)
    _require_item_writer(item, by)
    item.completed_at = None
    item.wont_do_reason = ""
    _item_transition(item, "reopen", by=by, at=now or timezone.now())
    return item


# ---------------------------------------------------------------- automation rule
@_service
def action_item_automate(
    *, article: Article, signature: str, now: datetime | None = None
) -> ActionItem | None:
    """The SOP's tip: a workaround or runbook applied ``automation_uses`` times
    (admin-set) to incidents with one error signature becomes a task for its
    owner team, "Automate: <article>", linked to the article and the incidents.
    Opened once: not again while that item is open (a partial unique index holds
    it even against two uses recorded at once)."""
    if article.kind not in AUTOMATE_KINDS or not signature:
        return None
    at = now or timezone.now()
    _signature_lock(f"automate:{article.pk}:{signature}")
    if (
        ActionItem.objects.open()
        .filter(
            source=ActionItem.Source.AUTOMATION, article=article, signature=signature
        )
        .exists()
    ):
        return None
    incident_ids = list(
        ArticleUse.objects.filter(
            article=article, signature=signature, kind=ArticleUse.Kind.APPLIED
        )
        .order_by("incident_id")
        .values_list("incident_id", flat=True)
        .distinct()
    )
    if len(incident_ids) < ReviewPolicy.current().automation_uses:
        return None
    due = business_days_after(
        at, ReviewPolicy.current().due_recurring_days, priority=Priority.P3
    )
    item = ActionItem.objects.create(
        title=f"Automate: {article.title}"[:200],
        description=(
            f"{article.number} was applied by hand to {len(incident_ids)} incidents "
            f"with the error signature {signature}. Automate the fix."
        ),
        source=ActionItem.Source.AUTOMATION,
        article=article,
        problem=article.problem,
        signature=signature,
        owner_team=article.owner_team,
        due_on=timezone.localdate(due),
        created_at=at,
        updated_at=at,
    )
    item.incidents.set(incident_ids)
    return item
