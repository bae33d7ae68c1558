"""The console's problem pages: the list (filters, recurrence proposals), a new
problem, the problem page (fields, state actions, its linked incidents one page
at a time, its timeline, its known-error article, the reviews behind it) and the
edit form.

Every read starts from ``problems_visible_to``: a requester gets a 404 on every
page, like a problem that does not exist. Every write is one service call
followed by a redirect; a refused one comes back with what was typed and a clear
status (400 bad input, 403 not allowed, 409 changed meanwhile or not now)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.access import add_service_errors
from incidents.exceptions import IncidentConflict
from incidents.models import Incident, Problem
from incidents.selectors import incidents_visible_to
from reviews.problems import forms, recurrence, selectors, services

LIST_LIMIT = 100
View = Callable[..., HttpResponse]
# (service key, button label) per state: what the page offers.
ACTIONS = {
    Problem.Status.OPEN: [
        ("known-error", "Mark as known error"),
        ("resolve", "Resolve"),
    ],
    Problem.Status.KNOWN_ERROR: [("resolve", "Resolve")],
    Problem.Status.RESOLVED: [("close", "Close")],
    Problem.Status.CLOSED: [],
}


def problems_required(view: View) -> View:
    """Logged in (else to the login page), and a reader of problems (else 404: a
    requester learns nothing of them)."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(selectors.READ_PERMISSION):
            raise Http404
        return view(request, *args, **kwargs)

    return checked


def _problem(request: HttpRequest, number: str) -> Problem:
    try:
        return selectors.problem_get(user=request.user, number=number)
    except Problem.DoesNotExist:
        raise Http404 from None


# ---------------------------------------------------------------- list
@require_GET
@problems_required
def problem_list(request: HttpRequest) -> HttpResponse:
    """Problems by state, owner team and words; above them, the errors that recur
    with no open problem, each with "create a problem"."""
    form = forms.ProblemFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    problems = selectors.problem_list(
        user=request.user,
        status=filters.get("status", ""),
        team=filters["team"].pk if filters.get("team") else None,
        q=filters.get("q", ""),
    )
    may_create = services.may_work(request.user) and request.user.has_perm(
        services.ADD_PERMISSION
    )
    context = {
        "form": form,
        "problems": list(problems[:LIST_LIMIT]),
        "proposals": recurrence.recurring_proposals(),
        "rule": recurrence.rule(),
        "may_create": may_create,
    }
    return render(request, "reviews/problems/problem_list.html", context)


@require_POST
@problems_required
def problem_from_recurrence(request: HttpRequest) -> HttpResponse:
    """One click on a recurrence proposal: the problem, linked to its incidents."""
    form = forms.RecurrenceForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Say which recurring error.", status=400)
    try:
        problem = recurrence.problem_create_from_recurrence(
            by=request.user, signature=form.cleaned_data["signature"]
        )
    except (ValidationError, IncidentConflict) as error:
        text = error.message if isinstance(error, IncidentConflict) else error
        messages.error(request, " ".join(getattr(text, "messages", [str(text)])))
        return redirect("problems:list")
    messages.success(request, f"{problem.number} opened for the recurring error.")
    return redirect(problem)


# ---------------------------------------------------------------- new, edit
@problems_required
def problem_new(request: HttpRequest) -> HttpResponse:
    if not (
        services.may_work(request.user)
        and request.user.has_perm(services.ADD_PERMISSION)
    ):
        raise PermissionDenied
    form = forms.ProblemForm(request.POST or None)
    form.fields.pop("version")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                problem = services.problem_create(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{problem.number} opened.")
                return redirect(problem)
        status = 400
    return render(
        request, "reviews/problems/problem_form.html", {"form": form}, status=status
    )


@problems_required
def problem_edit(request: HttpRequest, number: str) -> HttpResponse:
    problem = _problem(request, number)
    if not services.may_work(request.user, problem):
        raise PermissionDenied
    initial = {name: getattr(problem, name) for name in services.EDITABLE_FIELDS}
    initial["version"] = problem.version
    form = forms.ProblemForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            fields = dict(form.cleaned_data)
            version = fields.pop("version")
            try:
                services.problem_update(
                    problem=problem, by=request.user, version=version, **fields
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except IncidentConflict as conflict:
                form.add_error(None, conflict.message)
                status = 409
            else:
                messages.success(request, f"{problem.number} saved.")
                return redirect(problem)
    context = {"form": form, "problem": problem}
    return render(request, "reviews/problems/problem_form.html", context, status=status)


# ---------------------------------------------------------------- the page
def reviews_panel_url(problem: Problem) -> str:
    """Where the reviews app serves the reviews and action items behind a problem
    (loaded by htmx into the page); empty until it does."""
    try:
        return reverse("reviews:problem_panel", args=[problem.number])
    except NoReverseMatch:
        return ""


@require_GET
@problems_required
def problem_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The problem page. Its incidents and timeline are paged: the page costs the
    same few queries with five or five thousand incidents."""
    problem = _problem(request, number)
    may_work = services.may_work(request.user, problem)
    article = services.known_error_article(problem)
    context = {
        "problem": problem,
        "incidents": selectors.problem_incidents(
            problem=problem, page=request.GET.get("page", 1)
        ),
        "events": selectors.problem_timeline(
            problem=problem, page=request.GET.get("events", 1)
        ),
        "article": article,
        "may_work": may_work,
        "actions": ACTIONS[problem.status] if may_work else [],
        "may_link": may_work
        and problem.status != Problem.Status.CLOSED
        and request.user.has_perm("incidents.work_incident"),
        "may_publish": may_work
        and problem.is_active
        and request.user.has_perm("kb.publish_article"),
        "link_form": forms.LinkForm(),
        "reviews_url": reviews_panel_url(problem),
    }
    return render(request, "reviews/problems/problem_detail.html", context)


def _write(
    request: HttpRequest, problem: Problem, act: Callable[[], str]
) -> HttpResponse:
    """Run one write for the problem page; a refusal is a message on the page."""
    try:
        done = act()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except IncidentConflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, done)
    return redirect(problem)


@require_POST
@problems_required
def problem_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Mark as known error, resolve, close, or publish the workaround."""
    problem = _problem(request, number)
    form = forms.VersionForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Reload the problem and try again.", status=400)
    version = form.cleaned_data["version"]
    if action == "publish":

        def act() -> str:
            article = services.problem_publish_workaround(
                problem=problem, by=request.user, version=version
            )
            return f"Workaround published as {article.number}."

    elif action in services.PROBLEM_TRANSITIONS:
        service = services.PROBLEM_TRANSITIONS[action]

        def act() -> str:
            service(problem=problem, by=request.user, version=version)
            return f"{problem.number} is now {problem.get_status_display().lower()}."

    else:
        raise Http404
    return _write(request, problem, act)


def _visible_incident(request: HttpRequest, number: str) -> Incident | None:
    try:
        return incidents_visible_to(request.user).by_number(number)
    except Incident.DoesNotExist:
        return None


@require_POST
@problems_required
def problem_link(request: HttpRequest, number: str) -> HttpResponse:
    problem = _problem(request, number)
    form = forms.LinkForm(request.POST)
    incident = _visible_incident(request, form.data.get("incident", ""))
    if not form.is_valid() or incident is None:
        messages.error(request, "No such incident; give its number, INC-000123.")
        return redirect(problem)

    def act() -> str:
        services.problem_link_incident(
            problem=problem, incident=incident, by=request.user
        )
        return f"{incident.number} linked to {problem.number}."

    return _write(request, problem, act)


@require_POST
@problems_required
def problem_unlink(request: HttpRequest, number: str, incident: str) -> HttpResponse:
    problem = _problem(request, number)
    found = _visible_incident(request, incident)
    if found is None:
        raise Http404

    def act() -> str:
        services.problem_unlink_incident(
            problem=problem, incident=found, by=request.user
        )
        return f"{found.number} unlinked from {problem.number}."

    return _write(request, problem, act)
