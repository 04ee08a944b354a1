"""A build never publishes less than the warehouse it replaces unless someone accepts it: not from an empty
or missing raw folder, a report gone or superseded, nor because the previous warehouse is locked or damaged.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.cli import main
from pipeline.warehouse.published import record_path

from .build_helpers import build_template, copy_build, make_raw, query, sample_name, table_checksums
from .conftest import sample_txt

TRUNCATED_BYTES = 30_000  # the first third of sample 000: 15 of its 67 indicator rows
EXTRA_ROW = " Antal hushåll med ekonomiskt bistånd\t120 st\t130 st\t125 st\t120 st\t\tVB 2013"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A warehouse of samples 000 and 004, built once; each test rebuilds against its own copy."""
    return build_template(tmp_path_factory.mktemp("template"), "000", "004")


@pytest.fixture
def built(template, tmp_path):
    return copy_build(template, tmp_path)


def _build(raw, wh, *flags, capsys) -> tuple[int, str]:
    code = main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1", *flags])
    err = capsys.readouterr().err
    return code, "\n".join(ln for ln in err.splitlines() if ln.startswith("build failed"))


def test_an_empty_raw_folder_does_not_replace_the_warehouse(built, capsys):
    raw, wh = built
    before = table_checksums(wh)
    for path in raw.iterdir():
        path.unlink()
    code, failed = _build(raw, wh, capsys=capsys)
    assert code == 1
    assert "2 of 2 published reports would go: " in failed
    assert f"{sample_name('000')} (the raw folder has no report files)" in failed
    assert failed.endswith("unchanged)") and "--accept-losses" in failed
    assert table_checksums(wh) == before


def test_a_missing_raw_folder_stops_the_build(built, capsys):
    raw, wh = built
    before = table_checksums(wh)
    missing = raw.parent / "raw-not-mounted"
    code, failed = _build(missing, wh, capsys=capsys)
    assert code == 1
    assert failed == f"build failed in report_files: raw folder {missing} does not exist or is not a folder"
    assert table_checksums(wh) == before
    assert not list((wh.parent / ".staging").iterdir())


@pytest.mark.parametrize("flag", ["--accept-losses", "--accept-row-drops"])
def test_a_report_gone_blocks_until_accepted(built, capsys, flag):
    raw, wh = built
    (raw / sample_name("000")).unlink()
    code, failed = _build(raw, wh, capsys=capsys)
    assert code == 1
    assert f"1 of 2 published reports would go: {sample_name('000')} (no longer in the raw folder)" in failed
    assert _build(raw, wh, flag, capsys=capsys)[0] == 0
    assert query(wh, "select report_file from dim_report") == [(sample_name("004"),)]
    lost = query(
        wh, "select blocking, observed_value from validation_results where expectation = 'published_reports_kept'"
    )
    assert lost[0][0] is False and sample_name("000") in lost[0][1]


def test_a_published_report_superseded_by_a_fuller_file_blocks(built, capsys):
    raw, wh = built
    text = sample_txt("004").read_text(encoding="utf-8")
    fuller = text.replace(" Sjukfrånvaro\t", EXTRA_ROW + "\n Sjukfrånvaro\t", 1)
    assert fuller != text
    (raw / "ostermalm_vb_2013_junk.txt").write_text(fuller, encoding="utf-8")
    before = table_checksums(wh)
    code, failed = _build(raw, wh, capsys=capsys)
    assert code == 1
    assert (
        f"1 of 2 published reports would go: {sample_name('004')} (superseded by ostermalm_vb_2013_junk.txt: "
        "both report Östermalm / Försörjningsstödsenheten, verksamhetsberattelse 2013; "
        "ostermalm_vb_2013_junk.txt has 11 indicator rows, this file 10)"
    ) in failed
    assert table_checksums(wh) == before


def _truncate_000(raw) -> None:
    path = raw / sample_name("000")
    path.write_bytes(path.read_bytes()[:TRUNCATED_BYTES])


def test_a_warehouse_held_open_for_writing_is_not_replaced(built, capsys):
    raw, wh = built
    _truncate_000(raw)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; con = duckdb.connect({str(wh)!r}); print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        code, failed = _build(raw, wh, "--accept-losses", capsys=capsys)
    finally:
        holder.communicate("", timeout=60)
    assert code == 1
    assert f"another process has {wh.name} open for writing; close it and build again" in failed
    code, failed = _build(raw, wh, capsys=capsys)  # the writer gone: the row drop is still caught
    assert code == 1 and "report_row_counts: expect_column_values_to_be_between(row_ratio, min_value=0.8)" in failed


def _damage(wh) -> None:
    """Keep the header (still a DuckDB file), lose the rest."""
    wh.write_bytes(wh.read_bytes()[:20_000])


def test_a_damaged_warehouse_is_compared_through_its_record(built, capsys):
    raw, wh = built
    _truncate_000(raw)
    _damage(wh)
    code, failed = _build(raw, wh, capsys=capsys)
    assert code == 1
    assert "row_ratio, min_value=0.8): 1 of 2 rows unexpected" in failed
    assert f"report_file={sample_name('000')}" in failed


def test_a_damaged_warehouse_without_its_record_blocks_until_accepted(built, capsys):
    raw, wh = built
    _truncate_000(raw)
    _damage(wh)
    record_path(wh).unlink()
    code, failed = _build(raw, wh, capsys=capsys)
    assert code == 1
    assert "previous_warehouse_readable(): observed cannot read it and there is no valid record" in failed
    assert _build(raw, wh, "--accept-losses", capsys=capsys)[0] == 0
    assert query(wh, "select count(*) from dim_report") == [(2,)]


def test_a_tampered_record_is_not_trusted(built, capsys):
    raw, wh = built
    _truncate_000(raw)
    record = record_path(wh)
    record.write_text(record.read_text(encoding="utf-8").replace('"rows_before": 67', '"rows_before": 15'))
    _damage(wh)
    code, failed = _build(raw, wh, capsys=capsys)
    assert code == 1 and "there is no valid record" in failed


def test_a_warehouse_path_that_is_not_a_warehouse_is_never_replaced(tmp_path, capsys):
    raw = make_raw(tmp_path / "raw", "004")
    notes = tmp_path / "README.md"
    notes.write_text("# notes\n", encoding="utf-8")
    folder = tmp_path / "warehouse"
    folder.mkdir()
    assert main(["build", "--raw", str(raw), "--warehouse", str(notes)]) == 1
    assert capsys.readouterr().err == f"build failed: {notes} is not a DuckDB warehouse file; not replaced\n"
    assert notes.read_text(encoding="utf-8") == "# notes\n"
    assert main(["build", "--raw", str(raw), "--warehouse", str(folder) + "/"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"build failed: {folder} is a folder, not a warehouse file") and err.count("\n") == 1
    assert list(folder.iterdir()) == []
