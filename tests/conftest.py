"""Shared helpers: the sample reports in raw/, parsed once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.common.models import ExtractedText, SourceFile
from pipeline.parse.tables import parse_report
from pipeline.pdf.document import pdf_to_lines
from pipeline.sources.discover import sha256_of
from pipeline.sources.extract_read import read_txt

# Builds in tests skip the offline report (it draws hundreds of charts); tests/test_report*.py ask for it.
os.environ.setdefault("INDICATORS_REPORT", "0")

ROOT = Path(__file__).parent.parent
RAW = ROOT / "raw"
SAMPLE_TEXTS = Path(__file__).parent / "fixtures" / "samples"
PDF_FIXTURES = Path(__file__).parent / "fixtures" / "pdf"  # one layout each, with expected cells

SAMPLE_FILES = {
    "000": "000_3e9cf77e5c646f75",
    "001": "001_e413b7b4eec749f1",
    "002": "002_80d6a2513fda4bdc",
    "003": "003_130f0561e7be4d6d",
    "004": "004_05871d331dd0cb08",
}


def sample_txt(key: str) -> Path:
    """The sample's .txt: in raw/ while it is the input there, else in the test fixtures."""
    name = SAMPLE_FILES[key] + ".txt"
    return RAW / name if (RAW / name).exists() else SAMPLE_TEXTS / name


def extracted_txt(path: Path) -> ExtractedText:
    source = SourceFile(str(path), path.name, sha256_of(path), path.stat().st_size, "txt")
    return ExtractedText(source, read_txt(str(path)))


@pytest.fixture(scope="session")
def parsed_txt():
    cache = {}

    def get(key: str):
        if key not in cache:
            cache[key] = parse_report(extracted_txt(sample_txt(key)))
        return cache[key]

    return get


def row_named(report, name: str):
    rows = [r for r in report.rows if r.indicator_as_printed == name]
    assert rows, f"no row named {name!r}"
    return rows[0]


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The warehouse built from raw/ once per test session: (path, summary, load errors)."""
    from pipeline.cli import run_build
    from pipeline.orchestration.settings import BuildSettings

    out = tmp_path_factory.mktemp("wh")
    settings = BuildSettings(raw_dir=str(RAW), warehouse_path=str(out / "indicators.duckdb"), workers=2)
    ok, summary, errors = run_build(settings)
    assert ok
    return settings.warehouse, summary, errors


@pytest.fixture(scope="session")
def site(built, tmp_path_factory):
    """The offline report of the sample warehouse, written once per session."""
    from pipeline.report.site import build_report

    warehouse, _, _ = built
    return build_report(warehouse, tmp_path_factory.mktemp("site") / "report", RAW, workers=2)


def query(warehouse: Path, sql: str, *params) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def parsed_pdf():
    """A PDF fixture of tests/fixtures/pdf read and parsed, once per test module: parsed_pdf("f08_…")."""
    cache = {}

    def get(name: str):
        if name not in cache:
            path = PDF_FIXTURES / f"{name}.pdf"
            lines = pdf_to_lines(str(path))
            cache[name] = parse_report(ExtractedText(SourceFile(str(path), path.name, "0", 0, "pdf"), lines))
        return cache[name]

    return get
