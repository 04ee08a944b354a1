"""Planning the offline report's pages: the overview's rows per district, each district's indicators
grouped by goal, each indicator across districts, the quality page, and the charts they show by digest."""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.code_version import CODE_VERSION
from pipeline.report.charts import Chart, vega_versions
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
    district_path,
    district_points,
    indicator_path,
    series_legend,
    series_points,
    slug,
    unit_slug,
)
from pipeline.report.formats import flag_text, held_back_sv, period_label


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
    """What every page and chart is drawn with: the code, the templates, Vega's versions."""
    digest = hashlib.sha256(f"{CODE_VERSION}|{vega_versions()}".encode())
    for path in sorted(TEMPLATES.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def chart_digest(chart: Chart) -> str:
    """A chart's identity: the same digest draws the same SVG."""
    return hashlib.sha256(f"{site_version()}|{chart!r}".encode()).hexdigest()[:32]


def add_chart(charts: dict[str, Chart], chart: Chart) -> str:
    digest = chart_digest(chart)
    charts.setdefault(digest, chart)
    return digest


def series_chart(s: Series, charts: dict[str, Chart]) -> str:
    title = f"{s.indicator}, {s.district}" + (f" ({s.org_unit})" if s.org_unit else "")
    return add_chart(charts, Chart("series", tuple(series_points(s)), title))


def goals_of_unit(
    unit_series: list[Series], rows: dict[tuple, dict], links: Links, charts: dict[str, Chart]
) -> list[Goal]:
    """Cards of one district's (unit's) indicators, grouped by the goal they stood under in their latest
    row. Each card's chart is added to `charts` (by digest) and drawn later, all at once."""
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
        s.chart = series_chart(s, charts)
        comment = row.get("comment")
        comment_cell = links.file(row["comment_file"], row["comment_page"], row["comment_line"]) if comment else None
        comment_report = (
            row.get("comment_report") if comment and row.get("comment_file") != row.get("report_file") else None
        )
        goal.cards.append(IndicatorCard(s, s.chart, comment, comment_cell, comment_report, series_legend(s)))
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
    charts: list[str] = field(default_factory=list)  # digests of the charts it shows


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


def plan_districts(data: SiteData, series: dict[tuple, Series], links: Links, charts: dict[str, Chart]) -> list[Page]:
    """The pages of data.districts: `series` holds every series of those districts."""
    rows_by_key = {(r["indicator_key"], r["district"], r["org_unit"]): r for r in data.rows}
    reports_by_unit = _by_unit(data.reports, lambda r: (r["district"], r["org_unit"]))
    series_by_unit = _by_unit(series.values(), lambda s: (s.district, s.org_unit))
    units_by_district = _by_unit(_units(data), lambda u: u[0])
    pages = []
    for district in data.districts:
        sections, page_charts = [], []
        for _, org_unit in units_by_district[district]:
            unit_series = series_by_unit.get((district, org_unit), [])
            reports = reports_by_unit[(district, org_unit)]
            sections.append(
                {
                    "org_unit": org_unit,
                    "anchor": unit_slug(district, org_unit),
                    "goals": goals_of_unit(unit_series, rows_by_key, links, charts),
                    "reports": [(r, links.file(r["report_file"])) for r in reports],
                    "indicators": len(unit_series),
                }
            )
            page_charts += [s.chart for s in unit_series if s.chart]
        pages.append(
            Page(district_path(district), "district.html", {"district": district, "sections": sections}, page_charts)
        )
    return pages


def plan_indicators(keys: list[str], series: dict[tuple, Series], charts: dict[str, Chart]) -> list[Page]:
    """The pages of `keys`: `series` holds every series of those indicators."""
    by_indicator: dict[str, list[Series]] = defaultdict(list)
    for s in series.values():
        by_indicator[s.indicator_key].append(s)
    pages = []
    for key in keys:
        group = sorted(by_indicator[key], key=lambda s: (s.district, s.org_unit or ""))
        points = district_points(group)
        chart = None
        if len(group) == 1:  # one district: its chart from the district page says it all
            chart = series_chart(group[0], charts)
            points = [p for p in series_points(group[0]) if p.kind == "outcome"]
        elif points:
            chart = add_chart(charts, Chart("districts", tuple(points), f"{group[0].indicator}, alla stadsdelar"))
        context = {
            "indicator": group[0].indicator,
            "indicator_key": key,
            "better": group[0].better,
            "series": group,
            "chart": chart,
            "outcome_points": sum(1 for p in points if p.kind == "outcome"),
        }
        pages.append(Page(indicator_path(key), "indicator.html", context, [chart] if chart else []))
    return pages


def plan_quality(data: SiteData, links: Links) -> Page:
    flagged = [
        {
            **r,
            "link": links.file(r["report_file"], r["source_page"], r["source_line"]),
            "meaning": flag_text(r["quality_flag"]),
        }
        for r in data.flagged
    ]
    quarantine = [
        {**r, "link": links.file(r["report_file"], r["source_page"], r["source_line"])} for r in data.quarantine
    ]
    context = {
        "flagged": flagged,
        "quarantine": quarantine,
        "load_errors": [e for e in data.load_errors if not e["is_held_back"]],
        "held_back": _held_back(data.load_errors),
    }
    return Page(QUALITY_PAGE, "quality.html", context)


def _held_back(load_errors: list[dict]) -> list[dict]:
    """Reports the quality gate held back, with the reason in Swedish."""
    return [{**e, "reason_sv": held_back_sv(e["reason"])} for e in load_errors if e["is_held_back"]]


def plan_site(data: SiteData, raw_dir: Path, link_base: Path) -> tuple[list[Page], dict[str, Chart]]:
    """The overview and the pages data holds the rows of, and every chart they show by digest (pages
    refer to charts by digest)."""
    top = Links(raw_dir, link_base)
    sub = Links(raw_dir, link_base / DISTRICT_DIR)  # both subfolders are one level down
    series = build_series(data.series_rows, sub)
    charts: dict[str, Chart] = {}
    pages = [plan_index(data, top)]
    pages += plan_districts(data, series, sub, charts)
    pages += plan_indicators(data.indicator_keys, series, charts)
    if data.flagged is not None:
        pages.append(plan_quality(data, top))
    return pages, charts
