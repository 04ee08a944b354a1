"""Report metadata (district, report type, year, tertial, org unit) from the text of a report.

Takes the extracted lines, gives a ReportMeta with the evidence for each field. The cover is read
first; without a cover the body is searched ("... i Hässelby-Vällingby stadsdelsförvaltning",
"Tertial 1 2019" period cells). A manifest entry, where there is one, overrides all of it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from pipeline.common.models import ReportMeta, TextLine
from pipeline.common.periods import TERTIAL_IN_TEXT
from pipeline.common.reference import find_districts, squash_hyphens

COVER_LINES = 80  # the cover and decision page come before the table of contents

_REPORT_TITLE = re.compile(
    r"\b(?P<kind>tertialrapport|verksamhetsberättelse|verksamhetsplan)\b"
    r"\s*(?P<tertial>[12](?!\d))?\s*[-–]?\s*(?:för\s+|VB\s+)?(?P<year>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)
_COUNCIL = re.compile(r"stadsdels(?:nämnd|förvaltning)", re.IGNORECASE)
_ORG_UNIT = re.compile(r"^\s*([A-ZÅÄÖ][\wåäöÅÄÖ-]*(?:enheten|avdelningen|sektionen))\s*$")
_COVER_ENDS = ("Innehållsförteckning", "Sammanfattande analys")  # the body starts here


def _report_type(kind: str, tertial: str | None) -> tuple[str | None, int | None]:
    kind = kind.lower()
    if kind == "tertialrapport":
        if tertial is None:
            return None, None
        return f"tertialrapport_{tertial}", int(tertial)
    if kind == "verksamhetsberättelse":
        return "verksamhetsberattelse", None
    return "verksamhetsplan", None


def _cover_text(lines: Sequence[TextLine]) -> list[str]:
    cover = []
    for line in lines[:COVER_LINES]:
        if line.text.strip().startswith(_COVER_ENDS):
            break
        cover.append(line.text)
    return cover


def infer_report_meta(lines: Sequence[TextLine]) -> ReportMeta:
    meta = ReportMeta()
    cover = _cover_text(lines)
    _title_from(cover, meta, "cover")
    _district_from(cover, meta, "cover")
    for text in cover:
        m = _ORG_UNIT.match(text)
        if m:
            meta.org_unit, meta.evidence["org_unit"] = m.group(1), "cover"
            break
    if meta.missing():
        _from_body(lines, meta)
    return meta


def _title_from(texts: Sequence[str], meta: ReportMeta, source: str) -> None:
    joined = squash_hyphens(" ".join(t.strip() for t in texts if t.strip()))
    for m in _REPORT_TITLE.finditer(joined):
        rtype, tertial = _report_type(m.group("kind"), m.group("tertial"))
        if rtype is None:
            continue
        meta.report_type, meta.tertial, meta.year = rtype, tertial, int(m.group("year"))
        meta.evidence.update(report_type=source, year=source)
        if tertial:
            meta.evidence["tertial"] = source
        return


def _district_from(texts: Sequence[str], meta: ReportMeta, source: str) -> None:
    """Prefer a district named with 'stadsdelsnämnd'/'stadsdelsförvaltning'; else the first named."""
    joined = " ".join(t.strip() for t in texts if t.strip())
    hits = find_districts(joined)
    if not hits:
        return
    flat = squash_hyphens(joined)
    councils = [d for pos, d in hits if _COUNCIL.search(flat[pos : pos + 60])]
    meta.district = (councils or [d for _, d in hits])[0].name
    meta.evidence["district"] = source


def _from_body(lines: Sequence[TextLine], meta: ReportMeta) -> None:
    """Without a cover: the most frequent 'Tertial N YYYY' period cell and council name in the body."""
    texts = [ln.text for ln in lines]
    if meta.district is None:
        council_lines = [t for t in texts if _COUNCIL.search(t)]
        counts = Counter(d.name for t in council_lines for _, d in find_districts(t))
        if counts:
            meta.district = counts.most_common(1)[0][0]
            meta.evidence["district"] = "text"
    if meta.report_type is None:
        # One pass over the joined text: a Period cell may wrap ("Tertial 1" / "2019").
        periods = Counter((m.group(1), m.group(2)) for m in TERTIAL_IN_TEXT.finditer("\n".join(texts)))
        if periods:
            (tertial, year), _ = periods.most_common(1)[0]
            meta.report_type, meta.tertial, meta.year = f"tertialrapport_{tertial}", int(tertial), int(year)
            meta.evidence.update(report_type="text", tertial="text", year="text")


def apply_manifest(meta: ReportMeta, entry: dict[str, str] | None) -> ReportMeta:
    """Fields given in the manifest override what the text says."""
    if not entry:
        return meta
    for field_name in ("district", "org_unit", "report_type", "year", "tertial"):
        value = (entry.get(field_name) or "").strip()
        if value:
            setattr(meta, field_name, int(value) if field_name in ("year", "tertial") else value)
            meta.evidence[field_name] = "manifest"
    return meta
