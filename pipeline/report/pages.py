"""Planning the offline report's pages: the overview's rows per district, each district's indicators
grouped by goal (latest values and a compact trend), each indicator's full history in one district, each
indicator across districts, the quality page; their charts as SVG (pipeline/report/trend.py)."""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from pipeline.common.code_version import CODE_VERSION
from pipeline.report.data import (
    DISTRICT_DIR,
    INDEX_PAGE,
    QUALITY_PAGE,
    TEMPLATES,
    Goal,
    IndicatorCard,
    Links,
    PeriodRow,
    Series,
    SiteData,
    build_series,
    detail_path,
    district_path,
    district_points,
    indicator_path,
    quality_path,
    series_legend,
    series_points,
    slug,
    unit_slug,
)
from pipeline.report.formats import flag_text, held_back_sv, period_label
from pipeline.report.trend import series_colors, trend_svg


def _units(data: SiteData) -> list[tuple[str, str | None]]:
    """Every district (and unit) with a loaded report, in name order."""
    seen = dict.fromkeys((r["district"], r["org_unit"]) for r in data.reports)
    return sorted(seen, key=lambda u: (u[0], u[1] or ""))


def _count_met(rows: list[PeriodRow], attr: str, target_key: str) -> dict[str, int]:
    with_target = [p for p in rows if p.cells[target_key] and p.cells["outcome"]]
    return {
        "met": sum(1 for p in with_target if getattr(p, attr) == "ja"),
        "not_met": sum(1 for p in with_target if getattr(p, attr) == "nej"),
        "unknown": sum(1 for p in with_target if getattr(p, attr).startswith("okänt")),
        "with_target": len(with_target),
    }


def _by_unit(items, unit_of) -> dict[tuple, list]:
    """Items grouped by district (and unit), in their order: one pass, not one per unit."""
    out: dict[tuple, list] = defaultdict(list)
    for item in items:
        out[unit_of(item)].append(item)
    return out


def overview_rows(
    data: SiteData, series_by_unit: dict[tuple, list[Series]], reports_by_unit: dict[tuple, list[dict]], links: Links
) -> list[dict]:
    """One row per district (and unit): its newest report, the newest period with outcomes and how many
    indicators met their targets then, the goal assessments of its newest assessed report, flagged rows.
    series_by_unit needs no more than the rows of that period (sql/report/overview_series.sql)."""
    out = []
    for district, org_unit in _units(data):
        reports = reports_by_unit[(district, org_unit)]
        unit_series = series_by_unit.get((district, org_unit), [])
        latest_period, period_rows = None, []
        for r in reports:  # newest first: the newest report whose own period has outcomes
            rows = [
                p
                for s in unit_series
                for p in s.periods
                if p.start == r["start_date"] and p.end == r["end_date"] and p.cells["outcome"]
            ]
            if rows:
                latest_period, period_rows = r, rows
                break
        assessed = next((r for r in reports if r["goals_met"] + r["goals_partly_met"] + r["goals_not_met"]), None)
        out.append(
            {
                "district": district,
                "org_unit": org_unit,
                "href": f"{DISTRICT_DIR}/{slug(district)}.html#{unit_slug(district, org_unit)}",
                "latest_report": reports[0],
                "latest_report_link": links.file(reports[0]["report_file"]),
                "period": period_label(latest_period["start_date"], latest_period["end_date"])
                if latest_period
                else None,
                "period_report": latest_period,
                "indicators": len(period_rows),
                "target": _count_met(period_rows, "target_met", "target"),
                "city_target": _count_met(period_rows, "city_target_met", "city_target"),
                "assessed": assessed,
                "assessed_link": links.file(assessed["report_file"]) if assessed else None,
                "rows_loaded": sum(r["rows_loaded"] for r in reports),
                "rows_flagged": sum(r["rows_flagged"] for r in reports),
                "rows_quarantined": sum(r["rows_quarantined"] for r in reports),
                "reports": len(reports),
            }
        )
    return out


@functools.cache
def site_version() -> str:
    """What every page and chart is drawn with: the code and the templates."""
    digest = hashlib.sha256(CODE_VERSION.encode())
    for path in sorted(TEMPLATES.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


COMPACT = (220, 48)  # a compact trend on a district's page: its outcomes, no axes
FULL = (640, 210)  # the chart of an indicator's page of one district
WIDE = (760, 260)  # one indicator in every district
# An indicator's page of one district draws its chart from this many periods: with fewer, the compact trend
# on the district's page and the table show all there is (and the site stays small: most series are short).
FULL_CHART_FROM = 3


def _title(s: Series) -> str:
    return f"{s.indicator}, {s.district}" + (f" ({s.org_unit})" if s.org_unit else "")


def compact_trend(s: Series) -> Markup:
    """The outcomes (total) over time, on their own scale, flagged ones ringed: the district page's trend."""
    points = [p for p in series_points(s) if p.kind == "outcome" and p.series == "Utfall"]
    return Markup(trend_svg(points, f"Utfall över tid: {_title(s)}", *COMPACT, axes=False))


def full_chart(s: Series) -> Markup | None:
    if len(s.periods) < FULL_CHART_FROM:
        return None
    return Markup(trend_svg(series_points(s), _title(s), *FULL))


def _card(s: Series, row: dict, links: Links, chart: Markup, href: str) -> IndicatorCard:
    comment = row.get("comment")
    comment_cell = links.file(row["comment_file"], row["comment_page"], row["comment_line"]) if comment else None
    earlier = comment and row.get("comment_file") != row.get("report_file")
    comment_report = row.get("comment_report") if earlier else None
    return IndicatorCard(s, chart, comment, comment_cell, comment_report, series_legend(s), href)


def goals_of_unit(unit_series: list[Series], rows: dict[tuple, dict], links: Links) -> list[Goal]:
    """Cards of one district's (unit's) indicators, grouped by the goal they stood under in their latest
    row: each card the latest values, a compact trend and a link to the indicator's page of the district."""
    goals: dict[tuple, Goal] = {}
    for s in sorted(unit_series, key=lambda s: s.indicator):
        row = rows.get((s.indicator_key, s.district, s.org_unit), {})
        goal_key = (row.get("goal_ref"), row.get("goal_text"))
        goal = goals.get(goal_key)
        if goal is None:
            goal = goals[goal_key] = Goal(
                row.get("goal_ref"),
                row.get("goal_text") or "Utan angivet mål",
                row.get("parent_goal_text"),
                row.get("assessment"),
            )
        href = f"{slug(s.district)}/{s.indicator_key}.html#{unit_slug(s.district, s.org_unit)}"
        goal.cards.append(_card(s, row, links, compact_trend(s), href))
    return sorted(goals.values(), key=lambda g: _goal_order(g.ref))


def _goal_order(ref: str | None) -> tuple:
    if ref is None:
        return ((1, 0, ""),)
    return tuple((0, int(p), "") if p.isdigit() else (0, 10**6, p) for p in ref.split("."))


@dataclass
class Page:
    path: str
    template: str
    context: dict
    charts: int = 0  # how many charts it shows


def plan_index(data: SiteData, links: Links) -> Page:
    series_by_unit = _by_unit(build_series(data.overview_series, links).values(), lambda s: (s.district, s.org_unit))
    reports_by_unit = _by_unit(data.reports, lambda r: (r["district"], r["org_unit"]))
    context = {
        "rows": overview_rows(data, series_by_unit, reports_by_unit, links),
        "districts": sorted({d for d, _ in _units(data)}),
        "rejected": [e for e in data.load_errors if not e["is_warning"] and not e["is_held_back"]],
        "held_back": _held_back(data.load_errors),
        "indicators": data.indicators,
        "summary": data.summary,
    }
    return Page(INDEX_PAGE, "overview.html", context)


def plan_districts(data: SiteData, series: dict[tuple, Series], links: Links) -> list[Page]:
    """The pages of data.districts: `series` holds every series of those districts."""
    rows_by_key = {(r["indicator_key"], r["district"], r["org_unit"]): r for r in data.rows}
    reports_by_unit = _by_unit(data.reports, lambda r: (r["district"], r["org_unit"]))
    series_by_unit = _by_unit(series.values(), lambda s: (s.district, s.org_unit))
    units_by_district = _by_unit(_units(data), lambda u: u[0])
    pages = []
    for district in data.districts:
        sections = []
        for _, org_unit in units_by_district[district]:
            unit_series = series_by_unit.get((district, org_unit), [])
            reports = reports_by_unit[(district, org_unit)]
            sections.append(
                {
                    "org_unit": org_unit,
                    "anchor": unit_slug(district, org_unit),
                    "goals": goals_of_unit(unit_series, rows_by_key, links),
                    "reports": [(r, links.file(r["report_file"])) for r in reports],
                    "indicators": len(unit_series),
                }
            )
        trends = sum(1 for s in series.values() if s.district == district and s.trend_count)
        context = {"district": district, "sections": sections}
        pages.append(Page(district_path(district), "district.html", context, trends))
    return pages


def plan_details(data: SiteData, raw_dir: Path, link_base: Path) -> list[Page]:
    """The indicators' pages of one district in data.details: each unit's chart in full, every value."""
    wanted = set(data.details)
    rows_by_key = {(r["indicator_key"], r["district"], r["org_unit"]): r for r in data.rows}
    by_page: dict[tuple, list[dict]] = defaultdict(list)
    for r in data.series_rows:
        if (r["district"], r["indicator_key"]) in wanted:
            by_page[(r["district"], r["indicator_key"])].append(r)
    pages, links = [], {}
    for district, key in data.details:
        if district not in links:
            links[district] = Links(raw_dir, link_base / DISTRICT_DIR / slug(district))
        group = sorted(build_series(by_page[(district, key)], links[district]).values(), key=lambda s: s.org_unit or "")
        cards = [
            _card(s, rows_by_key.get((key, district, s.org_unit), {}), links[district], full_chart(s), "")
            for s in group
        ]
        context = {"district": district, "indicator": group[0].indicator, "indicator_key": key, "cards": cards}
        context["better"] = group[0].better
        pages.append(Page(detail_path(district, key), "detail.html", context, sum(1 for c in cards if c.chart)))
    return pages


def plan_indicators(keys: list[str], series: dict[tuple, Series]) -> list[Page]:
    """The pages of `keys`: `series` holds every series of those indicators."""
    by_indicator: dict[str, list[Series]] = defaultdict(list)
    for s in series.values():
        by_indicator[s.indicator_key].append(s)
    pages = []
    for key in keys:
        group = sorted(by_indicator[key], key=lambda s: (s.district, s.org_unit or ""))
        points = district_points(group)
        title = f"{group[0].indicator}, alla stadsdelar"
        chart = Markup(trend_svg(points, title, *WIDE, kind="districts")) if points else None
        context = {
            "indicator": group[0].indicator,
            "indicator_key": key,
            "better": group[0].better,
            "series": group,
            "chart": chart,
            "legend": list(series_colors("districts", points).items()),
            "outcome_points": sum(1 for p in points if p.kind == "outcome"),
        }
        pages.append(Page(indicator_path(key), "indicator.html", context, 1 if chart else 0))
    return pages


def plan_quality(data: SiteData) -> Page:
    """Held-back reports, files not loaded, and per report how many rows were flagged or quarantined, each
    linked to the report's own quality page: bounded by the reports, not by their rows."""
    counts = [{**c, "href": quality_path(c["report_file"])} for c in data.quality_counts or []]
    context = {
        "counts": counts,
        "flagged_total": sum(c["flagged"] for c in counts),
        "quarantine_total": sum(c["quarantined"] for c in counts),
        "load_errors": [e for e in data.load_errors if not e["is_held_back"]],
        "held_back": _held_back(data.load_errors),
    }
    return Page(QUALITY_PAGE, "quality.html", context)


def plan_quality_reports(data: SiteData, links: Links) -> list[Page]:
    """One report's flagged rows, with what is uncertain and their source text, and its quarantined rows."""
    flagged, quarantine = (
        _by_unit(data.flagged, lambda r: r["report_file"]),
        _by_unit(data.quarantine, lambda r: r["report_file"]),
    )
    pages = []
    for report_file in data.quality_reports:
        context = {
            "report_file": report_file,
            "flagged": [
                {
                    **r,
                    "link": links.file(r["report_file"], r["source_page"], r["source_line"]),
                    "meaning": flag_text(r["quality_flag"]),
                }
                for r in flagged[report_file]
            ],
            "quarantine": [
                {**r, "link": links.file(r["report_file"], r["source_page"], r["source_line"])}
                for r in quarantine[report_file]
            ],
        }
        pages.append(Page(quality_path(report_file), "quality_report.html", context))
    return pages


def _held_back(load_errors: list[dict]) -> list[dict]:
    """Reports the quality gate held back, with the reason in Swedish."""
    return [{**e, "reason_sv": held_back_sv(e["reason"])} for e in load_errors if e["is_held_back"]]


def plan_site(data: SiteData, raw_dir: Path, link_base: Path) -> list[Page]:
    """The overview and the pages data holds the rows of."""
    top = Links(raw_dir, link_base)
    sub = Links(raw_dir, link_base / DISTRICT_DIR)  # both subfolders are one level down
    series = build_series(data.series_rows, sub)
    pages = [plan_index(data, top)]
    pages += plan_districts(data, series, sub)
    pages += plan_indicators(data.indicator_keys, series)
    pages += plan_details(data, raw_dir, link_base)
    if data.quality_counts is not None:
        pages.append(plan_quality(data))
    pages += plan_quality_reports(data, sub)
    return pages
