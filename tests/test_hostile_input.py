"""Hostile or odd input never publishes wrong data and never stops every build: tampered cache entries,
entries in the raw folder that are not regular files, names the file system allows but UTF-8 does not,
warehouse paths with glob characters, and builds or workers killed half-way.
"""

from __future__ import annotations

import pytest

from pipeline.cli import main, run_build
from pipeline.extract import DAMAGED_CACHE_WARNING

from .build_helpers import make_raw, query, sample_name, settings_for

SICK_LEAVE = "select outcome from indicator_values where indicator_as_printed = 'Sjukfrånvaro'"


@pytest.fixture
def built_004(tmp_path):
    """Sample 004 built once: (settings, its cache entry)."""
    settings = settings_for(make_raw(tmp_path / "raw", "004"), tmp_path / "wh" / "indicators.duckdb")
    assert run_build(settings)[0]
    [entry] = (settings.cache_dir / "extract").glob("*.json")
    return settings, entry


def test_a_cache_entry_edited_after_it_was_written_is_extracted_again(built_004, caplog):
    settings, entry = built_004
    data = entry.read_bytes()
    assert data.count(b"5,7 %") == 1
    entry.write_bytes(data.replace(b"5,7 %", b"57,0 %"))
    ok, summary, errors = run_build(settings)
    assert ok and summary["files_extracted"] == 1 and summary["files_from_cache"] == 0
    assert query(settings.warehouse, SICK_LEAVE) == [(5.7,)]
    assert [(e.file, e.reason) for e in errors if e.stage == "extract"] == [(sample_name("004"), DAMAGED_CACHE_WARNING)]
    assert DAMAGED_CACHE_WARNING.startswith("warning: cached extraction was damaged (checksum mismatch)")
    damaged = [r for r in caplog.records if "cached extraction" in r.getMessage()]
    assert len(damaged) == 1 and damaged[0].levelname == "WARNING"


def test_a_truncated_cache_entry_is_extracted_again_not_a_parse_error(built_004):
    settings, entry = built_004
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    ok, summary, errors = run_build(settings)
    assert ok and summary["rows_loaded"] == 10 and summary["files_rejected"] == 0
    assert not [e for e in errors if e.stage == "parse" and not e.reason.startswith("warning:")]
    assert query(settings.warehouse, SICK_LEAVE) == [(5.7,)]
    # the entry written again is whole: the next build takes it from the cache
    assert run_build(settings)[1]["files_from_cache"] == 1


def test_a_forged_cache_entry_cannot_be_written_through_query(built_004, capsys):
    settings, entry = built_004
    forged = "copy (select 'x' as a) to '" + str(entry) + "' (format csv)"
    assert main(["query", "--warehouse", str(settings.warehouse), forged]) == 1
    assert "query refused" in capsys.readouterr().err
    assert run_build(settings)[1]["files_from_cache"] == 1
