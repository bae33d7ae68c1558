"""The search's own rules: typo correction for long and short words, the fallback
to some of the words with a minimum relevance, exclusions, and the vocabulary
kept per audience."""

from __future__ import annotations

from typing import Any

import pytest

from incidents.roles import Role
from kb.search import article_search, osa_distance
from kb.selectors import articles_visible_to
from tests.factories import make_user
from tests.kb.conftest import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(desk: Any) -> dict[str, Any]:
    team, agent, lead = desk
    made = {}
    for key, title, audience in [
        ("outlook", "Outlook crashes on start", "public"),
        ("vpn", "VPN disconnects every hour", "public"),
        ("printer", "Printer jams on double-sided jobs", "public"),
        ("kerberos", "Kerberos ticket renewal fails", "internal"),
    ]:
        made[key] = make_article(
            team=team, by=agent, publish_by=lead, title=title, audience=audience
        )
    return made


def _search(user: Any, query: str, *, public: bool = False) -> Any:
    return article_search(
        articles=articles_visible_to(user), query=query, public_vocabulary=public
    )


def test_long_words_are_corrected_by_similarity(
    desk: Any, articles: dict[str, Any]
) -> None:
    result = _search(desk[1], "outlok")
    assert result.corrected == "outlook"
    assert result.articles == [articles["outlook"]]


def test_short_words_are_corrected_by_edit_distance(
    desk: Any, articles: dict[str, Any]
) -> None:
    result = _search(desk[1], "vnp")
    assert result.corrected == "vpn"
    assert result.articles == [articles["vpn"]]


def test_a_swap_of_neighbours_is_one_edit() -> None:
    assert osa_distance("vnp", "vpn") == 1
    assert osa_distance("vip", "vpn") == 2


def test_requesters_are_not_corrected_towards_internal_words(
    desk: Any, articles: dict[str, Any]
) -> None:
    requester = make_user(role=Role.REQUESTER)
    result = _search(requester, "kerberoz", public=True)
    assert result.corrected == "" and result.articles == []
    assert _search(desk[1], "kerberoz").corrected == "kerberos"


def test_questions_fall_back_to_some_of_the_words(
    desk: Any, articles: dict[str, Any]
) -> None:
    result = _search(desk[1], "why does my printer keep jamming with big jobs")
    assert result.fell_back
    assert result.articles[0] == articles["printer"]


def test_one_common_word_does_not_drag_in_unrelated_articles(
    desk: Any, articles: dict[str, Any]
) -> None:
    team, agent, lead = desk
    for n in range(5):
        make_article(
            team=team,
            by=agent,
            publish_by=lead,
            title=f"Every expense form, step {n}",
            body="Every step of the form, one at a time, every month.",
        )
    result = _search(agent, "outlook crashes when I open it every morning")
    assert result.articles[0] == articles["outlook"]
    assert result.fell_back
    assert all("expense" not in a.title for a in result.articles)


def test_excluded_words_stay_out(desk: Any, articles: dict[str, Any]) -> None:
    assert articles["vpn"] not in _search(desk[1], "disconnects -vpn").articles
