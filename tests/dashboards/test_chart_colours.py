"""The charts' colours stand out on the card they are drawn on (WCAG 1.4.11,
3:1 for graphics), in the light and the dark scheme, read from the stylesheet."""

from __future__ import annotations

import re

import pytest

from tests.test_stylesheet import CSS, HEX, contrast

DARK = r"@media \(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}\s*\}"


def colours() -> dict[str, dict[str, str]]:
    """Every colour variable of each scheme (dark overrides light)."""
    css = CSS.read_text()
    dark_blocks = re.findall(DARK, css, re.S)
    light_css = re.sub(DARK, "", css, flags=re.S)
    light: dict[str, str] = {}
    for block in re.findall(r":root\s*\{(.*?)\}", light_css, re.S):
        light.update(re.findall(rf"--([\w-]+):\s*({HEX})", block))
    dark = dict(light)
    for block in dark_blocks:
        dark.update(re.findall(rf"--([\w-]+):\s*({HEX})", block))
    return {"light": light, "dark": dark}


SERIES = ["p1", "p2", "p3", "p4", "p0", "alert", "portal", "agent"]


def test_every_series_has_a_colour_in_both_schemes() -> None:
    for scheme, values in colours().items():
        assert {f"chart-{s}" for s in SERIES} <= set(values), scheme


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("series", SERIES)
def test_series_stand_out_on_the_card(scheme: str, series: str) -> None:
    values = colours()[scheme]
    ratio = contrast(values[f"chart-{series}"], values["card"])
    assert ratio >= 3, f"{scheme}: --chart-{series} on --card is {ratio:.2f}:1"


def test_every_series_class_of_the_charts_is_styled() -> None:
    from dashboards.views import PRIORITY_SERIES, SOURCE_SERIES

    css = CSS.read_text()
    for _, _, css_class in (*PRIORITY_SERIES, *SOURCE_SERIES):
        assert re.search(rf"\.{css_class}\s*\{{\s*fill:\s*var\(--chart-", css), (
            css_class
        )
