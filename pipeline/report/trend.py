"""The report's charts as SVG written directly: one indicator in one council (a compact trend for the
council's page, the full chart for the indicator's page of that council) and one indicator in every
council (the indicator's page). tests/test_report_trend.py and tests/test_report_scale.py read the SVG.

Drawn through Vega (vl-convert) a chart cost 15–90 ms and 20–30 kB; written here, well under a
millisecond and a few kB, so the report costs a fraction of the build. The scales are in
pipeline/report/charts.py: x is time (each value at its period's midpoint, a year's label at its
1 January), y the council's own values (`placement`: a target far off that scale is a triangle at the
chart's edge, named with its value). The mark groups are named as Vega named them (`points_marks`,
`flagged_marks`, `target_marks`, `city_target_marks`, `off_scale_marks`, `edge_labels_marks`) and each
value is read aloud by its period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from html import escape

from pipeline.report.charts import (
    CITY_TARGET_COLOR,
    DISTRICT_COLORS,
    EDGE_PX,
    FLAG_COLOR,
    OUTCOME_COLORS,
    TARGET_COLOR,
    YEAR_LABEL_PX,
    Point,
    edge_labels,
    placement,
    y_domain,
)
from pipeline.report.formats import sv_number

MIN_SPREAD = 0.2  # the y scale spans at least this share of its largest value
DASHES = {"Utfall": "", "Män": "4 2", "Kvinnor": "2 2"}
TRIANGLE = {1: "M0,-4L4,3L-4,3Z", -1: "M0,4L4,-3L-4,-3Z"}


@dataclass(frozen=True)
class Frame:
    """Where the chart draws: the plot's box in pixels and the domains it maps."""

    left: float
    right: float
    top: float
    bottom: float
    x0: int  # days since 0001-01-01 of the first 1 January shown
    x1: int  # ... of the 1 January after the last year shown
    y0: float
    y1: float

    def x(self, at: str) -> float:
        days = date.fromisoformat(at[:10]).toordinal()
        return self.left + (days - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About `count` round values covering lo..hi (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    span = hi - lo or abs(hi) or 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = round(math.floor(lo / step + 1e-9) * step, 10)  # 4.8 / 0.2 is 23.999…
    ticks = [first]
    while ticks[-1] < hi - 1e-9 * step:
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def _frame(points: list[Point], off: list[int], width: int, height: int, axes: bool) -> tuple[Frame, list[float]]:
    lo, hi = y_domain(points, off)
    least = MIN_SPREAD * max(abs(lo), abs(hi))
    if hi - lo < least:  # a change of a tenth of a percent is not drawn as a fall from top to bottom
        mid = (lo + hi) / 2
        lo, hi = mid - least / 2, mid + least / 2
    ticks = nice_ticks(lo, hi) if axes else []
    if ticks:
        lo, hi = ticks[0], ticks[-1]
    pad = 6 if not axes else 8
    left = 8 + max((len(sv_number(t)) for t in ticks), default=0) * 6.5 if axes else 4
    top = pad + (EDGE_PX if 1 in off else 0)
    bottom = height - (18 if axes else 0) - pad - (EDGE_PX if -1 in off else 0)
    years = [int(p.at[:4]) for p in points] or [2000]
    x0, x1 = date(min(years), 1, 1).toordinal(), date(max(years) + 1, 1, 1).toordinal()
    return Frame(left, width - 6, top, bottom, x0, x1, lo, hi), ticks


def _label(p: Point) -> str:
    return escape(f"period: {p.period}; value: {p.shown}; series: {p.series}")


def _named(p: Point, labelled: bool) -> str:
    """What a mark is read aloud as; a compact trend's marks are named by its title alone."""
    return f' aria-label="{_label(p)}"' if labelled else ""


def series_colors(kind: str, points: list[Point]) -> dict[str, str]:
    """Each series' colour: outcome, men, women in one council; each council its own in the districts
    chart (in the order they come, Tableau's colour-blind-safe ten and four more)."""
    if kind == "series":
        return dict(OUTCOME_COLORS)
    names = dict.fromkeys(p.series for p in points)
    return {name: DISTRICT_COLORS[i % len(DISTRICT_COLORS)] for i, name in enumerate(names)}


def _points(frame: Frame, on: list[Point], colors: dict[str, str], labelled: bool) -> list[str]:
    out = []
    for name, color in colors.items():
        own = sorted((p for p in on if p.kind == "outcome" and p.series == name), key=lambda p: p.at)
        if len(own) > 1:
            path = "M" + "L".join(f"{frame.x(p.at):.0f},{frame.y(p.value):.0f}" for p in own)
            dash = f' stroke-dasharray="{DASHES[name]}"' if DASHES.get(name) else ""
            out.append(f'<path class="line" d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
    out.append('<g class="points_marks">')
    for p in (p for p in on if p.kind == "outcome"):
        color = colors[p.series]
        out.append(
            f'<circle cx="{frame.x(p.at):.0f}" cy="{frame.y(p.value):.0f}" r="3" fill="{color}"{_named(p, labelled)}/>'
        )
    out.append('</g><g class="flagged_marks">')
    for p in (p for p in on if p.kind == "outcome" and p.flagged):
        out.append(
            f'<circle cx="{frame.x(p.at):.0f}" cy="{frame.y(p.value):.0f}" r="7" fill="none" stroke="{FLAG_COLOR}"'
            f' stroke-width="2"/>'
        )
    out.append("</g>")
    return out


def _targets(frame: Frame, on: list[Point], kind: str, color: dict | str, half: float, labelled: bool) -> list[str]:
    """Ticks of one target kind on the scale, in one colour or in each series' own."""
    out = [f'<g class="{kind}_marks">']
    for p in (p for p in on if p.kind == kind):
        x, y = frame.x(p.at), frame.y(p.value)
        color_of = color if isinstance(color, str) else color[p.series]
        tick = f'<path d="M{x - half:.0f},{y:.0f}H{x + half:.0f}" stroke="{color_of}" stroke-width="2"'
        out.append(f"{tick}{_named(p, labelled)}/>")
    out.append("</g>")
    return out


def _edges(frame: Frame, points: list[Point], off: list[int], kind: str, labelled: bool) -> list[str]:
    out = ['<g class="off_scale_marks">']
    for p, side in zip(points, off, strict=True):
        if side:
            y = frame.top - EDGE_PX + 10 if side == 1 else frame.bottom + EDGE_PX - 10
            color = CITY_TARGET_COLOR if p.kind == "city_target" else TARGET_COLOR
            out.append(
                f'<path transform="translate({frame.x(p.at):.0f},{y:.0f})" d="{TRIANGLE[side]}" fill="{color}"'
                f"{_named(p, labelled)}/>"
            )
    out.append('</g><g class="edge_labels_marks">')
    if labelled:
        for row in edge_labels(kind, points, off):
            x, y = frame.left + row["px"], frame.top - EDGE_PX + 4 if row["off"] == 1 else frame.bottom + EDGE_PX - 2
            out.append(f'<text x="{x:.0f}" y="{y:.0f}" fill="{row["color"]}">{escape(row["label"])}</text>')
    out.append("</g>")
    return out


def _axes(frame: Frame, ticks: list[float], height: int) -> list[str]:
    """A year's tick and label at its 1 January (the label right of it, over its year); the value ticks
    as light lines across the plot, labelled on the left."""
    first, last = date.fromordinal(frame.x0).year, date.fromordinal(frame.x1).year - 1
    step = max(1, math.ceil((last - first + 1) * YEAR_LABEL_PX / (frame.right - frame.left)))
    years = [(year, frame.x(f"{year}-01-01")) for year in range(first, last + 1, step)]
    marks = "".join(f"M{x:.0f},{frame.bottom:.0f}v4" for _, x in years)
    out = [f'<g aria-label="X-axis: år" class="x_axis"><path d="{marks}" stroke="#888"/><g class="role-axis-label">']
    out += [f'<text x="{x + 2:.0f}" y="{height - 4}">{year}</text>' for year, x in years]
    grid = "".join(f"M{frame.left:.0f},{frame.y(t):.0f}H{frame.right:.0f}" for t in ticks)
    out.append(f'</g></g><g aria-label="Y-axis: värde" class="y_axis"><path d="{grid}" stroke="#e4e4ea"/>')
    out.append('<g class="role-axis-label" text-anchor="end">')
    out += [f'<text x="{frame.left - 4:.0f}" y="{frame.y(t) + 3:.0f}">{escape(sv_number(t))}</text>' for t in ticks]
    out.append("</g></g>")
    return out


def trend_svg(points: list[Point], title: str, width: int, height: int, axes: bool = True, kind: str = "series") -> str:
    """A chart: one council's series ("series": outcome, men, women, both targets) or every council's
    ("districts": each council's outcome and target in its colour); with axes and edge labels, or
    without (a compact trend)."""
    off = placement(points)
    frame, ticks = _frame(points, off, width, height, axes)
    on = [p for p, side in zip(points, off, strict=True) if side == 0]
    colors = series_colors(kind, points)
    body = _axes(frame, ticks, height) if axes else []
    body += _targets(frame, on, "target", TARGET_COLOR if kind == "series" else colors, 8 if axes else 5, axes)
    body += _targets(frame, on, "city_target", CITY_TARGET_COLOR, 5 if axes else 3, axes)
    body += _points(frame, on, colors, axes)
    body += _edges(frame, points, off, kind, labelled=axes)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" font-size="10" fill="#444"><title>{escape(title)}</title>'
    )
    return head + "".join(body) + "</svg>"
