"""A report typeset by Typst (pipeline/bench/typst_corpus.py --fixture made f29, without its structure
tree, so the geometry alone is read; the tests read the committed PDF). test_pdf_layout.py reads it
table by table against its .expected.tsv, test_pdf_borderless.py again without space glyphs.

Typst sizes a cell to its text's baseline, not the font's descent, and hyphenates narrow cells:
- table 1 rules its rows with 2pt padding, so each rule cuts into the glyph boxes of the line above it;
  the reader before saw no rule between "Andel trygga omsorgstagare i hemtjänsten" and the comment
  below, and put the comment's words into the row's name and values ("89,37 längre resultatet på …");
- table 2 hyphenates its header ("Perio-" / "dens ut-" / "fall") with a glyph the font names U+00AD;
  the reader before kept "Periodens ut\xad fall", found no outcome column, and put 84,22 % under Period;
  where the header shows the producer hyphenates, names are joined too ("bero-" / "ende" -> "beroende").
"""

from pipeline.parse.vocab import header_columns
from pipeline.pdf.cells import is_hyphenation
from pipeline.pdf.document import TABLE_WORDS, DocumentWords, hyphenates_a_word
from pipeline.pdf.drawing import Drawing
from pipeline.pdf.glyphs import Glyph, Segment
from pipeline.pdf.lines import Line

from .conftest import row_named

F29 = "f29_typst_hyphenated_tight"


def test_f29_a_rule_through_the_descenders_ends_the_row(parsed_pdf):
    report = parsed_pdf(F29)
    assert report.meta.district == "Hässelby-Vällingby" and report.meta.report_type == "tertialrapport_1"
    row = row_named(report, "Andel trygga omsorgstagare i hemtjänsten")
    assert (row.cells["target"], row.cells["city_target"], row.cells["period"]) == ("89,37", "100", "År")
    assert row.quality_flag is None
    row = row_named(report, "Antal tillhandahållna platser för Stockholmsjobb")
    assert (row.cells["target"], row.cells["city_target"], row.cells["period"]) == ("64 st", "-", "Tertial")
    row = row_named(report, "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd")
    assert (row.cells["target"], row.cells["city_target"]) == ("5,5 %", "4,0 %")
    assert len(report.rows) == 5


def test_f29_hyphenated_header_names_every_column(parsed_pdf):
    row = row_named(parsed_pdf(F29), "Andel ungdomar som deltar i föreningsliv")
    assert row.cells == {
        "outcome": "49,08 %",
        "outcome_men": "",
        "outcome_women": "",
        "previous_outcome": "48,14 %",
        "forecast": "50 %",
        "target": "46,88 %",
        "city_target": "Tas fram av nämnd",
        "period": "Tertial",
    }
    assert row.previous_label == "VB 2013" and row.quality_flag is None
    name = "Andel brukare inom omsorgen för personer med funktionsnedsättning som är nöjda med sin bostad"
    row = row_named(parsed_pdf(F29), name)
    assert (row.cells["outcome"], row.cells["previous_outcome"]) == ("84,22 %", "81,5 %")
    assert row.cells["period"] == "Tertial"


def line(text: str, x0: float = 50.0, top: float = 100.0, size: float = 9.0) -> Line:
    glyphs, x = [], x0
    for char in text:
        glyphs.append(Glyph(char, x, x + 5.0, top, top + size, size, 2.5))
        x += 5.0
    return Line(glyphs)


def test_a_line_end_hyphen_joins_a_word_the_document_prints_whole():
    vocabulary = DocumentWords(TABLE_WORDS | {"beroende"})
    assert is_hyphenation("Perio-", line("dens ut-"), vocabulary)
    assert is_hyphenation("ut-", line("fall"), vocabulary)
    assert is_hyphenation("bero-", line("ende av"), vocabulary)
    # a compound's own hyphen, or a hyphen before "och", stays: the joined word is printed nowhere
    assert not is_hyphenation("LSS-", line("boende"), vocabulary)
    assert not is_hyphenation("vård-", line("och omsorgsboende"), vocabulary)
    assert not is_hyphenation("Tertial", line("1 2014"), vocabulary)
    assert not is_hyphenation("bero-", line("ende av"), set(TABLE_WORDS))  # no sign the producer hyphenates


def test_a_producer_seen_hyphenating_table_words_has_its_names_joined_too():
    vocabulary = DocumentWords(TABLE_WORDS)
    vocabulary.hyphenates = True
    assert is_hyphenation("bero-", line("ende av"), vocabulary)
    assert is_hyphenation("Stockholms-", line("jobb"), vocabulary)
    assert not is_hyphenation("vård-", line("och omsorgsboende"), vocabulary)
    assert not is_hyphenation("LSS-", line("boende"), vocabulary)
    assert not is_hyphenation("e-", line("tjänster"), vocabulary)
    vocabulary.add("stockholms-jobb")  # printed whole with its hyphen elsewhere: a compound's own
    assert not is_hyphenation("Stockholms-", line("jobb"), vocabulary)


def test_a_rule_in_the_descender_zone_separates_but_an_underline_does_not():
    # text 100..109 (9 pt); the next line starts at 111; a rule at 108.9 cuts the box by 0.1 pt
    ruled = Drawing([Segment(108.9, 45.0, 500.0)], [])
    assert ruled.separates(109.0, 111.0, 50.0, size=9.0)
    assert not ruled.separates(109.0, 111.0, 50.0)  # without the text size, only edges between boxes
    underline = Drawing([Segment(108.9, 50.0, 120.0)], [])  # starts at the text itself
    assert not underline.separates(109.0, 111.0, 50.0, size=9.0)
    strike = Drawing([Segment(104.5, 45.0, 500.0)], [])  # through the middle of the letters
    assert not strike.separates(109.0, 111.0, 50.0, size=9.0)


def test_a_header_cell_with_two_measures_words_names_no_column():
    # Typst lets a header word wider than its column run over into the next cell: read as one cell,
    # "Periodens Utfall utfall män/pojkar" once named outcome_men and took the outcome's values
    header = header_columns(
        [
            "Indikator",
            "Periodens Utfall utfall män/pojkar",
            "Utfall PeriodensÅ rsmål kvinnor/ utfall flickor VB 2018",
            "KF:s årsmål",
            "Period",
        ],
        2019,
    )
    assert header.columns == (None, None, "city_target", "period")
    cells = ["Indikator", "Periodens utfall VB 2018", "Utfall män/pojkar", "Prognos helår", "KF:s årsmål"]
    header = header_columns(cells)
    assert header.columns == ("previous_outcome", "outcome_men", "forecast", "city_target")
    assert header.previous_label == "VB 2018"


def test_a_document_hyphenates_where_a_cell_wraps_a_word_it_prints_whole_at_a_hyphen():
    words = DocumentWords(TABLE_WORDS | {"beroende"})
    assert hyphenates_a_word([line("Perio-"), line("dens ut-"), line("fall")], words)
    assert hyphenates_a_word([line("som är bero-"), line("ende av")], words)
    assert not hyphenates_a_word([line("stöd i LSS-"), line("boende")], words)
    assert not hyphenates_a_word([line("inom vård-"), line("och omsorg")], words)
