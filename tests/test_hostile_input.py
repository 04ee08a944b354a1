"""Hostile or odd input never publishes wrong data and never stops every build: tampered cache entries,
entries in the raw folder that are not regular files, names the file system allows but UTF-8 does not,
warehouse paths with glob characters, and builds or workers killed half-way.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import time
import zlib
from pathlib import Path

import pytest

from pipeline.cli import run_build
from pipeline.common.staging import claim_stage_dir, release_stage_dir
from pipeline.sources.discover import discover_reports
from pipeline.sources.extract import ExtractSettings, died_reason, extract_all
from pipeline.sources.extract_cache import DAMAGED_CACHE_WARNING, load_extracted

from .build_helpers import (
    copy_build,
    kill_build,
    make_pdf,
    make_raw,
    page_stream,
    query,
    run_cli_build,
    sample_name,
    settings_for,
    start_build,
    wait_for_line,
)
from .conftest import RAW, SAMPLE_FILES, sample_txt

SICK_LEAVE = "select outcome from indicator_values where indicator_as_printed = 'Sjukfrånvaro'"


@pytest.fixture(scope="module")
def template_004(tmp_path_factory):
    base = tmp_path_factory.mktemp("template")
    assert run_build(settings_for(make_raw(base / "raw", "004"), base / "wh" / "indicators.duckdb"))[0]
    return base


@pytest.fixture
def built_004(template_004, tmp_path):
    """A copy of sample 004 built, with its extraction cache: (settings, the cache entry)."""
    raw, wh = copy_build(template_004, tmp_path)
    settings = settings_for(raw, wh)
    [entry] = (settings.cache_dir / "extract").glob("*.json")
    return settings, entry


def test_a_cache_entry_edited_after_it_was_written_is_extracted_again(built_004, caplog):
    settings, entry = built_004
    data = entry.read_bytes()
    assert data.count(b"5,7 %") == 1
    entry.write_bytes(data.replace(b"5,7 %", b"57,0 %"))
    settings.warehouse.unlink()  # else nothing changed: the build is up to date and reads no cache
    ok, summary, errors = run_build(settings)
    assert ok and summary["files_extracted"] == 1 and summary["files_from_cache"] == 0
    assert query(settings.warehouse, SICK_LEAVE) == [(5.7,)]
    assert [(e.file, e.reason) for e in errors if e.stage == "extract"] == [(sample_name("004"), DAMAGED_CACHE_WARNING)]
    assert DAMAGED_CACHE_WARNING.startswith("warning: cached extraction failed its check")
    damaged = [r for r in caplog.records if "failed its check" in r.getMessage()]
    assert len(damaged) == 1 and damaged[0].levelname == "WARNING"
    assert f"of {sample_name('004')} failed its check (MAC mismatch); extracted again" in damaged[0].getMessage()


def test_a_truncated_cache_entry_is_extracted_again_not_a_parse_error(built_004):
    settings, entry = built_004
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    settings.warehouse.unlink()  # else nothing changed: the build is up to date and reads no cache
    ok, summary, errors = run_build(settings)
    assert ok and summary["rows_loaded"] == 10 and summary["files_rejected"] == 0
    assert not [e for e in errors if e.stage == "parse" and not e.reason.startswith("warning:")]
    assert query(settings.warehouse, SICK_LEAVE) == [(5.7,)]
    # the entry written again is whole: the next build takes it from the cache
    assert run_build(settings)[1]["files_from_cache"] == 1


# --- the raw folder: regular files inside it only, every other entry named -----------------------

NON_UTF8 = b"caf\xe9 rapport\n.txt"  # Latin-1 bytes and a newline: allowed by the file system
NON_UTF8_PRINTED = "caf\\xe9 rapport\\n.txt"


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory):
    """One `indicators build` over a raw folder of odd entries, into a warehouse path with glob characters."""
    base = tmp_path_factory.mktemp("odd")
    outside = base / "outside"
    outside.mkdir()
    raw = make_raw(base / "raw", "004")
    (raw / "passwd.txt").symlink_to("/etc/passwd")
    (raw / "outside.pdf").symlink_to(outside)
    (raw / "gone.txt").symlink_to(raw / "no-such-file.txt")
    (raw / "x.pdf").mkdir()
    (raw / "folder_link.txt").symlink_to(raw / "x.pdf")
    (raw / "alias.txt").symlink_to(raw / sample_name("004"))
    os.mkfifo(raw / "manifest.csv")
    os.mkfifo(raw / "pipe.txt")
    try:  # /dev/zero under a report's name: reading it would never end
        os.mknod(raw / "zero.pdf", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:  # creating devices needs CAP_MKNOD
        pass
    (raw / os.fsdecode(NON_UTF8)).write_bytes(sample_txt("000").read_bytes())
    wh = base / 'w[1] it\'s "q" *' / "indicators.duckdb"
    done = run_cli_build(raw, wh)  # in a subprocess: a FIFO that hung the build would time out, not hang
    return wh, done


def test_a_build_over_odd_entries_finishes_and_publishes(odd_folder):
    wh, done = odd_folder
    assert done.returncode == 0, done.stderr
    assert dict(query(wh, "select report_file, count(*) from indicator_values group by 1")) == {
        sample_name("004"): 10,
        NON_UTF8_PRINTED: 67,
    }
    assert not list((wh.parent / ".staging").iterdir())


def test_the_sensor_sees_a_folder_with_odd_names(odd_folder):
    from pipeline.orchestration.sensors import raw_folder_state

    wh, _ = odd_folder
    state = raw_folder_state(wh.parent.parent / "raw")
    assert state.files == 4  # sample 004, the non-UTF-8 name, the links to 004 and to /etc/passwd (stat only)


def test_every_skipped_entry_is_named_with_its_reason(odd_folder):
    wh, _ = odd_folder
    reasons = dict(query(wh, "select file, reason from load_errors where stage = 'discover'"))
    if (wh.parent.parent / "raw" / "zero.pdf").exists():
        assert reasons.pop("zero.pdf") == "a device, not a regular file; not read"
    assert reasons == {
        "manifest.csv": "a named pipe (FIFO), not a regular file; not read; manifest ignored",
        "pipe.txt": "a named pipe (FIFO), not a regular file; not read",
        "passwd.txt": "a symbolic link to a place outside the raw folder; not followed",
        "outside.pdf": "a symbolic link to a place outside the raw folder; not followed",
        "gone.txt": "a symbolic link to nothing (dangling link); skipped",
        "x.pdf": "a folder, not a report file (reports go directly in the raw folder)",
        "folder_link.txt": "a folder, not a report file (reports go directly in the raw folder)",
        "alias.txt": f"same content as {sample_name('004')}; loaded once",
    }


def test_nothing_outside_the_raw_folder_was_read(odd_folder):
    wh, _ = odd_folder
    passwd = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]
    entries = list((wh.parent / ".cache" / "extract").iterdir())
    assert len(entries) == 2  # the two reports, nothing else
    for entry in entries:
        assert passwd not in entry.read_text(encoding="utf-8", errors="replace")


def test_a_failed_build_leaves_no_staging_folder(tmp_path, monkeypatch):
    import pipeline.orchestration.assets as assets

    def broken(_):
        raise RuntimeError("simulated failure in validation")

    monkeypatch.setattr(assets, "validate_all", broken)
    settings = settings_for(make_raw(tmp_path / "raw", "004"), tmp_path / "wh" / "indicators.duckdb")
    assert not run_build(settings)[0]
    assert list((settings.warehouse.parent / ".staging").iterdir()) == []


# --- killed builds: their workers die with them, their staging folders go -----------------------

GONE_WITHIN_S = 60  # a bound for the test to give up, not a speed requirement: it is over in about a second


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_a_worker_dies_with_its_killed_build(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(RAW / f"{SAMPLE_FILES['004']}.pdf", raw)  # a PDF: texts are read without a worker
    build = start_build(raw, tmp_path / "wh" / "indicators.duckdb", INDICATORS_FAULT_AT="extract:worker")
    try:
        line = wait_for_line(build, "fault point extract:worker reached")
        worker = int(line.split("(pid ")[1].rstrip(")\n"))
        assert _alive(worker)
        os.kill(build.pid, signal.SIGKILL)  # the build alone, as the OOM killer or `kill -9 <pid>` would
        build.wait(timeout=GONE_WITHIN_S)
        deadline = time.monotonic() + GONE_WITHIN_S
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the extraction worker outlived its build"
    finally:
        kill_build(build)


def test_staging_folders_of_builds_no_longer_running_are_removed(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    wh = tmp_path / "wh" / "indicators.duckdb"
    build = start_build(raw, wh, INDICATORS_FAULT_AT="gate")
    try:
        wait_for_line(build, "fault point gate reached")
    finally:
        kill_build(build)
    [killed] = (wh.parent / ".staging").iterdir()
    live = claim_stage_dir(wh.parent / ".staging" / "a-build-still-running")
    try:
        assert run_build(settings_for(raw, wh))[0]
        assert list((wh.parent / ".staging").iterdir()) == [live]
        assert not killed.exists()
    finally:
        release_stage_dir(live)


# --- messages in the user's words ------------------------------------------------------------------


def _edited_pdf(lines: list[str], garbage_xref: bool) -> bytes:
    """A PDF edited once (an incremental update gives page 1 its text), as editors save them; with
    `garbage_xref` the update's cross-reference table is unreadable."""
    base = make_pdf([[""]])  # objects: 1 font, 2 content (no text yet), 3 page, 4 pages, 5 catalog
    previous_xref = int(re.findall(rb"startxref\s+(\d+)", base)[-1])
    stream = page_stream(lines)
    update = b"2 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(stream), stream)
    entry = b"garbage garbage\n" if garbage_xref else b"%010d 00000 n \n" % len(base)
    return (
        base
        + update
        + b"xref\n0 1\n0000000000 65535 f \n2 1\n"
        + entry
        + b"trailer\n<< /Size 6 /Root 5 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (previous_xref, len(base) + len(update))
    )


def _flate_bomb_pdf(content_mb: int) -> bytes:
    """One page whose compressed content stream inflates to `content_mb` MB of drawing instructions."""
    op = b"BT /F1 9 Tf 1 0 0 1 40 800 Tm (x) Tj ET\n"
    packed = zlib.compress(op * (content_mb * 1024 * 1024 // len(op)), 1)
    pdf = make_pdf([["placeholder"]])
    start = pdf.index(b"2 0 obj")
    end = pdf.index(b"endobj", start)
    obj = b"2 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\n" % (len(packed), packed)
    # the xref offsets after object 2 no longer fit: pdfminer finds the objects by scanning, as for many files
    return pdf[:start] + obj + pdf[end:]


def _extract_one(tmp_path, name: str, data: bytes, **settings):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / name).write_bytes(data)
    found = discover_reports(raw)
    chosen = [f for f in found.files if f.name == name]
    done, errors = extract_all(chosen, ExtractSettings(tmp_path / "cache", workers=1, **settings), lambda _: None)
    return done, {e.file: e.reason for e in errors}


def test_a_damaged_cross_reference_table_is_named(tmp_path):
    done, reasons = _extract_one(tmp_path, "edited.pdf", _edited_pdf(["Sjukfrånvaro\t5,7 %"], garbage_xref=False))
    assert [ln.text for ln in load_extracted(done[0]).lines] == ["Sjukfrånvaro\t5,7 %"]
    _, reasons = _extract_one(tmp_path, "damaged.pdf", _edited_pdf(["Sjukfrånvaro\t5,7 %"], garbage_xref=True))
    assert reasons == {
        "damaged.pdf": "corrupt PDF: its cross-reference table is damaged (save or download the file again): "
        "no text could be found through it"
    }


def test_a_content_stream_too_large_for_the_memory_cap_is_named(tmp_path):
    _, reasons = _extract_one(tmp_path, "bomb.pdf", _flate_bomb_pdf(64), memory_mb=512)  # reads up to 8 MB a page
    assert reasons == {
        "bomb.pdf": "content stream too large: page 1 holds more than 8 MB of drawing instructions, "
        "more than can be read under the memory cap"
    }


def test_a_worker_that_died_is_explained_in_words():
    assert died_reason(-signal.SIGABRT, 2048) == (
        "the extraction aborted reading this file, most likely over the 2048 MB memory cap; stopped"
    )
    assert "was killed" in died_reason(-signal.SIGKILL, 2048)
    assert "exit code" not in died_reason(-signal.SIGABRT, 2048)


def test_ctrl_c_says_interrupted_by_the_user(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    wh = tmp_path / "wh" / "indicators.duckdb"
    build = start_build(raw, wh, INDICATORS_FAULT_AT="gate")
    try:
        wait_for_line(build, "fault point gate reached")
        os.kill(build.pid, signal.SIGINT)
        _, err = build.communicate(timeout=GONE_WITHIN_S)
    finally:
        kill_build(build)
    lines = [ln for ln in err.splitlines() if not ln.startswith("INFO ")]
    assert lines == ["build interrupted by the user", f"warehouse unchanged: {wh}"]
    assert build.returncode == 1 and not wh.exists()
    assert list((wh.parent / ".staging").iterdir()) == []
