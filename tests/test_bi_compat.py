"""BI drivers bundle older DuckDB releases: the warehouse must open with DuckDB 1.x.

The built file is opened by a DuckDB 1.x installed into an environment of its own (cached under
~/.cache between runs), in a subprocess, and every published view is queried there.
"""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from pipeline.warehouse.relations import PUBLISHED_RELATIONS

OLD_DUCKDB = os.environ.get("INDICATORS_COMPAT_DUCKDB", "duckdb>=1.1,<2")
ENV_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sdn-indicators" / "duckdb1-env"

READER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
counts = {name: con.execute(f"select count(*) from {name}").fetchall()[0][0] for name in json.loads(sys.argv[2])}
value = con.execute(
    "select outcome from indicator_values where indicator_as_printed = "
    "'Andel barn som lever i familjer som är beroende av ekonomiskt bistånd' and year = 2014").fetchall()
comments = con.execute(
    "select count(*), count(comment) from duckdb_columns() where not internal and table_name in "
    "(select unnest(json_extract_string(?, '$[*]')))", [sys.argv[2]]).fetchall()[0]
view_comment = con.execute("select comment from duckdb_views() where view_name = 'indicator_values'").fetchall()
print(json.dumps({"version": duckdb.__version__, "counts": counts, "value": value[0][0],
                  "comments": comments, "view_comment": view_comment[0][0]}))
"""


def _old_duckdb_python() -> Path:
    python = ENV_DIR / "bin" / "python"
    if not (ENV_DIR / ".ok").exists():
        venv.create(ENV_DIR, with_pip=True, clear=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", OLD_DUCKDB], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.skip(f"cannot install {OLD_DUCKDB} into a separate environment: {done.stderr.strip()[-300:]}")
        (ENV_DIR / ".ok").touch()
    return python


def test_warehouse_opens_with_duckdb_1x(built):
    wh, _, _ = built
    python = _old_duckdb_python()
    out = subprocess.run(
        [str(python), "-c", READER, str(wh), json.dumps(PUBLISHED_RELATIONS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["version"].startswith("1.")
    assert result["value"] == 5.79
    assert result["counts"]["indicator_values"] > 200
    assert result["counts"]["goal_assessments"] > 0 and result["counts"]["indicator_series"] > 0
    # the storage-version v1.0.0 file keeps every COMMENT for older readers too
    columns, commented = result["comments"]
    assert columns > 250 and commented == columns
    assert result["view_comment"].startswith("The contract")
    print(f"opened with duckdb {result['version']}", file=sys.stderr)
