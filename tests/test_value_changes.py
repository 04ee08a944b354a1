"""A new version of the code or of a library never changes published values silently.

Library versions are part of the cache and "up to date" keys. A published report read again by
another version is compared value by value with what was published: changed values are a warning with
examples, and over the limit (INDICATORS_VALUE_CHANGE_LIMIT) the report is held back with its
published rows kept. The new version is simulated in-process: another CODE_VERSION (what an upgrade or
a code change gives) and a normalizer whose reading of some cells changed.
"""

import json
import subprocess
import sys

import pytest

from pipeline.build import incremental
from pipeline.cli import run_build
from pipeline.common.code_version import CODE_VERSION, code_version, library_versions
from pipeline.model import normalize
from pipeline.report.formats import held_back_sv, warning_sv
from pipeline.sources.extract_cache import EXTRACTOR_VERSION, extractor_version
from pipeline.warehouse import load

from .build_helpers import ROOT, make_raw, query, sample_name, settings_for

ANNUAL = sample_name("004")  # Östermalm, VB 2013: 10 indicator rows
CHILDREN = "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd"  # outcome 0,45 %
NEW_CODE = "0123456789abcdef"


# --- library versions ------------------------------------------------------------------------


def test_the_installed_library_versions_are_part_of_the_code_version():
    installed = library_versions()
    assert set(installed) == {"pdfminer.six", "polars", "duckdb", "great-expectations"}
    assert code_version(installed) == CODE_VERSION
    for name in installed:
        upgraded = {**installed, name: installed[name] + ".post1"}
        assert code_version(upgraded) != CODE_VERSION, name
    pdfminer = {"pdfminer.six": library_versions(("pdfminer.six",))["pdfminer.six"]}
    assert extractor_version(pdfminer) == EXTRACTOR_VERSION
    assert extractor_version({"pdfminer.six": "19990101"}) != EXTRACTOR_VERSION


def test_an_upgraded_library_makes_the_warehouse_stale_and_every_report_read_again(tmp_path):
    """The same inputs, polars reporting another version: not up to date, nothing from the caches."""
    raw = make_raw(tmp_path / "raw", "004")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    assert run_build(settings)[0]
    code = (
        "import importlib.metadata as m, json, sys\n"
        "real = m.version\n"
        "m.version = lambda name: '0.0.1' if name == 'polars' else real(name)\n"
        "from pipeline.cli import run_build\n"
        "from pipeline.orchestration.settings import BuildSettings\n"
        f"ok, summary, _ = run_build(BuildSettings(raw_dir={str(raw)!r}, warehouse_path={str(settings.warehouse)!r},"
        " workers=1))\n"
        "print(json.dumps([ok, summary]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ok, summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert ok and not summary.get("up_to_date")
    assert (summary["reports_from_cache"], summary["validations_from_cache"]) == (0, 0)
    # the installed versions again: not up to date either; the result cached under them (kept, as the
    # published rows came from it when the other version read the report) is theirs, so it is used
    ok, summary, _ = run_build(settings)
    assert ok and not summary.get("up_to_date") and summary["reports_from_cache"] == 1


# --- the value-change check ------------------------------------------------------------------


@pytest.fixture
def published(tmp_path):
    raw = make_raw(tmp_path / "raw", "000", "004")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    ok, summary, _ = run_build(settings)
    assert ok and summary["reports_loaded"] == 2
    return raw, settings


def _new_version(monkeypatch, misread):
    """Another code version whose normalizer reads the cells `misread(cell)` says ten times too big."""
    monkeypatch.setattr(incremental, "CODE_VERSION", NEW_CODE)
    monkeypatch.setattr(load, "CODE_VERSION", NEW_CODE)
    reading = normalize.cell_reading

    def changed(cell):
        value, unit, flag = reading(cell)
        return (value * 10 if value is not None and misread(cell) else value), unit, flag

    monkeypatch.setattr(normalize, "cell_reading", changed)


def _children(wh):
    return query(
        wh, "select outcome from indicator_values where report_file = ? and indicator_as_printed = ?", ANNUAL, CHILDREN
    )


def test_a_few_changed_values_are_published_with_a_warning_that_names_them(published, monkeypatch):
    raw, settings = published
    assert _children(settings.warehouse) == [(0.45,)]
    _new_version(monkeypatch, lambda cell: cell == "0,45 %")
    ok, summary, errors = run_build(settings)
    assert ok and summary["values_changed"] == 1 and summary["reports_held_back"] == 0
    assert _children(settings.warehouse) == [(4.5,)]  # one value of some 40: below the limit, published
    [warning] = [e for e in errors if e.file == ANNUAL and e.stage == "gate"]
    assert (
        warning.reason
        == f"warning: 1 of 30 published values read differently now (e.g. '{CHILDREN}' outcome 0.45 → 4.5)"
    )
    assert query(settings.warehouse, "select value from build_summary where metric = 'values_changed'") == [(1,)]
    assert warning_sv(warning.reason, ANNUAL) == (
        f"1 av 30 publicerade värden läses nu annorlunda (t.ex. '{CHILDREN}' outcome 0.45 → 4.5)"
    )


def test_many_changed_values_hold_the_report_back_and_its_published_rows_stay(published, monkeypatch):
    raw, settings = published
    rows_sql = "select row_no, outcome, target, city_target from indicator_values where report_file = ? order by all"
    before = query(settings.warehouse, rows_sql, ANNUAL)
    _new_version(monkeypatch, lambda cell: "%" in cell)  # every percentage of the report
    ok, summary, errors = run_build(settings)
    assert ok and summary["reports_held_back"] >= 1
    held = {e.file: e.reason for e in errors if e.reason.startswith("held back:")}
    assert ANNUAL in held
    assert f"'{CHILDREN}' outcome 0.45 → 4.5" in held[ANNUAL]
    assert "INDICATORS_VALUE_CHANGE_LIMIT=1" in held[ANNUAL] and "the version published before stays" in held[ANNUAL]
    swedish = held_back_sv(held[ANNUAL])
    assert "publicerade värden läses nu annorlunda" in swedish and "mer än 10 % av dess värden ändrades" in swedish
    assert swedish.endswith("den tidigare publicerade versionen ligger kvar")
    assert _children(settings.warehouse) == [(0.45,)]  # the published reading, not the new one
    assert query(settings.warehouse, rows_sql, ANNUAL) == before  # every published value of it stays
    kept = query(
        settings.warehouse, "select count(*) from load_errors where file = ? and reason like 'held back:%'", ANNUAL
    )
    assert kept == [(1,)]
    # the same build with the limit lifted: the new reading publishes
    settings = settings_for(raw, settings.warehouse, value_change_limit=1.0)
    ok, summary, errors = run_build(settings)
    assert ok and summary["reports_held_back"] == 0
    assert _children(settings.warehouse) == [(4.5,)]
