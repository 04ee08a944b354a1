"""Reading one report file into lines: a .txt as UTF-8, a PDF whole or in page ranges (pdfminer.six via
pipeline/pdf/document.py), with the checks that turn a bad file into a one-line reason (ExtractionFailed)."""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.common.models import READ_IN_PART, SourceFile, TextLine
from pipeline.common.sealed import SealBroken, read_sealed, write_sealed

CONTENT_TO_MEMORY = 64  # memory cap / largest page content stream read (32 MB under the default cap)


class ExtractionFailed(Exception):
    """A file whose text cannot be had; the message is the one-line reason users see."""


# --- reading one file ------------------------------------------------------------------------


def read_txt(path: str) -> list[TextLine]:
    data = Path(path).read_bytes()
    if not data.strip():
        raise ExtractionFailed("empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionFailed(
            f"not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise ExtractionFailed("binary content in a .txt file")
    return [TextLine(None, i, line) for i, line in enumerate(text.splitlines(), start=1)]


def pdf_page_count(path: str) -> int | None:
    """The page count from the document catalogue, for progress display; None when unreadable."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        with open(path, "rb") as fh:
            return int(resolve1(PDFDocument(PDFParser(fh)).catalog["Pages"])["Count"])
    except Exception:  # noqa: BLE001 - reading itself reports what is wrong with the file
        return None


def read_pdf(
    path: str, on_page: Callable[[int], None] | None = None, max_content_bytes: int | None = None
) -> list[TextLine]:
    check_pdf_file(path)
    from pipeline.pdf.document import pdf_to_lines  # pdfminer is only imported where PDFs are read

    with pdf_reasons():
        if max_content_bytes:
            check_content_streams(path, max_content_bytes)
        lines = pdf_to_lines(path, on_page)
    return with_text(path, lines)


def read_pdf_part(
    path: str,
    first: int,
    last: int | None,
    part: Path,
    on_page: Callable[[int], None],
    max_content_bytes: int,
    key: bytes,
) -> int:
    """Read pages first..last (None: to the end) of a PDF, unlaid, into the file `part` (for
    join_pdf_parts), sealed with `key`; gives the page count."""
    check_pdf_file(path)
    from pipeline.pdf.glyphs import read_raw_pages

    with pdf_reasons():
        check_content_streams(path, max_content_bytes, first, last)
        pages = list(read_raw_pages(path, first, last, on_page))
    part.parent.mkdir(parents=True, exist_ok=True)
    # Plain tuples of str, int and float: marshal writes and reads them 10 times faster than JSON
    # (1.2 against 14-21 ms a page), and only a part whose MAC is right is ever read back.
    write_sealed(part, marshal.dumps(pages), key)
    return len(pages)


def join_pdf_parts(path: str, parts: list[str], key: bytes) -> list[TextLine]:
    """The lines of a PDF whose pages were read in parts (read_pdf_part): laid out here as one document,
    the same lines read_pdf gives. A part that fails its check rejects the file for this build."""
    from pipeline.pdf.document import lines_from_pages

    pages = []
    for part in parts:
        try:
            pages += marshal.loads(read_sealed(Path(part), key))
        except (OSError, SealBroken) as exc:
            raise ExtractionFailed(f"a part read by another worker failed its check ({exc}); build again") from None
    with pdf_reasons():
        lines = lines_from_pages(pages, path)
    return with_text(path, lines)


def check_pdf_file(path: str) -> None:
    if Path(path).stat().st_size == 0:
        raise ExtractionFailed("empty file (0 bytes)")
    with open(path, "rb") as fh:
        if not fh.read(1024).lstrip().startswith(b"%PDF"):
            raise ExtractionFailed("not a PDF (no %PDF header)")


@contextmanager
def pdf_reasons() -> Iterator[None]:
    """pdfminer raises many types; the reason is what matters to a user."""
    try:
        yield
    except ExtractionFailed:
        raise
    except Exception as exc:
        raise ExtractionFailed(_pdf_reason(exc)) from exc


def with_text(path: str, lines: list[TextLine]) -> list[TextLine]:
    """The lines of a PDF that has text; one whose cross-reference table is damaged but that gave some
    text is read in part, with a note first that the parser turns into a warning."""
    damaged = xref_damaged(path)
    if not any(ln.text.strip() for ln in lines):
        if damaged:
            raise ExtractionFailed(f"{CORRUPT_XREF}: no text could be found through it")
        raise ExtractionFailed("no text layer (scanned images?); needs OCR before it can be read")
    if damaged:
        pages = len({ln.page for ln in lines})
        found = f"{pages} page{'s' if pages != 1 else ''}"
        note = (
            f"its cross-reference table is damaged; {found} found, some text may be missing "
            "(save or download the file again)"
        )
        return [TextLine(0, 0, READ_IN_PART + note), *lines]
    return lines


CORRUPT_XREF = "corrupt PDF: its cross-reference table is damaged (save or download the file again)"


def xref_damaged(path: str) -> bool:
    """Whether the cross-reference table is unreadable: pdfminer then guesses where objects are, and a
    wrong guess looks like a page without text, not like the damage it is."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser

    try:
        with open(path, "rb") as fh:
            PDFDocument(PDFParser(fh), fallback=False).catalog["Pages"]  # noqa: B018 - it must resolve
    except Exception as exc:  # noqa: BLE001 - any failure to read it without guessing is damage
        return "Encrypt" not in type(exc).__name__ and "Password" not in type(exc).__name__
    return False


def check_content_streams(path: str, max_bytes: int, first: int = 1, last: int | None = None) -> None:
    """Stop before pdfminer parses a page whose content stream is too large for the memory cap (it holds a
    whole decoded stream and an object per operator): a clear reason instead of an aborted worker."""
    import zlib

    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, resolve1

    with open(path, "rb") as fh:
        for page_no, page in enumerate(PDFPage.create_pages(PDFDocument(PDFParser(fh))), start=1):
            if page_no < first:
                continue
            if last is not None and page_no > last:
                return
            total = 0
            for stream in page.contents:
                stream = resolve1(stream)
                raw = getattr(stream, "rawdata", None)
                if raw is None:
                    continue
                filters = stream.get_filters() if hasattr(stream, "get_filters") else []
                if filters and filters[0][0] in LITERALS_FLATE_DECODE:
                    inflate = zlib.decompressobj()
                    size = len(inflate.decompress(raw, max_bytes + 1 - total))
                    while size + total <= max_bytes and inflate.unconsumed_tail:
                        size += len(inflate.decompress(inflate.unconsumed_tail, max_bytes + 1 - total - size))
                else:
                    size = len(raw)
                total += size
                if total > max_bytes:
                    raise ExtractionFailed(
                        f"content stream too large: page {page_no} holds more than {max_bytes >> 20} MB of "
                        "drawing instructions, more than can be read under the memory cap"
                    )


def _pdf_reason(exc: Exception) -> str:
    name = type(exc).__name__
    if "Encrypt" in name or "Password" in name:
        return "encrypted PDF; cannot read it without the password"
    if isinstance(exc, RecursionError):
        return "malformed PDF (recursion too deep while parsing)"
    if isinstance(exc, MemoryError):
        return "PDF needs more memory than the cap allows"
    return f"corrupt or unreadable PDF ({name}: {str(exc)[:120]})"


def read_lines(
    file: SourceFile, on_page: Callable[[int], None] | None = None, max_content_bytes: int | None = None
) -> list[TextLine]:
    return read_txt(file.path) if file.kind == "txt" else read_pdf(file.path, on_page, max_content_bytes)


def max_content_bytes(memory_mb: int) -> int:
    """The largest page content a worker under `memory_mb` reads: pdfminer needs tens of times as much."""
    return memory_mb * 1024 * 1024 // CONTENT_TO_MEMORY
