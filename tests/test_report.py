"""The offline report: Swedish formats, what the pages say about known cells of the samples, and the swap
that keeps a complete report in place."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest

from pipeline.cli import main, run_build
from pipeline.report import site as report_module
from pipeline.report.data import quality_path, slug
from pipeline.report.formats import period_label, source_href, sv_number
from pipeline.report.pages import plan_site
from pipeline.report.site import OWNER_FILE, STALE_AFTER_S, build_report, remove_stale_builds

from .build_helpers import make_raw, query, sample_name, settings_for
from .conftest import RAW

NBSP = "\u00a0"
ANDEL_BARN = "andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (5.79, "%", "5,79 %"),
        (0.45, "%", "0,45 %"),
        (9000.0, "st", "9 000 st"),
        (1123.0, None, "1 123"),
        (-2.0, "%", "−2 %"),
        (1234567.5, "kr", "1 234 567,5 kr"),
        (0.0, "st", "0 st"),
        (None, "%", "–"),
    ],
)
def test_numbers_are_written_the_swedish_way(value, unit, text):
    assert sv_number(value, unit).replace(NBSP, " ") == text


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2019, 1, 1), date(2019, 4, 30), "Tertial 1 2019"),
        (date(2014, 1, 1), date(2014, 8, 31), "Tertial 2 2014"),
        (date(2014, 1, 1), date(2014, 6, 30), "Halvår 1 2014"),
        (date(2013, 1, 1), date(2013, 12, 31), "2013"),
        (date(2013, 3, 1), date(2013, 5, 31), "2013-03-01–2013-05-31"),
    ],
)
def test_periods_are_named_as_the_reports_print_them(start, end, label):
    assert period_label(start, end) == label


def test_source_links_point_at_the_pdf_page_relative_to_the_raw_folder(tmp_path):
    raw, pages = tmp_path / "raw", tmp_path / "warehouse" / "report" / "stadsdelar"
    assert source_href("000_x.pdf", 6, raw, pages) == "../../../raw/000_x.pdf#page=6"
    assert source_href("002_x.txt", None, raw, pages) == "../../../raw/002_x.txt"


@pytest.mark.parametrize(
    ("name", "page", "href"),
    [
        ("q?x.pdf", 4, "q%3Fx.pdf#page=4"),
        ("pct%41.txt", None, "pct%2541.txt"),
        ("a#b c.txt", None, "a%23b%20c.txt"),
        ("Årsta & co;v2.pdf", 1, "%C3%85rsta%20%26%20co%3Bv2.pdf#page=1"),
    ],
)
def test_source_links_percent_encode_file_names(tmp_path, name, page, href):
    raw, pages = tmp_path / "raw 2025?#%", tmp_path / "report" / "stadsdelar"
    link = source_href(name, page, raw, pages)
    assert link == "../../raw%202025%3F%23%25/" + href
    # what a browser does with it: the path part, unescaped, is the file beside the page
    path, _, fragment = link.partition("#")
    assert "?" not in path and (pages / unquote(path)).resolve() == (raw / name).resolve()
    assert fragment == (f"page={page}" if page else "")


def test_district_file_names_fold_swedish_letters():
    assert slug("Hässelby-Vällingby") == "hasselby-vallingby"
    assert slug("Enskede-Årsta-Vantör") == "enskede-arsta-vantor"


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory):
    """A warehouse of sample 004 alone (ten rows): for tests of how the report is written, not what it says."""
    base = tmp_path_factory.mktemp("small")
    warehouse = base / "wh" / "indicators.duckdb"
    ok, _, _ = run_build(settings_for(make_raw(base / "raw", "004"), warehouse))
    assert ok
    return warehouse


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(NBSP, " ")


def _card(page: str, indicator_key: str) -> str:
    start = page.index(f'data-indicator="{indicator_key}"')
    end = page.find('<div class="card"', start)
    return page[start : end if end > 0 else None]


def test_the_site_has_an_overview_a_page_per_district_and_per_indicator(site):
    out = site.out_dir
    assert (out / "index.html").is_file() and (out / "kvalitet.html").is_file()
    districts = sorted(p.name for p in (out / "stadsdelar").glob("*.html"))
    assert districts == ["hagersten-alvsjo.html", "hasselby-vallingby.html", "ostermalm.html", "rinkeby-kista.html"]
    assert (out / "indikatorer" / f"{ANDEL_BARN}.html").is_file()
    # one level down: each indicator's page of each district that reports it
    assert (out / "stadsdelar" / "hasselby-vallingby" / f"{ANDEL_BARN}.html").is_file()
    assert (out / "stadsdelar" / "ostermalm" / f"{ANDEL_BARN}.html").is_file()
    details = list((out / "stadsdelar").glob("*/*.html"))
    reports = list((out / "kvalitet").iterdir())  # each report with flagged or quarantined rows: its own page
    assert len(reports) == 4
    assert site.pages == 2 + len(districts) + len(list((out / "indikatorer").iterdir())) + len(details) + len(reports)


def test_the_site_needs_no_network(site):
    for page in site.out_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=|@import|url\(\s*['\"]?https?:", html), page
        assert not re.search(r"(src|href)=\"(https?:)?//", html), page
        # one stylesheet, the site's own, at its root
        assert re.findall(r"<link[^>]+>", html) == [
            f'<link rel="stylesheet" href="{"../" * (len(page.relative_to(site.out_dir).parts) - 1)}style.css">'
        ]
    css = (site.out_dir / "style.css").read_text(encoding="utf-8")
    assert "--flag: #c00000" in css and "url(" not in css and "@import" not in css


def test_overview_counts_targets_met_and_goal_assessments_of_the_latest_period(site):
    html = (site.out_dir / "index.html").read_text(encoding="utf-8")
    table = re.findall(r"<tr>\s*<td><a href=\"stadsdelar/.*?</tr>", html, re.S)
    rows = {_text(r).split(" ")[1]: _text(r) for r in table}
    hv = rows["Hässelby-Vällingby"]
    # T1 2019 (sample 002) is Hässelby-Vällingby's latest report; its goals: 46 met in full (README example)
    assert "Tertialrapport 1 2019" in hv and "Tertial 1 2019" in hv
    assert "46 helt 0 delvis 0 inte" in hv
    # flagged rows of both its reports, and it says so: 002 was typed from its body, so all its 117 rows
    assert "118 av 184 i alla 2 rapporter" in hv
    ostermalm = rows["Östermalm"]
    assert "Försörjningsstödsenheten" in ostermalm and "Verksamhetsberättelse 2013" in ostermalm
    assert "12 helt 0 delvis 0 inte" in ostermalm
    assert "inget utfall (plan)" in rows["Rinkeby-Kista"]


def test_a_district_page_shows_latest_values_and_a_trend_and_its_indicator_page_every_value(site):
    page = (site.out_dir / "stadsdelar" / "hasselby-vallingby.html").read_text(encoding="utf-8")
    card = _card(page, ANDEL_BARN)
    # the latest: sample 002, Tertial 1 2019, 3,3 % against 2,8 % (lower is better: not met), linked to its file
    assert re.search(r'href="[^"]*/raw/002_80d6a2513fda4bdc\.txt"[^>]*>3,3\xa0%</a>', card)
    # marked uncertain: 002 has no cover, its council, type and year were read from its body
    assert "Senaste utfall: 3,3 % ⚠&nbsp;osäker (Tertial 1 2019) · når årsmål: nej · KF:s: nej" in _text(card)
    points = card[card.index('class="points_marks"') : card.index('class="flagged_marks"')]
    assert points.count("<circle") == 4 and 'data-points="4"' in card  # 2013, T1 2014, 2018, T1 2019: the trend
    assert "5,79" not in card  # earlier values are one level down
    assert f'href="hasselby-vallingby/{ANDEL_BARN}.html#hasselby-vallingby"' in card
    # the goal it stood under in its latest report (sample 002, Tertial 1 2019)
    goal = page[: page.index(f'data-indicator="{ANDEL_BARN}"')]
    assert "I Stockholm är människor självförsörjande" in _text(goal[goal.rindex('<div class="goal">') :])
    # its page of the district: sample 000, page 6: Tertial 1 2014 outcome 5,79 %, Årsmål 5,5 %, KF:s årsmål 4,0 %
    detail = (site.out_dir / "stadsdelar" / "hasselby-vallingby" / f"{ANDEL_BARN}.html").read_text(encoding="utf-8")
    assert re.search(r'href="[^"]*/raw/000_3e9cf77e5c646f75\.pdf#page=6"[^>]*>5,79\xa0%</a>', detail)
    row_2014 = _text(re.search(r"<tr><td>Tertial 1 2014</td>.*?</tr>", detail, re.S).group(0))
    assert row_2014.split() == ["Tertial", "1", "2014", "5,79", "%", "5,5", "%", "4", "%", "nej", "/", "nej"]
    assert "Lägre värde är bättre" in detail
    assert 'aria-label="period: Tertial 1 2014; value: 5,79\xa0%; series: Utfall"' in detail


def test_unknown_direction_stays_unknown(site):
    page = (site.out_dir / "stadsdelar" / "hasselby-vallingby.html").read_text(encoding="utf-8")
    card = _text(_card(page, "antal-tillhandahallna-platser-for-feriejobb"))
    assert "når årsmål: okänt" in card
    assert " ja " not in card and " nej " not in card
    detail = site.out_dir / "stadsdelar" / "hasselby-vallingby" / "antal-tillhandahallna-platser-for-feriejobb.html"
    assert "Katalogen anger inte om högre eller lägre är bättre" in detail.read_text(encoding="utf-8")


def test_the_comment_printed_beside_an_indicator_is_shown_with_its_source(site):
    page = (site.out_dir / "stadsdelar" / "ostermalm.html").read_text(encoding="utf-8")
    card = _card(page, ANDEL_BARN)
    assert "Östermalm har en minskning skett från 48 till 43 barn i snitt" in card
    assert re.search(r'href="[^"]*/raw/004_05871d331dd0cb08\.pdf#page=4"', card)
    # 0,45 % against a target of 0,5 %, lower is better: met
    detail = (site.out_dir / "stadsdelar" / "ostermalm" / f"{ANDEL_BARN}.html").read_text(encoding="utf-8")
    assert "Östermalm har en minskning skett från 48 till 43 barn i snitt" in detail
    row = _text(re.search(r"<tr><td>2013</td>.*?</tr>", detail, re.S).group(0))
    assert row.split() == ["2013", "0,45", "%", "0,5", "%", "4,4", "%", "ja", "/", "ja"]


def test_flagged_values_are_marked_everywhere(site):
    page = (site.out_dir / "stadsdelar" / "hagersten-alvsjo.html").read_text(encoding="utf-8")
    # sample 001 page 14: "Antal barn per grupp" carries two units ("17,2 barn/avd.", shown in its normal spelling)
    link = re.search(r'<a class="num flagged" href="([^"]+)"[^>]*data-flag="mixed_units">17,2\xa0barn/avd</a>', page)
    assert link and link.group(1).endswith("raw/001_e413b7b4eec749f1.pdf#page=14")
    assert 'data-flag="mixed_units">17,2\xa0barn/avd</a> <abbr class="flag-mark"' in page
    quality = _text((site.out_dir / "kvalitet.html").read_text(encoding="utf-8"))
    assert "Osäkra rader (125)" in quality
    # each report's flagged rows on its own page, linked from the quality page with their count
    assert "001_e413b7b4eec749f1.pdf Hägersten-Älvsjö 2 0" in quality
    own = (site.out_dir / quality_path("001_e413b7b4eec749f1.pdf")).read_text(encoding="utf-8")
    assert own.count('<tr class="flagged-row" data-flag="mixed_units">') == 1 and "Osäkra rader (2)" in _text(own)
    assert re.search(r'href="[^"]*raw/001_e413b7b4eec749f1\.pdf#page=14"', own)
    # the build's warning, in Swedish on a Swedish page, beside the file it is about
    assert (
        "002_80d6a2513fda4bdc.txt parse tabellernas layout saknas i texten; 117 indikatorrader i 33 tabeller, "
        "13 placerade med säkerhet, 104 flaggade (placement_uncertain 104)" in quality
    )
    assert "table layout lost" not in quality


def test_a_new_report_replaces_the_old_one_whole(small_warehouse, tmp_path, monkeypatch):
    warehouse = small_warehouse
    out = tmp_path / "report"
    first = build_report(warehouse, out, RAW, workers=1)
    target = out.resolve()
    assert out.is_symlink() and (target / "index.html").is_file()

    def broken(*args, **kwargs):
        raise RuntimeError("planning failed")

    monkeypatch.setattr(report_module, "plan_site", broken)
    with pytest.raises(RuntimeError):
        build_report(warehouse, out, RAW, workers=1)
    assert out.resolve() == target and (out / "index.html").is_file()  # the previous report stays
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report", target.name])  # no half-built folder

    monkeypatch.undo()
    second = build_report(warehouse, out, RAW, workers=1)
    assert out.resolve() != target and not target.exists()  # the old site is gone once the new one is in
    assert second.pages == first.pages


def test_a_new_report_rewrites_only_what_it_changes_and_gives_the_report_a_fresh_build_gives(tmp_path):
    raw = make_raw(tmp_path / "raw", "004", "000")
    warehouse = tmp_path / "wh" / "indicators.duckdb"
    assert run_build(settings_for(raw, warehouse))[0]
    out = warehouse.parent / "report"
    first = build_report(warehouse, out, raw, workers=1)
    assert (first.pages_written, first.charts_drawn) == (first.pages, first.charts)
    make_raw(raw, "001")  # Hägersten-Älvsjö: a district of its own
    assert run_build(settings_for(raw, warehouse))[0]
    again = build_report(warehouse, out, raw, workers=1)
    # Östermalm's page is untouched by 001: linked from the previous report, its charts not drawn again
    assert 0 < again.pages_written < again.pages and 0 < again.charts_drawn < again.charts
    assert (out / "stadsdelar" / "ostermalm.html").stat().st_nlink == 1  # the previous site is gone
    fresh = build_report(warehouse, warehouse.parent / "fresh", raw, workers=1)
    assert (fresh.pages_written, fresh.charts_drawn) == (again.pages, again.charts)
    pages = sorted(p.relative_to(out.resolve()) for p in out.resolve().rglob("*.html"))
    assert pages == sorted(p.relative_to(fresh.out_dir.resolve()) for p in fresh.out_dir.resolve().rglob("*.html"))
    for page in pages:
        assert (out / page).read_bytes() == (fresh.out_dir / page).read_bytes(), page
    html = (out / "stadsdelar" / "hagersten-alvsjo.html").read_text(encoding="utf-8")
    assert "points_marks" in html and "Byggd från indicators.duckdb" in html
    assert re.search(r'<span class="big">3</span>rapporter inlästa', (out / "index.html").read_text(encoding="utf-8"))


def _site_files(out: Path) -> dict[Path, Path]:
    """Every file of a report's site (pages, `.pages.json`, `style.css`) by its path in the site; not the
    record that names the site's folder as the report's own."""
    site = out.resolve()
    return {p.relative_to(site): p for p in site.rglob("*") if p.is_file() and p.name != OWNER_FILE}


def _planned_paths(monkeypatch) -> list[str]:
    """Record the paths of the pages each build_report plans."""
    planned: list[str] = []

    def spy(*args, **kwargs):
        pages = plan_site(*args, **kwargs)
        planned.extend(page.path for page in pages)
        return pages

    monkeypatch.setattr(report_module, "plan_site", spy)
    return planned


def test_a_report_of_a_known_district_plans_only_its_pages_and_equals_a_fresh_build(tmp_path, monkeypatch):
    raw = make_raw(tmp_path / "raw", "004", "000")  # Östermalm 2013, Hässelby-Vällingby Tertial 1 2014
    warehouse = tmp_path / "wh" / "indicators.duckdb"
    assert run_build(settings_for(raw, warehouse))[0]
    out = warehouse.parent / "report"
    build_report(warehouse, out, raw, workers=1)
    # a page the next build links keeps its inode; one it writes gets a new one (the old files still
    # exist until the new site is complete, so their numbers are not reused)
    inodes = {path: f.stat().st_ino for path, f in _site_files(out).items()}
    make_raw(raw, "002")  # Hässelby-Vällingby Tertial 1 2019
    assert run_build(settings_for(raw, warehouse))[0]
    planned = _planned_paths(monkeypatch)
    again = build_report(warehouse, out, raw, workers=1)

    # planned and written: the overview, the quality page (002 has flagged rows), Hässelby-Vällingby's page,
    # and the page of every indicator 002 printed a row of (one with neither outcome nor target has none) and
    # its page of Hässelby-Vällingby; the others are the previous site's files
    keys = query(
        warehouse,
        "select distinct indicator_key from fact_indicator_value join dim_report using (report_key) "
        "where report_file = ?",
        sample_name("002"),
    )
    files = _site_files(out)
    expected = {"index.html", "kvalitet.html", "stadsdelar/hasselby-vallingby.html", quality_path(sample_name("002"))}
    expected |= {f"indikatorer/{key}.html" for (key,) in keys if Path(f"indikatorer/{key}.html") in files}
    details = {f"stadsdelar/hasselby-vallingby/{key}.html" for (key,) in keys}
    expected |= {path for path in details if Path(path) in files}
    assert len(expected) > 40
    written = {str(path) for path in files if path.suffix == ".html" and files[path].stat().st_ino != inodes.get(path)}
    assert set(planned) == written == expected and again.pages_written == len(expected)
    assert again.pages - len(expected) > 30  # Östermalm's pages and the indicators 002 does not report: kept
    for kept in ("stadsdelar/ostermalm.html", f"stadsdelar/ostermalm/{ANDEL_BARN}.html"):
        assert files[Path(kept)].stat().st_ino == inodes[Path(kept)]

    # sample 002: "Andel barn som lever i familjer som har ekonomiskt bistånd", Tertial 1 2019: 3,3 %
    page = (out / "stadsdelar" / "hasselby-vallingby" / f"{ANDEL_BARN}.html").read_text(encoding="utf-8")
    # marked uncertain: 002 has no cover, its council, type and year were read from its body
    found = re.search(r"<tr( class=\"row-flagged\")?>\s*<td>Tertial 1 2019</td>.*?</tr>", page, re.S)
    assert found.group(1) and 'data-flag="metadata_from_body"' in found.group(0)
    row_2019 = _text(found.group(0))
    assert row_2019.split()[:5] == ["Tertial", "1", "2019", "3,3", "%"]
    assert f"raw/{sample_name('002')}" in page

    fresh = build_report(warehouse, warehouse.parent / "fresh", raw, workers=1)
    assert (fresh.pages, fresh.charts) == (again.pages, again.charts)
    fresh_files = _site_files(fresh.out_dir)
    assert sorted(files) == sorted(fresh_files)
    for path, file in files.items():  # the pages, their list and their charts
        assert file.read_bytes() == fresh_files[path].read_bytes(), path


@pytest.mark.parametrize("damage", ["missing", "corrupt", "old format"])
def test_a_previous_site_without_a_readable_page_list_gives_a_full_build(small_warehouse, tmp_path, damage):
    out = tmp_path / "report"
    first = build_report(small_warehouse, out, RAW, workers=1)
    pages_file = out.resolve() / report_module.PAGES_FILE
    if damage == "missing":
        pages_file.unlink()
    elif damage == "corrupt":
        pages_file.write_bytes(pages_file.read_bytes()[:100])
    else:  # page -> digest, as sites were listed before their inputs were
        pages_file.write_text(json.dumps({path: "0" * 64 for path in json.loads(pages_file.read_text())}))
    again = build_report(small_warehouse, out, RAW, workers=1)
    assert (again.pages_written, again.pages, again.charts) == (first.pages, first.pages, first.charts)
    assert again.charts_drawn == first.charts
    fresh = build_report(small_warehouse, tmp_path / "fresh", RAW, workers=1)
    assert _site_files(out).keys() == _site_files(fresh.out_dir).keys()
    for path, file in _site_files(out).items():
        assert file.read_bytes() == (fresh.out_dir / path).read_bytes(), path


def test_the_cli_writes_the_report_and_fails_in_one_line(small_warehouse, tmp_path, capsys):
    warehouse = small_warehouse
    out = tmp_path / "r"
    assert main(["report", "--warehouse", str(warehouse), "--out", str(out), "--raw", str(RAW)]) == 0
    assert f"report: {out / 'index.html'}" in capsys.readouterr().out
    assert main(["report", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(out)]) == 1
    assert "no warehouse at" in capsys.readouterr().err
    # a folder the command did not write is never replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["report", "--warehouse", str(warehouse), "--out", str(tmp_path / "mine")]) == 1
    assert "is not a report written here" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_the_build_writes_the_report_and_a_failed_gate_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INDICATORS_REPORT", "1")
    raw = make_raw(tmp_path / "raw", "000", "004")
    warehouse = tmp_path / "wh" / "indicators.duckdb"
    ok, _, _ = run_build(settings_for(raw, warehouse))
    assert ok
    report = warehouse.parent / "report"
    published = report.resolve()
    assert "Hässelby-Vällingby" in (report / "index.html").read_text(encoding="utf-8")
    assert main(["build", "--raw", str(raw), "--warehouse", str(warehouse), "--workers", "1"]) == 0  # up to date
    assert f"report: {report / 'index.html'}" in capsys.readouterr().out.splitlines()

    # a report that cannot be written fails the run after the publish, and leaves the previous report
    def broken(*args, **kwargs):
        raise RuntimeError("planning failed")

    monkeypatch.setattr(report_module, "plan_site", broken)
    make_raw(raw, "001")  # a new report: an unchanged build would leave warehouse and report alone
    ok, summary, _ = run_build(settings_for(raw, warehouse))
    assert not ok and summary["reports_loaded"] == 3  # the warehouse with 001 was published all the same
    assert report.resolve() == published and (report / "index.html").is_file()
    monkeypatch.setattr(report_module, "plan_site", plan_site)

    (raw / sample_name("000")).write_bytes((raw / sample_name("000")).read_bytes()[:30_000])  # gate fails
    ok, _, _ = run_build(settings_for(raw, warehouse))
    assert not ok
    assert report.resolve() == published and (report / "index.html").is_file()
    assert sorted(p.name for p in warehouse.parent.glob(".report*")) == [published.name]


def test_report_links_resolve_to_files_in_the_raw_folder(site):
    page_dir = site.out_dir / "stadsdelar"
    html = (page_dir / "hasselby-vallingby.html").read_text(encoding="utf-8")
    targets = {h.split("#")[0] for h in re.findall(r'href="([^"]*raw/[^"]+)"', html)}
    assert {Path(t).name for t in targets} == {"000_3e9cf77e5c646f75.pdf", "002_80d6a2513fda4bdc.txt"}
    for href in targets:
        assert (page_dir / href).resolve() == (RAW / Path(href).name).resolve()
    # one level further down: an indicator's page of the district
    detail_dir = page_dir / "hasselby-vallingby"
    html = (detail_dir / f"{ANDEL_BARN}.html").read_text(encoding="utf-8")
    targets = {h.split("#")[0] for h in re.findall(r'href="([^"]*raw/[^"]+)"', html)}
    assert {Path(t).name for t in targets} == {"000_3e9cf77e5c646f75.pdf", "002_80d6a2513fda4bdc.txt"}
    for href in targets:
        assert (detail_dir / href).resolve() == (RAW / Path(href).name).resolve()


def _age(path: Path) -> None:
    os.utime(path, (time.time() - 2 * STALE_AFTER_S,) * 2, follow_symlinks=False)


def test_folders_left_by_killed_report_builds_are_removed_once_old(tmp_path):
    out = tmp_path / "report"
    old, young = report_module._new_building_dir(out), report_module._new_building_dir(out)
    assert (old / OWNER_FILE).read_text(encoding="utf-8") == f"written by indicators report as {old.name}\n"
    # a user's folders beside the report, old, with names like the report's own: none is ever removed
    backup = tmp_path / ".report-backup"  # a folder of one's own
    copy = tmp_path / ".report-20260101T000000-1-abcdefgh"  # a copy of a build folder, its record included
    renamed = tmp_path / ".report-20250101T000000-7-zzzzzzzz"  # a build folder renamed by hand
    shutil.copytree(old, copy)
    shutil.copytree(old, renamed)
    backup.mkdir()
    (backup / "notes.txt").write_text("keep")
    unrecorded = tmp_path / ".report-20260101T000000-2-abcdefgh"  # named like one, never recorded
    unrecorded.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / OWNER_FILE).write_text(f"written by indicators report as {old.name}\n")
    linked = tmp_path / ".report-20260101T000000-3-abcdefgh"  # a symlink to a folder of one's own
    linked.symlink_to(elsewhere)
    for path in (old, backup, copy, renamed, unrecorded, elsewhere, linked):
        _age(path)
    remove_stale_builds(out)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {p.name for p in (young, backup, copy, renamed, unrecorded, elsewhere, linked)}
    assert (backup / "notes.txt").read_text() == "keep" and (elsewhere / OWNER_FILE).exists()


def test_a_report_never_removes_a_users_folder_beside_it(small_warehouse, tmp_path):
    out = tmp_path / "outlink"
    backup = tmp_path / ".outlink-backup-2025"
    backup.mkdir()
    (backup / "index.html").write_text("my own copy")
    _age(backup)
    first = build_report(small_warehouse, out, RAW, workers=1)
    site = out.resolve()
    assert (site / OWNER_FILE).read_text(encoding="utf-8") == f"written by indicators report as {site.name}\n"
    # the user points the report at a folder of their own, named like a site; the next build replaces the
    # link, and leaves that folder alone
    mine = tmp_path / ".outlink-20250101T000000-1-abcdefgh"
    shutil.copytree(site, mine)
    _age(mine)
    out.unlink()
    out.symlink_to(mine.name)
    _age(site)
    second = build_report(small_warehouse, out, RAW, workers=1)
    assert second.pages == first.pages and out.resolve() != mine
    assert (backup / "index.html").read_text() == "my own copy" and (mine / "index.html").is_file()
    assert not site.exists()  # the site it wrote, unlinked a build ago and old enough, is gone
    assert sorted(p.name for p in tmp_path.glob(".outlink*")) == sorted([backup.name, mine.name, out.resolve().name])


def test_build_warnings_are_said_in_swedish():
    from pipeline.report.formats import warning_sv

    assert warning_sv("warning: a.txt: line 12 of page 3: comment with no indicator row above; left out", "a.txt") == (
        "sidan 3, rad 12: en kommentar utan indikatorrad ovanför; utelämnad"
    )
    assert warning_sv("warning: line 7: indicator table header with no rows under it") == (
        "rad 7: ett tabellhuvud utan rader under"
    )
    assert warning_sv("warning: something new") == "something new"  # unknown: as written, never dropped
