"""The offline report: a static site of the published warehouse, for people who would rather look than query.

Takes the warehouse (opened read-only), the raw folder (for source links) and an output folder; gives
plain HTML pages with inline SVG charts that open from the file system with no network:

    index.html                       districts × latest period: targets met, goal assessments, flagged rows
    stadsdelar/<district>.html       one district's indicators grouped by goal, each with a chart
    indikatorer/<indicator_key>.html one indicator in every district over time
    kvalitet.html                    flagged rows, quarantined rows, files not loaded and why

The queries are in sql/report/*.sql, the templates in pipeline/report/templates/, the charts in
pipeline/report/charts.py and the Swedish formats in pipeline/report/formats.py. The site is written
into a new folder beside the output and swapped in by replacing one symlink, so a reader (and a failed
build) always finds a complete report.

A new report changes a few pages, and costs about those pages. The report's queries are run once into
temp tables, and each page gets a fingerprint of the rows it is planned from (sql/report/page_inputs.sql:
hashed in DuckDB, grouped by district and by indicator) and of how it is drawn (code, templates, the
warehouse's name, where the raw folder is), kept in the site's `.pages.json` with its charts' SVGs in
`.charts/`. A page whose fingerprint the previous site has is hard-linked from it without reading its
rows; only the other pages' rows are read, planned and written, and a page written again takes its
unchanged charts from the previous site's `.charts/`, so only new or changed charts are drawn. The
overview is planned every time, from a few rows per district.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jinja2

from pipeline.common.code_version import CODE_VERSION
from pipeline.common.paths import SQL_DIR
from pipeline.report.charts import Chart, Point, render_all, vega_versions
from pipeline.report.formats import (
    ASSESSMENTS,
    FLAG_MEANINGS,
    REPORT_TYPES,
    flag_text,
    met_text,
    period_label,
    source_href,
    source_text,
    sv_number,
)
from pipeline.warehouse.load import connect_read_only

REPORT_SQL_DIR = SQL_DIR / "report"
TEMPLATES = Path(__file__).parent / "templates"
DISTRICT_DIR = "stadsdelar"
INDICATOR_DIR = "indikatorer"
STALE_AFTER_S = 3600
PAGES_FILE = ".pages.json"  # in a site folder: each page's fingerprint and the charts it shows
CHARTS_DIR = ".charts"  # in a site folder: the SVG of each page's charts, one JSON file per page
# A period row's values: key -> (value column, prefix of its source columns) in sql/report/series.sql
CELL_COLUMNS = {
    "outcome": ("outcome", "outcome"),
    "men": ("outcome_men", "men"),
    "women": ("outcome_women", "women"),
    "target": ("target", "target"),
    "city_target": ("city_target", "city_target"),
}
OUTCOME_SERIES = (("outcome", "Utfall"), ("men", "Män"), ("women", "Kvinnor"))


# --- plain data the templates read -------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A number as the report shows it: Swedish format, a link to where it was printed, its quality flag."""

    text: str
    href: str | None = None
    where: str = ""
    flag: str | None = None

    @property
    def flag_text(self) -> str:
        return flag_text(self.flag)


@dataclass
class PeriodRow:
    label: str
    start: date
    end: date
    cells: dict[str, Cell | None]  # outcome, men, women, target, city_target
    values: dict[str, float | None]
    target_met: str
    city_target_met: str
    flagged: bool


@dataclass
class Series:
    """One indicator in one district (and unit): its periods in time order."""

    indicator_key: str
    indicator: str
    district: str
    org_unit: str | None
    unit: str | None
    better: str | None
    periods: list[PeriodRow] = field(default_factory=list)
    chart: str | None = None  # the digest of its chart (chart_digest), once planned

    @property
    def has_gender(self) -> bool:
        return any(p.cells["men"] or p.cells["women"] for p in self.periods)

    @property
    def latest(self) -> PeriodRow | None:
        with_outcome = [p for p in self.periods if p.cells["outcome"]]
        return with_outcome[-1] if with_outcome else None

    @property
    def point_count(self) -> int:
        """Outcome points the chart draws (total, men, women): the browser test counts them."""
        return sum(1 for p in self.periods for key, _ in OUTCOME_SERIES if p.cells[key])


@dataclass
class IndicatorCard:
    series: Series
    chart: str  # the digest of its chart
    comment: str | None
    comment_cell: Cell | None
    comment_report: str | None  # set when the comment is from an earlier report than the latest row
    legend: list[tuple[str, str]]


@dataclass
class Goal:
    ref: str | None
    text: str
    parent_text: str | None
    assessment: str | None
    cards: list[IndicatorCard] = field(default_factory=list)


@dataclass
class ReportFigures:
    out_dir: Path
    pages: int
    charts: int
    seconds: float
    pages_written: int = 0  # the other pages were unchanged: taken from the previous report
    charts_drawn: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of the site's build


# --- helpers -----------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """A file name from a district name: "Hässelby-Vällingby" -> "hasselby-vallingby"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "okand"


def unit_slug(district: str, org_unit: str | None) -> str:
    return slug(district) + (f"--{slug(org_unit)}" if org_unit else "")


def read_report_sql(name: str) -> str:
    return (REPORT_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _dicts(cursor) -> list[dict]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def query_dicts(con, name: str, params: dict | None = None) -> list[dict]:
    return _dicts(con.execute(read_report_sql(name), params or {}))


class Links:
    """Source links from pages in one folder of the site to the raw folder."""

    def __init__(self, raw_dir: Path, page_dir: Path):
        self.raw_dir, self.page_dir = raw_dir, page_dir
        self._hrefs: dict[tuple, str | None] = {}  # a page of a report is linked from many cells

    def href(self, report_file: str | None, page: int | None) -> str | None:
        key = (report_file, page)
        if key not in self._hrefs:
            self._hrefs[key] = source_href(report_file, page, self.raw_dir, self.page_dir)
        return self._hrefs[key]

    def cell(self, value, unit, report_file, page, line, flag) -> Cell | None:
        if value is None:
            return None
        return Cell(
            sv_number(value, unit), self.href(report_file, page), source_text(report_file, page, line), flag or None
        )

    def file(self, report_file: str, page: int | None = None, line: int | None = None) -> Cell:
        where = source_text(report_file, page, line)
        return Cell(where, self.href(report_file, page), where)


# --- from query rows to series -------------------------------------------------------------------------


def build_series(rows: list[dict], links: Links) -> dict[tuple, Series]:
    """Series keyed by (indicator_key, district, org_unit), periods in time order."""
    out: dict[tuple, Series] = {}
    for r in rows:
        key = (r["indicator_key"], r["district"], r["org_unit"])
        s = out.get(key)
        if s is None:
            s = out[key] = Series(
                r["indicator_key"], r["indicator"], r["district"], r["org_unit"], r["display_unit"], r["better"]
            )
        unit = r["display_unit"]
        cells = {
            key: links.cell(r[column], unit, r[f"{src}_file"], r[f"{src}_page"], r[f"{src}_line"], r[f"{src}_flag"])
            for key, (column, src) in CELL_COLUMNS.items()
        }
        has_target = r["target"] is not None and r["outcome"] is not None
        has_city = r["city_target"] is not None and r["outcome"] is not None
        s.periods.append(
            PeriodRow(
                label=period_label(r["ref_start"], r["ref_end"]),
                start=r["ref_start"],
                end=r["ref_end"],
                cells=cells,
                values={key: r[column] for key, (column, _) in CELL_COLUMNS.items()},
                target_met=met_text(r["target_met"], r["better"]) if has_target else "",
                city_target_met=met_text(r["city_target_met"], r["better"]) if has_city else "",
                flagged=any(c is not None and c.flag for c in cells.values()),
            )
        )
    for s in out.values():
        s.periods.sort(key=lambda p: (p.end, p.start))
    return out


def series_points(s: Series) -> tuple[list[Point], list[str]]:
    periods = [p.label for p in s.periods]
    points = []
    for i, p in enumerate(s.periods):
        for key, name in OUTCOME_SERIES:
            cell = p.cells[key]
            if cell is not None:
                points.append(Point(p.label, i, name, p.values[key], "outcome", bool(cell.flag)))
        for key, name in (("target", "Årsmål"), ("city_target", "KF:s årsmål")):
            if p.cells[key] is not None:
                points.append(Point(p.label, i, name, p.values[key], key, bool(p.cells[key].flag)))
    return points, periods


def series_legend(s: Series) -> list[tuple[str, str]]:
    """The chart's key (CSS class, label), only for what the chart draws."""
    drawn = {name for p in s.periods for key, name in OUTCOME_SERIES if p.cells[key]}
    legend = [(f"key-{key}", name) for key, name in OUTCOME_SERIES if name in drawn]
    if any(p.cells["target"] for p in s.periods):
        legend.append(("key-target", "Årsmål (nämnden)"))
    if any(p.cells["city_target"] for p in s.periods):
        legend.append(("key-city", "KF:s årsmål"))
    if any(p.cells["outcome"] and p.cells["outcome"].flag for p in s.periods):
        legend.append(("key-flag", "osäker avläsning"))
    return legend


def district_points(series: list[Series]) -> tuple[list[Point], list[str]]:
    """Every district's outcome (total) and target of one indicator, on one time axis."""
    spans = sorted({(p.end, p.start, p.label) for s in series for p in s.periods})
    order = {label: i for i, (_, _, label) in enumerate(spans)}
    points = []
    for s in series:
        name = s.district + (f" ({s.org_unit})" if s.org_unit else "")
        for p in s.periods:
            if p.cells["outcome"]:
                points.append(Point(p.label, order[p.label], name, p.values["outcome"], "outcome", p.flagged))
            if p.cells["target"]:
                points.append(Point(p.label, order[p.label], name, p.values["target"], "target"))
    return points, [label for _, _, label in spans]


# --- pages ---------------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sv"] = sv_number
    env.globals.update(ASSESSMENTS=ASSESSMENTS, REPORT_TYPES=REPORT_TYPES, FLAG_MEANINGS=FLAG_MEANINGS)
    return env


# --- what the pages are made from ----------------------------------------------------------------------

# sql/report/<name>.sql, each run once per build into the temp table report_<name>: every page's
# fingerprint (sql/report/page_inputs.sql) and the rows of the pages to write are read from these
STAGED = ("series", "rows", "reports", "flagged", "quarantine", "load_errors")
INDEX_PAGE, QUALITY_PAGE = "index.html", "kvalitet.html"


def stage_queries(con) -> None:
    for name in STAGED:
        con.execute(f"create temp table report_{name} as\n{read_report_sql(name)}")


def staged_dicts(con, name: str) -> list[dict]:
    """A staged table's rows in the order its query gave them (DuckDB keeps insertion order)."""
    return _dicts(con.execute(f"select * from report_{name}"))


def district_path(district: str) -> str:
    return f"{DISTRICT_DIR}/{slug(district)}.html"


def indicator_path(indicator_key: str) -> str:
    return f"{INDICATOR_DIR}/{indicator_key}.html"


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True)
class PageSource:
    """A page planned from rows of one district, one indicator or the quality tables, and the fingerprint
    of those rows and of how they are drawn: the same fingerprint gives the same file."""

    kind: str  # "district", "indicator" or "quality"
    name: str | None  # the district or the indicator key
    inputs: str


def page_sources(con, drawn_with: str) -> dict[str, PageSource]:
    """Page path -> what it is made from, for every page but the overview; `drawn_with` is what every
    page shares (code, templates, the warehouse's name, where the raw folder is)."""
    paths = {"district": district_path, "indicator": indicator_path, "quality": lambda _: QUALITY_PAGE}
    out = {}
    for kind, name, rows_hash in con.execute(read_report_sql("page_inputs")).fetchall():
        path = paths[kind](name)
        out[path] = PageSource(kind, name, fingerprint(drawn_with, path, rows_hash))
    return out


@dataclass
class SiteData:
    """What the overview and the pages to write are planned from."""

    reports: list[dict]  # every report
    overview_series: list[dict]  # the rows the overview counts (sql/report/overview_series.sql)
    indicators: list[tuple[str, str]]  # every indicator with a series: (name, key)
    load_errors: list[dict]
    summary: dict[str, int]
    districts: list[str]  # the district pages to write
    indicator_keys: list[str]  # the indicator pages to write
    series_rows: list[dict]  # every series row of those districts and of those indicators
    rows: list[dict]  # the latest rows of those districts
    flagged: list[dict] | None = None  # None when the quality page is not written
    quarantine: list[dict] | None = None


def read_site_data(con, sources: list[PageSource]) -> SiteData:
    """From the staged tables: what the overview needs, and the rows of the pages of `sources` only."""
    districts = sorted(s.name for s in sources if s.kind == "district")
    keys = sorted(s.name for s in sources if s.kind == "indicator")
    quality = any(s.kind == "quality" for s in sources)
    params = {"districts": districts, "indicators": keys}
    return SiteData(
        reports=staged_dicts(con, "reports"),
        overview_series=query_dicts(con, "overview_series"),
        indicators=sorted(set(con.execute(read_report_sql("indicator_names")).fetchall())),
        load_errors=staged_dicts(con, "load_errors"),
        summary={r["metric"]: r["value"] for r in query_dicts(con, "build_summary")},
        districts=districts,
        indicator_keys=keys,
        series_rows=query_dicts(con, "page_series", params),
        rows=query_dicts(con, "page_rows", {"districts": districts}),
        flagged=staged_dicts(con, "flagged") if quality else None,
        quarantine=staged_dicts(con, "quarantine") if quality else None,
    )


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
    points, periods = series_points(s)
    title = f"{s.indicator}, {s.district}" + (f" ({s.org_unit})" if s.org_unit else "")
    return add_chart(charts, Chart("series", tuple(points), tuple(periods), title))


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
        "rejected": [e for e in data.load_errors if not e["is_warning"]],
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
        points, periods = district_points(group)
        chart = None
        if len(group) == 1:  # one district: its chart from the district page says it all
            chart = series_chart(group[0], charts)
            points = [p for p in series_points(group[0])[0] if p.kind == "outcome"]
        elif points:
            chart = add_chart(
                charts, Chart("districts", tuple(points), tuple(periods), f"{group[0].indicator}, alla stadsdelar")
            )
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
    context = {"flagged": flagged, "quarantine": quarantine, "load_errors": data.load_errors}
    return Page(QUALITY_PAGE, "quality.html", context)


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


@dataclass
class SiteFigures:
    pages: int
    charts: int
    pages_written: int  # the others are hard links to the previous site's files
    charts_drawn: int  # the others are the previous site's SVGs
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of build_site


def _charts_file(site_dir: Path, page_path: str) -> Path:
    return site_dir / CHARTS_DIR / (page_path.replace("/", "__") + ".json")


def _previous_pages(previous_dir: Path | None) -> dict[str, dict]:
    """Page path -> {"inputs": fingerprint, "charts": [digest, ...]} of the previous site; empty when there
    is none or its list is unreadable (then every page is planned and written)."""
    if previous_dir is None:
        return {}
    try:
        pages = json.loads((previous_dir / PAGES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(pages, dict):
        return {}
    return {
        path: entry
        for path, entry in pages.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("inputs"), str)
        and isinstance(entry.get("charts"), list)
        and all(isinstance(digest, str) for digest in entry["charts"])
    }


def _previous_svgs(previous_dir: Path | None, page_path: str) -> dict[str, str]:
    """The SVGs the previous site's version of a page showed, by chart digest."""
    if previous_dir is None:
        return {}
    try:
        svgs = json.loads(_charts_file(previous_dir, page_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return svgs if isinstance(svgs, dict) else {}


def _reuse(previous_dir: Path, site_dir: Path, page_path: str) -> bool:
    """Hard-link an unchanged page and its charts from the previous site; False when they are not there."""
    links = ((previous_dir / page_path, site_dir / page_path),)
    links += ((_charts_file(previous_dir, page_path), _charts_file(site_dir, page_path)),)
    try:
        for source, target in links:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
    except OSError:
        for _, target in links:
            target.unlink(missing_ok=True)
        return False
    return True


class _Steps:
    """Seconds spent in each step, for the figures."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self._since, 3)
        self._since = now


def _kept(previous_dir: Path | None, before: dict[str, dict], site_dir: Path, path: str, inputs: str) -> bool:
    """A page the previous site has from the same inputs, hard-linked from it."""
    entry = before.get(path)
    return (
        previous_dir is not None
        and entry is not None
        and entry["inputs"] == inputs
        and _reuse(previous_dir, site_dir, path)
    )


def _draw(pages: list[Page], charts: dict[str, Chart], previous_dir: Path | None, workers: int) -> tuple[dict, int]:
    """Every chart the pages show by digest: the previous site's SVG where its version of the page had it,
    else drawn. Gives the SVGs and how many were drawn."""
    svgs: dict[str, str] = {}
    for page in pages:
        known = _previous_svgs(previous_dir, page.path) if page.charts else {}
        svgs.update({d: known[d] for d in page.charts if d in known})
    missing = list(dict.fromkeys(d for page in pages for d in page.charts if d not in svgs))
    svgs.update(zip(missing, render_all([charts[d] for d in missing], workers), strict=True))
    return svgs, len(missing)


def _write(pages: list[Page], svgs: dict[str, str], site_dir: Path, generated_from: str) -> None:
    env = _environment()
    common = {"generated_from": generated_from, "versions": vega_versions(), "slug": slug, "unit_slug": unit_slug}
    for page in pages:
        path = site_dir / page.path
        path.parent.mkdir(parents=True, exist_ok=True)
        root = "../" * page.path.count("/")
        page_svgs = {d: svgs[d] for d in page.charts}
        html = env.get_template(page.template).render(root=root, svgs=page_svgs, **common, **page.context)
        path.write_text(html, encoding="utf-8")
        charts_file = _charts_file(site_dir, page.path)
        charts_file.parent.mkdir(exist_ok=True)
        charts_file.write_text(json.dumps(page_svgs), encoding="utf-8")


def build_site(
    warehouse: Path,
    site_dir: Path,
    raw_dir: Path,
    link_base: Path,
    workers: int = 1,
    previous_dir: Path | None = None,
) -> SiteFigures:
    """Write every page into site_dir; links to the raw folder are relative to link_base (where the site is
    read from). A page whose inputs the previous site (previous_dir) had is hard-linked from it unread:
    only the other pages' rows are read and planned, and only their new charts drawn."""
    steps = _Steps()
    drawn_with = f"{site_version()}|{warehouse.name}|{os.path.relpath(raw_dir, link_base)}"
    before = _previous_pages(previous_dir)
    con = connect_read_only(warehouse)
    try:
        stage_queries(con)
        sources = page_sources(con, drawn_with)
        steps.done("fingerprints")
        kept = {p for p, s in sources.items() if _kept(previous_dir, before, site_dir, p, s.inputs)}
        steps.done("links")
        data = read_site_data(con, [s for p, s in sources.items() if p not in kept])
    finally:
        con.close()
    pages, charts = plan_site(data, raw_dir, link_base)
    inputs = {path: source.inputs for path, source in sources.items()}
    [index] = [page for page in pages if page.path == INDEX_PAGE]  # planned every time, from a few rows
    inputs[INDEX_PAGE] = fingerprint(drawn_with, INDEX_PAGE, repr(index.context))
    if _kept(previous_dir, before, site_dir, INDEX_PAGE, inputs[INDEX_PAGE]):
        kept.add(INDEX_PAGE)
    todo = [page for page in pages if page.path not in kept]
    steps.done("plan")
    svgs, drawn = _draw(todo, charts, previous_dir, workers)
    steps.done("charts")
    _write(todo, svgs, site_dir, warehouse.name)
    shown = {page.path: page.charts for page in todo} | {path: before[path]["charts"] for path in kept}
    listed = {path: {"inputs": inputs[path], "charts": shown[path]} for path in inputs}
    (site_dir / PAGES_FILE).write_text(json.dumps(listed, indent=0, sort_keys=True), encoding="utf-8")
    steps.done("write")
    all_charts = {d for page_charts in shown.values() for d in page_charts}
    return SiteFigures(len(inputs), len(all_charts), len(todo), drawn, steps.seconds)


# --- writing and swapping -------------------------------------------------------------------------------


def _new_building_dir(out_dir: Path) -> Path:
    """A fresh sibling folder for one build's pages: unique even for two builds in the same second."""
    prefix = f".{out_dir.name}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-"
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir.parent))
    path.chmod(0o755)  # mkdtemp makes it private; a report is for anyone who may read the warehouse
    return path


def publish_site(site_dir: Path, out_dir: Path) -> None:
    """Make out_dir point at site_dir with one atomic rename of a symlink; remove the site it replaced.

    out_dir is a symlink to a sibling folder, so a reader sees the whole old report or the whole new one.
    """
    previous = out_dir.resolve() if out_dir.is_symlink() else None
    link = out_dir.parent / f".{out_dir.name}.link-{os.getpid()}"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(site_dir.name)
    os.replace(link, out_dir)
    if previous is not None and previous != site_dir.resolve() and _is_site_folder(previous, out_dir):
        shutil.rmtree(previous, ignore_errors=True)


def _is_site_folder(path: Path, out_dir: Path) -> bool:
    """A folder this module wrote for out_dir (never whatever else a symlink may point at)."""
    return path.parent == out_dir.parent.resolve() and path.name.startswith(f".{out_dir.name}-")


def remove_stale_builds(out_dir: Path, older_than_s: float = STALE_AFTER_S) -> None:
    """Folders of earlier builds that died before their swap: not linked, never read. Young ones may be
    another build's work in progress."""
    current = out_dir.resolve() if out_dir.is_symlink() else None
    now = time.time()
    for path in out_dir.parent.glob(f".{out_dir.name}-*"):
        if path.is_dir() and path.resolve() != current and now - path.stat().st_mtime > older_than_s:
            shutil.rmtree(path, ignore_errors=True)


def report_wanted() -> bool:
    """The build writes the report unless INDICATORS_REPORT=0 (read when the build runs)."""
    return os.environ.get("INDICATORS_REPORT", "1").strip() not in ("0", "false", "no")


def default_report_dir(warehouse: Path) -> Path:
    """$INDICATORS_REPORT_DIR, else report/ beside the warehouse."""
    configured = os.environ.get("INDICATORS_REPORT_DIR")
    return Path(configured) if configured else Path(warehouse).parent / "report"


def build_report(warehouse: Path, out_dir: Path, raw_dir: Path, workers: int | None = None) -> ReportFigures:
    """Write the report of `warehouse` to `out_dir` (a symlink to the newest complete site)."""
    started = time.perf_counter()
    warehouse, out_dir, raw_dir = Path(warehouse).resolve(), Path(out_dir).absolute(), Path(raw_dir).absolute()
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `indicators build` first")
    if out_dir.exists() and not out_dir.is_symlink():
        # never replace what this command did not write (a report here is a symlink to its folder)
        raise FileExistsError(f"{out_dir} exists and is not a report written here: remove it or choose another --out")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(out_dir)
    previous = out_dir.resolve() if out_dir.is_symlink() else None
    if previous is not None and not (_is_site_folder(previous, out_dir) and previous.is_dir()):
        previous = None  # only a site this module wrote is reused
    site_dir = _new_building_dir(out_dir)
    try:
        site = build_site(warehouse, site_dir, raw_dir, out_dir, workers or os.cpu_count() or 1, previous)
        publish_site(site_dir, out_dir)
    except BaseException:
        shutil.rmtree(site_dir, ignore_errors=True)
        raise
    seconds = time.perf_counter() - started
    return ReportFigures(out_dir, site.pages, site.charts, seconds, site.pages_written, site.charts_drawn, site.steps)
