"""What the offline report's pages are made from: the records the templates read, the report's queries
(sql/report/*.sql) and their staged temp tables, series built from query rows, and each page's fingerprint
(PageSource) and rows (SiteData)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.common.paths import SQL_DIR
from pipeline.report.charts import Point
from pipeline.report.formats import flag_text, met_text, period_label, source_href, source_text, sv_number

REPORT_SQL_DIR = SQL_DIR / "report"
TEMPLATES = Path(__file__).parent / "templates"
DISTRICT_DIR = "stadsdelar"
INDICATOR_DIR = "indikatorer"
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

    @property
    def has_gender(self) -> bool:
        return any(p.cells["men"] or p.cells["women"] for p in self.periods)

    @property
    def latest(self) -> PeriodRow | None:
        with_outcome = [p for p in self.periods if p.cells["outcome"]]
        return with_outcome[-1] if with_outcome else None

    @property
    def point_count(self) -> int:
        """Outcome points the full chart draws (total, men, women): the browser test counts them."""
        return sum(1 for p in self.periods for key, _ in OUTCOME_SERIES if p.cells[key])

    @property
    def trend_count(self) -> int:
        """Outcome points the compact trend draws (total only)."""
        return sum(1 for p in self.periods if p.cells["outcome"])


@dataclass
class IndicatorCard:
    series: Series
    chart: str | None  # SVG: a compact trend on the district's page, in full on the indicator's
    comment: str | None
    comment_cell: Cell | None
    comment_report: str | None  # set when the comment is from an earlier report than the latest row
    legend: list[tuple[str, str]]
    href: str = ""  # the indicator's page of this district, from the page the card is on


@dataclass
class Goal:
    ref: str | None
    text: str
    parent_text: str | None
    assessment: str | None
    cards: list[IndicatorCard] = field(default_factory=list)


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


def _at(p: PeriodRow) -> str:
    """Where a period stands on the time axis: its midpoint (a year's value mid-year, a first tertial's at
    the start of March), so the gaps between points are the gaps between their periods."""
    return (p.start + (p.end - p.start) / 2).isoformat()


def series_points(s: Series) -> list[Point]:
    points = []
    for p in s.periods:
        for key, name in OUTCOME_SERIES:
            cell = p.cells[key]
            if cell is not None:
                points.append(Point(p.label, _at(p), name, p.values[key], "outcome", bool(cell.flag), cell.text))
        for key, name in (("target", "Årsmål"), ("city_target", "KF:s årsmål")):
            cell = p.cells[key]
            if cell is not None:
                points.append(Point(p.label, _at(p), name, p.values[key], key, bool(cell.flag), cell.text))
    return points


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


def district_points(series: list[Series]) -> list[Point]:
    """Every district's outcome (total) and target of one indicator, on one time axis."""
    points = []
    for s in series:
        name = s.district + (f" ({s.org_unit})" if s.org_unit else "")
        for p in s.periods:
            if p.cells["outcome"]:
                outcome = p.cells["outcome"]
                points.append(Point(p.label, _at(p), name, p.values["outcome"], "outcome", p.flagged, outcome.text))
            if p.cells["target"]:
                points.append(Point(p.label, _at(p), name, p.values["target"], "target", text=p.cells["target"].text))
    return points


# --- what the pages are made from ----------------------------------------------------------------------

# sql/report/<name>.sql, each run once per build into the temp table report_<name>: every page's
# fingerprint (sql/report/page_inputs.sql) and the rows of the pages to write are read from these
STAGED = ("series", "rows", "reports", "flagged", "quarantine", "load_errors", "quality_counts")
INDEX_PAGE, QUALITY_PAGE, QUALITY_DIR = "index.html", "kvalitet.html", "kvalitet"


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


def detail_path(district: str, indicator_key: str) -> str:
    """An indicator's page of one district: its full history, one level below the district's page."""
    return f"{DISTRICT_DIR}/{slug(district)}/{indicator_key}.html"


def quality_path(report_file: str) -> str:
    """A report's quality page: its name folded, and a digest of it so two names never share a page."""
    digest = hashlib.sha256(report_file.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{QUALITY_DIR}/{slug(Path(report_file).stem)[:60]}-{digest}.html"


DETAIL_SEP = chr(31)  # joins district and indicator key in the queries' $details


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True)
class PageSource:
    """A page planned from rows of one district, one indicator or the quality tables, and the fingerprint
    of those rows and of how they are drawn: the same fingerprint gives the same file."""

    kind: str  # "district", "indicator", "detail", "quality" or "quality_report"
    name: str | None  # the district, the indicator key or the report file
    inputs: str
    key: str | None = None  # a detail page's indicator key (name is its district)


def page_sources(con, drawn_with: str) -> dict[str, PageSource]:
    """Page path -> what it is made from, for every page but the overview; `drawn_with` is what every
    page shares (code, templates, the warehouse's name, where the raw folder is)."""
    paths = {
        "district": lambda name, _: district_path(name),
        "indicator": lambda name, _: indicator_path(name),
        "detail": detail_path,
        "quality": lambda *_: QUALITY_PAGE,
        "quality_report": lambda name, _: quality_path(name),
    }
    out = {}
    for kind, name, key, rows_hash in con.execute(read_report_sql("page_inputs")).fetchall():
        path = paths[kind](name, key)
        out[path] = PageSource(kind, name, fingerprint(drawn_with, path, rows_hash), key)
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
    details: list[tuple[str, str]]  # the indicators' pages of one district to write: (district, key)
    series_rows: list[dict]  # every series row of those districts, indicators and details
    rows: list[dict]  # the latest rows of those districts and details
    quality_counts: list[dict] | None = None  # per report: flagged and quarantined rows; None when the
    # quality page is not written
    quality_reports: list[str] = field(default_factory=list)  # the reports whose quality pages are written
    flagged: list[dict] = field(default_factory=list)  # their flagged rows
    quarantine: list[dict] = field(default_factory=list)  # their quarantined rows


def read_site_data(con, sources: list[PageSource]) -> SiteData:
    """From the staged tables: what the overview needs, and the rows of the pages of `sources` only."""
    districts = sorted(s.name for s in sources if s.kind == "district")
    keys = sorted(s.name for s in sources if s.kind == "indicator")
    details = sorted((s.name, s.key) for s in sources if s.kind == "detail")
    quality = any(s.kind == "quality" for s in sources)
    files = sorted(s.name for s in sources if s.kind == "quality_report")
    joined = [f"{d}{DETAIL_SEP}{k}" for d, k in details]
    params = {"districts": districts, "indicators": keys, "details": joined}
    return SiteData(
        reports=staged_dicts(con, "reports"),
        overview_series=query_dicts(con, "overview_series"),
        indicators=sorted(set(con.execute(read_report_sql("indicator_names")).fetchall())),
        load_errors=staged_dicts(con, "load_errors"),
        summary={r["metric"]: r["value"] for r in query_dicts(con, "build_summary")},
        districts=districts,
        indicator_keys=keys,
        details=details,
        series_rows=query_dicts(con, "page_series", params),
        rows=query_dicts(con, "page_rows", {"districts": districts, "details": joined}),
        quality_counts=staged_dicts(con, "quality_counts") if quality else None,
        quality_reports=files,
        flagged=query_dicts(con, "page_flagged", {"files": files}),
        quarantine=query_dicts(con, "page_quarantine", {"files": files}),
    )
