"""`indicators query` is bounded: a time limit, a memory limit (nothing spilled to disk), and Ctrl-C that
stops the statement at once. The slow and the large statements are so on purpose (a cross join of hours,
an aggregate of gigabytes): the tests assert which limit stopped them, never how fast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from pipeline.cli import main
from pipeline.warehouse.query import memory_label, memory_limit, timeout_seconds

from .build_helpers import ROOT, SUBPROCESS_TIMEOUT_S

# five copies of fact_observation (over 800 rows from raw/) joined with no condition: over 3 * 10^14 rows
CROSS_JOIN = "select count(*) from " + ", ".join(f"fact_observation f{i}" for i in range(5))
# one string of 100 million pieces of 1,000 bytes each
STRING_AGG = "select length(string_agg(r.range::varchar || repeat('x', 1000), ',')) from range(100000000) r"


def test_a_cross_join_is_stopped_by_the_time_limit(built, capsys):
    wh, _, _ = built
    assert main(["query", "--warehouse", str(wh), "--csv", "select count(*) > 800 as big from fact_observation"]) == 0
    assert capsys.readouterr().out == "big\nTrue\n"  # 800⁵ rows: minutes at least, were it not stopped
    assert main(["query", "--warehouse", str(wh), "--timeout", "1", CROSS_JOIN]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["query stopped: it ran past the time limit of 1 s (--timeout)"]


def test_a_string_agg_is_stopped_by_the_memory_limit_and_nothing_spills_to_disk(built, capsys):
    wh, _, _ = built
    # the time limit is a generous guard: only the memory limit may stop this one
    assert main(["query", "--warehouse", str(wh), "--memory-limit", "64MB", "--timeout", "600", STRING_AGG]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["query stopped: it needed more than the memory limit of 64 MB (--memory-limit)"]
    assert not wh.with_name(wh.name + ".tmp").exists()  # DuckDB's spill folder beside the warehouse

    sql = "select current_setting('memory_limit') as m, current_setting('temp_directory') as t"
    assert main(["query", "--warehouse", str(wh), "--csv", "--memory-limit", "64MB", sql]) == 0
    assert capsys.readouterr().out == "m,t\n61.0 MiB,\n"


def test_limits_come_from_the_environment_and_bad_values_are_refused(built, capsys, monkeypatch):
    wh, _, _ = built
    monkeypatch.setenv("INDICATORS_QUERY_TIMEOUT", "1")
    monkeypatch.setenv("INDICATORS_QUERY_MEMORY", "1GiB")
    assert main(["query", "--warehouse", str(wh), CROSS_JOIN]) == 1
    assert capsys.readouterr().err == "query stopped: it ran past the time limit of 1 s (--timeout)\n"
    sql = "select current_setting('memory_limit') as m"
    assert main(["query", "--warehouse", str(wh), "--csv", sql]) == 0
    assert capsys.readouterr().out == "m\n1.0 GiB\n"

    for option, value in (("--memory-limit", "lots"), ("--memory-limit", "0MB"), ("--timeout", "-1")):
        with pytest.raises(SystemExit) as done:
            main(["query", "--warehouse", str(wh), option, value, "select 1"])
        assert done.value.code == 2
        assert f"argument {option}: '{value}' is not a" in capsys.readouterr().err


def test_sizes_and_seconds():
    assert memory_limit("2GB") == "2GB" and memory_limit(" 512 mb ") == "512MB" and memory_limit("1.5gib") == "1.5GiB"
    assert memory_label("2GB") == "2 GB" and memory_label("1.5GiB") == "1.5 GiB"
    assert timeout_seconds("60") == 60 and timeout_seconds("0") == 0
    for bad in ("2", "2 PB", "-1GB", "GB"):
        with pytest.raises(ValueError):
            memory_limit(bad)
    for bad in ("-1", "nan", "inf", "soon"):
        with pytest.raises(ValueError):
            timeout_seconds(bad)


def test_ctrl_c_stops_a_running_query_at_once(built):
    wh, _, _ = built
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "INDICATORS_FAULT_AT": "query",  # says when the statement has been started; no pause
        "INDICATORS_FAULT_PAUSE_S": "0",
    }
    # no time limit, and a cross join holds little memory: only Ctrl-C stops it
    command = ["query", "--warehouse", str(wh), "--timeout", "0", CROSS_JOIN]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("fault point query reached")
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=SUBPROCESS_TIMEOUT_S)  # a guard against a hang, not a measure
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130
    assert out == "" and err == "query interrupted by the user\n"
