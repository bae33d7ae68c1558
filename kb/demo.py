"""Demo data of the knowledge base: a dozen useful articles, one of them the known
error of the demo problem (the VPN's hourly drops), so a newcomer sees the
incident page's panels and the portal's suggestions filled. Loaded by
``seed_demo`` through ``settings.DEMO_LOADERS``; safe to load repeatedly (an
article whose title exists is left as it is)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from incidents.models import Category, Problem, Service, Team
from kb import services
from kb.models import Article

DEMO_PROBLEM = {
    "title": "VPN concentrator drops idle tunnels after 60 minutes",
    "description": "Remote users are disconnected from the VPN about once an hour.",
    "root_cause": "The concentrator's idle timeout (3600 s) also applies to "
    "tunnels that only send keep-alives.",
    "workaround": "Turn on 'Keep connection alive' in the VPN client (Settings > "
    "Connection), or reconnect when it drops.",
    "is_known_error": True,
}


@dataclass(frozen=True)
class DemoArticle:
    title: str
    symptoms: str
    body: str
    kind: str
    audience: str
    team: str
    services: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    known_error: bool = False


PUBLIC, INTERNAL = Article.Audience.PUBLIC, Article.Audience.INTERNAL
K = Article.Kind

DEMO_ARTICLES = [
    DemoArticle(
        "VPN disconnects every hour",
        "The VPN disconnects about once an hour, even while you are working.",
        "This is a known error of the VPN concentrator (an idle timeout).\n\n"
        "## Workaround\n\n1. Open the VPN client and go to **Settings > Connection**.\n"
        "2. Turn on **Keep connection alive**.\n3. Reconnect.\n\n"
        "The drops stop at once. A permanent fix is planned with the network team.",
        K.KNOWN_ERROR,
        PUBLIC,
        "Network Operations",
        ("VPN",),
        ("Network",),
        known_error=True,
    ),
    DemoArticle(
        "Connect to the VPN from home",
        "You need the office network (file shares, payroll) from outside the office.",
        "1. Install the VPN client from the software centre.\n"
        "2. Sign in with your usual account and approve the MFA prompt.\n"
        "3. Choose the **Office** gateway and press **Connect**.\n\n"
        "If it says *certificate expired*, restart the laptop on the office "
        "Wi-Fi once so the certificate renews.",
        K.HOW_TO,
        PUBLIC,
        "Network Operations",
        ("VPN",),
        ("Network",),
    ),
    DemoArticle(
        "Reset your password",
        "You forgot your password, or it expired and you cannot sign in.",
        "Go to the sign-in page, choose **Forgot password** and follow the link "
        "sent to your phone. The new password must be 14 characters or more. "
        "Locked out after five tries? Wait 15 minutes, or call the service desk.",
        K.HOW_TO,
        PUBLIC,
        "Service Desk",
        (),
        ("Software",),
    ),
    DemoArticle(
        "Outlook does not start or crashes on opening",
        "Outlook closes as soon as it opens, or hangs on 'Loading profile'.",
        "Start Outlook in safe mode: press Win+R, type `outlook.exe /safe`, Enter. "
        "If it starts, an add-in is at fault: **File > Options > Add-ins**, turn "
        "them off one by one. If it still crashes, repair Office from *Apps and "
        "features*.",
        K.HOW_TO,
        PUBLIC,
        "Service Desk",
        ("Email",),
        ("Software",),
    ),
    DemoArticle(
        "Email arrives late",
        "Messages from outside arrive 10 to 30 minutes late; internal mail is fine.",
        "Check the mail gateway queue on the admin console (**Queues > Inbound**). "
        "More than 500 messages waiting: the spam scanner is behind. Restart the "
        "`scanner` service on both gateway nodes, one at a time, and watch the "
        "queue drain. Post a stakeholder update if it takes more than 15 minutes.",
        K.RUNBOOK,
        INTERNAL,
        "Systems",
        ("Email",),
        ("Software",),
    ),
    DemoArticle(
        "Checkout returns 502 errors",
        "Customers see 'Bad gateway' (502) when they pay; the rest of the portal works.",
        "1. On the load balancer, look for an unhealthy backend in the *checkout* "
        "pool.\n2. Drain it and restart its application service.\n3. If every "
        "backend is healthy, check the payment provider's status page and the "
        "`checkout_upstream_errors` graph.\n4. Roll back the last deploy if the "
        "errors started with it.",
        K.RUNBOOK,
        INTERNAL,
        "Systems",
        ("Customer portal",),
        ("Software",),
    ),
    DemoArticle(
        "Printer jams on floor 3",
        "The printer on floor 3 jams on double-sided jobs.",
        "Print single-sided, or use the printer on floor 2, until the fuser unit is "
        "replaced. Clear a jam from tray 2 first, then the rear door.",
        K.WORKAROUND,
        PUBLIC,
        "Service Desk",
        (),
        ("Hardware",),
    ),
    DemoArticle(
        "Connect to the office Wi-Fi",
        "Your laptop does not see or cannot join the office wireless network.",
        "Choose the network **Office**, not *Office-Guest*. Sign in with your usual "
        "account. If it keeps asking for the password, forget the network and join "
        "again. Phones use *Office-Devices*.",
        K.HOW_TO,
        PUBLIC,
        "Network Operations",
        ("Office Wi-Fi",),
        ("Network",),
    ),
    DemoArticle(
        "Set up multi-factor authentication (MFA)",
        "You are asked to set up MFA, or got a new phone and the prompts stopped.",
        "Install the authenticator app, open **My account > Security info**, add a "
        "method and scan the QR code. New phone: add it before you wipe the old "
        "one, or ask the service desk to reset your methods.",
        K.HOW_TO,
        PUBLIC,
        "Security Operations",
        (),
        ("Security",),
    ),
    DemoArticle(
        "Payslip missing from the payroll portal",
        "Your payslip for this month is not in the payroll portal.",
        "Payslips appear on the 25th after 18:00. If it is later and still missing, "
        "check that your bank details are complete under **Payroll > My details**, "
        "then report it: payroll re-issues it the same day.",
        K.HOW_TO,
        PUBLIC,
        "Systems",
        ("Payroll",),
        ("Software",),
    ),
    DemoArticle(
        "Suspicious email: report phishing",
        "You received an email asking for your password, a payment or to open a file.",
        "Do not click links or open attachments. Use **Report phishing** in Outlook "
        "(or forward it as an attachment to the security mailbox) and delete it. "
        "Clicked already? Change your password now and report it as an incident.",
        K.HOW_TO,
        PUBLIC,
        "Security Operations",
        ("Email",),
        ("Security",),
    ),
    DemoArticle(
        "Restart the VPN concentrator safely",
        "All remote users lose the VPN at once; the concentrator's CPU is at 100%.",
        "Fail over to the standby unit first (**HA > Make standby active**), wait "
        "for tunnels to re-establish (about 2 minutes), then restart the primary. "
        "Never restart both units together. Announce it on the status page.",
        K.RUNBOOK,
        INTERNAL,
        "Network Operations",
        ("VPN",),
        ("Network",),
    ),
]


@transaction.atomic
def demo_seed() -> str:
    """Load the demo problem and articles; returns a line for the command to print."""
    author = get_user_model().objects.get(username="incident_manager")
    problem = Problem.objects.filter(title=DEMO_PROBLEM["title"]).first()
    if problem is None:
        problem = Problem.objects.create(
            **DEMO_PROBLEM,
            status=Problem.Status.KNOWN_ERROR,
            owner_team=Team.objects.get(name="Network Operations"),
        )
    created = 0
    for spec in DEMO_ARTICLES:
        if Article.objects.filter(title=spec.title).exists():
            continue
        article = services.article_create(
            by=author,
            title=spec.title,
            symptoms=spec.symptoms,
            body=spec.body,
            kind=spec.kind,
            audience=spec.audience,
            owner_team=Team.objects.get(name=spec.team),
            services=Service.objects.filter(name__in=spec.services),
            categories=Category.objects.filter(name__in=spec.categories),
            problem=problem if spec.known_error else None,
        )
        services.article_publish(article=article, by=author)
        created += 1
    return (
        f"Knowledge base: {created} demo articles added, {problem.number} known error."
    )
