"""Every write of the status page: entries and their messages, maintenance
windows, subscriptions, and the fan-out of messages to subscribers.

Each service is one transaction; those of an entry lock the entry's row, check
the caller may speak for the incident (``incidents.status.access``), write, keep
every published wording (``StatusVersion``) and, after commit, forget the cached
page and start the fan-out. Only these services write the status models.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from incidents.dispatch import send_task_by_name
from incidents.exceptions import IncidentConflict
from incidents.models import (
    ComponentState,
    Incident,
    MaintenanceWindow,
    Notification,
    Priority,
    Service,
    StakeholderUpdate,
    StatusEntry,
    StatusImpact,
    StatusMessage,
    StatusPageSettings,
    StatusSubscriber,
    StatusVersion,
)
from incidents.models.status import IMPACT_STATES, STATE_RANK, subscriber_secret
from incidents.services.notifications import outbox_write, webhook_address_check
from incidents.status import statuspage
from incidents.status.access import MAINTENANCE_PERMISSION, may_publish
from incidents.status.selectors import (
    STAGE_LABELS,
    STATE_LABELS,
    status_cache_clear,
    status_entry_page,
    status_page,
)

logger = logging.getLogger(__name__)
# Named, not imported: the tasks call these services (see ``incidents.dispatch``).
FANOUT_TASK = "incidents.status.tasks.status_message_fanout_task"
User = AbstractBaseUser

Stage = StatusEntry.Stage
# Statuspage's incident impact from the worst component state.
IMPACT_FOR_STATE = {
    ComponentState.DEGRADED: StatusEntry.Impact.MINOR,
    ComponentState.PARTIAL: StatusEntry.Impact.MAJOR,
    ComponentState.MAJOR: StatusEntry.Impact.CRITICAL,
}
IMPACT_RANK = {impact: rank for rank, impact in enumerate(StatusEntry.Impact.values)}
# A proposal's suggested component state for the incident's priority.
SUGGESTED_STATE = {1: ComponentState.MAJOR, 2: ComponentState.PARTIAL}
AUTO_MESSAGE = (
    "We are investigating a problem affecting {components}. We will post an "
    "update as soon as we know more."
)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _after_commit_forget(*entries: str) -> None:
    ids = list(entries)
    transaction.on_commit(lambda: status_cache_clear(entries=ids), robust=True)


# ---------------------------------------------------------------- validation
def _require_publisher(by: User | None, incident: Incident) -> None:
    """``by=None`` is the system (automatic publishing, public updates)."""
    if by is not None and not may_publish(by, incident):
        raise PermissionDenied(
            "You may not speak for this incident on the status page."
        )


def _text(value: str, *, field: str, what: str, limit: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"Write the {what}."})
    if limit is not None and len(text) > limit:
        raise ValidationError({field: f"The {what} is longer than {limit} characters."})
    return text


def _states(components: Mapping[int, str]) -> dict[int, str]:
    """``{service id: state}`` checked: public services, states an entry may set."""
    states = {int(pk): state for pk, state in components.items()}
    wrong = {pk: s for pk, s in states.items() if s not in IMPACT_STATES}
    if wrong:
        raise ValidationError({"components": "Choose a state for each component."})
    public = set(
        Service.objects.filter(pk__in=states, is_public=True).values_list(
            "pk", flat=True
        )
    )
    if set(states) - public:
        raise ValidationError(
            {"components": "Only public services are components of the status page."}
        )
    return states


def _impact(states: Iterable[str]) -> str:
    worst = max(states, key=STATE_RANK.__getitem__, default=None)
    return IMPACT_FOR_STATE.get(worst, StatusEntry.Impact.NONE)


# ---------------------------------------------------------------- entries
def _lock(entry: StatusEntry) -> StatusEntry:
    """The entry's row, locked until the transaction ends, as it is now."""
    return (
        StatusEntry.objects.select_for_update()
        .select_related("incident")
        .get(pk=entry.pk)
    )


def _require_open(entry: StatusEntry) -> None:
    if entry.status != StatusEntry.Status.PUBLISHED:
        raise IncidentConflict(
            "This entry is not published: publish it first.", code="invalid_transition"
        )
    if entry.resolved_at is not None:
        raise IncidentConflict(
            "This entry is resolved: it takes no more messages (its words can still "
            "be edited).",
            code="final",
        )


def _set_components(
    entry: StatusEntry, states: dict[int, str], *, at: datetime
) -> None:
    """Put the components in ``states`` from ``at``: a component whose state
    changes (or that recovers) ends its span, a new or changed one starts one."""
    current = {i.service_id: i for i in entry.impacts.filter(end_at__isnull=True)}
    ended = [pk for pk, i in current.items() if states.get(pk) != i.state]
    StatusImpact.objects.filter(
        entry=entry, service_id__in=ended, end_at__isnull=True
    ).update(end_at=at)
    StatusImpact.objects.bulk_create(
        StatusImpact(entry=entry, service_id=pk, state=state, start_at=at)
        for pk, state in states.items()
        if pk not in current or pk in ended
    )
    # The entry's impact is the worst it has been: a resolved outage stays one.
    entry.impact = max(
        entry.impact, _impact(states.values()), key=IMPACT_RANK.__getitem__
    )


def _add_message(
    entry: StatusEntry,
    *,
    stage: str,
    body: str,
    by: User | None,
    at: datetime,
    source_update: StakeholderUpdate | None = None,
) -> StatusMessage:
    message = StatusMessage.objects.create(
        entry=entry,
        stage=stage,
        body=body,
        created_at=at,
        author=by,
        source_update=source_update,
    )
    StatusVersion.objects.create(entry=entry, message=message, text=body, at=at, by=by)
    _after_commit_forget(entry.public_id)
    transaction.on_commit(lambda: fanout_dispatch(message.pk), robust=True)
    return message


def status_entry_propose(
    *, incident: Incident, now: datetime | None = None
) -> StatusEntry:
    """Propose an entry for ``incident`` (the system does, for a major incident
    on a public service). Nothing is public; an existing entry is kept as it is."""
    entry, _ = StatusEntry.objects.get_or_create(
        incident=incident,
        defaults={"proposed_at": _now(now), "updated_at": _now(now)},
    )
    return entry


@transaction.atomic
def status_entry_publish(
    *,
    incident: Incident,
    by: User | None,
    title: str,
    components: Mapping[int, str],
    message: str,
    now: datetime | None = None,
) -> StatusEntry:
    """Publish ``incident`` on the status page with a public title, the affected
    components and their state, and a first message (stage investigating). From
    now on the public sees it. A dismissed proposal can still be published; a
    published entry cannot be published again."""
    _require_publisher(by, incident)
    at = _now(now)
    title = _text(title, field="title", what="public title", limit=200)
    body = _text(message, field="message", what="first message")
    states = _states(components)
    if not states:
        raise ValidationError({"components": "Choose at least one affected component."})
    entry = StatusEntry.objects.select_for_update().filter(
        incident=incident
    ).first() or StatusEntry(incident=incident, proposed_at=at)
    if entry.status == StatusEntry.Status.PUBLISHED:
        raise IncidentConflict("This incident is already published.", code="stale")
    entry.status = StatusEntry.Status.PUBLISHED
    entry.title = title
    entry.stage = Stage.INVESTIGATING
    entry.published_at = entry.updated_at = at
    entry.published_by = by
    # The outage counts from when it was detected, not from when it was told.
    entry.started_at = min(incident.detected_at, at)
    entry.dismissed_at = None
    entry.save()
    _set_components(entry, states, at=entry.started_at)
    entry.save(update_fields=["impact"])
    StatusVersion.objects.create(entry=entry, text=title, at=at, by=by)
    _add_message(entry, stage=Stage.INVESTIGATING, body=body, by=by, at=at)
    return entry


@transaction.atomic
def status_entry_dismiss(
    *, entry: StatusEntry, by: User, now: datetime | None = None
) -> StatusEntry:
    """Decide not to publish a proposed entry. It stays dismissed (not proposed
    again for this incident) and can still be published later."""
    entry = _lock(entry)
    _require_publisher(by, entry.incident)
    if entry.status != StatusEntry.Status.PROPOSED:
        raise IncidentConflict("Only a proposal can be dismissed.", code="stale")
    entry.status = StatusEntry.Status.DISMISSED
    entry.dismissed_at = _now(now)
    entry.save(update_fields=["status", "dismissed_at"])
    return entry


@transaction.atomic
def status_entry_post(
    *,
    entry: StatusEntry,
    by: User | None,
    stage: str,
    body: str,
    components: Mapping[int, str] | None = None,
    now: datetime | None = None,
    source_update: StakeholderUpdate | None = None,
) -> StatusMessage:
    """Post a public message at ``stage`` (investigating, identified, monitoring
    or resolved, in any order: the public stages follow what the public is told,
    not the incident's lifecycle). ``components`` (when given) are the
    components' states from now on; resolving ends every component's impact and
    is the last stage."""
    entry = _lock(entry)
    _require_publisher(by, entry.incident)
    _require_open(entry)
    at = _now(now)
    if stage not in Stage.values:
        raise ValidationError(
            {"stage": f"{stage!r} is not a stage of the status page."}
        )
    body = _text(body, field="body", what="message")
    if stage == Stage.RESOLVED:
        _set_components(entry, {}, at=at)
        entry.resolved_at = at
        entry.resolution_proposed_at = None
    elif components is not None:
        _set_components(entry, _states(components), at=at)
    if stage == Stage.MONITORING and entry.monitoring_at is None:
        entry.monitoring_at = at
    entry.stage = stage
    entry.updated_at = at
    entry.save()
    return _add_message(
        entry, stage=stage, body=body, by=by, at=at, source_update=source_update
    )


@transaction.atomic
def status_entry_edit_title(
    *, entry: StatusEntry, by: User, title: str, now: datetime | None = None
) -> StatusEntry:
    """Reword a published entry's title; it shows as updated, and the wording it
    replaces stays among the entry's versions."""
    entry = _lock(entry)
    _require_publisher(by, entry.incident)
    if entry.status != StatusEntry.Status.PUBLISHED:
        raise IncidentConflict(
            "Only a published entry's words are edited.", code="stale"
        )
    title = _text(title, field="title", what="public title", limit=200)
    if title == entry.title:
        return entry
    at = _now(now)
    entry.title, entry.title_edited_at, entry.updated_at = title, at, at
    entry.save(update_fields=["title", "title_edited_at", "updated_at"])
    StatusVersion.objects.create(entry=entry, text=title, at=at, by=by)
    _after_commit_forget(entry.public_id)
    return entry


@transaction.atomic
def status_message_edit(
    *, message: StatusMessage, by: User, body: str, now: datetime | None = None
) -> StatusMessage:
    """Reword a published message (subscribers are not told again); it shows as
    updated, and the wording it replaces stays among the entry's versions."""
    entry = _lock(message.entry)
    _require_publisher(by, entry.incident)
    message = StatusMessage.objects.select_for_update().get(pk=message.pk)
    body = _text(body, field="body", what="message")
    if body == message.body:
        return message
    at = _now(now)
    message.body, message.edited_at = body, at
    message.save(update_fields=["body", "edited_at"])
    entry.updated_at = at
    entry.save(update_fields=["updated_at"])
    StatusVersion.objects.create(entry=entry, message=message, text=body, at=at, by=by)
    _after_commit_forget(entry.public_id)
    return message


def _auto_publish(entry: StatusEntry, *, at: datetime) -> None:
    """Automatic P1 publishing (an admin setting): the first public service's
    default title, every public service of the incident in major outage, and a
    standard first message."""
    incident = entry.incident
    named = list(
        incident.services.filter(is_public=True)
        .select_related("status_component")
        .order_by("name")
    )
    first = named[0]
    row = getattr(first, "status_component", None)
    title = (row.default_title if row else "") or f"{first.name} is unavailable"
    status_entry_publish(
        incident=incident,
        by=None,
        title=title,
        components={s.pk: ComponentState.MAJOR for s in named},
        message=AUTO_MESSAGE.format(components=", ".join(s.name for s in named)),
        now=at,
    )


def suggested_states(incident: Incident) -> dict[int, str]:
    """What a publishing form suggests: the incident's public services, in major
    outage for a P1 and partial outage for a P2."""
    state = SUGGESTED_STATE.get(incident.priority, ComponentState.DEGRADED)
    return {
        pk: state
        for pk in incident.services.filter(is_public=True).values_list("pk", flat=True)
    }


# ---------------------------------------------------------------- the hook's work
def _is_candidate(incident: Incident) -> bool:
    return (
        incident.priority in Priority.major()
        and incident.status in Incident.OPEN_STATUSES
        and incident.services.filter(is_public=True).exists()
    )


@transaction.atomic
def status_incident_sync(*, incident_id: int, now: datetime | None = None) -> None:
    """Bring the status page in step with an incident that changed (the incident
    services call this after commit, through one hook). Safe to run any number
    of times:

    - a major incident that is open and names a public service is proposed (and
      published at once if it is a P1 and automatic P1 publishing is on);
    - the incident's public stakeholder updates posted since its entry was
      published become messages of the entry, at its current stage;
    - an incident resolved while its entry is open proposes resolving the entry
      (and a reopened one withdraws that proposal).
    """
    at = _now(now)
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("status_entry")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        return
    try:
        entry = incident.status_entry
    except Incident.status_entry.RelatedObjectDoesNotExist:
        entry = None
    if entry is None:
        if not _is_candidate(incident):
            return
        entry = status_entry_propose(incident=incident, now=at)
        if incident.priority == 1 and StatusPageSettings.current().auto_publish_p1:
            _auto_publish(entry, at=at)
        return
    if not entry.is_open:
        return
    updates = StakeholderUpdate.objects.filter(
        incident=incident,
        is_public=True,
        created_at__gte=entry.published_at,
        status_message__isnull=True,
    ).order_by("created_at", "id")
    for update in updates:
        status_entry_post(
            entry=entry,
            by=None,
            stage=entry.stage,
            body=update.body,
            now=max(update.created_at, entry.published_at),
            source_update=update,
        )
        entry.refresh_from_db()
    resolved = incident.status in (Incident.Status.RESOLVED, Incident.Status.CLOSED)
    if resolved and entry.resolution_proposed_at is None:
        StatusEntry.objects.filter(pk=entry.pk).update(resolution_proposed_at=at)
    elif not resolved and entry.resolution_proposed_at is not None:
        StatusEntry.objects.filter(pk=entry.pk).update(resolution_proposed_at=None)


# ---------------------------------------------------------------- maintenance
@transaction.atomic
def maintenance_window_save(
    *,
    window: MaintenanceWindow,
    by: User,
    services: Iterable[Service],
    now: datetime | None = None,
) -> MaintenanceWindow:
    """Create or change a maintenance window (an admin or an incident manager:
    the add or change permission). Any service may be under maintenance; the
    window is announced on the status page when it has a public title."""
    is_new = window.pk is None
    permission = (
        MAINTENANCE_PERMISSION if is_new else "incidents.change_maintenancewindow"
    )
    if not by.has_perm(permission):
        raise PermissionDenied("You may not plan maintenance.")
    chosen = list(services)
    if not chosen:
        raise ValidationError({"services": "Choose the services under maintenance."})
    if window.public_title and not window.public_message.strip():
        raise ValidationError(
            {"public_message": "Say what the public should expect during it."}
        )
    if is_new:
        window.created_by = by
        window.created_at = _now(now)
    window.full_clean(exclude=["services", "created_by"])
    window.save()
    window.services.set(chosen)
    _after_commit_forget()
    return window


@transaction.atomic
def maintenance_window_cancel(
    *, window: MaintenanceWindow, by: User, now: datetime | None = None
) -> MaintenanceWindow:
    """Call off a window: it is kept, covers nothing and is no longer announced."""
    if not by.has_perm("incidents.change_maintenancewindow"):
        raise PermissionDenied("You may not change planned maintenance.")
    MaintenanceWindow.objects.filter(pk=window.pk, cancelled_at__isnull=True).update(
        cancelled_at=_now(now)
    )
    window.refresh_from_db()
    _after_commit_forget()
    return window


# ---------------------------------------------------------------- subscribers
CONFIRM_SALT = "incidents.status.subscribe"
UNSUBSCRIBE_SALT = "incidents.status.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=3)


class SubscriptionThrottled(Exception):
    """Too many subscription requests for this address or from this client."""


def _count(key: str, limit: int) -> bool:
    """Count one request under ``key`` for the hour; False once over ``limit``.
    A cache that is down counts nothing (subscribing needs a confirmed address
    anyway)."""
    try:
        if cache.add(key, 1, timeout=3600):
            return True
        return cache.incr(key) <= limit
    except Exception:  # noqa: BLE001 - see the docstring
        logger.warning("cache unreachable; subscription not rate-limited")
        return True


# Where the hourly counts live in the cache (addresses only as a hash).
RATE_PREFIX = "itsm:status:subscribe"


def _hour_key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    hour = int(timezone.now().timestamp() // 3600)
    return f"{RATE_PREFIX}:{kind}:{digest}:{hour}"


def subscription_request(
    *,
    email: str,
    components: Iterable[Service] = (),
    webhook_url: str = "",
    client: str,
    now: datetime | None = None,
) -> None:
    """Ask to subscribe ``email`` (or, with ``webhook_url``, that webhook, with
    ``email`` to confirm it) to all components (none given) or the given ones.

    Double opt-in: nothing is stored; a confirmation link carrying the request,
    signed, goes to the address through the outbox, and only following it
    subscribes. The caller says the same thing whether the address is already
    subscribed or not, and so does this: the same email goes out either way.
    At most ``STATUS_SUBSCRIBE_PER_HOUR_ADDRESS`` requests an hour for one
    address and ``STATUS_SUBSCRIBE_PER_HOUR_CLIENT`` from one client
    (``SubscriptionThrottled``)."""
    address = (email or "").strip().lower()
    try:
        EmailValidator()(address)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    url = (webhook_url or "").strip()
    if url:
        try:
            webhook_address_check(url)
        except ValidationError as exc:
            raise ValidationError({"webhook_url": exc.messages}) from None
    ids = sorted(s.pk for s in components if s.is_public)
    if not (
        _count(_hour_key("client", client), settings.STATUS_SUBSCRIBE_PER_HOUR_CLIENT)
        and _count(
            _hour_key("address", address), settings.STATUS_SUBSCRIBE_PER_HOUR_ADDRESS
        )
    ):
        raise SubscriptionThrottled
    at = _now(now)
    token = signing.dumps({"e": address, "c": ids, "w": url}, salt=CONFIRM_SALT)
    link = settings.SITE_URL + reverse("status:confirm", args=[token])
    page_name = StatusPageSettings.current().name
    context = {"link": link, "page_name": page_name, "webhook_url": url}
    outbox_write(
        [
            Notification(
                channel=Notification.Channel.EMAIL,
                recipient=address,
                event="status_confirm",
                subject=f"Confirm your subscription to {page_name}"[:255],
                body=render_to_string("status/email/confirm.txt", context),
                payload={"event": "status_confirm", "at": at.isoformat()},
                next_attempt_at=at,
                created_at=at,
            )
        ]
    )


@transaction.atomic
def subscription_confirm(
    *, token: str, now: datetime | None = None
) -> tuple[StatusSubscriber, str | None]:
    """Follow a confirmation link: subscribe its address (or webhook) with its
    choice of components, replacing an earlier choice. Returns the subscriber
    and, for a webhook, its new signing secret (shown only now)."""
    try:
        data = signing.loads(
            token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE.total_seconds()
        )
    except signing.BadSignature:  # also SignatureExpired
        raise ValidationError(
            "This confirmation link has expired or is not valid: subscribe again."
        ) from None
    at = _now(now)
    url = data.get("w") or ""
    if url:
        subscriber = StatusSubscriber.objects.filter(
            kind=StatusSubscriber.Kind.WEBHOOK, webhook_url=url
        ).first() or StatusSubscriber(
            kind=StatusSubscriber.Kind.WEBHOOK, webhook_url=url
        )
        secret = subscriber.secret = subscriber_secret()
    else:
        subscriber = StatusSubscriber.objects.filter(
            kind=StatusSubscriber.Kind.EMAIL, email=data["e"]
        ).first() or StatusSubscriber(kind=StatusSubscriber.Kind.EMAIL)
        secret = None
    subscriber.email = data["e"]
    subscriber.confirmed_at = at
    subscriber.save()
    subscriber.components.set(Service.objects.filter(pk__in=data["c"], is_public=True))
    return subscriber, secret


def unsubscribe_token(subscriber: StatusSubscriber) -> str:
    return signing.dumps({"s": subscriber.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(subscriber: StatusSubscriber) -> str:
    return settings.SITE_URL + reverse(
        "status:unsubscribe", args=[unsubscribe_token(subscriber)]
    )


def subscription_cancel(*, token: str) -> None:
    """Follow an unsubscribe link (one click, or the mail client's one-click
    POST): the subscriber and its pending messages are gone. Running it twice,
    or for a subscriber already gone, is the same. A link that was not made
    here is refused (``ValidationError``)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise ValidationError("This unsubscribe link is not valid.") from None
    StatusSubscriber.objects.filter(pk=data["s"]).delete()


# ---------------------------------------------------------------- fan-out
def fanout_dispatch(message_id: int) -> None:
    """Ask a worker to fan a message out; if the broker is down, the fan-out
    sweep (beat) finds it. Never fails the caller."""
    try:
        send_task_by_name(FANOUT_TASK, message_id)
    except Exception:  # noqa: BLE001 - the message row is the guarantee
        logger.warning("broker unavailable; message %s waits for the sweep", message_id)


def _recipients(message: StatusMessage) -> Q:
    """Subscribers of every component, or of one the entry names."""
    services = StatusImpact.objects.filter(entry=message.entry_id).values("service_id")
    through = StatusSubscriber.components.through.objects
    chose = through.filter(statussubscriber=OuterRef("pk"))
    return ~Exists(chose) | Exists(chose.filter(service__in=services))


def _row(
    subscriber: StatusSubscriber, *, message: StatusMessage, at: datetime, **fields: Any
) -> Notification:
    """A subscriber's outbox row of a message: at most one (``dedup_key``)."""
    return Notification(
        status_subscriber=subscriber,
        event="status_message",
        dedup_key=f"status-message:{message.pk}:{subscriber.pk}",
        next_attempt_at=at,
        created_at=at,
        **fields,
    )


def _email(
    subscriber: StatusSubscriber, context: dict, *, at: datetime, message: StatusMessage
) -> Notification:
    unsubscribe = unsubscribe_url(subscriber)
    return _row(
        subscriber,
        message=message,
        at=at,
        channel=Notification.Channel.EMAIL,
        recipient=subscriber.email,
        subject=context["subject"],
        body=render_to_string(
            "status/email/message.txt", {**context, "unsubscribe": unsubscribe}
        ),
        payload={
            "event": "status_message",
            "at": at.isoformat(),
            # RFC 2369 and RFC 8058: mail clients offer (one-click) unsubscribe.
            "headers": {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        },
    )


def _webhook(
    subscriber: StatusSubscriber, body: dict, *, at: datetime, message: StatusMessage
) -> Notification:
    return _row(
        subscriber,
        message=message,
        at=at,
        channel=Notification.Channel.WEBHOOK,
        recipient=subscriber.webhook_url,
        subject=body["incident"]["name"][:255],
        body="",
        payload={
            "meta": {
                "unsubscribe": unsubscribe_url(subscriber),
                "documentation": settings.SITE_URL + reverse("status:page"),
            },
            **body,
        },
    )


@transaction.atomic
def status_message_fanout_batch(
    *, message_id: int, now: datetime | None = None, batch: int | None = None
) -> bool:
    """Write the outbox rows of the next ``batch`` subscribers of a message, in
    id order after the message's cursor, and move the cursor on; returns whether
    more remain. The message's row is locked (other workers skip it), so each
    batch is written once: a worker that dies mid-batch writes nothing, the
    next run does the batch again. The rows are delivered by the outbox."""
    at = _now(now)
    size = batch or settings.STATUS_FANOUT_BATCH
    message = (
        StatusMessage.objects.select_for_update(skip_locked=True)
        .filter(pk=message_id, fanout_done_at__isnull=True)
        .select_related("entry")
        .first()
    )
    if message is None:
        return False  # done, gone, or another worker has it now
    subscribers = list(
        StatusSubscriber.objects.filter(
            _recipients(message), pk__gt=message.fanout_cursor
        ).order_by("pk")[:size]
    )
    if subscribers:
        entry = status_entry_page(public_id=message.entry.public_id)
        rows = _rows(subscribers, message=message, entry=entry, at=at)
        outbox_write(rows)
        message.fanout_cursor = subscribers[-1].pk
    if len(subscribers) < size:
        message.fanout_done_at = at
    message.save(update_fields=["fanout_cursor", "fanout_done_at"])
    return message.fanout_done_at is None


def _rows(
    subscribers: list[StatusSubscriber],
    *,
    message: StatusMessage,
    entry: dict | None,
    at: datetime,
) -> list[Notification]:
    if entry is None:  # no longer published (cannot happen today): tell nobody
        return []
    content = status_page(now=at)
    page_name = content["page"]["name"]
    title = " ".join(entry["title"].split())
    context = {
        "subject": f"[{page_name}] {title}: {STAGE_LABELS[message.stage]}"[:255],
        "page_name": page_name,
        "entry": entry,
        "message": message,
        "stage_label": STAGE_LABELS[message.stage],
        "state_labels": STATE_LABELS,
        "entry_url": statuspage.shortlink(entry["id"]),
        "page_url": content["page"]["url"],
    }
    # Statuspage's webhook payload (times as its API writes them), the same
    # for every subscriber but for the unsubscribe link.
    hook_body = json.loads(
        json.dumps(
            {
                "page": {
                    "id": content["page"]["id"],
                    "status_indicator": content["indicator"],
                    "status_description": content["state_label"],
                },
                "incident": statuspage.incident(entry, content),
            },
            cls=DjangoJSONEncoder,
        )
    )
    return [
        _webhook(s, hook_body, at=at, message=message)
        if s.kind == StatusSubscriber.Kind.WEBHOOK
        else _email(s, context, at=at, message=message)
        for s in subscribers
    ]


def status_fanout_sweep(*, now: datetime | None = None, limit: int = 50) -> int:
    """Finish the fan-out of every message whose fan-out has not finished (after
    a broker outage, or a worker that died); returns how many it finished."""
    pending = StatusMessage.objects.filter(fanout_done_at__isnull=True).order_by(
        "created_at"
    )
    done = 0
    for pk in pending.values_list("pk", flat=True)[:limit]:
        while status_message_fanout_batch(message_id=pk, now=now):
            pass
        done += 1
    return done
