"""A tagged PDF's structure tree: its tables as rows of cells, each cell naming its marked content.

Word, LibreOffice (tagged export), Chromium and report systems write a structure tree (catalog
/StructTreeRoot, /MarkInfo /Marked true): Table -> TR (also under THead/TBody/TFoot) -> TH/TD, each cell's
/K naming marked-content sequences (MCIDs) of the pages' content streams. This module reads the tree with
pdfminer.six alone and gives plain data: for each cell its kind, /ID, /Headers, ColSpan, RowSpan and the
(page number, MCID) pairs of its content, in order. A plain integer in /K belongs to the page of the
element (/Pg) or of its nearest ancestor that names one; a marked-content reference (MCR) may name its own.
The text of an MCID is looked up on its own page (glyphs.py records the MCID of every glyph), never on
the first page of the cell: a header repeated on every page may be one TH with content on each.

The tree is data from the file: it is walked without recursion, each object once, within limits, and a
tree that cannot be read gives no tables (the geometric reading then stands).
"""

from __future__ import annotations

from dataclasses import dataclass

from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1

# Limits on what is walked: a tree this deep or this large is not a report's (or loops).
MAX_DEPTH = 100
MAX_ELEMENTS = 500_000
# Role map entries followed from a custom structure type to a standard one.
MAX_ROLE_HOPS = 8

ROW_GROUPS = ("THead", "TBody", "TFoot")


@dataclass
class TreeCell:
    header: bool  # TH (else TD)
    id: str | None  # /ID: what a TD's /Headers names
    headers: tuple[str, ...]  # /Headers of its /A: the TH cells it stands under
    colspan: int
    rowspan: int
    content: list[tuple[int, int]]  # (page number, MCID), in the tree's order


@dataclass
class TreeTable:
    rows: list[list[TreeCell]]


def tree_tables(path: str) -> list[TreeTable] | None:
    """read_structure, or None when the tree cannot be read: the pages can, and their geometric reading
    stands (a broken tree does not make a readable report unreadable)."""
    try:
        return read_structure(path)
    except Exception:  # noqa: BLE001 - any failure of the tree leaves the geometric reading
        return None


def read_structure(path: str) -> list[TreeTable] | None:
    """The tables of a tagged PDF's structure tree; None when the PDF is not tagged (no structure tree,
    or /MarkInfo does not say /Marked true), [] when it is tagged but names no table rows."""
    with open(path, "rb") as handle:
        document = PDFDocument(PDFParser(handle))
        catalog = document.catalog
        mark_info = resolve1(catalog.get("MarkInfo"))
        root = resolve1(catalog.get("StructTreeRoot"))
        if (
            not isinstance(root, dict)
            or not isinstance(mark_info, dict)
            or resolve1(mark_info.get("Marked")) is not True
        ):
            return None
        page_numbers = {page.pageid: number for number, page in enumerate(PDFPage.create_pages(document), start=1)}
        return TreeReader(page_numbers, role_map(resolve1(root.get("RoleMap")))).tables(root)


def role_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(key): name for key, target in value.items() if (name := literal_name(resolve1(target)))}


def literal_name(value: object) -> str | None:
    name = getattr(value, "name", None)
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return name if isinstance(name, str) else None


class TreeReader:
    """Walks one structure tree. `page_numbers`: page object id -> 1-based page number."""

    def __init__(self, page_numbers: dict[int, int], roles: dict[str, str]) -> None:
        self.page_numbers = page_numbers
        self.roles = roles
        self.seen: set[int] = set()
        self.count = 0

    def structure_type(self, element: dict) -> str | None:
        name = literal_name(resolve1(element.get("S")))
        for _ in range(MAX_ROLE_HOPS):
            if name is None or name not in self.roles or self.roles[name] == name:
                break
            name = self.roles[name]
        return name

    def page_of(self, element: dict, inherited: int | None) -> int | None:
        ref = element.get("Pg")
        number = self.page_numbers.get(getattr(ref, "objid", None))
        return number if number is not None else inherited

    def kids(self, element: dict) -> list:
        kids = element.get("K")
        resolved = resolve1(kids)
        return list(resolved) if isinstance(resolved, list) else ([] if kids is None else [kids])

    def element(self, value: object) -> dict | None:
        """The structure element a /K entry names, once per walk (a loop or a shared kid is not walked twice)."""
        objid = getattr(value, "objid", None)
        if objid is not None:
            if objid in self.seen:
                return None
            self.seen.add(objid)
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise TreeTooLarge
        resolved = resolve1(value)
        return resolved if isinstance(resolved, dict) else None

    def tables(self, root: dict) -> list[TreeTable]:
        """Every Table element of the tree, in the tree's order; tables inside tables are cells' content."""
        found: list[TreeTable] = []
        stack = [(kid, None, 1) for kid in reversed(self.kids(root))]
        try:
            while stack:
                value, page, depth = stack.pop()
                element = self.element(value)
                if element is None or depth > MAX_DEPTH:
                    continue
                page = self.page_of(element, page)
                if self.structure_type(element) == "Table":
                    found.append(self.table(element, page, depth))
                    continue
                stack.extend((kid, page, depth + 1) for kid in reversed(self.kids(element)))
        except TreeTooLarge:
            return []
        return [table for table in found if table.rows]

    def table(self, element: dict, page: int | None, depth: int) -> TreeTable:
        rows: list[list[TreeCell]] = []
        for kid in self.kids(element):
            child = self.element(kid)
            if child is None:
                continue
            kind, child_page = self.structure_type(child), self.page_of(child, page)
            if kind == "TR":
                rows.append(self.row(child, child_page, depth + 1))
            elif kind in ROW_GROUPS:
                for grand in self.kids(child):
                    row = self.element(grand)
                    if row is not None and self.structure_type(row) == "TR":
                        rows.append(self.row(row, self.page_of(row, child_page), depth + 2))
        return TreeTable([row for row in rows if row])

    def row(self, element: dict, page: int | None, depth: int) -> list[TreeCell]:
        cells = []
        for kid in self.kids(element):
            child = self.element(kid)
            if child is None:
                continue
            kind = self.structure_type(child)
            if kind in ("TH", "TD"):
                cells.append(self.cell(child, kind == "TH", self.page_of(child, page), depth + 1))
        return cells

    def cell(self, element: dict, header: bool, page: int | None, depth: int) -> TreeCell:
        attributes = table_attributes(element)
        return TreeCell(
            header=header,
            id=text_of(element.get("ID")),
            headers=tuple(h for h in (text_of(v) for v in as_list(attributes.get("Headers"))) if h),
            colspan=span(attributes.get("ColSpan")),
            rowspan=span(attributes.get("RowSpan")),
            content=self.content(element, page, depth),
        )

    def content(self, element: dict, page: int | None, depth: int) -> list[tuple[int, int]]:
        """(page, MCID) of everything under `element`, in order: integers, MCRs, and kids' content."""
        out: list[tuple[int, int]] = []
        stack = [(kid, page, depth + 1) for kid in reversed(self.kids(element))]
        while stack:
            value, inherited, level = stack.pop()
            resolved = resolve1(value)
            if isinstance(resolved, int) and not isinstance(resolved, bool):
                if inherited is not None:
                    out.append((inherited, resolved))
                continue
            if not isinstance(resolved, dict) or level > MAX_DEPTH:
                continue
            kind = literal_name(resolve1(resolved.get("Type")))
            if kind == "MCR":
                mcid, here = resolve1(resolved.get("MCID")), self.page_of(resolved, inherited)
                if isinstance(mcid, int) and here is not None:
                    out.append((here, mcid))
                continue
            if kind == "OBJR":
                continue  # an annotation or XObject, not text of the cell
            child = self.element(value)
            if child is not None:
                here = self.page_of(child, inherited)
                stack.extend((kid, here, level + 1) for kid in reversed(self.kids(child)))
        return out


class TreeTooLarge(Exception):
    """More structure elements than a report has: the tree is not used."""


def table_attributes(element: dict) -> dict:
    """The Table attributes of /A (a dict, or a list of dicts and revision numbers), merged."""
    merged: dict = {}
    for entry in as_list(element.get("A")):
        entry = resolve1(entry)
        if isinstance(entry, dict):
            merged.update({key: resolve1(value) for key, value in entry.items()})
    return merged


def as_list(value: object) -> list:
    value = resolve1(value)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def text_of(value: object) -> str | None:
    value = resolve1(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


def span(value: object) -> int:
    """A ColSpan/RowSpan as given, 1 when missing or not a sensible count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1000 else 1
