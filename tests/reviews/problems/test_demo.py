"""The demo data includes one open problem with three linked incidents, and
loading it twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from incidents.models import Problem, ProblemEvent
from reviews.problems.demo import DEMO_PROBLEM

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_one_open_problem_with_three_incidents() -> None:
    out = StringIO()
    call_command("seed_demo", password="a-long-demo-password", stdout=out)
    assert "open with 3 incidents" in out.getvalue()
    call_command("seed_demo", stdout=StringIO())
    problem = Problem.objects.get(title=DEMO_PROBLEM["title"])
    assert problem.status == Problem.Status.OPEN
    assert problem.owner_team.name == "Network Operations"
    assert problem.incidents.count() == 3
    assert problem.events.filter(kind=ProblemEvent.Kind.INCIDENT_LINKED).count() == 3
    # The knowledge base's demo problem is a known error with its team.
    known = Problem.objects.get(status=Problem.Status.KNOWN_ERROR)
    assert known.owner_team is not None and known.articles.exists()
    client = Client()
    client.force_login(get_user_model().objects.get(username="agent"))
    page = client.get(f"/problems/{problem.number}/").content.decode()
    assert "Linked incidents (3)" in page
