"""Table cells, rows and tables, and how the wrapped lines of a cell join into the cell's text.

Tables with borders (ruled.py) and without (borderless.py) both give these. The lines of a cell join with
a space, or with nothing inside a word broken in a narrow cell ("Periode" / "ns utfall" -> "Periodens
utfall"): the geometry decides where it can, the words the document prints whole elsewhere (its
vocabulary) where it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.pdf.lines import Line

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# Room a wrapped line must leave before the cell's inner right edge (or the text margin) for a glyph
# to count as fitting: the border's own width eats into the text area.
FULL_LINE_SLACK = 0.5
# Words at least this long that the document prints whole elsewhere decide an ambiguous line break.
MIN_VOCABULARY_WORD = 3
# Two lines of a left-aligned cell start within this of each other.
SAME_INDENT_TOLERANCE = 0.5

TABLE_HEADER_WORDS = ("Indikator", "Aktivitet")
WORD_PUNCTUATION = ".,;:!?()[]\"'”“’«»"
# Words after a line-end hyphen that keep it: "barn-" / "och ungdomsnämnd".
KEPT_BEFORE = frozenset({"och", "eller", "samt", "respektive", "till", "som"})
# A row with a piece of text lying across a column bound (its values there are not loaded).
STRADDLES_COLUMNS = "straddles_columns"
# The soft hyphen character, which some fonts name their one hyphen glyph by.
SOFT_HYPHEN = "\u00ad"
# Glyphs that mark an indicator/activity and precede the first cell's text.
MARKER_GLYPHS = "♀▶✓●◆■🟢"


@dataclass
class Cell:
    lines: list[Line] = field(default_factory=list)
    # x where a line of this cell is full (cell edge less padding): used to spot words broken inside it
    inner_right: float = 0.0

    def text(self, vocabulary: Vocabulary = frozenset()) -> str:
        text = ""
        previous: Line | None = None
        for line in self.lines:
            piece = line.text.strip()
            if previous is None:
                text = piece
            else:
                head = text.split()[-1] if text.split() else ""
                if is_hyphenation(head, line, vocabulary):
                    text = text.rstrip()[:-1] + piece
                else:
                    joint = separator_between(previous, line, self.inner_right, vocabulary, head)
                    text = text.rstrip() + joint + piece
            previous = line
        return re.sub(r"\s{2,}", " ", text).strip()

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def is_unfinished(self) -> bool:
        """The cell's last line was wrapped, so its text goes on (on the next page)."""
        return bool(self.lines) and line_was_wrapped(self.lines[-1])


def separator_between(upper: Line, lower: Line, inner_right: float, vocabulary: Vocabulary, head: str = "") -> str:
    """What joins two wrapped lines of a cell: a space, or nothing inside a broken word.

    LibreOffice keeps the space it wrapped at as a trailing space glyph, or drops it when even the
    space does not fit; it breaks inside a word only when the word is wider than the cell, and then the
    fragment stands alone on its line, filling it. A lone word that fills its line with no trailing
    space is either a broken word or a whole word whose space did not fit: geometry cannot tell, so
    the words the document prints whole elsewhere, and the standard table words, decide
    ("Prognos" / "helår" vs "Progno" / "s helår"). `head` is the cell's last word so far: a word broken
    over three lines ("Peri" / "ode" / "ns") is known by all its pieces.
    """
    if upper.ends_with_space:
        return " "
    upper_text = upper.text.strip()
    if ends_in_break_after(upper_text):
        # line broken after a hyphen or slash ("LSS-" / "boende", "kvinnor/" / "flickor"); where the
        # producer draws no wrap spaces, "vård-" / "och" may as well be "vård- och": the document's
        # own words decide
        if getattr(vocabulary, "keeps_wrap_spaces", True) or not lower.text.split():
            return ""
        tail = lower.text.split()[0]
        joined = vocabulary_key((head or upper_text.split()[-1]) + tail) in vocabulary
        return "" if joined or not is_vocabulary_word(tail, vocabulary) else " "
    if " " in upper_text:
        return " "  # several words: the line was wrapped between words
    tail = lower.text.split()[0] if lower.text.split() else ""
    if vocabulary_key((head or upper_text) + tail) in vocabulary and not is_vocabulary_word(tail, vocabulary):
        return ""  # "Tertia" / "l 2 2023": a word broken in a narrow cell, whatever its alignment
    if abs(upper.x0 - lower.x0) > SAME_INDENT_TOLERANCE:
        return " "  # right-aligned or centred text: its lines end at the edge whether full or not
    room = inner_right - FULL_LINE_SLACK - upper.x1
    next_glyph = lower.glyphs[0]
    if next_glyph.x1 - next_glyph.x0 <= room:
        return " "  # the next glyph would have fitted: a line break inside the cell, not a wrap
    if upper.glyphs[-1].space <= room and getattr(vocabulary, "keeps_wrap_spaces", True):
        return ""  # a space would have fitted and been kept: the word was broken at the cell edge
    return "" if is_broken_word(head or upper_text, lower.text.split()[0], vocabulary) else " "


def is_hyphenation(head: str, lower: Line, vocabulary: Vocabulary) -> bool:
    """Is the hyphen ending `head` one the typesetter put inside a word to wrap it (producers that
    hyphenate narrow cells: "Perio-" / "dens ut-" / "fall")? Where the word without it is one the
    document prints whole (or a table word) and the word with it is not, so "LSS-" / "boende" and
    "vård-" / "och" keep theirs. (A font's one hyphen glyph may be named U+00AD, the soft hyphen, for a
    hyphen printed inside a line too: document.py reads it as a hyphen.)"""
    words = lower.text.split()
    if not words or len(head) < 2 or head[-1] != "-" or not head[-2].isalpha() or not words[0][:1].isalpha():
        return False
    whole, hyphenated = vocabulary_key(head[:-1] + words[0]), vocabulary_key(head + words[0])
    if hyphenated in vocabulary:
        return False
    if whole in vocabulary:
        return True
    # a producer seen hyphenating the table words hyphenates names too ("bero-" / "ende"): lower case
    # on both sides, not "vård-" / "och", not a one-letter prefix ("e-" / "tjänst")
    return (
        getattr(vocabulary, "hyphenates", False)
        and head[-2].islower()
        and words[0][:1].islower()
        and len(head) > 2
        and vocabulary_key(words[0]) not in KEPT_BEFORE
    )


def is_broken_word(head: str, tail: str, vocabulary: Vocabulary) -> bool:
    """Is `tail` (first word on the next line) the rest of `head`, or a word of its own?"""
    if vocabulary_key(head + tail) in vocabulary:
        return True
    if is_vocabulary_word(head, vocabulary):
        return False  # a whole word, then a number or another word: "Tertial" / "2 2021", "Utfall" / "män/"
    if head[-1:].isdigit() and not tail[:1].isdigit():
        return False  # a number, then its unit: "92,23" / "%"
    # A short tail ("s", "en", "ns") is too often both a word and a fragment: trust the geometry.
    return not is_vocabulary_word(tail, vocabulary)


def is_vocabulary_word(word: str, vocabulary: Vocabulary) -> bool:
    key = vocabulary_key(word)
    return len(key) >= MIN_VOCABULARY_WORD and key in vocabulary


def ends_in_break_after(text: str) -> bool:
    """Ends in a hyphen or slash stuck to a word: a place where lines break without a space."""
    return len(text) >= 2 and text[-1] in "-/" and not text[-2].isspace()


def line_was_wrapped(line: Line) -> bool:
    text = line.text
    return line.ends_with_space or (len(text) >= 2 and text[-1] == "-" and text[-2].isalpha())


@dataclass
class Row:
    cells: list[Cell]
    page: int
    top: float
    bottom: float
    # a row of a tagged PDF's table that its geometric reading reads otherwise (tagged_tables.py): the
    # flag, and the geometric reading, kept for a person checking it
    flag: str | None = None
    other: str = ""
    # columns whose value is not trusted (a piece of text lying across a column bound): read as empty
    untrusted: set[int] = field(default_factory=set)

    def text(self, vocabulary: Vocabulary = frozenset()) -> str:
        return "\t".join(cell.text(vocabulary) for cell in self.cells)

    def trusted_text(self, vocabulary: Vocabulary = frozenset()) -> str:
        """The row's text with its untrusted cells left empty (the whole reading is `text`)."""
        return "\t".join("" if c in self.untrusted else cell.text(vocabulary) for c, cell in enumerate(self.cells))

    @property
    def is_empty(self) -> bool:
        return all(cell.is_empty for cell in self.cells)

    @property
    def is_header(self) -> bool:
        return bool(self.cells) and starts_table_header(self.cells[0].text())


@dataclass
class Table:
    rows: list[Row]
    # x positions that identify the columns (separators or column starts): equal for two parts of
    # one table on consecutive pages
    columns: list[float]
    top: float
    bottom: float


# Words the document prints whole somewhere (lower case, no punctuation around them).
Vocabulary = frozenset[str] | set[str]


def starts_table_header(text: str) -> bool:
    return text.lstrip(MARKER_GLYPHS + " ").startswith(TABLE_HEADER_WORDS)


def vocabulary_key(word: str) -> str:
    return word.strip(WORD_PUNCTUATION).lower()
