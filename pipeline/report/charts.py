"""Charts of the report: Vega-Lite specs rendered to SVG by vl-convert, with no network.

Two charts: one indicator in one district (outcome, men and women per period, against the council's
target and the city's target), and one indicator in every district. Each spec is compiled from
Vega-Lite to Vega once; a chart is that Vega spec with its data filled in, rendered to an SVG string
that the page inlines. Layers are named so the SVG's mark groups say what they draw (`points_marks`,
`flagged_marks`, `target_marks`, `city_target_marks`): the browser test counts them.
"""

from __future__ import annotations

import functools
import json
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import vl_convert

LABEL_CHAR_PX = 6.5  # about one character of a 10 px axis label
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
    """One value of a chart: its period (label and position), what it is, and whether it is uncertain."""

    period: str
    order: int
    series: str  # "Utfall", "Män", "Kvinnor", "Årsmål", "KF:s årsmål", or a district
    value: float
    kind: str  # "outcome" | "target" | "city_target"
    flagged: bool = False


# The x domain (every period of the series in time order) is set per chart in _render.
_X = {
    "field": "period",
    "type": "ordinal",
    "title": None,
    "axis": {"labelAngle": 0, "labelLimit": 90, "labelFontSize": 10},
}


_Y = {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False, "nice": True, "padding": 8}}


def _layer(name: str, kind: str, mark: dict, encoding: dict, extra_filter: str = "") -> dict:
    test = f"datum.kind === '{kind}'" + (f" && {extra_filter}" if extra_filter else "")
    return {"name": name, "transform": [{"filter": test}], "mark": mark, "encoding": encoding}


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
                {"x": _X, "y": _Y},
            ),
            _layer(
                "city_target",
                "city_target",
                {"type": "tick", "color": CITY_TARGET_COLOR, "thickness": 2, "size": 14},
                {"x": _X, "y": _Y},
            ),
            _layer(
                "lines",
                "outcome",
                {"type": "line", "strokeWidth": 2},
                {"x": _X, "y": _Y, "color": color, "strokeDash": dash},
            ),
            _layer(
                "points",
                "outcome",
                {"type": "point", "filled": True, "size": 36, "opacity": 1},
                {"x": _X, "y": _Y, "color": color},
            ),
            _layer(
                "flagged",
                "outcome",
                {"type": "point", "filled": False, "size": 180, "color": FLAG_COLOR, "strokeWidth": 2},
                {"x": _X, "y": _Y},
                "datum.flagged",
            ),
        ],
        "config": {"view": {"stroke": None}, "font": "sans-serif"},
    }


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
                {"x": _X, "y": _Y, "color": color},
            ),
            _layer(
                "lines",
                "outcome",
                {"type": "line", "strokeWidth": 2},
                {"x": _X, "y": _Y, "color": color},
            ),
            _layer(
                "points",
                "outcome",
                {"type": "point", "filled": True, "size": 40, "opacity": 1},
                {"x": _X, "y": _Y, "color": color},
            ),
            _layer(
                "flagged",
                "outcome",
                {"type": "point", "filled": False, "size": 180, "color": FLAG_COLOR, "strokeWidth": 2},
                {"x": _X, "y": _Y},
                "datum.flagged",
            ),
        ],
        "config": {"view": {"stroke": None}, "font": "sans-serif"},
    }


@functools.cache
def _compiled(kind: str, width: int, height: int) -> str:
    """The Vega spec (JSON text) of a chart kind: Vega-Lite compiles once, not once per chart."""
    spec = _series_spec(width, height) if kind == "series" else _districts_spec(width, height)
    return json.dumps(vl_convert.vegalite_to_vega(spec))


def _render(kind: str, points: list[Point], periods: list[str], width: int, height: int, title: str) -> str:
    vega = json.loads(_compiled(kind, width, height))
    for data in vega["data"]:
        if data.get("name") == DATA:
            data["values"] = [p.__dict__ for p in points]
    # The x axis lists every period of the series in time order, also those with only a target.
    for scale in vega.get("scales", []):
        if scale.get("name") == "x":
            scale["domain"] = periods
    if sum(len(p) for p in periods) * LABEL_CHAR_PX > width:  # labels would overlap: slant them
        for axis in vega.get("axes", []):
            if axis.get("scale") == "x" and axis.get("labels", True):
                axis.update(labelAngle=-35, labelAlign="right", labelBaseline="top")
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
    periods: tuple[str, ...]
    title: str

    def size(self) -> tuple[int, int]:
        return (440, 130) if self.kind == "series" else (640, 240)


def render(chart: Chart) -> str:
    width, height = chart.size()
    return _render(chart.kind, list(chart.points), list(chart.periods), width, height, chart.title)


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
