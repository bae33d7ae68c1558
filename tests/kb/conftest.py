from __future__ import annotations

from typing import Any

import pytest

from incidents.roles import Role
from kb import services
from kb.models import Article
from tests.factories import make_team, make_user


@pytest.fixture
def desk(db: Any) -> Any:
    """A team with an agent and its lead (an incident manager, who publishes)."""
    team = make_team(name="Service Desk")
    agent = make_user(role=Role.AGENT, username="alex")
    lead = make_user(role=Role.INCIDENT_MANAGER, username="imani")
    team.members.add(agent, lead)
    return team, agent, lead


def make_article(
    *, team: Any, by: Any, publish_by: Any = None, **overrides: Any
) -> Article:
    """An article written through the service; published if ``publish_by``."""
    fields = {"title": "Reset your password", "owner_team": team, **overrides}
    article = services.article_create(by=by, **fields)
    if publish_by is not None:
        services.article_publish(article=article, by=publish_by)
        article.refresh_from_db()
    return article
