"""The scales of the report's charts and what they draw (pipeline/report/trend.py writes the SVG).

True to scale: x is time (each value at its period's midpoint, a date), y the council's own values
(`placement`: a target far off that scale stands at the chart's edge, named with its value by
`edge_labels`), both for one indicator in one district and for one indicator in every district.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.report.formats import sv_number

LABEL_CHAR_PX = 6.5  # about one character of a 10 px label
YEAR_LABEL_PX = 40  # a year's label on the time axis and the room beside it
# A target further from the outcomes' range than this many of their spans is off the chart's scale
# (placement): drawn at the edge, in a band this high, and labelled with its value.
FAR_FACTOR = 3
EDGE_PX = 30  # a label's line, then a row of triangles
REFERENCE_KINDS = ("outcome", "target", "city_target")  # what sets the scale: the first kind there is
OUTCOME_COLORS = {"Utfall": "#1f4e79", "Män": "#2e8b57", "Kvinnor": "#b5446e"}
TARGET_COLOR = "#222222"
CITY_TARGET_COLOR = "#e07b00"
FLAG_COLOR = "#c00000"
# Colour-blind-safe categories for districts (Tableau 10).
DISTRICT_COLORS = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1b3a5c",
    "#8c564b",
    "#17becf",
    "#7f7f7f",
]


@dataclass(frozen=True)
class Point:
    """One value of a chart: its period (label and where it stands in time), what it is, and whether it is
    uncertain."""

    period: str
    at: str  # ISO date the point stands at on the time axis: its period's midpoint
    series: str  # "Utfall", "Män", "Kvinnor", "Årsmål", "KF:s årsmål", or a district
    value: float
    kind: str  # "outcome" | "target" | "city_target"
    flagged: bool = False
    text: str = ""  # the value as the page prints it ("9 000 st"); the number alone when empty

    @property
    def shown(self) -> str:
        return self.text or sv_number(self.value)


# --- the y scale: the council's own values ----------------------------------------------------------------


def placement(points: list[Point]) -> list[int]:
    """Per point: 0 on the chart's scale, 1 above it, -1 below it.

    The scale is the outcomes' (every outcome is on it, none is ever clipped); without outcomes, the
    council's targets', then the city's. A target is on it when it lies within FAR_FACTOR spans of the
    outcomes' range, the span being their spread or, when they spread less, half their size: outcomes of
    4,8–5,2 % keep targets between −3 and 13 on the scale; a city-wide 9 000 st goes to the edge.
    """
    reference = next((r for r in ([p.value for p in points if p.kind == k] for k in REFERENCE_KINDS) if r), [])
    if not reference:
        return [0] * len(points)
    lo, hi = min(reference), max(reference)
    span = max(hi - lo, max(abs(lo), abs(hi)) / 2) or 1.0
    low, high = lo - FAR_FACTOR * span, hi + FAR_FACTOR * span
    return [0 if p.kind == "outcome" or low <= p.value <= high else (1 if p.value > high else -1) for p in points]


def y_domain(points: list[Point], off: list[int]) -> list[float]:
    values = [p.value for p, o in zip(points, off, strict=True) if o == 0] or [0.0]
    lo, hi = min(values), max(values)
    if lo == hi:  # one value: a scale around it
        pad = abs(lo) / 10 or 1.0
        lo, hi = lo - pad, hi + pad
    return [lo, hi]


def edge_labels(kind: str, points: list[Point], off: list[int]) -> list[dict]:
    """One label per series and side for the targets off the scale, side by side in the band at the edge;
    in the districts chart one for every district's targets, so the labels fit."""
    groups: dict[tuple[str, int], list[Point]] = {}
    for p, o in zip(points, off, strict=True):
        if o:
            groups.setdefault((p.series if kind == "series" else "Årsmål", o), []).append(p)
    rows, x = [], {1: 0.0, -1: 0.0}
    for (name, side), group in groups.items():
        low, high = min(group, key=lambda p: p.value), max(group, key=lambda p: p.value)
        values = low.shown if low.value == high.value else _value_range(low, high)
        label = f"{name} {values} {'↑' if side == 1 else '↓'}"
        rows.append({"off": side, "label": label, "px": x[side], "color": _color(group[0])})
        x[side] += len(label) * LABEL_CHAR_PX + 12
    return rows


def _value_range(low: Point, high: Point) -> str:
    """ "5 100–9 000 st": the unit once when both values have the same."""
    unit = low.shown.removeprefix(sv_number(low.value))
    if unit and high.shown.endswith(unit):
        return f"{sv_number(low.value)}–{high.shown}"
    return f"{low.shown}–{high.shown}"


def _color(p: Point) -> str:
    return CITY_TARGET_COLOR if p.kind == "city_target" else TARGET_COLOR
