from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_settings import run_django


def test_status_cache_seconds_comes_from_the_environment(tmp_path: Path) -> None:
    result = run_django(
        "from django.conf import settings; print(settings.STATUS_CACHE_SECONDS)",
        tmp_path,
        DEBUG="1",
        STATUS_CACHE_SECONDS="5",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_status_cache_seconds_refuses_a_bad_value(tmp_path: Path, value: str) -> None:
    result = run_django("", tmp_path, DEBUG="1", STATUS_CACHE_SECONDS=value)
    assert result.returncode != 0
    assert "STATUS_CACHE_SECONDS" in result.stderr
