"""The demo data includes a dozen useful articles, one the known error of the demo
problem, loaded by seed_demo through its hook, and loading it twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from incidents.models import Incident
from kb.models import Article
from kb.suggestions import incident_suggestions

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_the_articles_once() -> None:
    out = StringIO()
    call_command("seed_demo", password="a-long-demo-password", stdout=out)
    assert "12 demo articles added" in out.getvalue()
    call_command("seed_demo", stdout=StringIO())
    articles = Article.objects.filter(status=Article.Status.PUBLISHED)
    assert articles.count() == 12
    known = articles.get(kind=Article.Kind.KNOWN_ERROR)
    assert known.problem is not None and known.problem.is_known_error
    assert articles.filter(audience=Article.Audience.PUBLIC).count() >= 6


def test_demo_incident_page_shows_the_known_error() -> None:
    from django.contrib.auth import get_user_model

    call_command("seed_demo", password="a-long-demo-password", stdout=StringIO())
    agent = get_user_model().objects.get(username="agent")
    incident = Incident.objects.get(title="VPN drops every hour")
    suggestions = incident_suggestions(incident=incident, user=agent)
    assert suggestions.known_error is not None
    assert suggestions.known_error.problem.title.startswith("VPN concentrator")
