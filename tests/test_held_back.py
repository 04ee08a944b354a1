"""One bad report never holds back the night: a report whose own rows fail a blocking check is held back,
its published version kept, and every other report publishes."""

from __future__ import annotations

import contextlib
import io
import shutil

import pytest

from pipeline.cli import HELD_BACK_EXIT, main, run_build
from pipeline.definitions import build_definitions
from pipeline.report.formats import held_back_sv
from pipeline.sources.discover import sha256_of

from .build_helpers import make_raw, query, sample_name, settings_for, write_t1_report

SAMPLES = ("000", "001", "002", "003", "004")
FOREIGN = "bromma_t1_2015.txt"  # a unit outside the known set on every row
WRONG_YEAR = "skarholmen_t1_2016.txt"  # its manifest row says 2012, its Period cells 2016
MANIFEST = "file,district,report_type,year,tertial,org_unit\n{name},Skärholmen,tertialrapport_1,{year},1,\n"
WELFARE_2014 = "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd"


def write_units_report(raw, unit: str, rows: int = 24, odd: int | None = None, name: str = FOREIGN, district="Bromma"):
    """A tertial-1 2015 report of `rows` rows in `unit`; with `odd`, that many of them in 'foo' instead."""
    lines = []
    for i in range(1, rows + 1):
        u = "foo" if odd is not None and i <= odd else unit
        cells = "\t".join([f"{i},5 {u}"] + [f"{i} {u}"] * 4)
        lines.append(f" Indikator nummer {i} om verksamheten\t{cells}\tTertial 1 2015")
    return write_t1_report(raw / name, district, 2015, lines)


def write_wrong_year_report(raw, manifest_year: int):
    lines = [
        f" Andel nöjda brukare nummer {i}\t{50 + i},5 %\t{40 + i} %\t{50 + i} %\t{50 + i} %\t{50 + i} %\tTertial 1 2016"
        for i in range(1, 11)
    ]
    write_t1_report(raw / WRONG_YEAR, "Skärholmen", 2016, lines)
    (raw / "manifest.csv").write_text(MANIFEST.format(name=WRONG_YEAR, year=manifest_year), encoding="utf-8")


def cli_build(raw, wh) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"])
    return code, out.getvalue()


def gate_errors(wh) -> dict[str, str]:
    return dict(query(wh, "select file, reason from load_errors where stage = 'gate'"))


def summary_of(wh) -> dict[str, int]:
    return dict(query(wh, "select metric, value from build_summary"))


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    """The five samples, one report with a foreign unit on every row, one with a wrong manifest year."""
    base = tmp_path_factory.mktemp("seven")
    raw = make_raw(base / "raw", *SAMPLES)
    write_units_report(raw, "foo")
    write_wrong_year_report(raw, 2012)
    wh = base / "wh" / "indicators.duckdb"
    code, out = cli_build(raw, wh)
    return code, out, wh


def test_the_samples_publish_and_the_two_bad_reports_are_held_back(seven):
    code, _, wh = seven
    assert code == HELD_BACK_EXIT == 3
    assert query(wh, "select count(*) from indicator_values") == [(339,)]
    assert sorted(f for (f,) in query(wh, "select report_file from dim_report")) == [sample_name(k) for k in SAMPLES]
    cell = query(
        wh,
        "select outcome, target from indicator_values where district = 'Hässelby-Vällingby' and year = 2014 "
        "and report_type = 'tertialrapport_1' and indicator_as_printed = ?",
        WELFARE_2014,
    )
    assert cell == [(5.79, 5.5)]


def test_each_held_back_report_is_named_with_its_check_and_what_to_do(seven):
    _, out, wh = seven
    reasons = gate_errors(wh)
    assert reasons == {
        FOREIGN: "held back: 24 of 24 rows have a unit outside the known set (e.g. 'foo'); fix the file or its "
        "manifest row, or, if the unit is real, add it to the unit expectations in expectations/ and to "
        "KNOWN_UNITS in pipeline/common/reference.py; no earlier version was published",
        WRONG_YEAR: "held back: only 0% of its Period cells name its year 2012 or the year before (they name 2016), "
        "so its year is wrong and every row would be filed under it; correct its row in manifest.csv; "
        "no earlier version was published",
    }
    summary = summary_of(wh)
    assert summary["reports_held_back"] == 2 and summary["checks_failed_blocking"] == 0
    assert (summary["reports_loaded"], summary["rows_loaded"], summary["rows_parsed"]) == (5, 339, 373)
    assert "  reports held back  2" in out
    assert f"  held back {FOREIGN}: 24 of 24 rows have a unit outside the known set (e.g. 'foo')" in out


def test_held_back_reports_are_warnings_in_the_checks(seven):
    _, _, wh = seven
    warned = query(
        wh,
        "select suite, blocking, unexpected_count, unexpected_sample from validation_results "
        "where detail = 'reports_held_back()' order by suite",
    )
    assert [(s, b, n) for s, b, n, _ in warned] == [("dim_report", False, 1), ("fact_indicator_value", False, 1)]
    assert WRONG_YEAR in warned[0][3] and "period_year_share" in warned[0][3]
    assert FOREIGN in warned[1][3]
    assert query(wh, "select count(*) from validation_results where blocking and not success") == [(0,)]


def test_a_report_in_its_file_twice_is_held_back_not_the_build(tmp_path):
    raw = make_raw(tmp_path / "raw", "000")
    text = (make_raw(tmp_path / "one", "004") / sample_name("004")).read_text(encoding="utf-8")
    (raw / "ostermalm_twice.txt").write_text(text + "\n" + text, encoding="utf-8")
    wh = tmp_path / "wh" / "indicators.duckdb"
    ok, summary, errors = run_build(settings_for(raw, wh))
    assert ok and summary["reports_held_back"] == 1
    [reason] = [e.reason for e in errors if e.file == "ostermalm_twice.txt"]
    assert reason.startswith("held back: 7 goal numbers are printed more than once (e.g. 1, 1.2, 1.3); ")
    assert "10 of its 20 indicator rows repeat an earlier row cell for cell" in reason
    assert "is the report's text in the file twice? fix the file" in reason
    assert query(wh, "select count(*) from indicator_values where report_file = ?", sample_name("000")) == [(67,)]
    assert query(wh, "select count(*) from dim_report where report_file = 'ostermalm_twice.txt'") == [(0,)]


def test_a_threshold_is_the_report_s_own_share(tmp_path):
    """2 foreign units in a report of 10 rows are 20 % of it (held back), though 2 of 87 rows in all; 1 in
    24 is 4 % of its report (loaded, counted as a warning)."""
    raw = make_raw(tmp_path / "raw", "000")
    write_units_report(raw, "st", rows=10, odd=2)
    write_units_report(raw, "st", rows=24, odd=1, name="farsta_t1_2015.txt", district="Farsta")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process(raise_on_error=False)
    assert result.success
    wh = settings.warehouse
    assert list(gate_errors(wh)) == [FOREIGN]
    assert gate_errors(wh)[FOREIGN].startswith("held back: 2 of 10 rows have a unit outside the known set (e.g. 'foo')")
    assert query(wh, "select count(*), count(*) filter (where unit = 'foo') from indicator_values "
                 "where report_file = 'farsta_t1_2015.txt'") == [(24, 1)]
    checks = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    facts = checks["fact_indicator_value_suite"]
    assert not facts.passed and facts.severity.value == "WARN"
    assert facts.metadata["failed_blocking"].value == 0
    held = facts.metadata["failures"].value["reports_held_back()"]
    assert [row["report_file"] for row in held["sample"]] == [FOREIGN]
    assert checks["dim_report_suite"].passed


@pytest.fixture
def published_bromma(tmp_path):
    """Sample 004 and a good Bromma report (24 rows in st), built and published."""
    raw = make_raw(tmp_path / "raw", "004")
    write_units_report(raw, "st")
    wh = tmp_path / "wh" / "indicators.duckdb"
    assert cli_build(raw, wh)[0] == 0
    return raw, wh, sha256_of(raw / FOREIGN)


def test_a_replaced_report_that_fails_keeps_its_published_version(published_bromma, tmp_path):
    raw, wh, good = published_bromma
    write_units_report(raw, "foo")  # the same file name, a misread unit on every row
    code, out = cli_build(raw, wh)
    assert code == 3
    assert query(wh, "select content_hash from dim_report where report_file = ?", FOREIGN) == [(good,)]
    assert query(
        wh, "select count(*), min(unit), max(unit), min(outcome) from indicator_values where report_file = ?", FOREIGN
    ) == [(24, "st", "st", 1.5)]
    assert gate_errors(wh)[FOREIGN].endswith("; the version published before stays")
    assert summary_of(wh)["rows_loaded"] == 34
    # the offline report says it in Swedish
    from pipeline.report.site import build_report

    site = build_report(wh, tmp_path / "site", raw, workers=1)
    quality = (site.out_dir / "kvalitet.html").read_text(encoding="utf-8")
    assert "Rapporter som hölls tillbaka (1)" in quality
    assert f"<td>{FOREIGN}</td><td>24 av 24 rader har en enhet som inte är känd (t.ex. &#39;foo&#39;)" in quality
    assert "den tidigare publicerade versionen ligger kvar" in quality
    assert "tillbakahållna" in (site.out_dir / "index.html").read_text(encoding="utf-8")

    write_units_report(raw, "kr")  # fixed: the new version replaces the old one
    assert cli_build(raw, wh)[0] == 0
    assert query(wh, "select min(unit) from indicator_values where report_file = ?", FOREIGN) == [("kr",)]
    assert gate_errors(wh) == {}


def test_a_retried_load_step_holds_back_the_same_reports(published_bromma, monkeypatch):
    """A transient failure after the hold-back: the retry starts from the staging folder as it was left,
    and names the report again."""
    import duckdb

    import pipeline.warehouse.gates as gates

    raw, wh, good = published_bromma
    write_units_report(raw, "foo")
    real_publish, calls = gates.publish, []

    def flaky_publish(candidate, warehouse):
        calls.append(candidate)
        if len(calls) == 1:
            raise duckdb.IOException("simulated: the disk went away for a moment")
        return real_publish(candidate, warehouse)

    monkeypatch.setattr(gates, "publish", flaky_publish)
    settings = settings_for(raw, wh, retry_wait_s=0.0)
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process(raise_on_error=False)
    assert result.success and len(calls) == 2
    assert gate_errors(wh)[FOREIGN].endswith("; the version published before stays")
    assert query(wh, "select content_hash from dim_report where report_file = ?", FOREIGN) == [(good,)]
    assert summary_of(wh)["reports_held_back"] == 1


def test_a_wrong_manifest_year_keeps_the_published_version(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    write_wrong_year_report(raw, 2016)
    wh = tmp_path / "wh" / "indicators.duckdb"
    assert cli_build(raw, wh)[0] == 0
    write_wrong_year_report(raw, 2012)  # the same file, its manifest row now says 2012
    code, _ = cli_build(raw, wh)
    assert code == 3
    assert query(wh, "select year, count(*) from indicator_values where report_file = ? group by year", WRONG_YEAR) == [
        (2016, 10)
    ]
    assert "name its year 2012" in gate_errors(wh)[WRONG_YEAR]


def test_a_held_back_report_whose_published_version_is_gone_blocks_until_accepted(published_bromma, capsys):
    raw, wh, _ = published_bromma
    shutil.rmtree(wh.parent / ".cache" / "reports")  # as after a new version of the code
    write_units_report(raw, "foo")
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert f"observed 1 of 2 published reports would go: {FOREIGN} (held back: 24 of 24" in err
    assert "the version published before cannot be kept (its cached result is gone)" in err
    assert "publish anyway with --accept-losses" in err
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1", "--accept-losses"]) == 3
    assert query(wh, "select count(*) from dim_report where report_file = ?", FOREIGN) == [(0,)]


def test_held_back_reasons_read_in_swedish():
    assert held_back_sv(
        "held back: 74 of 141 rows have a unit outside the known set (e.g. '% 87,1 %', 'tas fram av nämnden', '-'); "
        "numbers among them are neighbouring cells run together: its tables were misread; fix the file or its "
        "manifest row, or, if the unit is real, add it to the unit expectations in expectations/ and to KNOWN_UNITS "
        "in pipeline/common/reference.py; no earlier version was published"
    ) == (
        "74 av 141 rader har en enhet som inte är känd (t.ex. '% 87,1 %', 'tas fram av nämnden', '-'); "
        "tal bland dem är värden ur intilliggande celler: tabellerna lästes fel; rätta filen eller dess rad i "
        "manifest.csv, eller, om enheten är verklig, lägg till den i enhetskontrollerna i expectations/ och i "
        "KNOWN_UNITS i pipeline/common/reference.py; ingen tidigare version var publicerad"
    )
    assert held_back_sv(
        "held back: 3 goal numbers are printed more than once (e.g. 1, 1.2, 1.3); 10 of its 20 indicator rows "
        "repeat an earlier row cell for cell: is the report's text in the file twice? fix the file; "
        "the version published before (x.txt) stays"
    ) == (
        "3 målnummer står mer än en gång (t.ex. 1, 1.2, 1.3); 10 av dess 20 indikatorrader upprepar en tidigare "
        "rad cell för cell: står rapportens text två gånger i filen? Rätta filen; den tidigare publicerade "
        "versionen (x.txt) ligger kvar"
    )
    assert held_back_sv(
        "held back: only 12% of its Period cells name its year 2012 or the year before (they name 2016, 2015), so "
        "its year is wrong and every row would be filed under it; correct the file, or give it a row in "
        "manifest.csv; no earlier version was published"
    ) == (
        "bara 12 % av periodcellerna anger rapportens år 2012 eller året före (de anger 2016, 2015), så året är "
        "fel och varje rad skulle hamna under det; rätta filen eller ge den en rad i manifest.csv; ingen tidigare "
        "version var publicerad"
    )
