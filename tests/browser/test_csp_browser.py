"""Every page works under the Content-Security-Policy, in a real browser that
reports what the policy blocks: the console (with its live queue and priority),
the portal (with its suggestions while typing), the status page, the admin and
the API docs, the knowledge base and the dashboards. Any violation, console
error or script error fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from incidents import services
from incidents.models import Incident
from incidents.models.status import ComponentState
from incidents.roles import Role
from incidents.status import services as status
from incidents.status.selectors import status_cache_clear
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_category, make_service, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# Recorded before any of the page's own scripts run (Playwright's init scripts
# are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
    ` at ${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(text);
  console.error("CSP violation: " + text);
});
"""


class Watched:
    """A page whose policy violations, console errors and script errors are kept."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        self.policies: list[str] = []
        page.on("console", self._keep_console)
        page.on("pageerror", lambda error: self.problems.append(f"error: {error}"))
        page.on("response", self._keep_policy)

    def _keep_console(self, message: Any) -> None:
        where = message.location.get("url", "")
        # The browser asks for /favicon.ico by itself; no page refers to it.
        if message.type in ("error", "warning") and not where.endswith("/favicon.ico"):
            self.problems.append(f"console {message.type}: {message.text} ({where})")

    def _keep_policy(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")
        if response.request.resource_type == "document":
            self.policies.append(response.headers.get("content-security-policy", ""))

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], violations
        assert self.problems == [], self.problems
        assert self.policies and all(
            "script-src 'self'" in policy for policy in self.policies
        ), self.policies


@pytest.fixture
def watched(new_page: Any) -> Iterator[Any]:
    pages: list[Watched] = []

    def open_page(**options: Any) -> Watched:
        page = new_page(**options)
        page.context.add_init_script(RECORD_VIOLATIONS)
        pages.append(Watched(page))
        return pages[-1]

    yield open_page
    for page in pages:
        page.assert_clean()


@pytest.fixture
def desk(db: Any) -> Any:
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    team.members.add(agent)
    category = make_category(name="Software", team=team)
    service = make_service(name="Email", team=team, is_public=True)
    make_user(role=Role.REQUESTER, username="rita")
    incident = services.incident_log(
        by=agent,
        title="Mail relay refuses connections",
        source="agent",
        category=category,
        services=[service],
        impact="high",
        urgency="high",
    )
    return agent, incident


def test_the_console_works_under_the_policy(watched: Any, desk: Any) -> None:
    agent, incident = desk
    watched_page = watched()
    page = watched_page.page
    page.clock.install()
    log_in(page, "alex", PASSWORD)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    # The queue polls itself (queue.js sends the rows it shows)...
    polls: list[str] = []
    page.on("request", lambda r: "shown=" in r.url and polls.append(r.url))
    with page.expect_response(lambda r: "shown=" in r.url):
        page.clock.fast_forward("00:31")
    assert polls and f"shown={_signature(page)}" in polls[-1]
    # ...and waits while a row is selected.
    page.get_by_label(f"Select {incident.number}").check()
    asked = len(polls)
    page.clock.fast_forward("01:05")
    page.wait_for_timeout(300)
    assert len(polls) == asked
    page.get_by_label(f"Select {incident.number}").uncheck()
    with page.expect_response(lambda r: "shown=" in r.url):
        page.clock.fast_forward("00:31")

    # The new-incident form's live priority (htmx, no evaluated attributes).
    page.goto("/console/new/")
    with page.expect_response(lambda r: "/console/priority/" in r.url):
        page.get_by_label("Impact").select_option("high")
    page.get_by_label("Urgency").select_option("high")
    expect(page.locator("#priority-preview")).to_have_text("P1 critical")

    page.goto(f"/console/{incident.number}/")
    expect(page.get_by_role("heading", name=incident.number)).to_be_visible()


def _signature(page: Any) -> str:
    return page.locator("#queue table").get_attribute("data-signature")


def test_the_portal_and_the_status_page_work_under_the_policy(
    watched: Any, desk: Any
) -> None:
    _, incident = desk
    page = watched().page
    log_in(page, "rita", PASSWORD)
    page.goto("/portal/report/")
    page.get_by_label("What is wrong, in one line").fill("Mail relay is slow")
    page.get_by_label("Which service").select_option(label="Email")
    expect(page.locator("#similar")).to_contain_text(incident.title)
    page.goto("/portal/")
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()

    # The public sees only what an incident manager published, in public words.
    status.status_entry_publish(
        incident=incident,
        by=make_user(role=Role.INCIDENT_MANAGER, username="imani"),
        title="Email delivery is delayed",
        components={incident.services.get().pk: ComponentState.MAJOR},
        message="Some messages are not being delivered; we are on it.",
    )
    status_cache_clear()
    visitor = watched().page
    visitor.goto("/status")
    expect(visitor.get_by_text("Email delivery is delayed").first).to_be_visible()


def test_the_admin_and_the_api_docs_work_under_the_policy(watched: Any) -> None:
    make_user(username="root", is_staff=True, is_superuser=True)
    page = watched().page
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/incidents/team/add/")
    page.get_by_label("Name").fill("Networks")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()
    page.goto("/admin/incidents/incident/")
    expect(page.locator("#changelist")).to_be_visible()

    page.goto("/api/docs/")
    expect(page.get_by_text("ITSM incident management API").first).to_be_visible()
    operation = page.locator(".opblock").first
    operation.locator(".opblock-summary").click()
    expect(operation.get_by_role("button", name="Try it out")).to_be_visible()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("Available authorizations")).to_be_visible()
    assert Incident.objects.count() == 0


def test_the_knowledge_base_and_the_dashboards_work_under_the_policy(
    watched: Any, desk: Any
) -> None:
    agent_page = watched().page
    log_in(agent_page, "alex", PASSWORD)
    agent_page.goto("/kb/")
    expect(agent_page.locator("main h1")).to_be_visible()
    agent_page.goto("/kb/new/")
    expect(agent_page.locator("main form")).to_be_visible()

    make_user(role=Role.MANAGER, username="morgan")
    manager_page = watched().page
    log_in(manager_page, "morgan", PASSWORD)
    manager_page.goto("/dashboards/")
    expect(manager_page.locator("main h1")).to_be_visible()
