"""Does the search find the fix? A corpus of realistic articles and the questions
people type, each with the article that must come in the top 3; precision at 3 is
printed, and must be at least 0.9 on PostgreSQL (the product's database). The
embedded SQLite fallback is plainer: its figure is printed and held to a lower bar
so it cannot silently stop finding things. On both, a requester never gets an
internal article."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from incidents.roles import Role
from kb.models import Article
from kb.search import article_search
from kb.selectors import articles_visible_to, reads_internal
from tests.factories import make_user
from tests.kb.conftest import make_article
from tests.kb.corpus import ARTICLES, QUERIES

pytestmark = pytest.mark.django_db

PRECISION_AT_3 = {"postgresql": 0.9, "sqlite": 0.6}


def test_search_precision_at_3(desk: Any, capsys: pytest.CaptureFixture) -> None:
    team, agent, lead = desk
    requester = make_user(role=Role.REQUESTER)
    by_key = {}
    for key, (title, symptoms, body, kind, audience) in ARTICLES.items():
        by_key[key] = make_article(
            team=team,
            by=agent,
            publish_by=lead,
            title=title,
            symptoms=symptoms,
            body=body,
            kind=kind,
            audience=audience,
        ).pk
    assert len(ARTICLES) >= 60 and len(QUERIES) >= 30

    internal = set(
        Article.objects.filter(audience=Article.Audience.INTERNAL).values_list(
            "pk", flat=True
        )
    )
    readers = {"agent": agent, "requester": requester}
    found, misses, leaks = 0, [], []
    for query, key, reader in QUERIES:
        user = readers[reader]
        result = article_search(
            articles=articles_visible_to(user),
            query=query,
            public_vocabulary=not reads_internal(user),
            limit=3,
        )
        top = [article.pk for article in result.articles]
        if reader == "requester" and internal & set(top):
            leaks.append(query)
        ok = (not internal & set(top)) if key is None else by_key[key] in top
        found += ok
        if not ok:
            misses.append((query, [a.title for a in result.articles]))

    precision = found / len(QUERIES)
    with capsys.disabled():
        print(
            f"\nprecision@3 on {connection.vendor}: {precision:.2f} "
            f"({found}/{len(QUERIES)} queries, {len(ARTICLES)} articles)"
        )
        for query, titles in misses:
            print(f"  missed: {query!r} -> {titles}")
    assert not leaks, f"internal articles shown to a requester for {leaks}"
    assert precision >= PRECISION_AT_3[connection.vendor]
