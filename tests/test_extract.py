"""Extraction: any file gives lines or a one-line reason, never a hang; work is cached by content."""

import io
import shutil
from pathlib import Path

import pytest

from pipeline.cli import run_build
from pipeline.orchestration.settings import BuildSettings
from pipeline.sources.discover import discover_reports
from pipeline.sources.extract import ExtractSettings, extract_all
from pipeline.sources.extract_cache import load_extracted
from pipeline.sources.progress import ExtractProgress

from .conftest import RAW, query, sample_txt
from .pdf_bytes import encrypted_pdf, image_only_pdf, text_pdf

SAMPLE_PDF = RAW / "004_05871d331dd0cb08.pdf"  # 13 pages


def _extract(folder: Path, tmp_path: Path, **settings):
    found = discover_reports(folder)
    done, errors = extract_all(found.files, ExtractSettings(tmp_path / "cache", **settings), progress=lambda _: None)
    return done, {e.file: e.reason for e in errors}


@pytest.fixture
def bad_folder(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "encrypted.pdf").write_bytes(encrypted_pdf())
    (folder / "scanned.pdf").write_bytes(image_only_pdf())
    (folder / "zero.pdf").write_bytes(b"")
    (folder / "word.pdf").write_bytes(b"PK\x03\x04 not a pdf at all")
    (folder / "cp1252.txt").write_bytes("Tertialrapport 1 2014 för Farsta stadsdelsnämnd – Årsmål".encode("cp1252"))
    (folder / "blank.txt").write_text("\n \n", encoding="utf-8")
    (folder / "letter.pdf").write_bytes(text_pdf("Hej!", "Vi ses pa fredag."))
    return folder


def test_each_bad_file_gets_a_clear_reason(bad_folder, tmp_path):
    done, reasons = _extract(bad_folder, tmp_path, workers=2)
    assert reasons == {
        "encrypted.pdf": "encrypted PDF; cannot read it without the password",
        "scanned.pdf": "no text layer (scanned images?); needs OCR before it can be read",
        "word.pdf": "not a PDF (no %PDF header)",
        "cp1252.txt": "not UTF-8 text (byte 23: b'\\xf6'); save it as UTF-8",
    }
    # empty files never reach extraction: discovery rejects them (all empty files have one content)
    empty = {e.file: e.reason for e in discover_reports(bad_folder).errors}
    assert empty == {"zero.pdf": "empty file", "blank.txt": "empty file (only white space)"}
    assert [d.file.name for d in done] == ["letter.pdf"]
    assert " ".join(ln.text for ln in load_extracted(done[0]).lines) == "Hej! Vi ses pa fredag."


def test_bad_files_are_reported_and_the_good_one_loads(bad_folder, tmp_path):
    shutil.copy(sample_txt("004"), bad_folder)
    wh = tmp_path / "wh" / "indicators.duckdb"
    ok, summary, errors = run_build(BuildSettings(raw_dir=str(bad_folder), warehouse_path=str(wh), workers=2))
    assert ok and summary["reports_loaded"] == 1 and summary["rows_loaded"] == 10
    reasons = {e.file: e.reason for e in errors}
    assert reasons["letter.pdf"].startswith("cannot tell district, report_type, year from the text")
    stored = dict(query(wh, "select file, stage from load_errors"))
    assert stored["encrypted.pdf"] == "extract" and stored["letter.pdf"] == "parse"


def test_a_file_that_takes_too_long_is_stopped(tmp_path, monkeypatch):
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(SAMPLE_PDF, folder)
    shutil.copy(sample_txt("000"), folder)
    # The PDF's worker stalls (a fault hook) far past the limit; the limit is generous for the text file,
    # so the outcome does not depend on how busy the machine is.
    monkeypatch.setenv("INDICATORS_FAULT_AT", f"extract:{SAMPLE_PDF.name}")
    monkeypatch.setenv("INDICATORS_FAULT_PAUSE_S", "600")
    done, reasons = _extract(folder, tmp_path, workers=2, timeout_s=4.5)
    assert reasons == {SAMPLE_PDF.name: "extraction took longer than 4.5 s; stopped"}
    assert [d.file.name for d in done] == ["000_3e9cf77e5c646f75.txt"]


def test_a_file_that_needs_more_memory_than_the_cap_is_stopped(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(SAMPLE_PDF, folder)
    _, reasons = _extract(folder, tmp_path, workers=1, memory_mb=40)
    # the worker either reports the failed allocation or dies of it; either way the cap is named
    assert "40 MB memory cap" in reasons[SAMPLE_PDF.name]


def test_pdf_lines_carry_pages(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(SAMPLE_PDF, folder)
    done, reasons = _extract(folder, tmp_path, workers=1)
    assert not reasons and done[0].pages == 13 and done[0].worker_peak_mb > 0
    lines = load_extracted(done[0]).lines
    assert {ln.page for ln in lines} == set(range(1, 14))


def test_only_new_work_is_done(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE_PDF, raw)
    shutil.copy(sample_txt("000"), raw)
    settings = BuildSettings(raw_dir=str(raw), warehouse_path=str(tmp_path / "wh" / "i.duckdb"), workers=2)
    first = run_build(settings)[1]
    assert (first["files_extracted"], first["files_from_cache"]) == (2, 0)
    again = run_build(settings)[1]
    assert (again["files_extracted"], again["files_from_cache"]) == (0, 2)  # nothing changed: nothing extracted
    changed = raw / "000_3e9cf77e5c646f75.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nBilaga 7\n", encoding="utf-8")
    after_change = run_build(settings)[1]
    assert (after_change["files_extracted"], after_change["files_from_cache"]) == (1, 1)
    changed.unlink()
    ok, after_removal, _ = run_build(BuildSettings(**{**settings.model_dump(), "accept_row_drops": True}))
    assert ok and after_removal["reports_loaded"] == 1
    assert query(settings.warehouse, "select distinct report_file from indicator_values") == [(SAMPLE_PDF.name,)]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_only_on_a_terminal():
    log = io.StringIO()
    plain = ExtractProgress(2, stream=log)
    plain.start("a.pdf")
    plain.page("a.pdf", 3, 10)
    plain.finish("a.pdf")
    assert log.getvalue() == ""
    screen = _Terminal()
    bars = ExtractProgress(2, stream=screen)
    bars.start("a.pdf")
    bars.page("a.pdf", 5, 10)
    bars.finish("a.pdf")
    assert "extracting [" in screen.getvalue() and "a.pdf" in screen.getvalue()
    assert "1/2 files" in screen.getvalue()


def test_cache_of_other_code_versions_and_killed_workers_is_pruned(tmp_path):
    import os
    import time

    from pipeline.sources.extract_cache import EXTRACTOR_VERSION, prune_cache

    folder = tmp_path / "cache" / "extract"
    folder.mkdir(parents=True)
    current = folder / f"abc.v{EXTRACTOR_VERSION}.json"
    old = folder / "abc.vold.json"
    fresh_tmp = folder / f"def.v{EXTRACTOR_VERSION}.tmp123"
    dead_tmp = folder / f"ghi.v{EXTRACTOR_VERSION}.tmp456"
    for path in (current, old, fresh_tmp, dead_tmp):
        path.write_text("[]")
    two_hours_ago = time.time() - 7200
    os.utime(dead_tmp, (two_hours_ago, two_hours_ago))
    assert prune_cache(tmp_path / "cache") == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([current.name, fresh_tmp.name])


def test_extractions_of_files_gone_from_the_reports_are_pruned_once_unused_for_long(tmp_path):
    import os
    import time

    from pipeline.sources.extract_cache import EXTRACTOR_VERSION, UNUSED_ENTRY_S, prune_cache

    folder = tmp_path / "cache" / "extract"
    folder.mkdir(parents=True)
    entries = {name: folder / f"{name}.v{EXTRACTOR_VERSION}.json" for name in ("kept", "gone_old", "gone_recent")}
    for path in entries.values():
        path.write_text("[]")
    long_ago = time.time() - UNUSED_ENTRY_S - 3600
    for name in ("kept", "gone_old"):
        os.utime(entries[name], (long_ago, long_ago))
    assert prune_cache(tmp_path / "cache", in_use={"kept"}) == 1
    assert sorted(p.name.split(".")[0] for p in folder.iterdir()) == ["gone_recent", "kept"]


def test_a_build_marks_the_extractions_it_uses(tmp_path):
    import os

    files = [f for f in discover_reports(RAW).files if f.kind == "txt"]
    cache = tmp_path / "cache"
    (entry,) = [d.cache_path for d in extract_all(files, ExtractSettings(cache, workers=1), lambda _: None)[0]]
    os.utime(entry, (0, 0))
    done, _ = extract_all(files, ExtractSettings(cache, workers=1), lambda _: None)
    assert done[0].from_cache and entry.stat().st_mtime > 0
