"""The browser side: each role's area, and the agent console (the queue and the
incident page). Views check login first (anonymous users go to the login page),
then the area permission (others get 403); every write is one service call,
followed by a redirect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import QuerySet, Value
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from incidents import selectors, services
from incidents.access import add_service_errors, area_required, draft_key
from incidents.console import forms, lines, page, queue
from incidents.console.header import header_for
from incidents.exceptions import IncidentConflict
from incidents.models import (
    Impact,
    Incident,
    IncidentEvent,
    MajorIncident,
    Priority,
    Urgency,
    priority_for,
)
from incidents.services.actions import incident_act
from incidents.sla.sync import sla_clocks
from incidents.status.access import may_publish
from incidents.status.selectors import entry_of
from itsm import pages
from itsm.fragments import blank_form, rendered

CONSOLE = "incidents.use_agent_console"


console_required = area_required(CONSOLE, home="incidents:console")


@console_required
def console(request: HttpRequest) -> HttpResponse:
    """The queue. With an ``HX-Request`` header only the table is rendered: the
    page polls it, keeping its filters, selection and scroll."""
    # The table alone too: the filters it keeps are checked against the options.
    choices = queue.console_choices()
    # From the options too, which a change of membership clears: the rows
    # themselves are chosen by the database (incidents_visible_to, the views).
    team_ids = choices.teams_of(request.user.pk)
    form = forms.QueueFilterForm(request.GET or None, choices=choices)
    filters = form.cleaned_data if form.is_valid() else {}
    if not filters.get("view"):
        filters["view"] = "team" if team_ids else "open"
    term = (filters.get("q") or "").strip()
    if term and not request.htmx:
        # A number opens that incident, whatever view it was typed in.
        found = selectors.incident_for_search(user=request.user, term=term)
        if found is not None:
            return redirect("incidents:detail", number=found.number)
    now = timezone.now()
    page = selectors.incident_queue(
        user=request.user,
        filters=filters,
        cursor=request.GET.get("after"),
        now=now,
        team_ids=team_ids,
    )
    query = request.GET.copy()
    query.pop("after", None)
    context: dict[str, Any] = {
        "page": page,
        "view": filters["view"],
        "query": query,
        "signature": page.signature,
    }
    rows_html = rendered("incidents/partials/queue_rows.html", rows=page.rows)
    if term and not page.rows and not request.GET.get("after"):
        context["elsewhere"] = _hits_elsewhere(request, filters, term, now)
    if request.htmx:
        # Announced only when the rows changed since the table the page shows.
        context["changed"] = request.GET.get("shown") != page.signature
        context["rows_html"] = rows_html
        return render(request, "incidents/partials/queue_table.html", context)
    context["form"] = form
    context["full_path"] = request.get_full_path()
    # The page is kept by what it prints (itsm.pages): the query string (the
    # form, the view's tabs and links print only what it says), and of the rows
    # only whether there are any and where the next page starts; the rows and
    # the selects are kept fragments of their own, filled in.
    key = {
        "full_path": context["full_path"],
        "view": filters["view"],
        "rows": bool(page.rows),
        "next_cursor": page.next_cursor,
        "elsewhere": context.get("elsewhere"),
    }
    holes = {
        "rows_html": rows_html,
        "signature": page.signature,
        "selects": rendered(
            "incidents/partials/queue_selects.html", selects=tuple(form.selects())
        ),
        "agent_options": rendered(
            "incidents/partials/agent_options.html",
            agents=tuple(choices.agents_of(team_ids)),
        ),
    }
    return pages.render_kept(
        request, "incidents/incident_list.html", key, context, holes
    )


def _hits_elsewhere(
    request: HttpRequest, filters: dict[str, Any], term: str, now: Any
) -> tuple[int, str] | None:
    """A search that found nothing here: how many open incidents it finds with no
    view or filter but the search ("All open"), and the link there; None when
    that is where it was made."""
    everywhere = {"view": "open", "q": term}
    if {k: v for k, v in filters.items() if v} == everywhere:
        return None
    count = selectors.incident_queue_count(
        user=request.user, filters=everywhere, now=now
    )
    return count, f"?{urlencode(everywhere)}"


def _bulk_form(request: HttpRequest) -> forms.BulkAssignForm:
    """Agents of the caller's teams, to assign to, read from the database (the
    queue's select lists them from the cache); any visible number may be sent."""
    agents = (
        get_user_model()
        .objects.filter(teams__members=request.user, is_active=True)
        .distinct()
        .order_by("username")
    )
    numbers = request.POST.getlist("incident")
    return forms.BulkAssignForm(request.POST, agents=agents, numbers=numbers)


@require_POST
@console_required
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """Assign each selected incident, each in its own transaction (one refused
    does not undo the others), and say what happened to every one."""
    form = _bulk_form(request)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(request.POST.get("next") or "incidents:console")
    assignee = form.cleaned_data["assignee"]
    done = []
    for number in form.cleaned_data["incident"]:
        try:
            incident = _incident_for(request, number)
            services.incident_assign(
                incident=incident, by=request.user, assignee=assignee
            )
        except Http404:
            messages.error(request, f"{number}: not found.")
        except ValidationError as exc:
            messages.error(request, f"{number}: {' '.join(exc.messages)}")
        except IncidentConflict as exc:
            messages.error(request, f"{number}: {exc.message}")
        else:
            done.append(number)
    if done:
        messages.success(request, f"Assigned to {assignee}: {', '.join(done)}.")
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/console/") else "incidents:console")


def _incident_for(request: HttpRequest, number: str) -> Incident:
    # What every page shows, in the main query. The incident it was merged into
    # or follows up, and its problem, are full rows read only when set (one
    # query each): joined always, they tripled the query's columns and its
    # planning time for a line most incidents never show. The major-incident
    # record comes in a query of its own (_major_of): its three joins more than
    # quadrupled this one's planning (0.5 ms to 2.3 ms on PostgreSQL 15), far
    # more than a second round trip costs.
    visible = _as_the_page_loads(selectors.incidents_visible_to(request.user))
    try:
        return visible.by_number(number)
    except Incident.DoesNotExist:
        raise Http404 from None


def _as_the_page_loads(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """``incidents`` with what the incident page reads in its main query: the
    rows it prints beside the incident, and the kept page's stamp."""
    return page.with_stamp(incidents).select_related(
        "category",
        "team",
        "assignee",
        "requester",
        "status_entry",  # the status page's card, without a query of its own
    )


# The transitions offered on the page, in the order of the lifecycle.
TRANSITION_LABELS = {
    "triage": "Triage",
    "start_work": "Take and start work",
    "wait_for_requester": "Ask the requester",
    "resume": "Resume work",
    "resolve": "Resolve",
    "confirm": "Confirm the fix",
    "reopen": "Reopen",
    "cancel": "Cancel",
    "merge": "Merge into another incident",
}
NO_INPUT = ("start_work", "resume", "confirm")
ACTION_LABELS = {
    **TRANSITION_LABELS,
    "note": "Add",
    "update": "Post update",
    "assign": "Assign",
    "escalate": "Escalate to the next tier",
    "edit": "Save changes",
    "declare_major": "Declare major incident",
    "major_roles": "Set roles",
    "major_bridge": "Set bridge",
    "major_stakeholders": "Set stakeholders",
}


@dataclass(frozen=True)
class Person:
    """Someone on a major incident's lists, as the page names them."""

    pk: int
    name: str  # the full name, else the username


def _major_of(incident: Incident) -> MajorIncident | None:
    """The incident's major-incident record with its commander and communications
    lead (one query) and its lists (one more), or None (after the one query)."""
    found = MajorIncident.objects.select_related("commander", "comms_lead").filter(
        incident=incident
    )[:1]  # not first(): its ordering costs more to build than the lookup takes
    major = next(iter(found), None)
    if major is None:
        return None
    major.responder_list, major.stakeholder_list = _people_of(major)
    major.names = {
        "commander": _person(major.commander),
        "comms_lead": _person(major.comms_lead),
        "responders": ", ".join(p.name for p in major.responder_list),
        "stakeholders": ", ".join(
            [p.name for p in major.stakeholder_list] + major.stakeholder_addresses
        ),
    }
    return major


def _people_of(major: MajorIncident) -> tuple[list[Person], list[Person]]:
    """Its responders and its stakeholders, each list by username, in one query."""
    columns = ("user_id", "user__username", "user__first_name", "user__last_name")

    def listed(through: Any, which: int) -> Any:
        return (
            through.objects.filter(majorincident=major)
            .annotate(which=Value(which))
            .values_list("which", *columns)
        )

    responders = listed(MajorIncident.responders.through, 0)
    stakeholders = listed(MajorIncident.stakeholders.through, 1)
    lists: tuple[list[Person], list[Person]] = ([], [])
    for which, pk, username, first, last in responders.union(
        stakeholders, all=True
    ).order_by("user__username"):
        lists[which].append(Person(pk, f"{first} {last}".strip() or username))
    return lists


def _person(person: Any) -> str:
    if person is None:
        return ""
    return person.get_full_name() or person.get_username()


def _major_initial(major: MajorIncident | None) -> dict[str, Any]:
    if major is None:
        return {}
    return {
        "commander": major.commander_id,
        "comms_lead": major.comms_lead_id,
        "responders": [person.pk for person in major.responder_list],
        "bridge_url": major.bridge_url,
        "people": [person.pk for person in major.stakeholder_list],
        "addresses": "\n".join(major.stakeholder_addresses),
    }


def _initial(
    incident: Incident, major: MajorIncident | None, services_now: list[Any]
) -> dict[str, Any]:
    """What every action's form starts from."""
    return {
        "version": incident.version,
        # Stakeholder updates go public by default once the status page tells of
        # the incident (its entry published), not before.
        "is_public": _on_status_page(incident),
        "category": incident.category_id,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "title": incident.title,
        "description": incident.description,
        "services": [service.pk for service in services_now],
        **_major_initial(major),
    }


# Shown open on the page; every other action's form is fetched when opened.
EAGER = ("note", "update")


def offered_actions(
    user: Any, incident: Incident, is_major: bool, allowed: set[str]
) -> set[str]:
    """The actions the incident page offers this person now (the template shows
    exactly these, and the form of any other is not served)."""
    offered = set(allowed)
    if incident.status in Incident.FINAL_STATUSES:
        return offered
    offered.add("note")
    if user.has_perm("incidents.work_incident"):
        offered.add("update")
        if incident.status != Incident.Status.RESOLVED:
            offered |= {"assign", "edit", "escalate"}
    if user.has_perm("incidents.manage_major_incidents"):
        offered |= set(MAJOR_ACTIONS) if is_major else {"declare_major"}
    return offered


def _detail(
    request: HttpRequest,
    incident: Incident,
    bound: dict[str, django_forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The incident page. ``bound`` holds forms that failed, with what was typed.
    Its content is kept by what it shows (``incidents.console.page``); only the
    holes are made for each request."""
    now = timezone.now()
    allowed = set(selectors.incident_allowed_transitions(incident, request.user))
    offered = offered_actions(request.user, incident, incident.major_recorded, allowed)
    draft = draft_key(request, incident.number, "")
    timeline_all = request.GET.get("timeline") == "all"
    notes_all = request.GET.get("notes") == "all"
    reader = {
        "offered": tuple(sorted(offered)),
        "allowed": tuple(sorted(allowed)),
        "can_manage_major": request.user.has_perm("incidents.manage_major_incidents"),
        "may_publish_status": may_publish(request.user, incident),
        "may_view_review": request.user.has_perm("reviews.view_review"),
        "timeline_all": timeline_all,
        "notes_all": notes_all,
    }

    def content() -> dict[str, Any]:
        return _content(incident, reader, allowed, offered)

    header = header_for(incident, now=now)
    holes = {
        "respond": header.respond.html,
        "resolve": header.resolve.html,
        "update_due": header.update.html if header.update else "",
        "failed": _failed_html(incident, bound),
        "problem": render_to_string(
            "incidents/partials/problem_line.html", {"incident": incident}
        )
        if incident.problem_id
        else "",
        "sla": render_to_string(
            "incidents/partials/sla_card.html",
            {"clocks": sla_clocks(incident, now=now)},
        ),
        "draft": draft,
        "csrf": get_token(request),
        "version": str(incident.version),
    }
    html = page.filled(page.kept_page(incident, reader, content), holes)
    # Around it, the layout is kept too: it prints the number, and the page.
    return pages.render_kept(
        request,
        "incidents/incident_detail.html",
        {"number": incident.number},
        {"incident": incident},
        {"page": html},
        status=status,
    )


def _failed_html(incident: Incident, bound: dict[str, django_forms.Form] | None) -> str:
    """The forms that failed, on top, as typed, with why they failed: also when
    their action is no longer offered (someone else moved the incident on)."""
    if not bound:
        return ""
    failed = []
    for name, form in bound.items():
        # Its blank twin is on the page too: ids must stay unique for the labels.
        form.auto_id = f"unsent-{name}-%s"
        failed.append((name, ACTION_LABELS.get(name, name), form))
    context = {
        "incident": incident,
        "failed": failed,
        # Filled in with the others.
        "draft": page.marker("draft"),
        "csrf_token": page.marker("csrf"),
    }
    return render_to_string("incidents/partials/failed_forms.html", context)


def _content(
    incident: Incident,
    reader: dict[str, Any],
    allowed: set[str],
    offered: set[str],
) -> dict[str, Any]:
    """What the kept page prints, read when it is rendered (not when it is kept)."""
    services_now = list(incident.services.all())
    major = _major_of(incident)
    # Only the forms the first screen shows are rendered; each collapsed one is
    # fetched when it is opened (``incident_action`` answers GET with it).
    # The version is filled in (a hole), so the blank forms' kept fields are
    # the same for every incident whose forms start alike.
    initial = {
        **_initial(incident, major, services_now),
        "version": page.marker("version"),
    }
    blank = {
        name: _form(name, incident, initial=initial)
        for name in EAGER
        if name in offered
    }
    # The first screen holds the newest entries and notes; "?timeline=all" and
    # "?notes=all" ask for more.
    timeline = selectors.incident_timeline(
        incident=incident,
        limit=selectors.TIMELINE_LIMIT
        if reader["timeline_all"]
        else selectors.TIMELINE_SHOWN,
    )
    notes, older_notes = selectors.incident_notes(
        incident=incident, limit=None if reader["notes_all"] else selectors.NOTES_SHOWN
    )
    transitions = [
        (name, label) for name, label in TRANSITION_LABELS.items() if name in allowed
    ]
    draft = page.marker("draft")  # the reader's own, filled in
    return {
        "incident": incident,
        "services": services_now,
        "forms": blank,
        "kept_fields": {
            name: blank_form("incidents/partials/form_fields.html", form)
            for name, form in blank.items()
        },
        "offered": offered,
        "note_lines": rendered(
            "incidents/partials/note_lines.html", lines=lines.note_lines(notes)
        ),
        "notes_shown": len(notes),
        "older_notes": older_notes,
        "whole_timeline": reader["timeline_all"],
        "timeline_limit": selectors.TIMELINE_LIMIT,
        "update_lines": rendered(
            "incidents/partials/update_lines.html",
            lines=lines.update_lines(selectors.incident_updates(incident=incident)),
        ),
        "timeline": timeline,
        "timeline_lines": rendered(
            "incidents/partials/timeline_lines.html",
            lines=lines.timeline_lines(timeline),
        ),
        "escalation": next(
            (
                row
                for row in timeline.rows
                if row["kind"] == IncidentEvent.Kind.ESCALATED and "told" in row["data"]
            ),
            None,
        ),
        "major": major,
        "quick": [
            (name, TRANSITION_LABELS[name]) for name in NO_INPUT if name in allowed
        ],
        "jumps": [
            (name, label)
            for name, label in TRANSITION_LABELS.items()
            if name in allowed and name not in NO_INPUT
        ],
        "can_manage_major": reader["can_manage_major"],
        "may_view_review": reader["may_view_review"],
        "duplicates": incident.duplicates.only("id"),
        "attachments": incident.attachments.all(),
        "draft": draft,
        # The collapsed actions print only what they are given (itsm.fragments).
        "action_menu": rendered(
            "incidents/partials/action_menu.html",
            number=incident.number,
            draft=draft,
            transitions=tuple(transitions),
            assign="assign" in offered,
        ),
        "major_menu": rendered(
            "incidents/partials/major_menu.html",
            number=incident.number,
            draft=draft,
            roles=major is not None and "major_roles" in offered,
            declare=major is None and "declare_major" in offered,
        ),
        "status_entry": entry_of(incident),
        "may_publish_status": reader["may_publish_status"],
    }


@console_required
def incident_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _detail(request, _incident_for(request, number))


def _into(request: HttpRequest, number: str) -> Incident:
    try:
        return _incident_for(request, number)
    except Http404:
        raise ValidationError({"into": f"No incident {number}."}) from None


# Each action's form; the service comes from incident_act.
ACTIONS: dict[str, type[django_forms.Form]] = {
    "note": forms.NoteForm,
    "update": forms.UpdateForm,
    "triage": forms.TriageForm,
    "start_work": forms.VersionedForm,
    "wait_for_requester": forms.QuestionForm,
    "resume": forms.VersionedForm,
    "resolve": forms.ResolveForm,
    "reopen": forms.ReasonForm,
    "confirm": forms.VersionedForm,
    "cancel": forms.ReasonForm,
    "merge": forms.MergeForm,
    "assign": forms.AssignForm,
    "escalate": forms.EscalateForm,
    "edit": forms.EditForm,
    "declare_major": forms.DeclareMajorForm,
    "major_roles": forms.MajorRolesForm,
    "major_bridge": forms.BridgeForm,
    "major_stakeholders": forms.StakeholdersForm,
}
MAJOR_ACTIONS = ("major_roles", "major_bridge", "major_stakeholders")


def _on_status_page(incident: Incident) -> bool:
    """Whether the public status page shows this incident (no query: the entry
    comes with the incident)."""
    try:
        entry = incident.status_entry
    except ObjectDoesNotExist:
        return False
    return entry.status == entry.Status.PUBLISHED


def _form(action: str, incident: Incident, **kwargs: Any) -> django_forms.Form:
    """The form of an action. Field ids carry the action's name: the page holds
    many forms, and a label must point at exactly one field."""
    form_class = ACTIONS[action]
    if form_class is forms.AssignForm:
        kwargs["team"] = incident.team
    return form_class(auto_id=f"{action}-%s", label_suffix="", **kwargs)


@require_http_methods(["GET", "POST"])
@console_required
def incident_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """GET: the action's form, as the incident page fetches it when it is opened
    (alone for htmx, on a page of its own otherwise). POST: run the action. On
    success, back to the page. If it fails, the page comes back with the form as
    it was typed and the reason: 400 for bad input, 409 when the state does not
    allow it or someone else changed the incident meanwhile (the text is kept;
    nothing is overwritten)."""
    if action not in ACTIONS:
        raise Http404
    incident = _incident_for(request, number)
    if request.method == "GET":
        return _action_form(request, incident, action)
    form = _form(action, incident, data=request.POST, files=request.FILES)
    if not form.is_valid():
        return _detail(request, incident, {action: form}, status=400)
    data = dict(form.cleaned_data)
    seen = data.pop("version")
    # Only edits that replace what someone else may have set compare versions;
    # notes and updates add, so they never conflict.
    try:
        if seen != incident.version and action not in ("note", "update"):
            raise IncidentConflict(
                f"{incident.number} was changed by someone else while you were "
                "looking at it. Your text is below; check the page and send again.",
                code="stale",
            )
        if action == "merge":
            data["into"] = _into(request, data["into"])
        incident_act(action, incident=incident, by=request.user, version=seen, **data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _detail(request, _fresh(incident), {action: form}, status=400)
    except IncidentConflict as exc:
        form.add_error(None, exc.message)
        fresh = _fresh(incident)
        form.data = form.data.copy()
        form.data["version"] = fresh.version  # sending again means "I saw it now"
        return _detail(request, fresh, {action: form}, status=409)
    except PermissionDenied:
        raise
    saved = draft_key(request, incident.number, action)
    messages.success(request, "Done.", extra_tags=saved)
    return redirect("incidents:detail", number=incident.number)


def _action_form(request: HttpRequest, incident: Incident, action: str) -> HttpResponse:
    """One action's blank form, if the page offers it now; 409 with why not
    otherwise (someone moved the incident on since the page was loaded)."""
    major = _major_of(incident)
    allowed = set(selectors.incident_allowed_transitions(incident, request.user))
    label = ACTION_LABELS[action]
    context: dict[str, Any] = {
        "incident": incident,
        "action": action,
        "label": label,
        "draft": draft_key(request, incident.number, ""),
    }
    status = 200
    if action in offered_actions(request.user, incident, major is not None, allowed):
        initial = _initial(incident, major, list(incident.services.all()))
        context["form"] = _form(action, incident, initial=initial)
    else:
        status = 409
    if request.htmx:
        return render(
            request, "incidents/partials/action_fetched.html", context, status=status
        )
    return render(request, "incidents/incident_action.html", context, status=status)


def _fresh(incident: Incident) -> Incident:
    """The incident as it is now, loaded as the page's main query loads it."""
    return _as_the_page_loads(Incident.objects.all()).get(pk=incident.pk)


@console_required
def priority_preview(request: HttpRequest) -> HttpResponse:
    """The priority the matrix gives the impact and urgency chosen so far (the new
    incident form asks for it as they change)."""
    impact, urgency = request.GET.get("impact", ""), request.GET.get("urgency", "")
    if impact in Impact.values and urgency in Urgency.values:
        text = Priority(priority_for(impact, urgency)).label
    else:
        text = "set impact and urgency"
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@console_required
def incident_new(request: HttpRequest) -> HttpResponse:
    """Log what an agent saw."""
    posted = request.method == "POST"
    form = forms.IncidentCreateForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_log_call(
                by=request.user,
                title=data["title"],
                requester=data["requester"],
                contact=data["contact"],
                files=data["attachments"],
                description=data["description"],
                category=data["category"],
                services=data["services"],
                impact=data["impact"],
                urgency=data["urgency"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            saved = draft_key(request, "new", "incident")
            messages.success(request, f"Logged {incident.number}.", extra_tags=saved)
            return redirect("incidents:detail", number=incident.number)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "draft": draft_key(request, "new", "incident")}
    return render(request, "incidents/incident_form.html", context, status=status)
