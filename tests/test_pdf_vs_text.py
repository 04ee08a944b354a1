"""Differential test: the indicator rows of each sample PDF equal those of its text.

The PDFs were typeset from the texts, so every row, measure, name, text cell and comment must come
out the same. Compared without white space, because the PDF deliberately joins words the text
extraction split ("nämnde n/styrels en" is "nämnden/styrelsen" in the PDF).
"""

import re
from pathlib import Path

import pytest

from pipeline.common.models import VALUE_COLUMNS, ExtractedText, SourceFile
from pipeline.model.normalize import normalize_report
from pipeline.parse.tables import parse_report
from pipeline.sources.discover import sha256_of
from pipeline.sources.extract_read import read_pdf

from .conftest import SAMPLE_FILES, extracted_txt, sample_txt

PDF_DIR = Path(__file__).parent.parent / "raw"
SHARED_SAMPLES = Path(__file__).parent.parent.parent / "shared" / "samples"
PAIRS = ("000", "001", "003", "004")


def sample_pdf(key: str) -> Path:
    name = SAMPLE_FILES[key] + ".pdf"
    for folder in (PDF_DIR, SHARED_SAMPLES):
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"{name} is neither in raw/ nor in ../shared/samples")


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _pdf_report(key: str):
    path = sample_pdf(key)
    source = SourceFile(str(path), path.name, sha256_of(path), path.stat().st_size, "pdf")
    return parse_report(ExtractedText(source, read_pdf(str(path))))


def differences(txt_report, pdf_report) -> list[str]:
    diffs = []
    if len(txt_report.rows) != len(pdf_report.rows):
        diffs.append(f"row count: text {len(txt_report.rows)}, pdf {len(pdf_report.rows)}")
    for i, (t, p) in enumerate(zip(txt_report.rows, pdf_report.rows, strict=False), start=1):
        where = f"row {i} (text line {t.source_line}, pdf page {p.source_page} line {p.source_line})"
        if _squash(t.indicator_as_printed) != _squash(p.indicator_as_printed):
            diffs.append(f"{where} name: {t.indicator_as_printed!r} != {p.indicator_as_printed!r}")
        for col in VALUE_COLUMNS:
            if _squash(t.cells[col]) != _squash(p.cells[col]):
                diffs.append(f"{where} {col}: {t.cells[col]!r} != {p.cells[col]!r}")
        if _squash(t.comment) != _squash(p.comment):
            diffs.append(f"{where} comment: {(t.comment or '')[:60]!r} != {(p.comment or '')[:60]!r}")
        if t.goal_ref != p.goal_ref:
            diffs.append(f"{where} goal_ref: {t.goal_ref!r} != {p.goal_ref!r}")
    return diffs


@pytest.fixture(scope="module", params=PAIRS)
def pair(request):
    key = request.param
    return key, parse_report(extracted_txt(sample_txt(key))), _pdf_report(key)


def test_same_rows_cells_and_comments(pair):
    key, txt_report, pdf_report = pair
    diffs = differences(txt_report, pdf_report)
    assert not diffs, f"sample {key}: {len(diffs)} differing cells\n" + "\n".join(diffs[:40])


def test_same_measures_after_normalization(pair):
    key, txt_report, pdf_report = pair
    measures = ["outcome", "outcome_men", "outcome_women", "previous_outcome", "forecast", "target", "city_target"]
    txt = normalize_report(txt_report).select(measures)
    pdf = normalize_report(pdf_report).select(measures)
    assert txt.equals(pdf), f"sample {key}: measures differ"


def test_same_report_metadata(pair):
    _, txt_report, pdf_report = pair
    t, p = txt_report.meta, pdf_report.meta
    assert (t.district, t.report_type, t.year, t.tertial, t.org_unit) == (
        p.district,
        p.report_type,
        p.year,
        p.tertial,
        p.org_unit,
    )


def test_every_pdf_row_has_a_page(pair):
    _, _, pdf_report = pair
    assert all(r.source_page is not None and r.source_page >= 1 for r in pdf_report.rows)
