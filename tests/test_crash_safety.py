"""A build killed at any point leaves the previous warehouse intact and readable; the next one succeeds;
a BI reader with an open connection keeps working through a rebuild and sees the new data on reconnect.

Builds run as `indicators build` subprocesses; pipeline/common/faults.py pauses one at a named point so the
test can kill -9 it exactly there. The killed builds run side by side to keep the test short.
"""

from __future__ import annotations

import os
import random
import time

import duckdb
import pytest

from pipeline.cli import run_build

from .build_helpers import (
    copy_build,
    kill_build,
    make_raw,
    settings_for,
    start_build,
    table_checksums,
    wait_for_line,
)

# Points between "nothing written" and "new file in place" (pipeline/common/faults.py): an empty new file, a
# half-loaded one, a complete and checked one not yet renamed.
BEFORE_SWAP = ("load:schema", "load:midway", "publish")
RANDOM_KILLS = 2
# A build of two small reports takes 6-10 s on two cores; kill anywhere from start-up to the end.
RANDOM_DELAY_S = (0.5, 9.0)
COUNT_REPORTS = "select count(*) from dim_report"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A warehouse of sample 004; its raw folder has gained sample 000 since (a rebuild changes it)."""
    base = tmp_path_factory.mktemp("template")
    raw = make_raw(base / "raw", "004")
    ok, _, _ = run_build(settings_for(raw, base / "wh" / "indicators.duckdb"))
    assert ok
    make_raw(raw, "000")
    return base


@pytest.fixture(scope="module")
def checksums(template, tmp_path_factory):
    """The warehouse before and after a rebuild, to tell which one a reader sees."""
    before = table_checksums(template / "wh" / "indicators.duckdb")
    raw, wh = copy_build(template, tmp_path_factory.mktemp("after"))
    ok, _, _ = run_build(settings_for(raw, wh))
    assert ok
    return before, table_checksums(wh)


def _leftovers(warehouse):
    return sorted(p.name for p in warehouse.parent.glob(f".{warehouse.name}.building-*"))


def test_a_build_killed_anywhere_before_the_swap_leaves_the_previous_warehouse(template, checksums, tmp_path):
    before, after = checksums
    runs = {}
    for point in (*BEFORE_SWAP, "published"):
        raw, wh = copy_build(template, tmp_path / point.replace(":", "_"))
        runs[point] = (raw, wh, start_build(raw, wh, INDICATORS_FAULT_AT=point))
    for point, (_, wh, proc) in runs.items():
        wait_for_line(proc, f"fault point {point} reached")
        kill_build(proc)
        expected = after if point == "published" else before
        assert table_checksums(wh) == expected, point  # readable, and exactly the old (or the new) one
        if point in BEFORE_SWAP:
            assert _leftovers(wh), point  # the half-built file is there: nothing cleaned it up yet

    # The next build succeeds, removes what the killed one left, and publishes the new data.
    raw, wh, _ = runs["load:midway"]
    ok, summary, _ = run_build(settings_for(raw, wh))
    assert ok and summary["reports_loaded"] == 2
    assert _leftovers(wh) == []
    assert table_checksums(wh) == after


def test_a_build_killed_at_random_moments_leaves_a_readable_warehouse(template, checksums, tmp_path):
    before, after = checksums
    seed = int(os.environ.get("INDICATORS_TEST_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    runs = []
    for n in range(RANDOM_KILLS):
        raw, wh = copy_build(template, tmp_path / f"run{n}")
        runs.append((raw, wh, start_build(raw, wh), time.monotonic() + rng.uniform(*RANDOM_DELAY_S)))
    for _, wh, proc, kill_at in sorted(runs, key=lambda r: r[3]):
        time.sleep(max(0.0, kill_at - time.monotonic()))
        kill_build(proc)
        assert table_checksums(wh) in (before, after), f"seed {seed}"
    raw, wh, _, _ = runs[0]
    ok, _, _ = run_build(settings_for(raw, wh))
    assert ok, f"seed {seed}"
    assert _leftovers(wh) == [] and table_checksums(wh) == after


def test_a_reader_keeps_working_during_a_rebuild_and_sees_new_data_on_reconnect(template, tmp_path):
    raw, wh = copy_build(template, tmp_path)
    reader = duckdb.connect(str(wh), read_only=True)
    assert reader.execute(COUNT_REPORTS).fetchone() == (1,)
    proc = start_build(raw, wh, INDICATORS_FAULT_AT="publish,published", INDICATORS_FAULT_PAUSE_S="1")
    try:
        wait_for_line(proc, "fault point publish reached")
        assert reader.execute(COUNT_REPORTS).fetchone() == (1,)  # during the build: the old data
        wait_for_line(proc, "fault point published reached")
        assert reader.execute(COUNT_REPORTS).fetchone() == (1,)  # swapped: its open file still works
        assert proc.wait(timeout=60) == 0
    finally:
        kill_build(proc)
    assert reader.execute("select count(*) from indicator_values").fetchone() == (10,)
    reader.close()
    with duckdb.connect(str(wh), read_only=True) as again:  # a reconnect sees the new warehouse
        assert again.execute(COUNT_REPORTS).fetchone() == (2,)
