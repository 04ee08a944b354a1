"""Follow a report's goal headings so every indicator row knows the goal it stands under.

Fed the report's lines outside tables (by both table parsers); gives the goal hierarchy
(Inriktningsmål -> KF:s mål -> Nämndmål / Åtagande) with assessments and source lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.common.models import Goal, TextLine
from pipeline.parse.vocab import clean_cell

# --- goals -----------------------------------------------------------------------------------

_GOAL_MARKERS = {
    "kf:s inriktningsmål": "inriktningsmal",
    "inriktningsmål": "inriktningsmal",
    "kf:s mål för verksamhetsområdet": "kf_goal",
    "nämndmål": "namndmal",
    "åtagande": "atagande",
}
_ASSESSMENT = re.compile(r"\bUppfylls\s+(helt|delvis|inte|ej)\b", re.IGNORECASE)
_GOAL_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")


def is_goal_marker(text: str) -> bool:
    """'Nämndmål:', 'KF:s mål för verksamhetsområdet:' ...: the label of the goal heading below it."""
    text = clean_cell(text.replace("\t", " "))
    return text.endswith(":") and text.rstrip(":").strip().lower() in _GOAL_MARKERS


@dataclass
class GoalTracker:
    """Follows the goal headings so every indicator row knows the goal it stands under."""

    goals: list[Goal] = field(default_factory=list)
    expecting: str | None = None
    current: dict[str, Goal] = field(default_factory=dict)  # kind -> innermost open goal
    counters: dict[str, int] = field(default_factory=dict)
    assessable: Goal | None = None  # the goal an "Uppfylls ..." line would belong to

    def feed(self, line: TextLine) -> None:
        text = clean_cell(line.text.replace("\t", " "))
        if not text:
            return
        marker = _GOAL_MARKERS.get(text.rstrip(":").strip().lower()) if text.endswith(":") else None
        if marker:
            self.expecting = marker
            return
        if self.expecting:
            self._open(self.expecting, text, line)
            self.expecting = None
            return
        m = _ASSESSMENT.search(text)
        if m and self.assessable is not None and self.assessable.assessment is None and len(text) < 40:
            word = m.group(1).lower()
            self.assessable.assessment = "inte" if word == "ej" else word

    def table_seen(self) -> None:
        """An assessment after a table belongs to a later heading, not the one above the table."""
        self.assessable = None

    def _open(self, kind: str, text: str, line: TextLine) -> None:
        levels = ("inriktningsmal", "kf_goal", "namndmal", "atagande")
        for deeper in levels[levels.index(kind) :]:
            self.current.pop(deeper, None)
        parent = next((self.current[k] for k in reversed(levels[: levels.index(kind)]) if k in self.current), None)
        number, title = self._number(text)
        ref = self._ref(kind, number, parent)
        goal = Goal(
            ref=ref,
            kind=kind,
            text=title,
            parent_ref=parent.ref if parent else None,
            source_page=line.page,
            source_line=line.line_no,
        )
        self.goals.append(goal)
        self.current[kind] = goal
        self.assessable = goal

    @staticmethod
    def _number(text: str) -> tuple[str | None, str]:
        m = _GOAL_NUMBER.match(text)
        return (m.group(1), m.group(2)) if m else (None, text)

    def _ref(self, kind: str, number: str | None, parent: Goal | None) -> str:
        depth = {"inriktningsmal": 1, "kf_goal": 2, "namndmal": 3}.get(kind)
        # A printed number is used only where it has the depth of its level and sits under its parent;
        # otherwise ("1. Förebyggande arbete" as a council goal) a synthetic ref avoids a collision.
        if number and depth and number.count(".") + 1 == depth:
            if parent is None or number.startswith(parent.ref + "."):
                return number
        prefix = {"inriktningsmal": "I", "kf_goal": "K", "namndmal": "N", "atagande": "A"}[kind]
        scope = parent.ref if parent else ""
        self.counters[scope + prefix] = self.counters.get(scope + prefix, 0) + 1
        own = f"{prefix}{self.counters[scope + prefix]}"
        return f"{scope}.{own}" if scope else own

    def current_ref(self) -> str | None:
        for kind in ("atagande", "namndmal", "kf_goal", "inriktningsmal"):
            if kind in self.current:
                return self.current[kind].ref
        return None
