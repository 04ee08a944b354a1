"""Placing a row's values in the columns of its table, when empty cells left no trace.

Hard rules decide which order-keeping placements are possible (breaks_hard_rule, gender_parts_fit);
soft evidence, weighted by the W_ constants, only picks the best reading of a row that gets flagged
(plausibility). place_values gives the placement and its flag, for the row reader (flat_rows.py) and
the box reader (flat_boxes.py) alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from pipeline.parse.flat_vocab import (
    _GOAL_WORDS,
    _LIMIT_WORDS,
    PLACEMENT_INCONSISTENT,
    PLACEMENT_UNCERTAIN,
    TOO_MANY_VALUES,
    _first_word,
    _same_number,
    parse_number,
)

# Float slack when comparing printed numbers at exactly one rounding width apart.
ROUNDING_EPSILON = 1e-9

# --- evidence --------------------------------------------------------------------------------

_REPORTED_LATER = re.compile(
    r"redovisas\s+(?:därmed\s+)?(?:i\s+samband\s+med\s+)?(?:i\s+)?(?:tertialrapport|T2|VB|tertial\s*2)"
    r"|mätning(?:en)?\s+(?:kommer\s+att\s+ske|sker|görs)"
    r"|utfall(?:et)?\s+(?:finns|kommer)\s+(?:först|senare)",
    re.IGNORECASE,
)
_COMMENT_NUMBER = re.compile(r"(?<![\d,])\d+(?:,\d+)?(?![\d,])")
_NUMBER_WORDS = {
    "två": 2,
    "tre": 3,
    "fyra": 4,
    "fem": 5,
    "sex": 6,
    "sju": 7,
    "åtta": 8,
    "nio": 9,
    "tio": 10,
    "elva": 11,
    "tolv": 12,
}
# Stems of words for people and for things: gender parts exist only for indicators about people.
# An indicator is taken to be about things only when it names a thing and no person.
_PEOPLE_STEMS = (
    "barn",
    "ungdom",
    "unga",
    "vuxna",
    "person",
    "invånare",
    "medarbetare",
    "anställd",
    "aspirant",
    "brukare",
    "omsorgstagare",
    "hemtjänsttagare",
    "boende",
    "föräldra",
    "vårdnadshavare",
    "stockholmare",
    "elev",
    "nyanlända",
    "enskilda",
    "kvinnor",
    "flickor",
    "pojkar",
    "chefer",
    "personal",
    "förskollärare",
    "deltagare",
    "sjukfrånvaro",
    "medskapande",
    "arbetsgivare",
    "hushåll",
    "individ",
    "klient",
    "patient",
    "äldre",
    "migrant",
    "pappor",
    "mammor",
    "studerande",
    "människor",
    "män",
)
_THING_STEMS = (
    "inköp",
    "platser",
    "åtgärder",
    "bostäder",
    "förskolor",
    "avtal",
    "tjänsteutlåtanden",
    "energi",
    "kostnader",
    "enheter",
    "ärenden",
    "utredningar",
    "anmälningar",
    "meddelanden",
    "hämtställen",
    "entreprenader",
    "fordon",
    "verksamhet",
    "budget",
    "prognossäkerhet",
    "registreringar",
    "beställningar",
    "ställen",
    "måltider",
    "livsmedel",
    "miljöbränsle",
    "vräkningar",
    "avhysningar",
)

# Soft evidence: weights of the plausibility score that picks the best reading of a flagged row.
W_TARGET = 2.0  # an annual target (Årsmål) is almost always printed
W_PREVIOUS = 0.5  # last year's outcome usually is too
W_PREVIOUS_ANNUAL = 1.0  # and nearly always for an annual indicator
W_ANNUAL_FORECAST = 3.0  # an annual indicator has no forecast in a tertial report (000, 001: never)
W_ANNUAL_OUTCOME = 1.0  # and rarely an outcome yet
W_TERTIAL_OUTCOME = 1.0  # a tertial indicator usually has its outcome
W_FORECAST_IS_TARGET = 1.0  # forecast and target are often the same number
W_KF_TARGET = 1.0  # KF goal tables have a KF target
W_COUNCIL_NO_KF_TARGET = 2.0  # council goal tables (Nämndmål) do not
W_GENDER_MARK = 0.5  # a name printed after a (lost) glyph is often a gender-reported indicator
W_TABLE_COLUMN = 0.5  # a column the certain rows of the same table fill, or leave empty
W_REPORTED_LATER = 2.0  # "Utfallet redovisas i samband med tertialrapport 2": no outcome (other than 0)
W_COMMENT_NUMBER = 1.0  # the analysis names the number put in the outcome
W_COUNT_ABOVE_FORECAST = 1.0  # a count so far above the full-year forecast is unlikely

GENDER = ("outcome_men", "outcome_women")


# --- placement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowContext:
    """What the placement rules know about a row besides its values."""

    annual: bool  # Period is a bare year
    tertial_report: bool
    goal_kind: str | None
    about_people: bool | None  # None: the name does not tell
    marked: bool
    comment: str
    table_columns: frozenset[str] | None  # columns filled by the certain rows of the table, if any


def about_people(name: str) -> bool | None:
    words = name.lower().split()
    if any(stem in w for w in words for stem in _PEOPLE_STEMS if len(stem) > 3 or w == stem):
        return True
    if any(stem in w for w in words for stem in _THING_STEMS):
        return False
    return None


def text_cell_kind(cell: str) -> str | None:
    """'council' for 'Tas fram av nämnd' (a KF target set by the council), 'goal' for 'öka', 'max 10'."""
    low = cell.lower()
    if low.startswith("tas"):
        return "council"
    word = _first_word(low)
    if word in _GOAL_WORDS or word in _LIMIT_WORDS or word.startswith("fastst"):
        return "goal"
    return None


def _half_unit(decimals: int) -> float:
    return 0.5 * 10.0**-decimals


def gender_parts_fit(total: str, men: str, women: str) -> bool:
    """The total of a gender split is between the parts (a share, an index) or their sum (a count)."""
    parsed = [parse_number(c) for c in (total, men, women)]
    if any(p is None for p in parsed):
        return True
    (t, td), (m, md), (w, wd) = parsed  # type: ignore[misc]
    # Printed numbers are rounded: 3,3 stands for [3,25; 3,35), 3,2 for [3,15; 3,25). A total that is
    # a rounding width or more above both parts (or below both) cannot be their average.
    tol_between = _half_unit(td) + max(_half_unit(md), _half_unit(wd)) - ROUNDING_EPSILON
    tol_sum = _half_unit(td) + _half_unit(md) + _half_unit(wd) - ROUNDING_EPSILON
    below_both = t <= min(m, w) - tol_between
    between_max_and_sum = t >= max(m, w) + tol_between and t <= m + w - tol_sum
    return not (below_both or between_max_and_sum)


def breaks_hard_rule(placed: dict[str, str], columns: Sequence[str], ctx: RowContext) -> bool:
    for column, value in placed.items():
        kind = text_cell_kind(value)
        if kind == "council" and column != "city_target":
            return True
        if kind == "goal" and column not in ("target", "city_target"):
            return True
    men, women = (g in placed for g in GENDER)
    if men != women:
        return True
    if men:
        if "outcome" in columns and "outcome" not in placed:
            return True
        if ctx.about_people is False:
            return True
        if "outcome" in placed and not gender_parts_fit(
            placed["outcome"], placed["outcome_men"], placed["outcome_women"]
        ):
            return True
    return False


def _comment_numbers(comment: str) -> set[float]:
    numbers = {float(m.group().replace(",", ".")) for m in _COMMENT_NUMBER.finditer(comment)}
    words = re.findall(r"[a-zåäö]+", comment.lower())
    return numbers | {float(_NUMBER_WORDS[w]) for w in words if w in _NUMBER_WORDS}


def plausibility(placed: dict[str, str], ctx: RowContext) -> float:
    """Soft evidence for one placement; it only picks the best reading of a row that gets flagged."""
    filled = set(placed)
    score = 0.0
    if "target" in filled:
        score += W_TARGET
    if "previous_outcome" in filled:
        score += W_PREVIOUS_ANNUAL if ctx.annual else W_PREVIOUS
    if ctx.tertial_report and ctx.annual:
        score -= W_ANNUAL_FORECAST * ("forecast" in filled) + W_ANNUAL_OUTCOME * ("outcome" in filled)
    elif ctx.tertial_report and "outcome" in filled:
        score += W_TERTIAL_OUTCOME
    if "outcome_men" in filled:
        score += W_GENDER_MARK if ctx.marked else -W_GENDER_MARK
    if "city_target" in filled:
        if ctx.goal_kind in ("namndmal", "atagande"):
            score -= W_COUNCIL_NO_KF_TARGET
        elif ctx.goal_kind == "kf_goal":
            score += W_KF_TARGET
    if "forecast" in filled and "target" in filled and _same_number(placed["forecast"], placed["target"]):
        score += W_FORECAST_IS_TARGET
    if ctx.table_columns is not None:
        score += sum(W_TABLE_COLUMN if c in ctx.table_columns else -W_TABLE_COLUMN for c in filled)
    outcome = parse_number(placed.get("outcome", ""))
    if outcome is not None:
        if outcome[0] != 0 and _REPORTED_LATER.search(ctx.comment):
            score -= W_REPORTED_LATER
        if outcome[0] in _comment_numbers(ctx.comment):
            score += W_COMMENT_NUMBER
        forecast = parse_number(placed.get("forecast", ""))
        if ctx.tertial_report and forecast is not None and outcome[0] > forecast[0] and _is_count(placed):
            score -= W_COUNT_ABOVE_FORECAST
    return score


def _is_count(placed: dict[str, str]) -> bool:
    return not any("%" in v for v in placed.values())


@dataclass
class Placement:
    cells: dict[str, str]
    flag: str | None


def _placed(values: Sequence[str], columns: Sequence[str]) -> dict[str, str]:
    return dict(zip(columns, values, strict=True))


def possible_placements(values: Sequence[str], columns: Sequence[str], ctx: RowContext) -> list[dict[str, str]]:
    """Every order-keeping placement of the values under the columns that breaks no hard rule."""
    out = []
    for combo in combinations(columns, len(values)):
        placed = _placed(values, combo)
        if not breaks_hard_rule(placed, columns, ctx):
            out.append(placed)
    return out


def matches_reference(placed: dict[str, str], reference: dict[str, str]) -> bool:
    """The same indicator, same period, placed with certainty elsewhere: every value in its column."""
    return all(reference.get(col) and _same_number(value, reference[col]) for col, value in placed.items())


def place_values(
    values: Sequence[str],
    columns: Sequence[str],
    ctx: RowContext,
    references: Sequence[dict[str, str]] = (),
) -> Placement:
    if len(values) > len(columns):
        return Placement({}, TOO_MANY_VALUES)
    if len(values) == len(columns):
        # One value per column: there is only one placement, whatever the numbers say.
        return Placement(_placed(values, columns), None)
    possible = possible_placements(values, columns, ctx)
    if len(possible) == 1:
        return Placement(possible[0], None)
    if not possible:
        relaxed = [_placed(values, combo) for combo in combinations(columns, len(values))]
        return Placement(max(relaxed, key=lambda p: plausibility(p, ctx)), PLACEMENT_INCONSISTENT)
    for reference in references:
        fitting = [p for p in possible if matches_reference(p, reference)]
        if len(fitting) == 1:
            return Placement(fitting[0], None)
    return Placement(max(possible, key=lambda p: plausibility(p, ctx)), PLACEMENT_UNCERTAIN)
