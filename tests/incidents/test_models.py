from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from incidents.models import Incident, Team
from incidents.models.incident import OPEN_STATUS_VALUES
from tests.factories import make_team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("next_tier", [1, 2])
def test_team_escalates_only_to_a_higher_tier(next_tier: int) -> None:
    upper = make_team(tier=next_tier)
    team = Team(name="Tier two", tier=2, next_tier=upper)
    with pytest.raises(ValidationError, match="higher tier"):
        team.full_clean()


def test_team_escalates_to_a_higher_tier() -> None:
    team = Team(name="Desk", tier=1, next_tier=make_team(tier=3))
    team.full_clean()


def test_team_tier_outside_one_to_three_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError):
        Team.objects.create(name="Tier four", tier=4)


def test_the_partial_indexes_name_the_open_states() -> None:
    """The partial indexes serve the queue only while their condition names the
    states ``Incident.OPEN_STATUSES`` names: a state added to one and not the
    other sends the queue's views back to a scan."""
    assert OPEN_STATUS_VALUES == [str(status) for status in Incident.OPEN_STATUSES]
