"""Report metadata from covers, from the body, and from a manifest."""

from pipeline.common.models import TextLine
from pipeline.parse.report_meta import apply_manifest, infer_report_meta


def _lines(*texts):
    return [TextLine(None, i, t) for i, t in enumerate(texts, start=1)]


def test_cover_of_each_sample(parsed_txt):
    got = {k: parsed_txt(k).meta for k in ("000", "001", "003", "004")}
    assert (got["000"].district, got["000"].report_type, got["000"].year, got["000"].tertial) == (
        "Hässelby-Vällingby",
        "tertialrapport_1",
        2014,
        1,
    )
    assert (got["001"].district, got["001"].report_type, got["001"].year) == (
        "Hägersten-Älvsjö",
        "tertialrapport_1",
        2021,
    )
    assert (got["003"].district, got["003"].report_type, got["003"].year, got["003"].tertial) == (
        "Rinkeby-Kista",
        "verksamhetsplan",
        2020,
        None,
    )
    assert (got["004"].district, got["004"].org_unit, got["004"].report_type, got["004"].year) == (
        "Östermalm",
        "Försörjningsstödsenheten",
        "verksamhetsberattelse",
        2013,
    )


def test_stray_space_in_district_name():
    meta = infer_report_meta(_lines("Verksamhetsplan 2020 för Rinkeby- Kista stadsdelsnämnd"))
    assert meta.district == "Rinkeby-Kista" and meta.year == 2020


def test_longest_district_name_wins():
    meta = infer_report_meta(_lines("Tertialrapport 2 2019 för Hägersten-Liljeholmen stadsdelsnämnd"))
    assert meta.district == "Hägersten-Liljeholmen" and meta.report_type == "tertialrapport_2" and meta.tertial == 2


def test_without_cover_from_body():
    meta = infer_report_meta(
        _lines(
            "Sammanfattande analys",
            "Arbetet i Spånga-Tensta stadsdelsförvaltning fortsätter.",
            "Andel elever",
            "Tertial 1 2019",
            "Tertial 1 2019",
        )
    )
    assert (meta.district, meta.report_type, meta.year, meta.tertial) == ("Spånga-Tensta", "tertialrapport_1", 2019, 1)
    assert meta.evidence["district"] == "text"


def test_manifest_overrides():
    meta = apply_manifest(
        infer_report_meta(_lines("Tertialrapport 1 2014 för Farsta stadsdelsnämnd")),
        {"district": "Bromma", "year": "2015", "org_unit": ""},
    )
    assert (meta.district, meta.year, meta.report_type) == ("Bromma", 2015, "tertialrapport_1")
    assert meta.evidence["district"] == "manifest"


def test_unknown_text_leaves_fields_missing():
    meta = infer_report_meta(_lines("Protokoll från styrelsemöte", "Inga beslut."))
    assert meta.missing() == ["district", "report_type", "year"]
