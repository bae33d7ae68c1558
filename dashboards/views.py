"""The dashboards' pages: the dashboard, the list of incidents behind a figure,
each table as CSV, and the digest opt-in. Anonymous people go to the login page;
people who may read no dashboard get 404."""

from __future__ import annotations

import csv
import functools
import hashlib
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboards import charts
from dashboards.access import Scope, dashboard_scope
from dashboards.forms import DashboardForm, DigestForm
from dashboards.models import AGE_BUCKETS, DigestSubscription
from dashboards.selectors import (
    PRIORITY_LABELS,
    SOURCE_LABELS,
    Dashboard,
    Names,
    cache_seconds,
    dashboard_data,
)
from dashboards.services import digest_subscribe
from incidents import selectors
from incidents.console import forms as console_forms
from incidents.console import queue
from incidents.console.forms import Select
from incidents.models import Priority
from itsm.cache import cached

View = Callable[..., HttpResponse]


def scoped(view: View) -> View:
    """Logged in (else to the login page), and allowed some dashboard (else 404);
    the view gets the person's scope."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = dashboard_scope(request.user)
        if scope is None:
            raise Http404
        return view(request, scope, *args, **kwargs)

    return checked


def _form(request: HttpRequest, scope: Scope, names: Names) -> DashboardForm:
    data = request.GET.copy()
    data.setdefault("period", "30d")
    return DashboardForm(
        data,
        scope=scope,
        teams=sorted(names.teams.items(), key=lambda item: item[1]),
        categories=sorted(names.categories.items(), key=lambda item: item[1]),
        services=sorted(names.services.items(), key=lambda item: item[1]),
    )


def _dashboard(
    request: HttpRequest, scope: Scope
) -> tuple[DashboardForm, Dashboard | None]:
    names = Names.load()
    form = _form(request, scope, names)
    if not form.is_valid():
        return form, None
    today = timezone.localdate()
    data = dashboard_data(
        scope=scope,
        period=form.period_of(today),
        filters=form.filters(),
        names=names,
    )
    return form, data


PRIORITY_SERIES = [
    *((f"p{p}", f"P{p}", f"series-p{p}") for p in Priority.values),
    ("p0", "No priority", "series-p0"),
]
SOURCE_SERIES = [(key, label, f"series-{key}") for key, label in SOURCE_LABELS.items()]


def _charts(data: Dashboard) -> list[charts.BarChart]:
    per = "week" if data.period.weekly else "day"
    backlog = [
        (label, _priority_counts(data.backlog[index]))
        for index, (label, _, _) in enumerate(AGE_BUCKETS)
    ]
    return [
        charts.stacked_bars(
            id="chart-volume-priority",
            title=f"Incidents opened per {per}, by priority",
            categories=data.volume,
            series=PRIORITY_SERIES,
        ),
        charts.stacked_bars(
            id="chart-volume-source",
            title=f"Incidents opened per {per}, by source",
            categories=data.volume,
            series=SOURCE_SERIES,
        ),
        charts.stacked_bars(
            id="chart-backlog",
            title="Open incidents by age and priority",
            categories=backlog,
            series=PRIORITY_SERIES,
        ),
    ]


def _priority_counts(counts: Counter[int]) -> Counter[str]:
    return Counter({f"p{priority}": n for priority, n in counts.items()})


@scoped
def dashboard(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The dashboard of the chosen period and filters (all in the query string)."""
    form, data = _dashboard(request, scope)
    context: dict[str, Any] = {
        "form": form,
        "selects": [Select.of(form[name]) for name in ("period", *form.SELECTS)],
        "refresh_seconds": settings.DASHBOARDS_REFRESH_SECONDS,
        "time_zone": settings.TIME_ZONE,
        "scope": scope,
        "data": data,
        "query": request.GET.urlencode(),
        "subscribed": DigestSubscription.objects.filter(user=request.user).exists(),
    }
    if data is None:
        return render(request, "dashboards/dashboard.html", context, status=400)
    context["figures"] = _figures_html(data, context["query"])
    return render(request, "dashboards/dashboard.html", context)


def _figures_html(data: Dashboard, query: str) -> str:
    """The tables and charts, the same for everyone who asks the same figures:
    rendered once per refresh and kept beside them (a page prints a thousand
    cells)."""

    def render_figures() -> str:
        context = {"data": data, "charts": _charts(data), "query": query}
        return render_to_string("dashboards/partials/figures.html", context)

    if data.cache_key is None:
        return render_figures()
    asked = hashlib.blake2b(query.encode(), digest_size=8).hexdigest()
    return cached(f"{data.cache_key}:html:{asked}", render_figures, cache_seconds())


@scoped
def dashboard_csv(request: HttpRequest, scope: Scope, name: str) -> HttpResponse:
    """One table of the dashboard as CSV, for the same period and filters."""
    form, data = _dashboard(request, scope)
    if data is None:
        return HttpResponse(
            "; ".join(" ".join(errors) for errors in form.errors.values()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        table = data.table(name)
    except KeyError:
        raise Http404 from None
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    period = data.period
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow(["" if cell.value is None else cell.value for cell in row])
    return response


@scoped
def dashboard_incidents(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The incidents behind a figure: the queue's filters and rows, with how many
    there are in all. Within the person's scope: an agent's list holds only their
    teams' incidents, as their figures do."""
    form = console_forms.QueueFilterForm(
        request.GET or None, choices=queue.console_choices()
    )
    if not form.is_valid() or not form.cleaned_data.get("figure"):
        return render(
            request, "dashboards/incident_list.html", {"form": form}, status=400
        )
    filters = dict(form.cleaned_data)
    filters["view"] = "open" if scope.every_team else "team"
    now = timezone.now()
    page = selectors.incident_queue(
        user=request.user, filters=filters, cursor=request.GET.get("after"), now=now
    )
    count = selectors.incident_queue_count(user=request.user, filters=filters, now=now)
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "page": page,
        "count": count,
        "query": query,
        "figure": dict(form.fields["figure"].choices)[filters["figure"]],
        "filters": filters,
        "priority_label": PRIORITY_LABELS.get(filters.get("priority") or 0),
        "can_open": request.user.has_perm("incidents.use_agent_console"),
    }
    return render(request, "dashboards/incident_list.html", context)


@require_POST
@scoped
def digest(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Ask for the weekly digest by email, or stop it."""
    form = DigestForm(request.POST)
    form.is_valid()
    subscribed = digest_subscribe(
        user=request.user, subscribe=form.cleaned_data.get("subscribe", False)
    )
    if subscribed and not request.user.email:
        messages.warning(
            request,
            "Subscribed; your account has no email address yet, so no digest "
            "can be sent until it has one.",
        )
    else:
        messages.success(
            request,
            "You will get the weekly digest by email."
            if subscribed
            else "You will no longer get the weekly digest.",
        )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/dashboards/") else "dashboards:index")
