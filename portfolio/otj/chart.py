"""Where the lines of the off-the-job chart go: coordinates for the SVG the template draws.

The page's Content-Security-Policy allows no inline styles, so the template draws with SVG
presentation attributes and CSS classes from these numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .domain import OtjSummary

WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 32, 48  # margins for the axes' labels
STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)
MAX_TICKS = 6
MAX_MONTH_LABELS = 18


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    second_line: str = ""


@dataclass(frozen=True)
class Line:
    points: tuple[tuple[float, float], ...]

    @property
    def svg(self) -> str:
        """The `points` attribute of an SVG polyline."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass(frozen=True)
class OtjChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    expected: Line
    logged: Line
    approved: Line
    today_x: float | None  # where today falls, when it is inside the period shown


def y_scale_top(largest: Decimal | float) -> tuple[int, int]:
    """A round top for the hours axis and its step: at most MAX_TICKS steps from 0."""
    largest = float(largest)
    if largest <= 0:
        return 10, 2
    for step in STEPS:
        if math.ceil(largest / step) <= MAX_TICKS:
            return math.ceil(largest / step) * step, step
    step = STEPS[-1]
    return math.ceil(largest / step) * step, step


def otj_chart(summary: OtjSummary) -> OtjChart:
    """Cumulative logged and approved hours and the expected pace, from the start to the last month shown."""
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    start = summary.start
    end = summary.months[-1].until if summary.months else start
    span = max((end - start).days, 1)
    largest = max([summary.planned, *(m.logged or 0 for m in summary.months), *(m.expected for m in summary.months)])
    y_top, step = y_scale_top(largest)

    def x(day: date) -> float:
        return left + (right - left) * min(max((day - start).days, 0), span) / span

    def y(hours: Decimal | float) -> float:
        return bottom - (bottom - top) * float(hours) / y_top

    origin = (x(start), y(0))
    past = [m for m in summary.months if not m.is_future]
    every = max(1, math.ceil(len(summary.months) / MAX_MONTH_LABELS))
    x_ticks: list[Tick] = []
    year_shown = None
    for n, month in enumerate(summary.months):
        if n % every:
            continue
        # The year under the first month shown of each year.
        year = month.month.year
        x_ticks.append(Tick(x(month.until), f"{month.month:%b}", str(year) if year != year_shown else ""))
        year_shown = year
    return OtjChart(
        width=WIDTH,
        height=HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        y_ticks=tuple(Tick(y(value), f"{value:,}") for value in range(0, y_top + 1, step)),
        x_ticks=tuple(x_ticks),
        expected=Line((origin, *((x(m.until), y(m.expected)) for m in summary.months))),
        logged=Line((origin, *((x(m.until), y(m.logged or 0)) for m in past))),
        approved=Line((origin, *((x(m.until), y(m.approved or 0)) for m in past))),
        today_x=x(summary.today) if start <= summary.today <= end else None,
    )
