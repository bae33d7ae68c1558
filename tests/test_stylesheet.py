"""The stylesheet's colours stay readable: the WCAG 2 contrast ratio of each text
colour on each background it is used on, in the light and the dark scheme, read
from static/css/app.css itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR) / "static" / "css" / "app.css"
HEX = r"#[0-9a-fA-F]{6}"

# (text, background) as the pages use them: body, muted and link text, errors and
# button labels, on the page and on cards. WCAG 1.4.3 asks 4.5:1 for body text.
TEXT_PAIRS = [
    ("fg", "bg"),
    ("fg", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("accent", "bg"),
    ("accent", "card"),
    ("danger", "bg"),
    ("danger", "card"),
    ("accent-fg", "accent"),
]
# Form field borders and the focus ring: 3:1 against what surrounds them (1.4.11).
COMPONENT_PAIRS = [
    ("field-line", "bg"),
    ("field-line", "card"),
    ("accent", "bg"),
    ("accent", "card"),
]


def _variables(block: str) -> dict[str, str]:
    return dict(re.findall(rf"--([\w-]+):\s*({HEX})", block))


def schemes() -> dict[str, dict[str, str]]:
    """Each scheme's colour variables; dark overrides light where it sets one."""
    css = CSS.read_text()
    light = re.search(r":root\s*\{(.*?)\}", css, re.S)
    dark = re.search(
        r"prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}", css, re.S
    )
    assert light and dark, "app.css should set :root colours, and again for dark"
    base = _variables(light.group(1))
    return {"light": base, "dark": {**base, **_variables(dark.group(1))}}


def luminance(colour: str) -> float:
    """Relative luminance of an sRGB colour (WCAG 2)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    )
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_text_is_readable(scheme: str, text: str, background: str) -> None:
    colours = schemes()[scheme]
    ratio = contrast(colours[text], colours[background])
    assert ratio >= 4.5, f"{scheme}: --{text} on --{background} is {ratio:.2f}:1"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("part", "background"), COMPONENT_PAIRS)
def test_controls_stand_out(scheme: str, part: str, background: str) -> None:
    colours = schemes()[scheme]
    ratio = contrast(colours[part], colours[background])
    assert ratio >= 3, f"{scheme}: --{part} on --{background} is {ratio:.2f}:1"


def test_priority_badges_are_readable() -> None:
    """The filled badges set both colours themselves, the same in both schemes."""
    badges = re.findall(
        rf"\.badge\.(p\d)\s*\{{\s*background:\s*({HEX});\s*color:\s*({HEX})",
        CSS.read_text(),
    )
    assert [name for name, _, _ in badges] == ["p1", "p2", "p3"]
    for name, background, text in badges:
        ratio = contrast(text, background)
        assert ratio >= 4.5, f"badge {name} is {ratio:.2f}:1"
