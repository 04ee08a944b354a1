"""flat_boxes: text flattened box by box (pdfminer.six's default extract_text), through the flat-text reader.

The fixtures tests/fixtures/flat/box_*.txt are written in that flattening: the name column's box
before the header's, header words broken anywhere, values and units on lines of their own. Their
trailing spaces matter as in the other flat fixtures.
"""

from __future__ import annotations

import pytest

from pipeline.parse.flat_box_blocks import (
    is_header_piece,
    join_cell_lines,
    mend_value_text,
    region_header,
    unzip_units,
)
from pipeline.parse.flat_vocab import PLACEMENT_UNCERTAIN
from tests.test_parse_flat import FLAT, MEASURE_COLUMNS, cells, parse_flat_file, rows_named


@pytest.fixture(scope="module")
def column_first():
    return parse_flat_file(FLAT / "box_column_first.txt")


@pytest.fixture(scope="module")
def split_header():
    return parse_flat_file(FLAT / "box_split_header.txt")


@pytest.fixture(scope="module")
def split_values():
    return parse_flat_file(FLAT / "box_split_values.txt")


def _empty_measures(row) -> bool:
    return all(row.cells[c] == "" for c in MEASURE_COLUMNS)


# --- column-first order ----------------------------------------------------------------------


def test_column_first_finds_every_row(column_first):
    got = [(r.indicator_as_printed, r.goal_ref, r.quality_flag) for r in column_first.rows]
    assert got == [
        (
            "Antal praktikplatser som utsatts för våld i nära relation som är kända av socialtjänsten",
            "1.1",
            PLACEMENT_UNCERTAIN,
        ),
        ("Andel barn och ungdomar som är nöjda med tillgången till kulturaktiviteter", "1.1", PLACEMENT_UNCERTAIN),
        ("Andel personer som har ekonomiskt bistånd i förhållande till befolkningen", "1.1", None),
        ("Andel enskilda som behåller kontraktet efter 12 månader", "1.1", None),
        ("Andel ungdomar som inte upplever diskriminering", "1.1", None),
    ]
    # The activity below the table ("Förvaltningen ska ...") is no indicator.
    assert (column_first.meta.district, column_first.meta.report_type, column_first.meta.year) == (
        "Östermalm",
        "tertialrapport_1",
        2017,
    )


def test_column_first_names_before_values_with_empty_cells_are_not_placed(column_first):
    # Five columns, three and two values: which cells are empty the text does not show.
    first, second = column_first.rows[:2]
    assert _empty_measures(first) and _empty_measures(second)
    assert first.cells["period"] == "" and second.cells["period"] == ""
    assert first.raw_text.startswith("Antal praktikplatser som utsatts för våld\n")
    assert "34 st\n42 st\n43 st\nTertial 1 2017\n72,8 %\n81,1 % fastställs\n2017\n2017" in first.raw_text
    assert "4,3 %" not in first.raw_text  # only the values of its own stretch of the table
    assert second.comment == "Insatsen genomförs i samarbete med Spånga/Tensta."
    assert first.previous_label == "VB 2016"


def test_column_first_row_followed_by_all_its_values_is_certain(column_first):
    row = rows_named(column_first, "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")[0]
    assert row.cells == cells(
        outcome="4,3 %",
        previous_outcome="4,1 %",
        forecast="4,2 %",
        target="4,4 %",
        city_target="4 %",
        period="Tertial 1 2017",
    )
    assert row.source_line == 55


def test_column_first_full_stretches_after_the_names_are_certain(column_first):
    # Two names, then two stretches of five values and a Period cell: one value per column each.
    kept, youth = column_first.rows[3:]
    assert kept.cells == cells(
        outcome="81 %",
        previous_outcome="80 %",
        forecast="82 %",
        target="82 %",
        city_target="85 %",
        period="Tertial 1 2017",
    )
    assert youth.cells == cells(
        outcome="95,9 %",
        previous_outcome="96,2 %",
        forecast="98,7 %",
        target="94,3 %",
        city_target="100 %",
        period="Tertial 1 2017",
    )
    assert "Sida" not in youth.raw_text


# --- split header words ----------------------------------------------------------------------


def test_split_header_columns_in_printed_order(split_header):
    row = split_header.rows[0]
    assert row.quality_flag is None
    # The header's boxes came out "Årsmål" before "Prognos helår": the columns keep their printed order.
    assert row.cells == cells(
        outcome="2,15 %",
        outcome_men="2,07 %",
        outcome_women="2,27 %",
        previous_outcome="2,07 %",
        forecast="1,6 %",
        target="1,6 %",
        city_target="1,6 %",
        period="Tertial 1 2023",
    )
    assert row.previous_label == "VB 2022"
    assert row.indicator_as_printed == "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen"


def test_split_header_row_with_one_value_is_flagged(split_header):
    row = split_header.rows[1]
    assert row.quality_flag == PLACEMENT_UNCERTAIN
    assert _empty_measures(row)
    assert row.cells["period"] == "Tertial 1 2023"  # its own stretch ends with it
    assert row.raw_text.endswith("70,3 %\nTertial 1 \n2023")
    assert row.comment == "Stödmaterialet för mätning av indikatorn nådde förvaltningen sent."


def test_split_header_value_in_the_header_box_stays_a_value(split_header):
    families, evictions = split_header.rows[2:]
    assert families.indicator_as_printed == "Antal barnfamiljer som beviljats en akutboendelösning på hotell/vandrarhem"
    assert evictions.indicator_as_printed == "Antal vräkningar som berör barn"
    # "12" came out in the box of "Periodens utfall VB 2022": a value of the first row, so the stretches
    # after the names do not hold one value per column, and nothing is placed.
    for row in (families, evictions):
        assert row.quality_flag == PLACEMENT_UNCERTAIN and _empty_measures(row)
        assert row.previous_label == "VB 2022"
    assert families.raw_text.split("\n")[3:5] == ["12", "11"]
    assert not any("Tertialrapport" in r.indicator_as_printed for r in split_header.rows)


def test_header_pieces_and_columns():
    assert is_header_piece("Progno\ns helår")
    assert is_header_piece("Årsmål KF:s")
    assert is_header_piece("ens utfall")
    assert is_header_piece("Årsmå")
    assert not is_header_piece("2017")  # a Period cell
    assert not is_header_piece("Andel dubbdäck")
    # a whole header in one box, however long, and a long paragraph that starts like one
    whole = "Indikator Periodens utfall Periodens utfall VB 2016 Prognos helår Årsmål KF:s årsmål Period"
    assert is_header_piece(whole * 20)
    paragraph = "Periodens utfall " + "Nämnden har arbetat med att öka andelen nöjda brukare i hela stadsdelen. " * 200
    assert not is_header_piece(paragraph)
    header = region_header(
        [
            "Indikator",
            "Progno s helår",
            "Årsmål KF:s",
            "Period",
            "årsmål",
            "Periode ns utfall",
            "Periode ns utfall VB 2016",
        ]
    )
    assert header.columns == ("outcome", "previous_outcome", "forecast", "target", "city_target", "period")
    assert header.previous_label == "VB 2016"
    plan = region_header(["Indikator", "Årsmål", "KF:s årsmål", "Periodicitet"])
    assert plan.columns == ("target", "city_target", "period")


# --- split values and units ------------------------------------------------------------------


def test_split_values_rows(split_values):
    got = [(r.indicator_as_printed, r.quality_flag) for r in split_values.rows]
    assert got == [
        ("Sjukfrånvaro", None),
        ("Andel elektroniska inköp", None),
        ("Antal barn per grupp", None),
        ("Andelen nöjda omsorgstagare - vård- och omsorgsboende (äldreomsorg)", PLACEMENT_UNCERTAIN),
        ("Klimatpåverkan från upphandlade livsmedel och måltider", PLACEMENT_UNCERTAIN),
    ]


def test_split_values_text_cell_broken_in_a_narrow_column(split_values):
    sick, purchases = split_values.rows[:2]
    assert sick.cells["city_target"] == "tas fram av nämnd"
    assert sick.cells["outcome_women"] == "7,4 %"
    assert purchases.cells == cells(
        outcome="64 %",
        outcome_men="60 %",
        outcome_women="68 %",
        previous_outcome="54 %",
        forecast="65 %",
        target="65 %",
        city_target="Tas fram av nämnd/styrelse",
        period="Tertial 1 2019",
    )


def test_split_values_unit_on_lines_of_its_own(split_values):
    group = split_values.rows[2]
    assert group.cells == cells(
        outcome="14,4 barn/avd.",
        outcome_men="13,9 barn/avd.",
        outcome_women="15 barn/avd.",
        previous_outcome="14,8 barn/avd.",
        forecast="15 barn/avd.",
        target="15 barn/avd.",
        city_target="15 barn/avd.",
        period="Tertial 1 2019",
    )


def test_split_values_boxes_of_one_row_out_of_order_are_not_placed(split_values):
    # Seven values and a Period cell after the name, but in boxes of one and of several cells: such
    # boxes can come out in another order than the columns, so nothing is placed.
    care = split_values.rows[3]
    assert _empty_measures(care)
    assert care.cells["period"] == "Tertial 1 2019"
    assert "73,18 \n78,56 \n%\n%\n69,9 \n%\n77,6 % 77,6 % Tas \nfram" in care.raw_text


def test_split_values_too_few_values_keep_the_row_and_flag_it(split_values):
    row = split_values.rows[4]
    assert _empty_measures(row) and row.cells["period"] == "2019"
    assert "1,5 kg\nCO2\nper kg\nlivsmed\nel" in row.raw_text


def test_value_text_helpers():
    assert mend_value_text("78,6 tas fram av nämnde n") == "78,6 tas fram av nämnden"
    assert mend_value_text("Fastst älls 2022") == "Fastställs 2022"
    assert mend_value_text("15,4 barn/av d.") == "15,4 barn/avd."
    assert unzip_units(["73,18", "74,56", "%", "%"]) == ["73,18", "%", "74,56", "%"]
    assert unzip_units(["73,18", "74,56", "%", "st"]) == []
    # A word is cut inside only on a full line of the column.
    assert join_cell_lines(["● Andel brukare", "som innehåller ", "en ", "jämställdhetsan", "alys"], 16) == (
        "● Andel brukare som innehåller en jämställdhetsanalys"
    )
    assert (
        join_cell_lines(["Stockholmarnas", "nöjdhet med stadsmiljön"], 24) == "Stockholmarnas nöjdhet med stadsmiljön"
    )
