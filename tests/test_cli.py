"""The `indicators` command as a user meets it: DuckDB's own hints on a typo, a version, options that
either do something or are refused, and exports that never mix."""

import json
import subprocess
import sys

import pytest

from pipeline.cli import main as indicators
from pipeline.warehouse.export import MANIFEST_NAME
from pipeline.warehouse.relations import PUBLISHED_RELATIONS

from .conftest import ROOT


def test_a_typo_in_a_query_shows_duckdbs_suggestion(built, capsys):
    wh, _, _ = built
    assert indicators(["query", "--warehouse", str(wh), "select * from indicator_value"]) == 1
    err = capsys.readouterr().err
    assert "Table with name indicator_value does not exist" in err and 'Did you mean "indicator_values"' in err
    assert indicators(["query", "--warehouse", str(wh), "select outcom from indicator_values"]) == 1
    err = capsys.readouterr().err
    assert 'Referenced column "outcom" not found' in err and "Candidate bindings" in err


def test_version_and_options_that_do_nothing_are_refused(capsys):
    with pytest.raises(SystemExit) as done:
        indicators(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("indicators 0.")
    for command in (["query", "select 1"], ["export", "out"], ["catalog"]):
        with pytest.raises(SystemExit) as done:
            indicators([*command, "--raw", "/nonexistent"])
        assert done.value.code == 2, command
        assert "unrecognized arguments: --raw" in capsys.readouterr().err


def test_help_does_not_load_dagster():
    code = "import sys; import pipeline.cli; print('dagster' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_export_refuses_a_file_and_replaces_its_own_earlier_export(built, tmp_path, capsys):
    wh, _, _ = built
    a_file = tmp_path / "notes.md"
    a_file.write_text("mine\n")
    assert indicators(["export", "--warehouse", str(wh), "--format", "parquet", str(a_file)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"export refused: {a_file} is a file, not a folder: give a folder to export into"]
    assert a_file.read_text() == "mine\n"

    out = tmp_path / "out"
    out.mkdir()
    (out / "README.txt").write_text("kept\n")
    assert indicators(["export", "--warehouse", str(wh), "--format", "parquet", str(out)]) == 0
    assert indicators(["export", "--warehouse", str(wh), "--format", "csv", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([*(f"{n}.csv" for n in PUBLISHED_RELATIONS), MANIFEST_NAME, "README.txt"])
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["format"] == "csv" and {e["file"] for e in manifest["relations"]} <= set(files)


def test_readme_lists_every_option_of_every_command():
    import argparse
    import re

    from pipeline.cli import parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `indicators (\w+)[^\n]*", readme, re.M)}
    [subparsers] = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        (name, option)
        for name, command in subparsers.choices.items()
        for action in command._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and option not in rows.get(name, "")
    ]
    assert sorted(rows) == sorted(subparsers.choices) and missing == []
    assert "`indicators --version`" in readme
