"""Charts drawn on the server as SVG: stacked bars whose geometry is computed
here and printed by ``templates/dashboards/partials/bar_chart.html``. They need
no JavaScript; colours come from the stylesheet (classes, both schemes), and
each chart has a text equivalent (its description) and the table beside it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 480, 230
LEFT, BOTTOM, TOP = 40, 30, 12


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass
class BarChart:
    """A stacked bar chart: one bar per category, one segment per series."""

    id: str
    title: str
    description: str
    legend: list[tuple[str, str]]  # (css class, label)
    segments: list[Segment] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT


def _nice_max(value: int) -> int:
    """A round top for the axis at or above ``value``."""
    if value <= 5:
        return max(value, 1)
    step = 10 ** (len(str(value)) - 1)
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def stacked_bars(
    *,
    id: str,
    title: str,
    categories: Sequence[tuple[str, Counter[str]]],
    series: Sequence[tuple[str, str, str]],  # (key, label, css class)
    unit: str = "incidents",
) -> BarChart:
    """Bars for ``categories`` (label, counts by series key), stacked in the
    order of ``series``."""
    totals = [sum(counts[key] for key, _, _ in series) for _, counts in categories]
    top = _nice_max(max(totals, default=0))
    chart = BarChart(
        id=id,
        title=title,
        description=_describe(title, categories, series, totals, unit),
        legend=[(css, label) for _, label, css in series],
    )
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(categories), 1)
    bar = max(slot * 0.7, 1.0)
    every = max(1, math.ceil(len(categories) / 7))  # at most 7 labels
    for index, (label, counts) in enumerate(categories):
        x = LEFT + index * slot + (slot - bar) / 2
        y = HEIGHT - BOTTOM
        for key, name, css in series:
            value = counts[key]
            if not value:
                continue
            height = plot_height * value / top
            y -= height
            chart.segments.append(
                Segment(
                    round(x, 2),
                    round(y, 2),
                    round(bar, 2),
                    round(height, 2),
                    css,
                    f"{label}, {name}: {value}",
                )
            )
        if index % every == 0:
            chart.x_labels.append(Tick(round(x + bar / 2, 2), HEIGHT - 10, label))
    for fraction in (0, 0.5, 1):
        value = top * fraction
        y = HEIGHT - BOTTOM - plot_height * fraction
        text = f"{value:g}" if value != int(value) else f"{int(value):,}"
        chart.y_ticks.append(Tick(LEFT - 6, round(y + 4, 2), text))
    return chart


def _describe(
    title: str,
    categories: Sequence[tuple[str, Counter[str]]],
    series: Sequence[tuple[str, str, str]],
    totals: list[int],
    unit: str,
) -> str:
    """The chart in words, for screen readers: the largest bar and each series'
    total (the table beside the chart has every value)."""
    if not categories or not any(totals):
        return f"{title}: none."
    peak = max(range(len(totals)), key=lambda i: totals[i])
    parts = [
        f"{label} {sum(c[key] for _, c in categories):,}"
        for key, label, _ in series
        if any(c[key] for _, c in categories)
    ]
    return (
        f"{title}: {sum(totals):,} {unit} in {len(categories)} bars; the largest is "
        f"{categories[peak][0]} with {totals[peak]:,}. By series: "
        + ", ".join(parts)
        + ". The table below lists every value."
    )
