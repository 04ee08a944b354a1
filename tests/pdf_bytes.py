"""Tiny hand-made PDFs for the bad-input tests (text, no text layer, encrypted), and the file format
the drawn PDF fixtures are written in."""

from __future__ import annotations


def assemble_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """The PDF file of these numbered objects (the first is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer_extra
    out += f">>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _page_objects(content: bytes) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def text_pdf(*lines: str) -> bytes:
    ops = (
        b"BT /F1 11 Tf 72 770 Td 14 TL "
        + b" ".join(b"(" + line.encode("latin-1") + b") Tj T*" for line in lines)
        + b" ET"
    )
    return assemble_pdf(_page_objects(ops))


def image_only_pdf() -> bytes:
    """A page with only drawing on it, as a scan looks to a text extractor."""
    return assemble_pdf(_page_objects(b"0.5 g 72 72 451 698 re f"))


def encrypted_pdf() -> bytes:
    """Standard security handler whose user password is not empty: unreadable without it."""
    objects = _page_objects(b"BT /F1 11 Tf 72 770 Td (secret) Tj ET")
    objects.append(b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -44 >>")
    return assemble_pdf(
        objects,
        trailer_extra=b"/Encrypt 6 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] ",
    )
