"""The charts written as SVG (pipeline/report/trend.py), read back as SVG: the compact trend of a district's
page and the parts of the full chart the scale tests (tests/test_report_scale.py) do not cover."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pipeline.report.charts import DISTRICT_COLORS, OUTCOME_COLORS, Point
from pipeline.report.pages import COMPACT, FULL
from pipeline.report.trend import nice_ticks, series_colors, trend_svg

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\u00a0"


def _group(root, cls: str):
    return next(g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split())


def _circles(root, cls: str) -> list[tuple[float, float]]:
    return [(float(c.get("cx")), float(c.get("cy"))) for c in _group(root, cls).iter(f"{SVG}circle")]


# Hässelby-Vällingby, children in families on income support: 2013 and T1 2014 (sample 000), 2018 and
# T1 2019 (sample 002), as the report places them (each period's midpoint)
HV = (
    Point("2013", "2013-07-02", "Utfall", 5.77, "outcome", text=f"5,77{NBSP}%"),
    Point("Tertial 1 2014", "2014-03-01", "Utfall", 5.79, "outcome", text=f"5,79{NBSP}%"),
    Point("2018", "2018-07-02", "Utfall", 3.2, "outcome", text=f"3,2{NBSP}%"),
    Point("Tertial 1 2019", "2019-03-01", "Utfall", 3.3, "outcome", flagged=True, text=f"3,3{NBSP}%"),
)


def test_the_compact_trend_draws_the_outcomes_on_their_own_scale_without_axes():
    root = ET.fromstring(trend_svg(list(HV), "Utfall över tid", *COMPACT, axes=False))
    assert root.get("width") == str(COMPACT[0]) and root.find(f"{SVG}title").text == "Utfall över tid"
    points = _circles(root, "points_marks")
    assert len(points) == 4
    assert not [t for t in root.iter(f"{SVG}text")]  # no axes, no labels: the page prints the values
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert xs == sorted(xs)  # in time order
    # 5,79 % at the top, 3,2 % at the foot: the council's own values fill the height
    assert min(ys) == ys[1] and max(ys) == ys[2] and max(ys) - min(ys) > COMPACT[1] / 2
    # the flagged T1 2019 is ringed where its point is
    assert _circles(root, "flagged_marks") == [points[3]]
    # time is a time axis: 2013 → T1 2014 is 8 months, T1 2014 → 2018 more than four years
    assert (xs[2] - xs[1]) > 5 * (xs[1] - xs[0])


def test_a_change_of_a_tenth_is_not_drawn_as_a_fall_across_the_chart():
    flat = (
        Point("2022", "2022-07-02", "Utfall", 64.0, "outcome"),
        Point("Halvår 1 2023", "2023-04-01", "Utfall", 63.9, "outcome"),
    )
    root = ET.fromstring(trend_svg(list(flat), "t", *COMPACT, axes=False))
    (_, y1), (_, y2) = _circles(root, "points_marks")
    assert 0 <= y2 - y1 < 3  # 0,1 of 64 is a pixel or so, not the height of the chart


def test_the_full_chart_draws_men_and_women_dashed_and_both_targets():
    points = [
        *HV[:2],
        Point("2013", "2013-07-02", "Män", 5.0, "outcome"),
        Point("Tertial 1 2014", "2014-03-01", "Män", 5.5, "outcome"),
        Point("2013", "2013-07-02", "Kvinnor", 6.0, "outcome"),
        Point("Tertial 1 2014", "2014-03-01", "Kvinnor", 6.2, "outcome"),
        Point("Tertial 1 2014", "2014-03-01", "Årsmål", 5.5, "target"),
        Point("Tertial 1 2014", "2014-03-01", "KF:s årsmål", 4.0, "city_target"),
    ]
    root = ET.fromstring(trend_svg(points, "t", *FULL))
    lines = {p.get("stroke"): p.get("stroke-dasharray") for p in root.iter(f"{SVG}path") if p.get("class") == "line"}
    assert lines == {OUTCOME_COLORS["Utfall"]: None, OUTCOME_COLORS["Män"]: "4 2", OUTCOME_COLORS["Kvinnor"]: "2 2"}
    assert len(_circles(root, "points_marks")) == 6
    target = [p.get("aria-label") for p in _group(root, "target_marks").iter(f"{SVG}path")]
    city = [p.get("aria-label") for p in _group(root, "city_target_marks").iter(f"{SVG}path")]
    assert target == ["period: Tertial 1 2014; value: 5,5; series: Årsmål"]
    assert city == ["period: Tertial 1 2014; value: 4; series: KF:s årsmål"]


def test_each_district_has_its_colour_in_the_order_they_come():
    points = [Point("2018", "2018-07-02", d, 1.0, "outcome") for d in ("Farsta", "Kista", "Farsta", "Östermalm")]
    assert series_colors("districts", points) == {
        "Farsta": DISTRICT_COLORS[0],
        "Kista": DISTRICT_COLORS[1],
        "Östermalm": DISTRICT_COLORS[2],
    }


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (4.8, 5.5, [4.8, 5.0, 5.2, 5.4, 5.6]),
        (660.0, 1080.0, [600.0, 800.0, 1000.0, 1200.0]),
        (0.0, 1.0, [0, 0.25, 0.5, 0.75, 1.0]),
    ],
)
def test_value_ticks_are_round_and_cover_the_values(lo, hi, ticks):
    assert nice_ticks(lo, hi) == pytest.approx(ticks)
