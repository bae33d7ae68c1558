"""The console's review pages: the list, the review page (timeline, milestones,
impact, root cause analysis, action items, knowledge), "my action items", the
print view and Markdown export of a published review, and the incident page's
review panel (htmx, so the incident page never imports this app).

Every read starts from ``reviews_visible_to``: a review the person may not see is
a 404, like one that does not exist, and requesters get 404 on every page. Every
write is one service call followed by a redirect; a refused one comes back as
the page with the reason: 400 for bad input, 403, 409 for a conflict."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from incidents.access import add_service_errors
from incidents.exceptions import IncidentConflict
from incidents.models import Incident, Problem
from incidents.selectors import incidents_visible_to
from kb import forms as kb_forms
from kb import selectors as kb_selectors
from kb import services as kb_services
from kb.models import Article
from reviews import forms, selectors, services
from reviews.export import review_markdown
from reviews.models import ActionItem, Review, ReviewArticle, ReviewIncident
from reviews.problems.recurrence import recurring_proposal_for
from reviews.problems.selectors import problems_visible_to

View = Callable[..., HttpResponse]
LIST_LIMIT = 50  # like the queue page


def staff_only(permission: str = "reviews.view_review") -> Callable[[View], View]:
    """Logged in (else to the login page), then ``permission``, else 404: to
    requesters, reviews and action items do not exist."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                raise Http404
            return view(request, *args, **kwargs)

        return checked

    return decorate


def _review(request: HttpRequest, pk: int) -> Review:
    try:
        return selectors.review_get(user=request.user, pk=pk)
    except Review.DoesNotExist:
        raise Http404 from None


def _item(request: HttpRequest, pk: int) -> ActionItem:
    try:
        return (
            selectors.action_items_visible_to(request.user)
            .select_related("review__incident")
            .get(pk=pk)
        )
    except ActionItem.DoesNotExist:
        raise Http404 from None


def _review_context(review: Review, user: Any) -> dict[str, Any]:
    incidents = selectors.review_incidents(review)
    milestones = selectors.review_milestones(review, incidents)
    return {
        "review": review,
        "incidents": incidents,
        "milestones": milestones,
        "timeline": selectors.review_timeline([i.pk for i in incidents]),
        "impact": selectors.review_impact(incidents, milestones),
        "items": list(
            review.action_items.select_related("owner_user", "owner_team").order_by(
                "due_on", "id"
            )
        ),
        "links": list(review.links.select_related("article")),
        "events": list(review.events.select_related("actor")),
    }


def _detail(
    request: HttpRequest, review: Review, *, status: int = 200, **extra: Any
) -> HttpResponse:
    user = request.user
    context = _review_context(review, user)
    writable = selectors.may_write(review, user)
    context.update(
        {
            "can_write": writable,
            "can_add_items": writable and user.has_perm("reviews.add_actionitem"),
            "can_change_items": user.has_perm("reviews.change_actionitem"),
            "can_write_article": user.has_perm("kb.add_article"),
            "transitions": [
                name
                for name in services.TRANSITION_VERBS
                if can_proceed(getattr(review, name))
                and _may_run(review, name, user, writable)
            ],
            "form": extra.pop("form", None) or forms.ReviewForm.for_review(review),
            "item_form": extra.pop("item_form", None) or forms.ActionItemForm(),
            "link_form": forms.LinkArticleForm(),
            "milestone_names": [
                m[0] for m in forms.MilestoneForm.base_fields["name"].choices
            ],
            "today": timezone.localdate(),
            # "Recurring: N incidents with signature X; create a problem?"
            "recurring": recurring_proposal_for(review.incident),
            **extra,
        }
    )
    return render(request, "reviews/review_detail.html", context, status=status)


def _may_run(review: Review, name: str, user: Any, writable: bool) -> bool:
    if name in ("approve", "publish"):
        return user.has_perm("reviews.approve_review")
    return writable or user.has_perm("reviews.approve_review")


def _attempt(
    request: HttpRequest,
    review: Review,
    act: Callable[[], Any],
    done: str,
    **extra: Any,
) -> HttpResponse:
    """Run a write; success redirects back to the review, a refusal shows the
    page with why (400, 409) or is a 403."""
    try:
        act()
    except ValidationError as error:
        review.refresh_from_db()
        return _detail(request, review, status=400, errors=error.messages, **extra)
    except IncidentConflict as conflict:
        review.refresh_from_db()
        return _detail(request, review, status=409, errors=[conflict.message], **extra)
    except PermissionDenied:
        raise
    messages.success(request, done)
    return redirect(review)


# ---------------------------------------------------------------- pages
@staff_only()
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Review.Status.values:
        status = ""
    reviews = list(selectors.review_list(user=request.user, status=status)[:LIST_LIMIT])
    return render(
        request,
        "reviews/review_list.html",
        {"reviews": reviews, "status": status, "statuses": Review.Status.choices},
    )


@staff_only()
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _review(request, pk))


@staff_only("reviews.change_review")
@require_POST
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        return _detail(request, review, status=400, form=form)
    return _attempt(
        request,
        review,
        lambda: services.review_update(
            review=review, by=request.user, **form.service_arguments()
        ),
        "Review saved.",
        form=form,
    )


@staff_only("reviews.change_review")
@require_POST
def review_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    form = forms.MilestoneForm(request.POST)
    if not form.is_valid():
        return _detail(request, review, status=400, errors=_form_errors(form))
    data = form.cleaned_data
    incident = Incident.objects.filter(pk=data["incident"]).first()
    if incident is None:
        raise Http404
    return _attempt(
        request,
        review,
        lambda: services.review_milestone_set(
            review=review,
            by=request.user,
            incident=incident,
            name=data["name"],
            at=data["at"],
            note=data["note"],
            expected_version=data["version"],
        ),
        f"Milestone {data['name']} corrected.",
    )


TRANSITIONS = {
    "submit": services.review_submit,
    "send_back": services.review_send_back,
    "approve": services.review_approve,
    "publish": services.review_publish,
}


@staff_only()
@require_POST
def review_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in TRANSITIONS:
        raise Http404
    review = _review(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    return _attempt(
        request,
        review,
        lambda: TRANSITIONS[action](
            review=review, by=request.user, expected_version=version
        ),
        f"{review.number}: {action.replace('_', ' ')} done.",
    )


@staff_only("reviews.add_actionitem")
@require_POST
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    form = forms.ActionItemForm(request.POST)
    if not form.is_valid():
        return _detail(request, review, status=400, item_form=form)
    return _attempt(
        request,
        review,
        lambda: services.action_item_create(
            by=request.user, review=review, **form.cleaned_data
        ),
        "Action item added.",
        item_form=form,
    )


ITEM_ACTIONS = {
    "start": services.action_item_start,
    "complete": services.action_item_complete,
    "decline": services.action_item_decline,
    "reopen": services.action_item_reopen,
}


@staff_only("reviews.change_actionitem")
@require_POST
def action_item_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ITEM_ACTIONS:
        raise Http404
    item = _item(request, pk)
    extra: dict[str, Any] = {}
    if action == "decline":
        extra["reason"] = request.POST.get("reason", "")
    back = request.POST.get("back") == "mine"
    target = (
        reverse("reviews:my_action_items")
        if back or not item.review_id
        else item.review.get_absolute_url()
    )
    try:
        ITEM_ACTIONS[action](item=item, by=request.user, **extra)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(request, target, 400)
    except IncidentConflict as conflict:
        messages.error(request, conflict.message)
        return _back(request, target, 409)
    messages.success(request, f"{item.number}: {item.get_status_display()}.")
    return redirect(target)


def _back(request: HttpRequest, target: str, status: int) -> HttpResponse:
    """A refused action item change: the page it came from, with the reason, in
    the status that says why."""
    response = render(
        request, "reviews/refused.html", {"target": target}, status=status
    )
    return response


@staff_only("reviews.view_actionitem")
@require_GET
def my_action_items(request: HttpRequest) -> HttpResponse:
    """The person's own and their teams' open action items, overdue first."""
    today = timezone.localdate()
    items = list(selectors.my_action_items(user=request.user, today=today)[:LIST_LIMIT])
    return render(
        request,
        "reviews/my_action_items.html",
        {"items": items, "today": today},
    )


def _published(request: HttpRequest, pk: int) -> Review:
    review = _review(request, pk)
    if review.status != Review.Status.PUBLISHED:
        raise Http404
    return review


@staff_only()
@require_GET
def review_print(request: HttpRequest, pk: int) -> HttpResponse:
    review = _published(request, pk)
    return render(
        request, "reviews/review_print.html", _review_context(review, request.user)
    )


@staff_only()
@require_GET
def review_export(request: HttpRequest, pk: int) -> HttpResponse:
    review = _published(request, pk)
    text = review_markdown(_review_context(review, request.user))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{review.number}.md"'
    return response


# ---------------------------------------------------------------- knowledge
def _known_error_initial(review: Review) -> dict[str, Any]:
    """A known-error article's first draft from the review: what people saw,
    the root cause, and the workaround."""
    incident = review.incident
    whys = "\n".join(f"{n}. {why}" for n, why in enumerate(review.five_whys, 1))
    parts = [f"## Root cause\n\n{review.root_cause or '(to be written)'}"]
    if whys:
        parts.append(f"## Five whys\n\n{whys}")
    parts.append(
        f"## Workaround\n\n{review.workaround or incident.resolution or '(none yet)'}"
    )
    parts.append(f"From the post-incident review {review.number}.")
    return {
        "title": incident.title,
        "symptoms": incident.description,
        "body": "\n\n".join(parts),
        "kind": Article.Kind.KNOWN_ERROR,
        "audience": Article.Audience.INTERNAL,
        "owner_team": incident.team_id,
        "services": list(incident.services.values_list("pk", flat=True)),
        "categories": [incident.category_id] if incident.category_id else [],
        "problem": review.problem_id or incident.problem_id,
    }


@staff_only("kb.add_article")
def review_known_error(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Write a known error from this review": the knowledge base's own article
    form, prefilled; saving creates the draft and links it to the review."""
    review = _review(request, pk)
    if request.method != "POST":
        form = kb_forms.ArticleForm(initial=_known_error_initial(review))
        return render(
            request, "reviews/known_error_form.html", {"form": form, "review": review}
        )
    form = kb_forms.ArticleForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("revision", None)
        try:
            article = kb_services.article_create(by=request.user, **data)
            services.review_link_article(
                review=review,
                by=request.user,
                article=article,
                relation=ReviewArticle.Relation.CREATED,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Draft {article.number} saved.")
            return redirect(article)
    return render(
        request,
        "reviews/known_error_form.html",
        {"form": form, "review": review},
        status=400,
    )


@staff_only("reviews.change_review")
@require_POST
def review_link(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review(request, pk)
    try:
        article = kb_selectors.article_get(
            user=request.user, number=request.POST.get("article", "")
        )
    except Article.DoesNotExist:
        return _detail(request, review, status=400, errors=["No such article."])
    return _attempt(
        request,
        review,
        lambda: services.review_link_article(
            review=review, by=request.user, article=article
        ),
        f"{article.number} linked.",
    )


# ---------------------------------------------------------------- the incident page
def _incident(request: HttpRequest, number: str) -> Incident:
    try:
        return incidents_visible_to(request.user).by_number(number)
    except Incident.DoesNotExist:
        raise Http404 from None


@staff_only()
@require_GET
def incident_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The incident page's "Post-incident review" panel (htmx): a link to its
    review, or for incident managers the form to open one by hand."""
    incident = _incident(request, number)
    review = selectors.review_for_incident(user=request.user, incident=incident)
    covered = (
        review is not None or ReviewIncident.objects.filter(incident=incident).exists()
    )
    return render(
        request,
        "reviews/partials/incident_panel.html",
        {
            "incident": incident,
            "review": review,
            "covered": covered,
            "can_open": not covered and request.user.has_perm("reviews.open_review"),
            "open_form": forms.OpenForm(),
        },
    )


@staff_only("reviews.open_review")
@require_POST
def incident_open_review(request: HttpRequest, number: str) -> HttpResponse:
    incident = _incident(request, number)
    form = forms.OpenForm(request.POST)
    if form.is_valid():
        try:
            review = services.review_open(
                incident=incident, by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except IncidentConflict as conflict:
            messages.error(request, conflict.message)
            return redirect("incidents:detail", incident.number)
        else:
            messages.success(request, f"{review.number} opened.")
            return redirect(review)
    else:
        messages.error(request, "Say why this incident needs a review.")
    return redirect("incidents:detail", incident.number)


def _form_errors(form: Any) -> list[str]:
    return [f"{name}: {' '.join(errs)}" for name, errs in form.errors.items()]


# ---------------------------------------------------------------- the problem page
PROBLEM_PANEL_REVIEWS = 50
PROBLEM_PANEL_ITEMS = 100


@staff_only()
@require_GET
def problem_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The problem page's "Reviews and action items" region (htmx): the reviews
    that led to the problem (or cover one of its incidents), newest first, and the
    action items on the problem or on those reviews, by due date. A fixed number of
    queries however many incidents the problem has."""
    try:
        problem = problems_visible_to(request.user).by_number(number)
    except Problem.DoesNotExist:
        raise Http404 from None
    reviews = (
        selectors.reviews_visible_to(request.user)
        .filter(Q(problem=problem) | Q(covers__incident__problem=problem))
        .select_related("incident")
        .distinct()
        .order_by("-id")[:PROBLEM_PANEL_REVIEWS]
    )
    items = (
        selectors.action_items_visible_to(request.user)
        .filter(Q(problem=problem) | Q(review__problem=problem))
        .select_related("owner_user", "owner_team", "review", "article")
        .order_by("due_on", "id")[:PROBLEM_PANEL_ITEMS]
    )
    context = {
        "problem": problem,
        "reviews": list(reviews),
        "items": list(items),
        "today": timezone.localdate(),
    }
    return render(request, "reviews/partials/problem_panel.html", context)
