"""Glyphs grouped into text lines, and lines cut into chunks and words.

Glyphs share a line when their vertical centres are close, whatever order the PDF emits them in. A line
is cut into chunks at wide uncovered gaps (cells of a table without borders, tab stops) and into words at
space glyphs or word gaps, so that producers that emit spaces and producers that only position words read
the same.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from operator import attrgetter
from statistics import median

from pipeline.pdf.glyphs import Glyph

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# Glyphs whose vertical centres differ by less than this (x the smaller font size) share a text line.
SAME_LINE_EM = 0.4
# An uncovered horizontal gap wider than this between glyphs is a word space (for PDFs that do not
# emit space glyphs; LibreOffice does, so its word gaps are covered by a space glyph).
WORD_GAP_EM = 0.12
# Letter spacing below this (in em) is kerning, not spacing: word gaps are judged as they are.
MIN_TRACKING_EM = 0.02
# A font's letter spacing is taken as settled after this many gaps measured.
SETTLED_SAMPLES = 400
# Gaps between two glyphs of a font measured (in em) for its letter spacing: wider ones are word gaps.
LETTER_GAP_RANGE_EM = (-0.05, 0.3)
# An uncovered gap wider than this separates text chunks (table cells without borders, tab stops).
CHUNK_GAP_EM = 0.35
# The same glyph drawn twice this close is overprinting ("fake bold"), kept once.
OVERPRINT_DISTANCE = 0.6


class Line:
    """Glyphs on one text line, left to right."""

    __slots__ = ("glyphs", "top", "bottom", "x0", "x1", "size", "_text", "_chunks", "_words")

    def __init__(self, glyphs: list[Glyph]) -> None:
        self.glyphs = glyphs
        inked = [g for g in glyphs if not g.is_space] or glyphs
        self.top = min([g.top for g in glyphs])
        self.bottom = max([g.bottom for g in glyphs])
        self.x0 = inked[0].x0
        self.x1 = inked[-1].x1
        self.size = median([g.size for g in inked])
        self._text: str | None = None
        self._chunks: list[Line] | None = None
        self._words: list[list[Glyph]] | None = None

    @property
    def text(self) -> str:
        """The line's text, spaces collapsed, not stripped at the end (a trailing space means a wrap)."""
        if self._text is None:
            self._text = glyphs_to_text(self.glyphs)
        return self._text

    @property
    def ends_with_space(self) -> bool:
        """LibreOffice keeps the space at which it wrapped a line: the cell's text goes on below."""
        return self.glyphs[-1].is_space

    @property
    def words(self) -> list[list[Glyph]]:
        """The words of the line's chunks, left to right (see split_words)."""
        if self._words is None:
            self._words = [word for chunk in self.chunks for word in split_words(chunk.glyphs)]
        return self._words

    @property
    def chunks(self) -> list[Line]:
        """The line cut at wide uncovered gaps: the pieces of a line that cross cells or tab stops."""
        if self._chunks is None:
            self._chunks = [Line(part) for part in split_at_gaps(self.glyphs, CHUNK_GAP_EM)]
        return self._chunks


def glyphs_to_text(glyphs: list[Glyph]) -> str:
    parts: list[str] = []
    previous: Glyph | None = None
    for glyph in glyphs:
        if (
            previous is not None
            and not glyph.is_space
            and not previous.is_space
            and glyph.x0 - previous.x1 - (glyph.tracking if glyph.tracking > previous.tracking else previous.tracking)
            > WORD_GAP_EM * (glyph.size if glyph.size < previous.size else previous.size)
        ):
            parts.append(" ")
        parts.append(glyph.text)
        previous = glyph
    return MULTIPLE_SPACES.sub(" ", "".join(parts)).lstrip(" ")


MULTIPLE_SPACES = re.compile(" {2,}")


def split_at_gaps(glyphs: list[Glyph], gap_em: float) -> list[list[Glyph]]:
    parts: list[list[Glyph]] = [[glyphs[0]]]
    for previous, glyph in zip(glyphs, glyphs[1:], strict=False):
        tracking = glyph.tracking if glyph.tracking > previous.tracking else previous.tracking
        if glyph.x0 - previous.x1 - tracking > gap_em * min(glyph.size, previous.size):
            parts.append([])
        parts[-1].append(glyph)
    # Space glyphs alone (a trailing space pushed past a gap) carry no text: give them to the left.
    merged: list[list[Glyph]] = []
    for part in parts:
        if merged and all(g.is_space for g in part):
            merged[-1].extend(part)
        else:
            merged.append(part)
    return merged


class LetterGaps:
    """The gap each font leaves between the letters of a word, measured over the document as its pages
    are read: the most common gap between two glyphs side by side in one text run. Letter-spaced text
    (CSS letter-spacing, PDF Tc) puts a gap between all its letters that may approach a word gap; word
    and chunk gaps are then judged beyond it. Without letter spacing (the most common gap is 0, or
    kerning) nothing changes."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[int]] = {}
        self.tracking_em: dict[str, float] = {}
        self.settled: set[str] = set()  # fonts measured often enough: not measured again

    def measure(self, chars: list[tuple]) -> None:
        """chars: (text, font, x0, x1, top, bottom, size) in the order the page draws them."""
        low, high = LETTER_GAP_RANGE_EM
        counts, settled = self.counts, self.settled
        touched = set()
        for before, char in zip(chars, chars[1:], strict=False):
            font = char[1]
            if font in settled or font != before[1] or char[4] != before[4]:
                continue
            size = char[6]
            text, previous = char[0], before[0]
            if not size or size != before[6] or not text or not previous or text.isspace() or previous.isspace():
                continue
            gap = (char[2] - before[3]) / size
            if low < gap < high:
                counts.setdefault(font, Counter())[round(gap * 100)] += 1
                touched.add(font)
        for font in touched:
            hundredths, _ = counts[font].most_common(1)[0]
            self.tracking_em[font] = hundredths / 100 if hundredths / 100 >= MIN_TRACKING_EM else 0.0
            if counts[font].total() >= SETTLED_SAMPLES:
                settled.add(font)


def group_into_lines(glyphs: Iterable[Glyph]) -> list[Line]:
    """Glyphs -> text lines, top to bottom. One sort and one sweep: O(n log n)."""
    ordered = sorted(glyphs, key=attrgetter("mid_y"))
    rows: list[list[Glyph]] = []
    anchor_y = anchor_size = 0.0
    for glyph in ordered:
        if rows and abs(glyph.mid_y - anchor_y) <= SAME_LINE_EM * min(glyph.size, anchor_size):
            rows[-1].append(glyph)
        else:
            rows.append([glyph])
            anchor_y, anchor_size = glyph.mid_y, glyph.size
    lines = []
    for row in rows:
        row.sort(key=attrgetter("x0"))
        kept = drop_overprinted(row)
        if any(not g.is_space for g in kept):
            lines.append(Line(kept))
    lines.sort(key=lambda line: (line.top, line.x0))
    return lines


def drop_overprinted(glyphs: list[Glyph]) -> list[Glyph]:
    kept: list[Glyph] = []
    for glyph in glyphs:
        if kept and glyph.text == kept[-1].text and abs(glyph.x0 - kept[-1].x0) < OVERPRINT_DISTANCE:
            continue
        kept.append(glyph)
    return kept


def split_words(glyphs: list[Glyph]) -> list[list[Glyph]]:
    """Glyphs -> words: a word ends at a space glyph (kept with it) or at an uncovered word gap, so
    producers that emit spaces and producers that only position words split the same way."""
    words: list[list[Glyph]] = []
    previous: Glyph | None = None
    for glyph in glyphs:
        starts_word = previous is None or (
            not glyph.is_space
            and (
                previous.is_space
                or glyph.x0
                - previous.x1
                - (glyph.tracking if glyph.tracking > previous.tracking else previous.tracking)
                > WORD_GAP_EM * min(glyph.size, previous.size)
            )
        )
        if starts_word:
            words.append([glyph])
        else:
            words[-1].append(glyph)
        previous = glyph
    return [word for word in words if any(not g.is_space for g in word)] or words
