"""The offline report: a static site of the published warehouse, for people who would rather look than query.

Takes the warehouse (opened read-only), the raw folder (for source links) and an output folder; gives
plain HTML pages with inline SVG charts and one stylesheet that open from the file system with no
network. What one page shows is bounded by design, not by the corpus:

    index.html                                 districts × latest period: targets met, goal assessments
    stadsdelar/<district>.html                 each indicator's latest values and a compact trend
    stadsdelar/<district>/<indicator_key>.html one indicator in one district: full chart, every value
    indikatorer/<indicator_key>.html           one indicator in every district: one chart, latest values
    kvalitet.html                              flagged rows, quarantined rows, files not loaded and why

The queries are in sql/report/*.sql, the templates in pipeline/report/templates/, the charts in
pipeline/report/trend.py (their scales in charts.py) and the Swedish formats in formats.py. The site is
written into a new folder beside the output and swapped in by replacing one symlink, so a reader (and a
failed build) always finds a complete report.

A new report changes a few pages, and costs about those pages. The report's queries are run once into
temp tables, and each page gets a fingerprint of the rows it is planned from (sql/report/page_inputs.sql:
hashed in DuckDB, grouped by district, by indicator and by both) and of how it is drawn (code,
templates, the warehouse's name, where the raw folder is), kept in the site's `.pages.json`. A page
whose fingerprint the previous site has is hard-linked from it without reading its rows; only the
other pages' rows are read, planned and written. The overview is planned every time, from a few rows
per district.

The records, queries and page fingerprints are in pipeline/report/data.py, the planning of pages in
pipeline/report/pages.py; this module reuses, writes and publishes.
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from pipeline.report.data import (
    INDEX_PAGE,
    TEMPLATES,
    fingerprint,
    page_sources,
    read_site_data,
    slug,
    stage_queries,
    unit_slug,
)
from pipeline.report.formats import ASSESSMENTS, FLAG_MEANINGS, REPORT_TYPES, sv_number, warning_sv
from pipeline.report.pages import Page, plan_site, site_version
from pipeline.warehouse.load import connect_read_only

STALE_AFTER_S = 3600
# In each folder this module makes: which folder it is, so only those are ever removed (see _is_site_folder)
OWNER_FILE = ".report-folder"
OWNER_LINE = "written by indicators report as"
_BUILD_NAME = re.compile(r"-\d{8}T\d{6}-\d+-[a-z0-9_]{8}")  # after ".<out name>": time, pid, mkdtemp's part
PAGES_FILE = ".pages.json"  # in a site folder: each page's fingerprint and the charts it shows
STYLE_FILE = "style.css"  # every page's styles, one file at the site's root


@dataclass
class ReportFigures:
    out_dir: Path
    pages: int
    charts: int
    seconds: float
    pages_written: int = 0  # the other pages were unchanged: taken from the previous report
    charts_drawn: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of the site's build


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
    env.filters["warning_sv"] = warning_sv
    env.globals.update(ASSESSMENTS=ASSESSMENTS, REPORT_TYPES=REPORT_TYPES, FLAG_MEANINGS=FLAG_MEANINGS)
    return env


@dataclass
class SiteFigures:
    pages: int
    charts: int
    pages_written: int  # the others are hard links to the previous site's files
    charts_drawn: int  # on the pages written
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of build_site


def _previous_pages(previous_dir: Path | None) -> dict[str, dict]:
    """Page path -> {"inputs": fingerprint, "charts": how many it shows} of the previous site; empty when
    there is none or its list is unreadable (then every page is planned and written)."""
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
        if isinstance(entry, dict) and isinstance(entry.get("inputs"), str) and isinstance(entry.get("charts"), int)
    }


def _reuse(previous_dir: Path, site_dir: Path, page_path: str) -> bool:
    """Hard-link an unchanged page from the previous site; False when it is not there."""
    target = site_dir / page_path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(previous_dir / page_path, target)
    except OSError:
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


def _write(pages: list[Page], site_dir: Path, generated_from: str) -> None:
    env = _environment()
    common = {"generated_from": generated_from, "slug": slug, "unit_slug": unit_slug}
    for page in pages:
        path = site_dir / page.path
        path.parent.mkdir(parents=True, exist_ok=True)
        root = "../" * page.path.count("/")
        html = env.get_template(page.template).render(root=root, **common, **page.context)
        path.write_text(html, encoding="utf-8")
    shutil.copyfile(TEMPLATES / STYLE_FILE, site_dir / STYLE_FILE)


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
    only the other pages' rows are read, planned and drawn. `workers` is accepted for the command's
    --workers; the charts are written in this process, in well under a millisecond each."""
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
    pages = plan_site(data, raw_dir, link_base)
    inputs = {path: source.inputs for path, source in sources.items()}
    [index] = [page for page in pages if page.path == INDEX_PAGE]  # planned every time, from a few rows
    inputs[INDEX_PAGE] = fingerprint(drawn_with, INDEX_PAGE, repr(index.context))
    if _kept(previous_dir, before, site_dir, INDEX_PAGE, inputs[INDEX_PAGE]):
        kept.add(INDEX_PAGE)
    todo = [page for page in pages if page.path not in kept]
    steps.done("plan")
    _write(todo, site_dir, warehouse.name)
    shown = {page.path: page.charts for page in todo} | {path: before[path]["charts"] for path in kept}
    listed = {path: {"inputs": inputs[path], "charts": shown[path]} for path in inputs}
    (site_dir / PAGES_FILE).write_text(json.dumps(listed, indent=0, sort_keys=True), encoding="utf-8")
    steps.done("write")
    drawn = sum(page.charts for page in todo)
    return SiteFigures(len(inputs), sum(shown.values()), len(todo), drawn, steps.seconds)


# --- writing and swapping -------------------------------------------------------------------------------


def _new_building_dir(out_dir: Path) -> Path:
    """A fresh sibling folder for one build's pages: unique even for two builds in the same second, and
    recorded as this module's own by its OWNER_FILE."""
    prefix = f".{out_dir.name}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-"
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir.parent))
    path.chmod(0o755)  # mkdtemp makes it private; a report is for anyone who may read the warehouse
    (path / OWNER_FILE).write_text(_owner_record(path), encoding="utf-8")
    return path


def _owner_record(path: Path) -> str:
    """What OWNER_FILE says in a folder this module made: the folder's own name, so a copy of a site
    under another name (a user's backup) is not taken for one."""
    return f"{OWNER_LINE} {path.name}\n"


def publish_site(site_dir: Path, out_dir: Path) -> None:
    """Make out_dir point at site_dir with one atomic rename of a symlink; remove the site it replaced
    when this module wrote it.

    out_dir is a symlink to a sibling folder, so a reader sees the whole old report or the whole new one.
    """
    previous = out_dir.resolve() if out_dir.is_symlink() else None
    link = _new_link(out_dir, site_dir.name)
    os.replace(link, out_dir)
    if previous is not None and previous != site_dir.resolve() and _is_site_folder(previous, out_dir):
        shutil.rmtree(previous, ignore_errors=True)


def _new_link(out_dir: Path, target: str) -> Path:
    """A new symlink beside out_dir, under a name nothing has (never one that is there already)."""
    while True:
        link = out_dir.parent / f".{out_dir.name}.link-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            link.symlink_to(target)
            return link
        except FileExistsError:
            continue


def _is_site_folder(path: Path, out_dir: Path) -> bool:
    """A folder this module made for out_dir: a real folder beside it, named as _new_building_dir names
    them, holding the OWNER_FILE written there for that name (never whatever else a symlink may point
    at, nor a user's folder of a similar name)."""
    if path.parent != out_dir.parent.resolve() or not _BUILD_NAME.fullmatch(path.name.removeprefix(f".{out_dir.name}")):
        return False
    if path.is_symlink() or not path.is_dir():
        return False
    owner = path / OWNER_FILE
    try:
        return not owner.is_symlink() and owner.read_text(encoding="utf-8") == _owner_record(path)
    except (OSError, UnicodeDecodeError):
        return False


def remove_stale_builds(out_dir: Path, older_than_s: float = STALE_AFTER_S) -> None:
    """Folders of earlier builds that died before their swap: not linked, never read. Young ones may be
    another build's work in progress. Only folders this module made and recorded as its own go."""
    parent = out_dir.parent.resolve()
    current = out_dir.resolve() if out_dir.is_symlink() else None
    now = time.time()
    for path in parent.glob(f".{glob.escape(out_dir.name)}-*"):
        if path != current and _is_site_folder(path, out_dir) and now - path.lstat().st_mtime > older_than_s:
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
