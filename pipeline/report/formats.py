"""Swedish labels for the report: numbers with a decimal comma, periods as the reports print them, what a
quality flag means, where a value was printed.

The readers are Swedish: "5,79 %", "9 000 st", "Tertial 1 2019". One place for these rules, so every
page and chart says the same thing.
"""

from __future__ import annotations

import math
import os
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

NBSP = "\u00a0"
MINUS = "\u2212"

# Period spans the reports name (tertials are cumulative from January).
_SPAN_NAMES = {(1, 4): "Tertial 1", (1, 8): "Tertial 2", (1, 6): "Halvår 1", (7, 12): "Halvår 2"}

FLAG_MEANINGS = {
    "name_fragment": "namnet började på föregående sida; början saknas i källan",
    "realigned_row": "värdena placerades under kolumnerna utan periodcell som bekräftar det",
    "extra_cells": "raden hade fler celler än tabellhuvudet; de extra cellerna finns bara i källtexten",
    "unknown_column": "ett värde stod under ett okänt kolumnnamn eller under en kolumn för ett annat år",
    "mixed_units": "cellerna i raden har olika enheter; värdena är avlästa som de står",
    "unreadable_number": "en cell är inte ett enda tal i känd form (t.ex. '0.45', '12-15'); värdet lämnas tomt",
    "two_values_in_cell": "två kolumners värden har flutit ihop i en cell; värdet lämnas tomt",
    "continuation_conflict": "radens fortsättning efter sidbrytningen hade värden där raden redan hade värden; "
    "de fogades inte ihop",
    "structure_disagrees": "PDF-filens taggade tabell och det som syns på sidan läses olika; "
    "de värden som skiljer lämnas tomma",
    "straddles_columns": "en text i raden står över gränsen mellan två kolumner; de kolumnernas värden lämnas tomma",
    "placement_uncertain": "tabellens layout gick förlorad och fler än en placering av värdena är möjlig",
    "placement_inconsistent": "tabellens layout gick förlorad och ingen placering av värdena stämmer helt",
    "number_grouping_uncertain": "'1 500' kan vara ett tal eller två celler; avläst som två celler",
    "period_missing": "raden slutade inte med en periodcell",
    "too_many_values": "fler värden än kolumner; inga värden placerades",
    "not_a_period": "periodcellen är ingen period som kan läsas (t.ex. 'Tertial 2014'); utfallet hör inte till "
    "någon period",
    "no_period_column": "tabellen saknar periodkolumn",
    "duplicate_column": "två kolumner i tabellhuvudet har samma namn; det första värdet är avläst",
    "metadata_from_body": "stadsdel, rapporttyp eller år lästes ur rapportens text, inte ur försättsbladet "
    "eller manifestet",
    "unit_from_indicator": "raden anger ingen enhet; enheten är den som indikatorns övriga rader anger oftast",
}

ASSESSMENTS = {"helt": "Uppfylls helt", "delvis": "Uppfylls delvis", "inte": "Uppfylls inte"}
REPORT_TYPES = {
    "tertialrapport_1": "Tertialrapport 1",
    "tertialrapport_2": "Tertialrapport 2",
    "verksamhetsberattelse": "Verksamhetsberättelse",
    "verksamhetsplan": "Verksamhetsplan",
}


def sv_number(value: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    """5.79 -> "5,79", 9000 -> "9 000" (no-break space), -2 -> "−2"; the unit after a no-break space.

    Without `decimals`, as many as the value has (up to three), so a printed "0,45" stays "0,45".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if decimals is None:
        text = f"{abs(value):.3f}".rstrip("0").rstrip(".")
    else:
        text = f"{abs(value):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}".replace(",", NBSP)
    number = (MINUS if value < 0 and text.strip("0.") else "") + grouped + ("," + fraction if fraction else "")
    return f"{number}{NBSP}{unit}" if unit else number


def period_label(start: date, end: date) -> str:
    """A period as the reports print it: "Tertial 1 2019", "Halvår 1 2014", "2019" for a whole year."""
    if start.year == end.year:
        if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
            return str(start.year)
        name = _SPAN_NAMES.get((start.month, end.month))
        if name and start.day == 1 and (end + timedelta(days=1)).day == 1:
            return f"{name} {start.year}"
    return f"{start.isoformat()}–{end.isoformat()}"


def flag_text(flag: str | None) -> str:
    """What a quality flag (comma-separated codes) means, in Swedish."""
    if not flag:
        return ""
    return "; ".join(FLAG_MEANINGS.get(code, code) for code in flag.split(","))


def met_text(met: bool | None, better: str | None) -> str:
    if met is None:
        return "okänt"  # the direction of "better" unknown, or a value missing: never a guess
    return "ja" if met else "nej"


def source_href(report_file: str | None, page: int | None, raw_dir: Path, page_dir: Path) -> str | None:
    """A link from a page in `page_dir` to the report file in the raw folder, at its page for a PDF.

    Each segment of the path is percent-encoded: a file name is any text, and '?', '#', '%' or a space in
    it would otherwise end the path, start a fragment or be read as an escape ("q?x.pdf", "pct%41.txt").
    """
    if not report_file:
        return None
    relative = Path(os.path.relpath(raw_dir / report_file, page_dir)).as_posix()
    href = "/".join(quote(segment, safe="") for segment in relative.split("/"))
    if page is not None and report_file.lower().endswith(".pdf"):
        href += f"#page={page}"
    return href


def source_text(report_file: str | None, page: int | None, line: int | None) -> str:
    """Where a value was printed, for a link's title: "000_x.pdf, sida 6, rad 9"."""
    if not report_file:
        return ""
    parts = [report_file]
    if page is not None:
        parts.append(f"sida {page}")
    if line is not None:
        parts.append(f"rad {line}")
    return ", ".join(parts)


# The build's warnings (load_errors, reason 'warning: …') are English, as every log line is; the
# quality page says them in Swedish. A warning not known here is shown as written.
_LOST_LAYOUT = re.compile(
    r"^table layout lost(?P<boxes>, box order)?; read (?P<rows>\d+) indicator rows in (?P<tables>\d+) tables, "
    r"(?P<certain>\d+) placed with certainty, (?P<flagged>\d+) flagged(?: \((?P<flags>.*)\))?$"
)
_AT_LINE = re.compile(r"^line (?P<line>\d+)(?: of page (?P<page>\d+))?: (?P<what>.*)$")
_WARNINGS_SV = {
    "indicator table header with no rows under it": "ett tabellhuvud utan rader under",
    "comment with no indicator row above; left out": "en kommentar utan indikatorrad ovanför; utelämnad",
    "values with no indicator name above; left out": "värden utan indikatornamn ovanför; utelämnade",
    "no indicator table found in a text without table layout": "ingen indikatortabell i en text utan tabellayout",
    "cached extraction was damaged (checksum mismatch); discarded and extracted again": (
        "den sparade texten var skadad (kontrollsumman stämde inte); filen lästes om"
    ),
}


# Published values read differently by a new version of the code or a library (the value-change check),
# and a PDF read only in part: the phrases a warning and a held-back reason share.
_PHRASES_SV = (
    (
        r"(\d+) of (\d+) published values read differently now \(e\.g\. ",
        r"\1 av \2 publicerade värden läses nu annorlunda (t.ex. ",
    ),
    (
        r": more than (\d+)% of its values changed on reading it again with another version of the code or a "
        r"library; compare the examples with the report, and if the new reading is right, build once with "
        r"INDICATORS_VALUE_CHANGE_LIMIT=1",
        r": mer än \1 % av dess värden ändrades när den lästes om med en annan version av koden eller ett "
        r"bibliotek; jämför exemplen med rapporten, och om den nya läsningen är rätt, bygg en gång med "
        r"INDICATORS_VALUE_CHANGE_LIMIT=1",
    ),
    (
        r"^read in part: its cross-reference table is damaged; (\d+) pages? found, some text may be missing "
        r"\(save or download the file again\)",
        lambda m: (
            f"läst till en del: filens korsreferenstabell är skadad; {m[1]} {'sida' if m[1] == '1' else 'sidor'} "
            "hittades, text kan saknas (spara eller ladda ned filen igen)"
        ),
    ),
)


def _phrases_sv(text: str) -> str:
    for pattern, replacement in _PHRASES_SV:
        text = re.sub(pattern, replacement, text)
    return text


def warning_sv(reason: str, file: str = "") -> str:
    """A build warning in Swedish: 'warning: ' and the file name (its own column) dropped."""
    text = reason.removeprefix("warning: ")
    text = text.removeprefix(f"{file}: ") if file else text
    if (said := _phrases_sv(text)) != text:
        return said
    if m := _LOST_LAYOUT.match(text):
        how = " (läst ruta för ruta)" if m["boxes"] else ""
        flags = f" ({m['flags']})" if m["flags"] else ""
        return (
            f"tabellernas layout saknas i texten{how}; {m['rows']} indikatorrader i {m['tables']} tabeller, "
            f"{m['certain']} placerade med säkerhet, {m['flagged']} flaggade{flags}"
        )
    if (m := _AT_LINE.match(text)) and m["what"] in _WARNINGS_SV:
        where = f"sidan {m['page']}, rad {m['line']}" if m["page"] else f"rad {m['line']}"
        return f"{where}: {_WARNINGS_SV[m['what']]}"
    return _WARNINGS_SV.get(text, text)


# A report the quality gate held back (load_errors, reason 'held back: …', pipeline/warehouse/holdback.py):
# its known phrases in Swedish, the rest (an expectation's own wording) as written.
_HELD_BACK_SV = (
    (r"^held back: ", ""),
    (
        r"(\d+) of (\d+) rows have a unit outside the known set \(e\.g\. ((?:'[^']*'(?:, )?)*)\)",
        r"\1 av \2 rader har en enhet som inte är känd (t.ex. \3)",
    ),
    (
        r"; fix the file or its manifest row, or, if the unit is real, add it to the unit expectations in "
        r"expectations/ and to KNOWN_UNITS in pipeline/common/reference\.py",
        r"; rätta filen eller dess rad i manifest.csv, eller, om enheten är verklig, lägg till den i "
        r"enhetskontrollerna i expectations/ och i KNOWN_UNITS i pipeline/common/reference.py",
    ),
    (
        r"; numbers among them are neighbouring cells run together: its tables were misread",
        "; tal bland dem är värden ur intilliggande celler: tabellerna lästes fel",
    ),
    (
        r"only (\d+)% of its Period cells name its year (\d+) or the year before(?: \(they name ([^)]*)\))?, so its "
        r"year is wrong and every row would be filed under it",
        lambda m: (
            f"bara {m[1]} % av periodcellerna anger rapportens år {m[2]} eller året före"
            + (f" (de anger {m[3]})" if m[3] else "")
            + ", så året är fel och varje rad skulle hamna under det"
        ),
    ),
    (r"correct its row in manifest\.csv", "rätta rapportens rad i manifest.csv"),
    (r"correct the file, or give it a row in manifest\.csv", "rätta filen eller ge den en rad i manifest.csv"),
    (
        r"(\d+) goal numbers are printed more than once \(e\.g\. ([^)]*)\)",
        r"\1 målnummer står mer än en gång (t.ex. \2)",
    ),
    (
        r"(\d+) of its (\d+) indicator rows repeat an earlier row cell for cell",
        r"\1 av dess \2 indikatorrader upprepar en tidigare rad cell för cell",
    ),
    (
        r": is the report's text in the file twice\? fix the file",
        ": står rapportens text två gånger i filen? Rätta filen",
    ),
    (r"; and (\d+) more checks", r"; och \1 kontroller till"),
    (r"the version published before \(([^)]*)\) stays", r"den tidigare publicerade versionen (\1) ligger kvar"),
    (r"the version published before stays", "den tidigare publicerade versionen ligger kvar"),
    (r"no earlier version was published", "ingen tidigare version var publicerad"),
    (
        r"the version published before cannot be kept \(its cached result is gone\)",
        "den tidigare publicerade versionen kan inte behållas (dess sparade resultat finns inte kvar)",
    ),
)


def held_back_sv(reason: str) -> str:
    """Why the gate held a report back, in Swedish where the phrase is known."""
    for pattern, replacement in _HELD_BACK_SV:
        reason = re.sub(pattern, replacement, reason)
    return _phrases_sv(reason)
