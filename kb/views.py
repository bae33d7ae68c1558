"""Pages of the knowledge base: the console's ``/kb/`` (browse, search, write,
publish), the incident page's panels (loaded by htmx after the page), and the
portal's public articles and report suggestions.

Every read starts from ``articles_visible_to``: an article the person may not read
is a 404, like one that does not exist. Every write is one service call followed
by a redirect; a refused one comes back with the text as typed."""

from __future__ import annotations

import difflib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from incidents import services as incident_services
from incidents.access import add_service_errors, area_required, sandboxed_file
from incidents.exceptions import IncidentConflict
from incidents.models import MAX_ID, Incident, Problem
from incidents.selectors import incidents_visible_to
from kb import forms, selectors, services
from kb.markdown import render_markdown
from kb.models import Article, ArticleAttachment, ArticleUse, ArticleVersion
from kb.search import article_search
from kb.suggestions import incident_suggestions, report_suggestions

KB = "kb.view_article"
PORTAL = "incidents.use_requester_portal"
kb_required = area_required(KB, home="kb:list")
portal_required = area_required(PORTAL, home="incidents:portal")
LIST_LIMIT = 100


def _article(request: HttpRequest, number: str) -> Article:
    try:
        return selectors.article_get(user=request.user, number=number)
    except Article.DoesNotExist:
        raise Http404 from None


def _incident(request: HttpRequest, number: str) -> Incident:
    try:
        return (
            incidents_visible_to(request.user)
            .select_related("category", "problem")
            .by_number(number)
        )
    except Incident.DoesNotExist:
        raise Http404 from None


# ---------------------------------------------------------------- browse and search
@kb_required
def article_list(request: HttpRequest) -> HttpResponse:
    """Articles by service, category, kind and state; with a query, the search."""
    form = forms.ArticleFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    articles = selectors.article_list(
        user=request.user,
        kind=filters.get("kind", ""),
        service=filters["service"].pk if filters.get("service") else None,
        category=filters["category"].pk if filters.get("category") else None,
        status=filters.get("status", ""),
    )
    result = None
    if filters.get("q"):
        result = article_search(
            articles=articles,
            query=filters["q"],
            public_vocabulary=False,
            limit=20,
        )
    context = {
        "form": form,
        "result": result,
        "articles": None if result else list(articles[:LIST_LIMIT]),
        "now": timezone.now(),
        "can_write": request.user.has_perm("kb.add_article"),
    }
    return render(request, "kb/article_list.html", context)


# ---------------------------------------------------------------- write
def _prefill_from_incident(request: HttpRequest, number: str) -> dict[str, Any]:
    """An article's first draft from a resolved incident: its title, what people
    saw, and how it was fixed and verified."""
    incident = _incident(request, number)
    body = incident.resolution
    if incident.verification:
        body += f"\n\n## How to check it worked\n\n{incident.verification}"
    kind = (
        Article.Kind.WORKAROUND
        if incident.resolution_kind == Incident.ResolutionKind.WORKAROUND
        else Article.Kind.HOW_TO
    )
    return {
        "title": incident.title,
        "symptoms": incident.description,
        "body": body,
        "kind": kind,
        "audience": Article.Audience.INTERNAL,
        "owner_team": incident.team_id,
        "services": list(incident.services.values_list("pk", flat=True)),
        "categories": [incident.category_id] if incident.category_id else [],
        "problem": incident.problem_id,
    }


@kb_required
def article_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("kb.add_article"):
        raise PermissionDenied
    if request.method != "POST":
        initial = {"audience": Article.Audience.INTERNAL}
        if request.GET.get("from"):
            initial = _prefill_from_incident(request, request.GET["from"])
        form = forms.ArticleForm(initial=initial)
        return render(request, "kb/article_form.html", {"form": form})
    form = forms.ArticleForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("revision")
        try:
            article = services.article_create(by=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Draft {article.number} saved.")
            return redirect(article)
    return render(request, "kb/article_form.html", {"form": form}, status=400)


@kb_required
def article_edit(request: HttpRequest, number: str) -> HttpResponse:
    article = _article(request, number)
    if not request.user.has_perm("kb.change_article"):
        raise PermissionDenied
    context: dict[str, Any] = {"article": article}
    if request.method != "POST":
        initial = {
            "title": article.title,
            "symptoms": article.symptoms,
            "body": article.body,
            "kind": article.kind,
            "audience": article.audience,
            "owner_team": article.owner_team_id,
            "services": [s.pk for s in article.services.all()],
            "categories": [c.pk for c in article.categories.all()],
            "problem": article.problem_id,
            "revision": article.revision,
        }
        context["form"] = forms.ArticleForm(initial=initial)
        return render(request, "kb/article_form.html", context)
    form = forms.ArticleForm(request.POST)
    context["form"] = form
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        revision = data.pop("revision") or 0
        try:
            services.article_update(
                article=article, by=request.user, revision=revision, **data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except IncidentConflict as conflict:
            form.add_error(None, conflict.message)
            status = 409
        else:
            messages.success(request, f"{article.number} saved.")
            return redirect(article)
    return render(request, "kb/article_form.html", context, status=status)


ACTIONS = {
    "publish": (services.article_publish, "published"),
    "unpublish": (services.article_unpublish, "back to draft"),
    "retire": (services.article_retire, "retired"),
}


@require_POST
@kb_required
def article_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Publish, take back to draft, or retire. Refused: back to the page saying why
    (403 without the permission, 409 when the state does not allow it)."""
    if action not in ACTIONS:
        raise Http404
    article = _article(request, number)
    service, done = ACTIONS[action]
    revision = request.POST.get("revision", "")
    try:
        service(
            article=article,
            by=request.user,
            revision=int(revision) if revision.isdigit() else None,
        )
    except IncidentConflict as conflict:
        return _detail(request, article, error=conflict.message, status=409)
    except ValidationError as error:
        return _detail(request, article, error=" ".join(error.messages), status=400)
    messages.success(request, f"{article.number} {done}.")
    return redirect(article)


@require_POST
@kb_required
def article_attach(request: HttpRequest, number: str) -> HttpResponse:
    article = _article(request, number)
    form = forms.ArticleFilesForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(
            request, article, error=" ".join(form.errors["attachments"]), status=400
        )
    uploads = [checked.upload for checked in form.cleaned_data["attachments"]]
    saved = services.article_attach(article=article, by=request.user, files=uploads)
    messages.success(request, f"{len(saved)} file(s) attached.")
    return redirect(article)


# ---------------------------------------------------------------- read
def _actions_for(request: HttpRequest, article: Article) -> list[tuple[str, str]]:
    labels = {
        "publish": "Publish",
        "unpublish": "Take back to draft",
        "retire": "Retire",
    }
    publisher = request.user.has_perm("kb.publish_article")
    writer = request.user.has_perm("kb.change_article")
    allowed = []
    for name, label in labels.items():
        may = writer if name == "unpublish" else publisher
        if may and can_proceed(getattr(article, name)):
            allowed.append((name, label))
    return allowed


def _detail(
    request: HttpRequest, article: Article, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "article": article,
        "body_html": render_markdown(article.body),
        "versions": list(selectors.article_versions(article=article)),
        "attachments": list(article.attachments.all()),
        "actions": _actions_for(request, article),
        "can_edit": article.status == Article.Status.DRAFT
        and request.user.has_perm("kb.change_article"),
        "files_form": forms.ArticleFilesForm(),
        "uses": article.uses.count(),
        "stale": article.is_stale(timezone.now()),
        "error": error,
    }
    return render(request, "kb/article_detail.html", context, status=status)


@kb_required
def article_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _detail(request, _article(request, number))


def _diff(old: ArticleVersion | None, new: ArticleVersion) -> list[tuple[str, str]]:
    """The lines that changed from ``old`` to ``new``, each with its kind."""

    def text(version: ArticleVersion | None) -> list[str]:
        if version is None:
            return []
        return [
            f"# {version.title}",
            "",
            *version.symptoms.splitlines(),
            "",
            *version.body.splitlines(),
        ]

    lines = []
    for line in difflib.unified_diff(text(old), text(new), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines


@kb_required
def version_detail(request: HttpRequest, number: str, version: int) -> HttpResponse:
    """One published version, and what changed from the version before it."""
    article = _article(request, number)
    if version > 2**31:  # no such version, and beyond the column's range
        raise Http404
    versions = {
        v.number: v for v in article.versions.filter(number__in=[version - 1, version])
    }
    if version not in versions:
        raise Http404
    current = versions[version]
    context = {
        "article": article,
        "version": current,
        "previous": versions.get(version - 1),
        "body_html": render_markdown(current.body),
        "diff": _diff(versions.get(version - 1), current),
    }
    return render(request, "kb/version_detail.html", context)


@require_GET
@login_required
def attachment_download(request: HttpRequest, pk: str) -> FileResponse:
    """An article's file, to whoever may read the article; 404 to anyone else.
    Pictures are shown in the page; everything else is sent as a download. In a
    sandbox either way, so a file never runs as our page."""
    try:
        attachment = ArticleAttachment.objects.select_related("article").get(
            pk=pk, article__in=selectors.articles_visible_to(request.user)
        )
    except (ArticleAttachment.DoesNotExist, ValidationError):
        raise Http404 from None
    return sandboxed_file(attachment, inline=attachment.is_image)


# ---------------------------------------------------------------- on the incident page
@require_GET
@area_required("incidents.use_agent_console", home="incidents:console")
def incident_panels(request: HttpRequest, number: str) -> HttpResponse:
    """The incident page's "Known errors and articles" and "Similar incidents"
    panels (htmx, after the page has painted)."""
    incident = _incident(request, number)
    suggestions = incident_suggestions(incident=incident, user=request.user)
    used = set(
        ArticleUse.objects.filter(incident=incident).values_list("article_id", "kind")
    )
    resolved = incident.status in (Incident.Status.RESOLVED, Incident.Status.CLOSED)
    context = {
        "incident": incident,
        "suggestions": suggestions,
        "known_error": suggestions.known_error,
        "known_error_html": render_markdown(suggestions.known_error.body)
        if suggestions.known_error
        else "",
        "applied": {pk for pk, kind in used if kind == ArticleUse.Kind.APPLIED},
        "helped": {pk for pk, kind in used if kind == ArticleUse.Kind.HELPED},
        "can_work": request.user.has_perm("incidents.work_incident")
        and incident.status not in Incident.FINAL_STATUSES,
        "resolved": resolved,
        "can_write": request.user.has_perm("kb.add_article"),
    }
    return render(request, "kb/partials/incident_panels.html", context)


def _incident_write(
    request: HttpRequest, number: str, article_number: str, act: Any
) -> HttpResponse:
    incident = _incident(request, number)
    try:
        article = selectors.article_get(user=request.user, number=article_number)
    except Article.DoesNotExist:
        raise Http404 from None
    try:
        done = act(incident, article)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except IncidentConflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, done)
    return redirect("incidents:detail", number=incident.number)


@require_POST
@area_required("incidents.use_agent_console", home="incidents:console")
def incident_use(request: HttpRequest, number: str, article: str) -> HttpResponse:
    """ "Apply this article" or "this article helped": on the incident's timeline
    and counted by the knowledge base."""
    form = forms.UseForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            "Say whether the article was applied or helped.", status=400
        )
    kind = form.cleaned_data["kind"]

    def act(incident: Incident, found: Article) -> str:
        services.article_use_record(
            article=found, incident=incident, by=request.user, kind=kind
        )
        verb = "applied to" if kind == ArticleUse.Kind.APPLIED else "helped with"
        return f"{found.number} {verb} {incident.number}: it is on the timeline."

    return _incident_write(request, number, article, act)


@require_POST
@area_required("incidents.use_agent_console", home="incidents:console")
def incident_link(request: HttpRequest, number: str, article: str) -> HttpResponse:
    """Link the incident to the problem of a known-error article."""

    def act(incident: Incident, found: Article) -> str:
        services.incident_link_known_error(
            incident=incident, by=request.user, article=found
        )
        return f"{incident.number} linked to {found.problem.number} (known error)."

    return _incident_write(request, number, article, act)


@require_POST
@area_required("incidents.use_agent_console", home="incidents:console")
def incident_link_problem(
    request: HttpRequest, number: str, problem: int
) -> HttpResponse:
    """Link the incident to an open problem the panel found (no known-error
    article documents it yet), through the incident service."""
    incident = _incident(request, number)
    if problem > MAX_ID:
        raise Http404
    found = Problem.objects.active().filter(pk=problem).first()
    if found is None:
        raise Http404
    try:
        incident_services.incident_link_problem(
            incident=incident, by=request.user, problem=found
        )
    except IncidentConflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, f"{incident.number} linked to {found.number}.")
    return redirect("incidents:detail", number=incident.number)


# ---------------------------------------------------------------- portal
@portal_required
def portal_list(request: HttpRequest) -> HttpResponse:
    """Help articles for requesters: the search, or the newest ones."""
    form = forms.PortalSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    articles = selectors.articles_visible_to(request.user).filter(
        status=Article.Status.PUBLISHED, audience=Article.Audience.PUBLIC
    )
    result = None
    if query:
        result = article_search(
            articles=articles, query=query, public_vocabulary=True, limit=20
        )
    context = {
        "form": form,
        "result": result,
        "articles": None if result else list(articles.order_by("-published_at")[:50]),
    }
    return render(request, "kb/portal/article_list.html", context)


@portal_required
def portal_article(request: HttpRequest, number: str) -> HttpResponse:
    """One public article; a draft, a retired or an internal one is a 404."""
    try:
        article = (
            selectors.articles_visible_to(request.user)
            .filter(status=Article.Status.PUBLISHED, audience=Article.Audience.PUBLIC)
            .by_number(number)
        )
    except Article.DoesNotExist:
        raise Http404 from None
    context = {"article": article, "body_html": render_markdown(article.body)}
    return render(request, "kb/portal/article_detail.html", context)


@require_GET
@portal_required
def portal_suggest(request: HttpRequest) -> HttpResponse:
    """Public articles for the report being typed (htmx, as the title changes)."""
    title = request.GET.get("title", "")[:200]
    hits = report_suggestions(user=request.user, title=title)
    return render(request, "kb/partials/portal_suggestions.html", {"hits": hits})
