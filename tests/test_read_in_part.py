"""A PDF whose cross-reference table is damaged but that has text is read as far as its text is found,
never silently: a warning names the file and the reason, the build summary counts it, and what was
read loads with its values as printed."""

from pipeline.cli import run_build
from pipeline.report.formats import warning_sv

from .build_helpers import make_pdf, query, settings_for

LINES = [
    "Tertialrapport 1 2015 för Farsta stadsdelsnämnd",
    "",
    "KF:s inriktningsmål:",
    "",
    "1. Stockholm är en attraktiv, trygg, tillgänglig och växande stad",
    "",
    "Indikator\tUtfall\tÅrsmål\tPeriod",
    " Sjukfrånvaro\t5,7 %\t6 %\tTertial 1 2015",
    " Andel nöjda brukare\t81 %\t85 %\tTertial 1 2015",
]


def _damaged_xref(pdf: bytes) -> bytes:
    """The PDF with its cross-reference table overwritten: pdfminer finds the objects by scanning."""
    start = pdf.rindex(b"\nxref\n") + 1
    end = pdf.index(b"trailer", start)
    return pdf[:start] + b"xref\n0 7\ngarbage garbage\n" + pdf[end:]


def test_a_pdf_with_a_damaged_xref_and_text_is_read_in_part_with_a_warning(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "farsta_damaged.pdf").write_bytes(_damaged_xref(make_pdf([LINES])))
    (raw / "farsta_sound.pdf").write_bytes(make_pdf([[LINES[0].replace("Farsta", "Skarpnäck"), *LINES[1:]]]))
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    ok, summary, errors = run_build(settings)
    assert ok and summary["files_read_in_part"] == 1 and summary["reports_loaded"] == 2
    assert [(e.file, e.reason) for e in errors] == [
        (
            "farsta_damaged.pdf",
            "warning: farsta_damaged.pdf: read in part: its cross-reference table is damaged; 1 page found, some "
            "text may be missing (save or download the file again)",
        )
    ]
    assert query(
        settings.warehouse,
        "select reason from load_errors where file = 'farsta_damaged.pdf' and stage = 'parse'",
    ) == [(errors[0].reason,)]
    assert query(
        settings.warehouse,
        "select indicator_as_printed, outcome, target, period from indicator_values "
        "where report_file = 'farsta_damaged.pdf' order by source_line",
    ) == [("Sjukfrånvaro", 5.7, 6.0, "Tertial 1 2015"), ("Andel nöjda brukare", 81.0, 85.0, "Tertial 1 2015")]
    assert query(settings.warehouse, "select value from build_summary where metric = 'files_read_in_part'") == [(1,)]
    # the quality page says it in Swedish
    assert warning_sv(errors[0].reason, "farsta_damaged.pdf") == (
        "läst till en del: filens korsreferenstabell är skadad; 1 sida hittades, text kan saknas (spara eller "
        "ladda ned filen igen)"
    )
