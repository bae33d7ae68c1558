"""A published review as Markdown: for a wiki, read well as plain text too."""

from __future__ import annotations

from typing import Any


def _block(title: str, text: str) -> list[str]:
    return [f"## {title}", "", text.strip() or "_None written._", ""]


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "—"


def review_markdown(context: dict[str, Any]) -> str:
    """The review page's content (``reviews.views._review_context``) as
    Markdown: summary, impact, milestones, root cause analysis, action items,
    knowledge. Table cells have their pipes escaped."""
    review = context["review"]
    impact = context["impact"]
    lines = [
        f"# {review.number}: {review.incident.title}",
        "",
        f"- Incidents: {', '.join(i.number for i in context['incidents'])}",
        f"- Owner: {review.owner.get_username() if review.owner else '—'}",
        f"- Approved by: {review.approved_by.get_username() if review.approved_by else '—'}"
        f" on {_when(review.approved_at)}",
        f"- Published: {_when(review.published_at)}",
        "",
        *_block("Summary", review.summary),
        "## Impact",
        "",
        f"- Duration: {impact['duration'] or '—'}",
        f"- Services: {', '.join(impact['services']) or '—'}",
        f"- Requesters affected: {impact['requesters']}",
        "- SLA targets missed: "
        + (
            ", ".join(
                f"{n} {clock} at {_when(at)}" for n, clock, at in impact["sla_missed"]
            )
            or "none"
        ),
        "",
        "## Milestones",
        "",
        "| Incident | Milestone | Time | Corrected |",
        "|---|---|---|---|",
    ]
    numbers = {i.pk: i.number for i in context["incidents"]}
    for m in context["milestones"]:
        lines.append(
            f"| {numbers[m.incident_id]} | {m.name} | {_when(m.at)} | "
            f"{'yes' if m.edited else ''} |"
        )
    lines += ["", "## Five whys", ""]
    lines += [f"{n}. {why}" for n, why in enumerate(review.five_whys, 1)] or [
        "_None written._"
    ]
    lines.append("")
    lines += _block("Root cause", review.root_cause)
    lines += _block("Workaround", review.workaround)
    lines += _block("Contributing factors", review.contributing_factors)
    lines += _block("What went well", review.went_well)
    lines += _block("What went badly", review.went_badly)
    lines += ["## Action items", "", "| Item | Title | Owner | Due | Status |"]
    lines.append("|---|---|---|---|---|")
    for item in context["items"]:
        title = item.title.replace("|", "\\|")
        lines.append(
            f"| {item.number} | {title} | {item.owner_display.replace('|', '/')} | "
            f"{item.due_on} | {item.get_status_display()} |"
        )
    lines += ["", "## Knowledge base", ""]
    lines += [
        f"- {link.article.number} {link.article.title} ({link.get_relation_display()})"
        for link in context["links"]
    ] or ["_None._"]
    return "\n".join(lines) + "\n"
