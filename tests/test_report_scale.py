"""The report's charts read true to scale, as drawn (the SVG, not the spec): the y axis is the council's own
values, a target far off that scale is named at the edge with its value, and time is a time axis."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

from pipeline.report.charts import Point, placement
from pipeline.report.formats import sv_number
from pipeline.report.pages import FULL, WIDE
from pipeline.report.trend import trend_svg

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"
ANDEL_BARN = "andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand"


def _xy(element) -> tuple[float, float]:
    """Where a mark stands: a circle's centre, a text's anchor, a path's translation."""
    if element.get("cx") is not None:
        return float(element.get("cx")), float(element.get("cy"))
    if element.get("x") is not None:
        return float(element.get("x")), float(element.get("y"))
    x, y = re.search(r"translate\(([-\d.e]+),([-\d.e]+)\)", element.get("transform")).groups()
    return float(x), float(y)


def _group(root, cls: str):
    return next(g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split())


def _marks(root, name: str) -> list:
    """The marks a layer drew (`off_scale`, `target`, ...)."""
    return [e for e in _group(root, f"{name}_marks") if e.tag in (f"{SVG}path", f"{SVG}circle")]


def _axis_labels(root, axis: str) -> list[tuple[tuple[float, float], str]]:
    """(position, text) of an axis's tick labels: axis "X" or "Y"."""
    group = next(g for g in root.iter(f"{SVG}g") if (g.get("aria-label") or "").startswith(f"{axis}-axis"))
    labels = _group(group, "role-axis-label")
    return [(_xy(t), t.text.replace(NBSP, " ")) for t in labels.iter(f"{SVG}text")]


def _points(root) -> dict[str, tuple[float, float]]:
    """The outcome points drawn, by what they are read aloud as."""
    return {p.get("aria-label").replace(NBSP, " "): _xy(p) for p in _group(root, "points_marks").iter(f"{SVG}circle")}


def _sv(text: str) -> float:
    return float(text.replace(" ", "").replace("\u2212", "-").replace(",", "."))


def render(points, title: str = "Antal, Hässelby-Vällingby", kind: str = "series") -> str:
    """A chart as the report draws it: one district's on the indicator's page of the district, every
    district's on the indicator's page."""
    return trend_svg(list(points), title, *(FULL if kind == "series" else WIDE), kind=kind)


def _series(outcomes: dict[str, float], city_target: float, target: float) -> tuple[Point, ...]:
    at = {"2013": "2013-07-02", "Tertial 1 2014": "2014-03-01", "2018": "2018-07-02"}
    points = [Point(period, at[period], "Utfall", value, "outcome") for period, value in outcomes.items()]
    for period in outcomes:
        points.append(Point(period, at[period], "KF:s årsmål", city_target, "city_target", text=f"9{NBSP}000{NBSP}st"))
        points.append(Point(period, at[period], "Årsmål", target, "target", text=f"5,5{NBSP}st"))
    return tuple(points)


def test_a_city_target_far_off_the_councils_scale_is_named_at_the_edge_and_flattens_nothing():
    outcomes = {"2013": 5.1, "Tertial 1 2014": 4.8, "2018": 5.3}
    root = ET.fromstring(render(_series(outcomes, 9000.0, 5.5)))
    ticks = [_sv(text) for _, text in _axis_labels(root, "Y")]
    assert len(ticks) >= 3 and 3.5 <= min(ticks) and max(ticks) <= 6.5  # the council's scale, its target 5,5 on it
    texts = [t.text.replace(NBSP, " ") for t in root.iter(f"{SVG}text")]
    assert "KF:s årsmål 9 000 st ↑" in texts
    assert len(_marks(root, "off_scale")) == 3  # one at the edge per period
    assert len(_marks(root, "target")) == 3  # the council's own: on the scale
    # the outcomes fill much of the chart's height (210 px) rather than a line at its foot
    ys = [y for _, y in _points(root).values()]
    assert all(0 < y < FULL[1] for y in ys) and max(ys) - min(ys) > 40


def test_targets_near_the_councils_values_stay_on_the_scale_and_outcomes_are_never_clipped():
    outcomes = {"2013": 5.1, "Tertial 1 2014": 4.8, "2018": 5.3}
    chart = _series(outcomes, 4.0, 5.5)
    assert placement(list(chart)) == [0] * len(chart)
    root = ET.fromstring(render(chart))
    ticks = [_sv(text) for _, text in _axis_labels(root, "Y")]
    assert min(ticks) <= 4.0 and max(ticks) >= 5.3
    assert not list(_group(root, "edge_labels_marks").iter(f"{SVG}text"))
    # an outcome far from the others is the scale: the target near the rest goes to the edge, below it
    far = [
        Point("2013", "2013-07-02", "Utfall", 900.0, "outcome"),
        Point("2018", "2018-07-02", "Utfall", 1000.0, "outcome"),
    ]
    chart = (*far, Point("2018", "2018-07-02", "Årsmål", 2.0, "target", text="2 st"))
    assert placement(list(chart)) == [0, 0, 0]  # 2 lies within three spans (500) of 900–1 000
    chart = (*far, Point("2018", "2018-07-02", "Årsmål", -900.0, "target", text="−900 st"))
    assert placement(list(chart)) == [0, 0, -1]
    root = ET.fromstring(render(chart, "t"))
    assert "Årsmål −900 st ↓" in [t.text for t in root.iter(f"{SVG}text")]
    assert all(0 < y < FULL[1] for _, y in _points(root).values())
    assert len(_marks(root, "off_scale")) == 1 and _xy(_marks(root, "off_scale")[0])[1] > max(
        y for _, y in _points(root).values()
    )  # below the outcomes, at the chart's foot


def test_periods_stand_on_a_time_axis_by_their_dates(site):
    """Hässelby-Vällingby's children in families on income support (samples 000 and 002): 2013, Tertial 1
    2014, 2018 and Tertial 1 2019, each at its period's midpoint, read aloud by the period's name, on the
    indicator's page of the district."""
    page = (site.out_dir / "stadsdelar" / "hasselby-vallingby" / f"{ANDEL_BARN}.html").read_text(encoding="utf-8")
    root = ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    points = {re.search(r"period: ([^;]+);", label).group(1): xy for label, xy in _points(root).items()}
    assert sorted(points) == ["2013", "2018", "Tertial 1 2014", "Tertial 1 2019"]
    assert "period: Tertial 1 2014; value: 5,79 %; series: Utfall" in _points(root)
    midpoints = {
        "2013": date(2013, 7, 2),
        "Tertial 1 2014": date(2014, 3, 1),
        "2018": date(2018, 7, 2),
        "Tertial 1 2019": date(2019, 3, 1),
    }
    order = sorted(points, key=midpoints.get)
    first, last = order[0], order[-1]
    px_per_day = (points[last][0] - points[first][0]) / (midpoints[last] - midpoints[first]).days
    for a, b in zip(order, order[1:], strict=False):
        gap = points[b][0] - points[a][0]
        assert abs(gap - (midpoints[b] - midpoints[a]).days * px_per_day) < 3, (a, b)
    # 2013 → Tertial 1 2014 is eight months, Tertial 1 2014 → 2018 four years and more
    assert (points["2018"][0] - points["Tertial 1 2014"][0]) > 5 * (points["Tertial 1 2014"][0] - points["2013"][0])
    # each year's label stands at its 1 January, left of the year's points
    years = {text: x for (x, _), text in _axis_labels(root, "X")}
    assert years["2013"] < points["2013"][0] < years["2014"] < points["Tertial 1 2014"][0]
    assert years["2018"] < points["2018"][0] < years["2019"] < points["Tertial 1 2019"][0]


def test_a_far_target_that_changed_is_named_by_its_range_in_one_unit():
    points = (
        Point("2013", "2013-07-02", "Utfall", 660.0, "outcome"),
        Point("2018", "2018-07-02", "Utfall", 1080.0, "outcome"),
        Point("2013", "2013-07-02", "KF:s årsmål", 5100.0, "city_target", text=f"5{NBSP}100{NBSP}st"),
        Point("2018", "2018-07-02", "KF:s årsmål", 9000.0, "city_target", text=f"9{NBSP}000{NBSP}st"),
    )
    root = ET.fromstring(render(points))
    labels = [t.text.replace(NBSP, " ") for t in _group(root, "edge_labels_marks").iter(f"{SVG}text")]
    assert labels == ["KF:s årsmål 5 100–9 000 st ↑"]
    assert max(_sv(text) for _, text in _axis_labels(root, "Y")) < 1500


def test_the_districts_chart_names_every_districts_far_targets_in_one_label():
    points = tuple(
        p
        for district, outcome, target in (("Farsta", 4.8, 900.0), ("Östermalm", 5.2, 1200.0), ("Kista", 5.0, 5.5))
        for p in (
            Point("2018", "2018-07-02", district, outcome, "outcome"),
            Point("2018", "2018-07-02", district, target, "target", text=sv_number(target, "st")),
        )
    )
    root = ET.fromstring(render(points, "Antal, alla stadsdelar", kind="districts"))
    labels = [t.text.replace(NBSP, " ") for t in _group(root, "edge_labels_marks").iter(f"{SVG}text")]
    assert labels == ["Årsmål 900–1 200 st ↑"]
    assert len(_marks(root, "off_scale")) == 2 and len(_marks(root, "target")) == 1  # Kista's 5,5: on the scale
    assert max(_sv(text) for _, text in _axis_labels(root, "Y")) <= 6
