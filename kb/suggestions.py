"""What the knowledge base suggests for an incident (the console's panels) and for
a report being typed (the portal): articles, known errors, open problems, and
similar past incidents with how they were resolved."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from incidents.models import Alert, AlertDelivery, Incident, IncidentEvent, Problem
from incidents.selectors import incidents_visible_to
from kb.models import Article
from kb.search import Hit, SearchResult, article_search, query_terms, words_of
from kb.selectors import articles_visible_to, reads_internal

# Label names whose values describe an alert's error rather than its source.
LABEL_KEYS = ("labels", "commonLabels", "groupLabels", "custom_details", "tags")
SKIPPED_LABELS = {"instance", "fingerprint", "pod", "job", "severity", "namespace"}
SIMILAR_CANDIDATES = 100


@dataclass
class IncidentSuggestions:
    """The panels of one incident's page."""

    result: SearchResult
    # A published known-error article that matches, and its problem.
    known_error: Article | None = None
    # Open problems that match and no known-error article documents yet.
    problems: list[Problem] = field(default_factory=list)
    similar: list[Incident] = field(default_factory=list)

    @property
    def hits(self) -> list[Hit]:
        return self.result.hits


def _label_words(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in LABEL_KEYS and isinstance(inner, dict):
                for name, label in inner.items():
                    if name not in SKIPPED_LABELS and isinstance(label, str):
                        yield label
            else:
                yield from _label_words(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _label_words(inner)


def alert_labels(incident: Incident) -> list[str]:
    """The label values of the alert delivery that opened the incident (alert
    name, service, component...), as words to search by. Two indexed queries."""
    if incident.source != Incident.Source.ALERT:
        return []
    first = (
        incident.events.filter(kind=IncidentEvent.Kind.ALERT_OCCURRENCE)
        .order_by("at", "id")
        .values_list("data", flat=True)
        .first()
    )
    if not first or not first.get("delivery"):
        return []
    payload = (
        AlertDelivery.objects.filter(pk=first["delivery"])
        .values_list("payload", flat=True)
        .first()
    )
    return list(dict.fromkeys(_label_words(payload)))[:20] if payload else []


def incident_query(incident: Incident, *, labels: list[str]) -> str:
    """The words an incident is searched by: its title, its alert's labels, its
    category and services, and the start of its description."""
    parts = [
        incident.title,
        " ".join(labels),
        incident.category.name if incident.category_id else "",
        " ".join(service.name for service in incident.services.all()),
        incident.description[:300],
    ]
    return " ".join(words_of(" ".join(parts)))


def incident_suggestions(
    *, incident: Incident, user: AbstractBaseUser, limit: int = 5
) -> IncidentSuggestions:
    """Articles and known errors for an incident, and past incidents like it."""
    labels = alert_labels(incident)
    text = " ".join(query_terms(incident_query(incident, labels=labels)))
    result = article_search(
        articles=articles_visible_to(user),
        query=text,
        public_vocabulary=not reads_internal(user),
        limit=limit,
        correct=False,
    )
    suggestions = IncidentSuggestions(result=result)
    suggestions.known_error = next(
        (
            hit.article
            for hit in result.hits
            if hit.article.kind == Article.Kind.KNOWN_ERROR and hit.article.problem_id
        ),
        None,
    )
    suggestions.problems = _open_problems(incident, suggestions.known_error)
    suggestions.similar = similar_incidents(incident=incident, user=user)
    return suggestions


def _open_problems(incident: Incident, known: Article | None) -> list[Problem]:
    """Open problems whose title shares a word with the incident's title, and the
    one the incident is already linked to; at most three."""
    terms = [term for term in query_terms(incident.title) if len(term) > 2][:6]
    if not terms:
        return []
    matches = Q()
    for term in terms:
        matches |= Q(title__icontains=term)
    problems = Problem.objects.active().filter(matches)
    if known is not None:
        problems = problems.exclude(pk=known.problem_id)
    return list(problems.order_by("-id")[:3])


def similar_incidents(
    *, incident: Incident, user: AbstractBaseUser | AnonymousUser, limit: int = 5
) -> list[Incident]:
    """Resolved and closed incidents like this one, with their resolution: the
    ones its alert raised before first, then the closest by shared title and
    description words, category and services, newest first among equals."""
    visible = incidents_visible_to(user).filter(
        status__in=[Incident.Status.RESOLVED, Incident.Status.CLOSED]
    )
    visible = visible.exclude(pk=incident.pk).exclude(resolution="")
    keys = list(incident.alerts.values_list("integration_id", "dedup_key"))
    same_alert = Q(pk__in=[])
    for integration, key in keys:
        same_alert |= Q(integration=integration, dedup_key=key)
    # Incidents its alert raised before (the alert_key index), then the newest
    # that share a title word (the title's trigram index), as plain values:
    # scored here, so only the few shown are loaded as incidents.
    raised = Alert.objects.filter(same_alert).exclude(incident=None)
    alerted = set(
        visible.filter(
            pk__in=raised.values_list("incident_id", flat=True)[:SIMILAR_CANDIDATES]
        ).values_list("pk", flat=True)
    )
    terms = [term for term in query_terms(incident.title) if len(term) > 2][:6]
    words = Q(pk__in=[])
    for term in terms:
        words |= Q(title__icontains=term)
    fields = ("pk", "title", "description", "category_id")
    candidates = list(
        visible.filter(words).order_by("-id").values_list(*fields)[:SIMILAR_CANDIDATES]
    )
    seen = {pk for pk, *_ in candidates}
    candidates += visible.filter(pk__in=alerted - seen).values_list(*fields)
    links = Incident.services.through.objects.filter(
        incident_id__in=[pk for pk, *_ in candidates]
    ).values_list("incident_id", "service_id")
    services_of: dict[int, set[int]] = {}
    for incident_id, service_id in links:
        services_of.setdefault(incident_id, set()).add(service_id)
    own_services = {service.pk for service in incident.services.all()}
    mine = set(terms) | set(query_terms(incident.description[:300]))
    scored = []
    for pk, title, description, category_id in candidates:
        theirs = set(query_terms(f"{title} {description[:300]}"))
        score = len(mine & theirs) / max(len(mine), 1)
        score += 0.3 if category_id == incident.category_id else 0
        score += 0.3 * len(own_services & services_of.get(pk, set()))
        score += 2 if pk in alerted else 0
        if score >= 0.5:
            scored.append((-score, -pk))
    chosen = [-pk for _, pk in sorted(scored)[:limit]]
    shown = Incident.objects.select_related("category").in_bulk(chosen)
    return [shown[pk] for pk in chosen]


def report_suggestions(
    *, user: AbstractBaseUser | AnonymousUser, title: str, limit: int = 3
) -> list[Hit]:
    """Public articles for the report a requester is typing."""
    if len(title.strip()) < 3:
        return []
    return article_search(
        articles=articles_visible_to(user),
        query=title,
        public_vocabulary=not reads_internal(user),
        limit=limit,
    ).hits
