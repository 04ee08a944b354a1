"""The reference passes of the extraction benchmark, each run in a process of its own (pipeline/bench/__main__.py).

    python -m pipeline.bench.passes plain|pdfium --workers N FILE ...

plain:  pdfminer.six's glyph pass, PDFPageAggregator(laparams=None) over every page: what the
        project's extraction cannot do without.
pdfium: pypdfium2's text pass over every page: the practical floor for getting text out of a PDF.
Both spread the files over a pool of N worker processes. Prints one JSON line: pages and seconds.
This module stays light: pool workers import it as their main module.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time


def plain_pages(path: str) -> int:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=None)
    interpreter = PDFPageInterpreter(resources, device)
    pages = 0
    with open(path, "rb") as fh:
        for page in PDFPage.get_pages(fh):
            interpreter.process_page(page)
            device.get_result()
            pages += 1
    return pages


def pdfium_pages(path: str) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        for page in pdf:
            text_page = page.get_textpage()
            text_page.get_text_range()
            text_page.close()
            page.close()
        return len(pdf)
    finally:
        pdf.close()


PASSES = {"plain": plain_pages, "pdfium": pdfium_pages}


def stop_forkserver() -> None:
    """Wait for the fork server, so the CPU time of the workers it started counts as this process's children's."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def run_pass(name: str, files: list[str], workers: int) -> dict:
    start = time.perf_counter()
    with mp.get_context("forkserver").Pool(workers) as pool:
        pages = sum(pool.imap_unordered(PASSES[name], files, chunksize=1))
    seconds = time.perf_counter() - start
    stop_forkserver()
    return {"pages": pages, "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("name", choices=sorted(PASSES))
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    print(json.dumps(run_pass(args.name, args.files, args.workers)))


if __name__ == "__main__":
    main()
