"""Charts of the report: Vega-Lite specs rendered to SVG by vl-convert, with no network.

Two charts: one indicator in one district (outcome, men and women per period, against the council's
target and the city's target), and one indicator in every district. Each spec is compiled from
Vega-Lite to Vega once; a chart is that Vega spec with its data filled in, rendered to an SVG string
that the page inlines. Layers are named so the SVG's mark groups say what they draw (`points_marks`,
`flagged_marks`, `target_marks`, `city_target_marks`, and for targets off the scale `off_scale_marks` and
`edge_labels_marks`): the tests count and measure them.

Both charts are true to scale: x is time (each point at its period's midpoint, a date), y the council's
own values (placement: targets far off that scale stand at the chart's edge, named with their value).
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import vl_convert

from pipeline.report.formats import sv_number

LABEL_CHAR_PX = 6.5  # about one character of a 10 px label
YEAR_LABEL_PX = 40  # a year's label on the time axis and the room beside it
# A target further from the outcomes' range than this many of their spans is off the chart's scale
# (placement): drawn at the edge, in a band this high, and labelled with its value.
FAR_FACTOR = 3
EDGE_PX = 30  # a label's line, then a row of triangles per series (two at most, so they stay apart)
REFERENCE_KINDS = ("outcome", "target", "city_target")  # what sets the scale: the first kind there is
# Worker processes pay once the charts would take about this long in this process: starting them costs
# some 1.5 s (a fork server that imports the build's main module, V8 in each worker), then two draw in
# half the time. Measured: 134 small charts 1.9 s here, 2.3 s with two; 400 small ones 4.8 / 4.1 s.
PARALLEL_FROM_S = 3.0
DATA = "values"  # the one named data source of every chart
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


# Time is a time axis (UTC dates, so no time zone moves a point): a year's ticks stand at 1 January with
# the year's label to the right of it, over the year it names. Its domain, in _render, is whole years.
_X = {
    "field": "at",
    "type": "temporal",
    "title": None,
    "scale": {"type": "utc"},
    "axis": {"format": "%Y", "labelAlign": "left", "labelFontSize": 10, "labelFlush": False},
}
# The y domain, in _render, is what y_domain keeps on the chart's scale.
_Y = {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False, "nice": True, "padding": 8}}
# What a value is read aloud as: the period as the report names it, the value as the page prints it.
_DESCRIPTION = {"field": "description", "type": "nominal"}
# Marks of values off the chart's scale stand at pixel positions beside the scale (set in _compiled).
_PIXEL_FIELDS = {"off_scale_marks": ("y",), "edge_labels_marks": ("x", "y")}


def _layer(name: str, kind: str, mark: dict, encoding: dict, extra_filter: str = "") -> dict:
    test = f"datum.kind === '{kind}'" + (f" && {extra_filter}" if extra_filter else "")
    return {"name": name, "transform": [{"filter": test}], "mark": mark, "encoding": encoding}


def _on_scale(encoding: dict) -> dict:
    return {"x": _X, "y": _Y, "description": _DESCRIPTION, **encoding}


def _edge_layers() -> list[dict]:
    """Targets off the chart's scale: a triangle at the chart's edge over each of their periods, and one
    label per series naming the values ("KF:s årsmål 9 000 st ↑")."""
    fixed = {"type": "nominal", "scale": None}
    return [
        {
            "name": "off_scale",
            "transform": [{"filter": "datum.off !== 0 && datum.kind !== 'edge_label'"}],
            "mark": {"type": "point", "filled": True, "size": 40, "opacity": 1},
            "encoding": {
                "x": _X,
                "y": _Y,
                "color": {"field": "color", **fixed},
                "shape": {"field": "shape", **fixed},
                "description": _DESCRIPTION,
            },
        },
        {
            "name": "edge_labels",
            "transform": [{"filter": "datum.kind === 'edge_label'"}],
            "mark": {"type": "text", "align": "left", "baseline": "middle", "fontSize": 10, "invalid": None},
            "encoding": {
                "x": _X,
                "y": _Y,
                "text": {"field": "label"},
                "color": {"field": "color", **fixed},
                "description": {"field": "label"},
            },
        },
    ]


def _series_spec(width: int, height: int) -> dict:
    color = {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": list(OUTCOME_COLORS), "range": list(OUTCOME_COLORS.values())},
        "legend": None,
    }
    dash = {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": ["Utfall", "Män", "Kvinnor"], "range": [[1, 0], [4, 2], [2, 2]]},
        "legend": None,
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": height,
        "data": {"name": DATA},
        "encoding": {"x": _X, "y": _Y},
        "layer": [
            _layer(
                "target",
                "target",
                {"type": "tick", "color": TARGET_COLOR, "thickness": 2, "size": 22},
                _on_scale({}),
                "datum.off === 0",
            ),
            _layer(
                "city_target",
                "city_target",
                {"type": "tick", "color": CITY_TARGET_COLOR, "thickness": 2, "size": 14},
                _on_scale({}),
                "datum.off === 0",
            ),
            _layer(
                "lines",
                "outcome",
                {"type": "line", "strokeWidth": 2, "aria": False},
                {"x": _X, "y": _Y, "color": color, "strokeDash": dash},
            ),
            _layer(
                "points",
                "outcome",
                {"type": "point", "filled": True, "size": 36, "opacity": 1},
                _on_scale({"color": color}),
            ),
            *_common_layers(),
        ],
        "config": {"view": {"stroke": None}, "font": "sans-serif"},
    }


def _common_layers() -> list[dict]:
    """What every chart draws over its series: a ring round each flagged value, then the far targets at
    the edge."""
    flagged = _layer(
        "flagged",
        "outcome",
        {"type": "point", "filled": False, "size": 180, "color": FLAG_COLOR, "strokeWidth": 2},
        _on_scale({}),
        "datum.flagged",
    )
    return [flagged, *_edge_layers()]


def _districts_spec(width: int, height: int) -> dict:
    color = {
        "field": "series",
        "type": "nominal",
        "scale": {"range": DISTRICT_COLORS},
        "legend": {"title": None, "orient": "bottom", "columns": 3, "labelLimit": 220},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": height,
        "data": {"name": DATA},
        "encoding": {"x": _X, "y": _Y},
        "layer": [
            _layer(
                "target",
                "target",
                {"type": "tick", "thickness": 2, "size": 22, "opacity": 0.8},
                _on_scale({"color": color}),
                "datum.off === 0",
            ),
            _layer(
                "lines",
                "outcome",
                {"type": "line", "strokeWidth": 2, "aria": False},
                {"x": _X, "y": _Y, "color": color},
            ),
            _layer(
                "points",
                "outcome",
                {"type": "point", "filled": True, "size": 40, "opacity": 1},
                _on_scale({"color": color}),
            ),
            *_common_layers(),
        ],
        "config": {"view": {"stroke": None}, "font": "sans-serif"},
    }


@functools.cache
def _compiled(kind: str, width: int, height: int) -> str:
    """The Vega spec (JSON text) of a chart kind: Vega-Lite compiles once, not once per chart."""
    spec = _series_spec(width, height) if kind == "series" else _districts_spec(width, height)
    vega = vl_convert.vegalite_to_vega(spec)
    for mark in vega["marks"]:  # off the scale: at the pixels the rows give (px, py), not on a scale
        for channel in _PIXEL_FIELDS.get(mark.get("name"), ()):
            mark["encode"]["update"][channel] = {"field": f"p{channel}"}
    return json.dumps(vega)


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


def _edge_rows(kind: str, points: list[Point], off: list[int], height: int) -> list[dict]:
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
        y = 7 if side == 1 else height - 7
        color = _color(group[0])
        rows.append({"kind": "edge_label", "off": side, "label": label, "px": x[side], "py": y, "color": color})
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


def _rows(kind: str, points: list[Point], height: int) -> tuple[list[dict], list[int]]:
    off = placement(points)
    rows, lanes = [], {}
    for p, o in zip(points, off, strict=True):
        row = {
            **p.__dict__,
            "description": f"period: {p.period}; value: {p.shown}; series: {p.series}",
            "off": o,
        }
        if o:  # a triangle at the edge, pointing to where the value lies
            lane = 7 * min(1, lanes.setdefault((o, p.series), sum(1 for side, _ in lanes if side == o)))
            row.update(py=EDGE_PX - 5 - lane if o == 1 else height - EDGE_PX + 5 + lane, color=_color(p))
            row["shape"] = "triangle-up" if o == 1 else "triangle-down"
        rows.append(row)
    return rows + _edge_rows(kind, points, off, height), off


# --- the x scale: time ----------------------------------------------------------------------------------------


def _utc_ms(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000)


def x_domain(points: list[Point]) -> tuple[list[int], int]:
    """Whole years, from 1 January of the first to the end of the last (in ms, UTC), and how many years."""
    years = [int(p.at[:4]) for p in points] or [2000]
    first, last = min(years), max(years)
    return [_utc_ms(first), _utc_ms(last + 1) - 1], last - first + 1


def _render(kind: str, points: list[Point], width: int, height: int, title: str) -> str:
    vega = json.loads(_compiled(kind, width, height))
    rows, off = _rows(kind, points, height)
    for data in vega["data"]:
        if data.get("name") == DATA:
            data["values"] = rows
    x_dom, years = x_domain(points)
    step = max(1, math.ceil(years * YEAR_LABEL_PX / width))  # a tick every `step` years: labels keep apart
    top = EDGE_PX if 1 in off else 0
    bottom = height - (EDGE_PX if -1 in off else 0)
    for scale in vega.get("scales", []):
        if scale.get("name") == "x":
            scale["domain"] = x_dom
        elif scale.get("name") == "y":
            scale["domain"] = y_domain(points, off)
            scale["range"] = [bottom, top]
    for axis in vega.get("axes", []):
        if axis.get("scale") == "x":
            axis["tickCount"] = {"interval": "year", "step": step}
    vega["description"] = title
    svg = vl_convert.vega_to_svg(vega, format_locale="sv-SE", allowed_base_urls=[])
    return _accessible(svg, title)


def _accessible(svg: str, title: str) -> str:
    """An inline SVG with a role and a title a screen reader reads."""
    from html import escape

    head, sep, rest = svg.partition(">")
    return f'{head} role="img" aria-label="{escape(title)}"{sep}<title>{escape(title)}</title>{rest}'


@dataclass(frozen=True)
class Chart:
    """A chart to draw: "series" (one indicator in one district: outcome, men and women per period
    against both targets) or "districts" (one indicator in every district, one line each)."""

    kind: str
    points: tuple[Point, ...]
    title: str

    def size(self) -> tuple[int, int]:
        return (440, 130) if self.kind == "series" else (640, 240)


def render(chart: Chart) -> str:
    width, height = chart.size()
    return _render(chart.kind, list(chart.points), width, height, chart.title)


def estimated_s(chart: Chart) -> float:
    """What drawing a chart takes in one process: ~12 ms, and ~0.1 ms a point (measured: a series chart
    of 18 points 14 ms, 14 districts over 16 periods 41 ms, 56 districts over 16 periods 74 ms)."""
    return 0.012 + 0.0001 * len(chart.points)


def render_all(charts: list[Chart], workers: int = 1) -> list[str]:
    """Every chart's SVG, in order. Rendering is CPU-bound in one V8 per process: with more than one
    worker the charts are drawn in worker processes (started without forking this one, which may
    run threads)."""
    if workers <= 1 or sum(estimated_s(c) for c in charts) < PARALLEL_FROM_S:
        return [render(c) for c in charts]
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(render, charts, chunksize=max(1, len(charts) // (workers * 8))))


def vega_versions() -> str:
    return f"Vega {vl_convert.get_vega_version()}, Vega-Lite {vl_convert.get_vegalite_versions()[-1]}"
