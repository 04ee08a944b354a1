"""Swedish numbers, units and text cells."""

import polars as pl
import pytest

from pipeline.model.normalize import cell_reading, normalize_name, normalize_report, swedish_number


@pytest.mark.parametrize(
    ("cell", "value", "unit"),
    [
        ("5,79 %", 5.79, "%"),
        ("9 000 st", 9000.0, "st"),
        ("9\u00a0000 st", 9000.0, "st"),
        ("1\u202f234,5", 1234.5, None),
        ("1\u2009000 kr", 1000.0, "kr"),
        ("\u22122", -2.0, None),
        ("\u22121\u00a0500 tkr", -1500.0, "tkr"),
        ("5,79%", 5.79, "%"),
        ("1)", None, None),
        ("1 123", 1123.0, None),
        ("1600 st", 1600.0, "st"),
        ("-1 %", -1.0, "%"),
        ("0", 0.0, None),
        ("17,2 barn/avd.", 17.2, "barn/avd"),
        ("108 st.", 108.0, "st"),
        ("1,7 GWh", 1.7, "GWh"),
        ("62 kwh/kv m", 62.0, "kWh/kvm"),
        ("1,58 kg CO2 per kg livsmedel", 1.58, "kg CO2 per kg livsmedel"),
        ("3 Ärenden", 3.0, "Ärenden"),
        ("15,4 barn/av d.", 15.4, "barn/av d."),  # a unit broken by the extraction is still a unit
        ("−0,5", -0.5, None),
        ("Tas fram av nämnd", None, None),
        ("+/- 1 %", None, None),
        ("-", None, None),
        ("", None, None),
    ],
)
def test_swedish_number(cell, value, unit):
    assert swedish_number(cell) == (value, unit)


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        ("0.45", "unreadable_number"),
        ("1.234 kr", "unreadable_number"),
        ("12-15", "unreadable_number"),
        ("5/10", "unreadable_number"),
        ("2019/2020", "unreadable_number"),
        ("3 %  4 %", "two_values_in_cell"),
        ("- 70,6", "two_values_in_cell"),
        ("57,48 % 63,52 %", "two_values_in_cell"),
        ("1)", "unreadable_number"),
        ("12 345 678 9", "two_values_in_cell"),
    ],
)
def test_a_cell_that_is_not_one_number_is_null_and_flagged(cell, flag):
    assert cell_reading(cell) == (None, None, flag)


def test_normalize_name_folds_spaces_and_final_stop():
    assert normalize_name("  Andel  personer\u00a0med  insatser. ") == "Andel personer med insatser"


def test_normalized_sample_000_rows(parsed_txt):
    frame = normalize_report(parsed_txt("000"))
    row = frame.filter(
        pl.col("indicator_as_printed") == "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd"
    ).row(0, named=True)
    assert (row["outcome"], row["previous_outcome"], row["forecast"], row["target"], row["city_target"]) == (
        5.79,
        5.77,
        5.6,
        5.5,
        4.0,
    )
    assert row["unit"] == "%" and row["quality_flag"] is None
    dubb = frame.filter(pl.col("indicator_as_printed") == "Andel dubbdäck").row(0, named=True)
    assert dubb["city_target"] is None and dubb["city_target_text"] == "tas fram av nämnde n/styrels en"
    assert dubb["text_cells"] == 1
    el = frame.filter(pl.col("indicator_as_printed") == "Elanvändning per kvadratmeter").row(0, named=True)
    assert el["quality_flag"] == "mixed_units"  # "62 kwh/kv m" against "33 kWh": kept, flagged


def test_normalized_sample_001_gender_columns(parsed_txt):
    frame = normalize_report(parsed_txt("001"))
    row = frame.filter(pl.col("indicator_as_printed") == "Antal ungdomar som fått feriejobb i stadens regi").row(
        0, named=True
    )
    assert (
        row["outcome"],
        row["outcome_men"],
        row["outcome_women"],
        row["previous_outcome"],
        row["forecast"],
        row["target"],
        row["city_target"],
    ) == (0.0, 0.0, 0.0, 369.0, 350.0, 400.0, 9000.0)
    assert row["unit"] == "st"
