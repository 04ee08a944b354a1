"""Bad input, nothing lost: each bad file gets a clear reason, every other report loads, the gate passes.

One build over a raw folder holding two good samples and one of each kind of bad input.
"""

from __future__ import annotations

import shutil

import pytest

from pipeline.cli import main, rejected_lines, run_build
from pipeline.common.models import LoadError
from pipeline.sources.discover import MANIFEST_FIELDS

from .build_helpers import make_pdf, make_raw, query, sample_name, settings_for, write_t1_report
from .conftest import sample_txt

SICK_LEAVE_ROW = " Sjukfrånvaro\t5,7 %\t6 %\t6 %\t4,4 %\tVB 2013"
PDF_LINES_PER_PAGE = 60


def _reissue_without_one_row(raw) -> None:
    """Sample 004 again, one indicator row shorter: a second report of the same unit and year."""
    text = sample_txt("004").read_text(encoding="utf-8")
    assert SICK_LEAVE_ROW in text
    (raw / "004_reissue.txt").write_text(text.replace(SICK_LEAVE_ROW + "\n", ""), encoding="utf-8")


def _empty_tables(raw) -> None:
    """A council report whose indicator tables have a header and nothing under it."""
    path = write_t1_report(raw / "farsta_t1_2015.txt", "Farsta", 2015, ["-----------\t-----\t-----"])
    path.write_text(
        path.read_text(encoding="utf-8") + "\nAktivitet\tStartdatum\tSlutdatum\tAvvikelse\n", encoding="utf-8"
    )


def _out_of_range(raw) -> None:
    write_t1_report(
        raw / "bromma_t1_2015.txt",
        "Bromma",
        2015,
        [
            " Andel barn som lever i familjer som är beroende av ekonomiskt bistånd\t12 345 %\t5,77 %\t5,6 %\t5,5 %"
            "\t4,0 %\tTertial 1 2015",
            " Antal ungdomar som fått feriejobb i stadens regi\t5 000 000 000 st\t335 st\t205 st\t205 st"
            "\t5100 st\t2015",
            " Andel personer beroende av ekonomiskt bistånd i förhållande till befolkningen\t3,34 %\t3,34 %\t3,2 %"
            "\t3 %\t2,0 %\tTertial 1 2015",
            " Sjukfrånvaro\t5,7 %\t6 %\t6 %\t6 %\t4,4 %\tTertial 1 2015",
        ],
    )


def _pdf_cut_in_half(raw) -> None:
    lines = sample_txt("004").read_text(encoding="utf-8").splitlines()
    pdf = make_pdf([lines[i : i + PDF_LINES_PER_PAGE] for i in range(0, len(lines), PDF_LINES_PER_PAGE)])
    (raw / "cut.pdf").write_bytes(pdf[: len(pdf) // 2])


def _manifest_naming_a_missing_file(raw) -> None:
    (raw / "manifest.csv").write_text(
        ",".join(MANIFEST_FIELDS) + "\nmissing_report.txt,Farsta,tertialrapport_2,2015,2,\n", encoding="utf-8"
    )


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    raw = make_raw(tmp_path_factory.mktemp("bad") / "raw", "000", "004")
    shutil.copy(raw / sample_name("004"), raw / "copy_of_004.txt")
    _reissue_without_one_row(raw)
    _empty_tables(raw)
    _out_of_range(raw)
    _pdf_cut_in_half(raw)
    _manifest_naming_a_missing_file(raw)
    settings = settings_for(raw, raw.parent / "wh" / "indicators.duckdb")
    ok, summary, errors = run_build(settings)
    assert ok, "bad input must not stop the build"
    return settings.warehouse, summary, {e.file: e.reason for e in errors}


def test_the_good_reports_load_whole(build):
    wh, summary, _ = build
    counts = dict(query(wh, "select report_file, count(*) from indicator_values group by 1"))
    assert counts == {sample_name("000"): 67, sample_name("004"): 10, "bromma_t1_2015.txt": 2}
    assert summary["reports_loaded"] == 3


def test_a_duplicate_under_another_name_loads_once(build):
    _, _, reasons = build
    assert reasons["copy_of_004.txt"] == f"same content as {sample_name('004')}; loaded once"


def test_two_reports_of_one_unit_and_year_the_fuller_one_loads(build):
    wh, _, reasons = build
    assert reasons["004_reissue.txt"].startswith(
        f"superseded by {sample_name('004')}: both report Östermalm / Försörjningsstödsenheten, "
        "verksamhetsberattelse 2013;"
    )
    assert "has 10 indicator rows, this file 9" in reasons["004_reissue.txt"]
    assert query(wh, "select count(*) from dim_report where district_code = 'ostermalm'") == [(1,)]


def test_a_report_whose_tables_are_all_empty_is_named(build):
    _, _, reasons = build
    assert reasons["farsta_t1_2015.txt"].startswith("no indicator rows found")


def test_values_out_of_range_are_quarantined_the_rest_of_the_report_loads(build):
    wh, summary, _ = build
    quarantined = query(wh, "select indicator_as_printed, reason from quarantine order by row_no")
    assert [name for name, _ in quarantined] == [
        "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd",
        "Antal ungdomar som fått feriejobb i stadens regi",
    ]
    assert "percent_max" in quarantined[0][1] and "max_value=1000" in quarantined[0][1]
    assert "expect_column_values_to_be_between(outcome" in quarantined[1][1]
    assert summary["rows_quarantined"] == 2
    loaded = query(
        wh,
        "select indicator_as_printed, outcome from indicator_values "
        "where report_file = 'bromma_t1_2015.txt' order by source_line",
    )
    assert loaded == [
        ("Andel personer beroende av ekonomiskt bistånd i förhållande till befolkningen", 3.34),
        ("Sjukfrånvaro", 5.7),
    ]


def test_a_pdf_cut_in_half_is_named(build):
    _, _, reasons = build
    assert reasons["cut.pdf"].startswith("corrupt or unreadable PDF")


def test_a_manifest_row_naming_a_missing_file_is_named(build):
    _, _, reasons = build
    assert reasons["missing_report.txt"] == "named in manifest.csv but no such file in the raw folder"


def test_every_reason_is_in_the_warehouse_and_the_gate_passed(build):
    wh, summary, reasons = build
    stored = {f for (f,) in query(wh, "select distinct file from load_errors")}
    assert set(reasons) <= stored
    assert summary["checks_failed_blocking"] == 0
    assert query(wh, "select count(*) from validation_results where blocking and not success") == [(0,)]


def test_thousands_of_empty_files_are_each_empty_and_one_line_of_the_summary(tmp_path, capsys):
    raw = make_raw(tmp_path / "raw", "004")
    for i in range(3000):
        (raw / f"e{i:06d}.txt").touch()
    for name in ("blank.txt", "spaces.pdf"):
        (raw / name).write_bytes(b" \n\t\r\n  ")
    for i in range(5):
        shutil.copy(raw / sample_name("004"), raw / f"copy{i}.txt")
    wh = tmp_path / "wh" / "indicators.duckdb"
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  files rejected     3007" in out and "  reports loaded     1" in out
    assert [line for line in out if line.startswith("  rejected")] == [
        "  rejected blank.txt [discover]: empty file (only white space)",  # one reason's files together
        "  rejected spaces.pdf [discover]: empty file (only white space)",
        "  rejected 5 files [discover]: same content as 004_05871d331dd0cb08.txt; loaded once "
        "(copy0.txt, copy1.txt, copy2.txt, …; all in load_errors)",
        "  rejected 3,000 files [discover]: empty file (e000000.txt, e000001.txt, e000002.txt, …; all in load_errors)",
    ]
    # every file is in load_errors with its own row; the report loads whole
    empty = query(wh, "select file from load_errors where stage = 'discover' and reason = 'empty file' order by file")
    assert [f for (f,) in empty] == [f"e{i:06d}.txt" for i in range(3000)]
    assert query(wh, "select count(*) from load_errors") == [(3007,)]
    assert query(wh, "select outcome, target from indicator_values where indicator_as_printed = 'Sjukfrånvaro'") == [
        (5.7, 6.0)
    ]


def test_the_summary_counts_rejected_files_past_twenty_lines():
    rejected = [LoadError(f"f{i:02d}.txt", "extract", f"not UTF-8 text (byte {i}: b'\\xe9')") for i in range(30)]
    rejected += [LoadError(f"g{i}.txt", "discover", "empty file") for i in range(4)]
    lines = rejected_lines(rejected)
    assert lines[0] == "  rejected f00.txt [extract]: not UTF-8 text (byte 0: b'\\xe9')"
    assert len(lines) == 21 and lines[19].startswith("  rejected f19.txt [extract]")
    assert lines[20] == "  rejected 14 more files for other reasons (all in load_errors)"
    assert rejected_lines(rejected[-4:]) == [
        "  rejected 4 files [discover]: empty file (g0.txt, g1.txt, g2.txt, …; all in load_errors)"
    ]
