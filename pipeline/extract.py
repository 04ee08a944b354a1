"""Extract the text of each report file into lines, cached by the file's content hash.

Takes SourceFiles, gives for each either the path of its cached extraction (a JSON list of
[page, line_no, text]) or a LoadError. A .txt is read as UTF-8; a PDF goes through pdfminer.six
(pipeline/pdf_layout.py) in a worker process with a wall-clock limit and a memory cap, because
pdfminer has no time limit of its own and hangs or recurses on some malformed files.

The cache key is the content hash plus EXTRACTOR_VERSION (a hash of the extraction code): a rebuild
with no changed file extracts nothing, and a change to the extraction code extracts everything again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.faults import apply_fault_settings, fault_point, fault_settings
from pipeline.models import ExtractedText, LoadError, SourceFile, TextLine
from pipeline.progress import ExtractProgress

log = logging.getLogger(__name__)


def _code_version() -> str:
    """A change to the extraction code makes every cached extraction stale, with no version to bump."""
    digest = hashlib.sha256()
    for name in ("extract.py", "pdf_layout.py"):
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:12]


EXTRACTOR_VERSION = _code_version()
DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MEMORY_MB = 2048
_POLL_S = 0.05


class ExtractionFailed(Exception):
    """A file whose text cannot be had; the message is the one-line reason users see."""


@dataclass(frozen=True)
class Extracted:
    file: SourceFile
    cache_path: Path
    pages: int | None
    from_cache: bool
    worker_peak_mb: float | None = None  # largest resident set of the worker process that extracted it


@dataclass(frozen=True)
class ExtractSettings:
    cache_dir: Path
    workers: int = os.cpu_count() or 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB


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


def read_pdf(path: str, on_page: Callable[[int], None] | None = None) -> list[TextLine]:
    if Path(path).stat().st_size == 0:
        raise ExtractionFailed("empty file (0 bytes)")
    with open(path, "rb") as fh:
        if not fh.read(1024).lstrip().startswith(b"%PDF"):
            raise ExtractionFailed("not a PDF (no %PDF header)")
    from pipeline.pdf_layout import pdf_to_lines  # pdfminer is only imported where PDFs are read

    try:
        lines = pdf_to_lines(path, on_page)
    except ExtractionFailed:
        raise
    except Exception as exc:  # pdfminer raises many types; the reason is what matters to a user
        raise ExtractionFailed(_pdf_reason(exc)) from exc
    if not any(ln.text.strip() for ln in lines):
        raise ExtractionFailed("no text layer (scanned images?); needs OCR before it can be read")
    return lines


def _pdf_reason(exc: Exception) -> str:
    name = type(exc).__name__
    if "Encrypt" in name or "Password" in name:
        return "encrypted PDF; cannot read it without the password"
    if isinstance(exc, RecursionError):
        return "malformed PDF (recursion too deep while parsing)"
    if isinstance(exc, MemoryError):
        return "PDF needs more memory than the cap allows"
    return f"corrupt or unreadable PDF ({name}: {str(exc)[:120]})"


def read_lines(file: SourceFile, on_page: Callable[[int], None] | None = None) -> list[TextLine]:
    return read_txt(file.path) if file.kind == "txt" else read_pdf(file.path, on_page)


# --- the cache -------------------------------------------------------------------------------


def cache_path(cache_dir: Path, file: SourceFile) -> Path:
    return cache_dir / "extract" / f"{file.sha256}.v{EXTRACTOR_VERSION}.json"


def write_cache(path: Path, lines: list[TextLine]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump([[ln.page, ln.line_no, ln.text] for ln in lines], fh, ensure_ascii=False)
    os.replace(tmp, path)


STALE_TMP_S = 3600  # a temporary file this old was left by a killed worker, not one still writing


def prune_cache(cache_dir: Path) -> int:
    """Remove extractions made by other versions of the code, and temporary files of killed workers."""
    removed = 0
    now = time.time()
    for path in (cache_dir / "extract").glob("*"):
        stale_version = path.suffix == ".json" and not path.name.endswith(f".v{EXTRACTOR_VERSION}.json")
        abandoned = ".tmp" in path.suffix and now - path.stat().st_mtime > STALE_TMP_S
        if stale_version or abandoned:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def load_extracted(item: Extracted) -> ExtractedText:
    with open(item.cache_path, encoding="utf-8") as fh:
        lines = [TextLine(p, n, t) for p, n, t in json.load(fh)]
    return ExtractedText(item.file, lines)


def _page_count(lines: list[TextLine]) -> int | None:
    pages = [ln.page for ln in lines if ln.page is not None]
    return max(pages) if pages else None


# --- worker processes ------------------------------------------------------------------------


def _worker(file: SourceFile, out: str, memory_mb: int, conn, faults: dict[str, str | None]) -> None:  # in the child
    try:
        # forkserver children inherit the server's environment, not this build's: pass the fault hooks on
        apply_fault_settings(faults)
        fault_point(f"extract:{file.name}")
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        sys.setrecursionlimit(5000)
        pages = pdf_page_count(file.path) if file.kind == "pdf" else None
        lines = read_lines(file, lambda n: conn.send(("page", (n, pages))))
        write_cache(Path(out), lines)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        conn.send(("ok", (_page_count(lines), peak_mb)))
    except ExtractionFailed as exc:
        conn.send(("error", str(exc)))
    except MemoryError:
        conn.send(("error", _over_memory(memory_mb)))
    except BaseException as exc:  # noqa: BLE001 - the parent needs a reason, whatever went wrong
        if _is_allocation_failure(exc):
            conn.send(("error", _over_memory(memory_mb)))
            return
        log.debug("extract worker failed: %s", traceback.format_exc())
        conn.send(("error", f"{type(exc).__name__}: {str(exc)[:160]}"))
    finally:
        conn.close()


def _over_memory(memory_mb: int) -> str:
    return f"needs more than the {memory_mb} MB memory cap; stopped"


def _is_allocation_failure(exc: BaseException) -> bool:
    """Under the address-space cap a failed allocation can surface as an OSError or ImportError."""
    text = str(exc).lower()
    return any(words in text for words in ("failed to map", "cannot allocate memory", "out of memory"))


@dataclass
class _Running:
    file: SourceFile
    proc: mp.process.BaseProcess
    conn: object
    started: float


def _context() -> mp.context.BaseContext:
    # forkserver: no fork of a threaded parent (Dagster runs threads); children start fast.
    methods = mp.get_all_start_methods()
    if "forkserver" not in methods:
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # Imported once in the server, so a worker under its memory cap does not map them again.
    ctx.set_forkserver_preload(["pipeline.pdf_layout", "pdfminer.pdfdocument", "pdfminer.pdfparser"])
    return ctx


def extract_all(
    files: Iterable[SourceFile],
    settings: ExtractSettings,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Extracted], list[LoadError]]:
    """Extract every file not already cached, `settings.workers` at a time."""
    done: list[Extracted] = []
    errors: list[LoadError] = []
    todo: list[SourceFile] = []
    for f in files:
        path = cache_path(settings.cache_dir, f)
        if path.exists():
            done.append(Extracted(f, path, None, from_cache=True))
        else:
            todo.append(f)
    report = progress or (lambda msg: log.info(msg))
    prune_cache(settings.cache_dir)
    if todo:
        bars = ExtractProgress(len(todo))
        try:
            _run_workers(todo, settings, done, errors, report, bars)
        finally:
            bars.close()
    order = {id(f): i for i, f in enumerate(files)} if isinstance(files, list) else {}
    done.sort(key=lambda e: (order.get(id(e.file), 0), e.file.name))
    return done, errors


def _run_workers(todo, settings, done, errors, report, bars: ExtractProgress) -> None:
    ctx = _context()
    queue, running, total, finished = list(todo), [], len(todo), 0
    while queue or running:
        while queue and len(running) < max(1, settings.workers):
            f = queue.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            out = str(cache_path(settings.cache_dir, f))
            proc = ctx.Process(target=_worker, args=(f, out, settings.memory_mb, child, fault_settings()), daemon=True)
            proc.start()
            child.close()
            running.append(_Running(f, proc, parent, time.monotonic()))
            bars.start(f.name)
        time.sleep(_POLL_S)
        for r in list(running):
            outcome = _poll(r, settings.timeout_s, settings.memory_mb, bars)
            if outcome is None:
                continue
            running.remove(r)
            bars.finish(r.file.name)
            finished += 1
            status, value = outcome
            elapsed = time.monotonic() - r.started
            if status == "ok":
                pages, peak_mb = value
                done.append(Extracted(r.file, cache_path(settings.cache_dir, r.file), pages, False, peak_mb))
                report(f"[{finished}/{total}] extracted {r.file.name} ({pages or '-'} pages, {elapsed:.1f} s)")
            else:
                errors.append(LoadError(r.file.name, "extract", value))
                report(f"[{finished}/{total}] rejected {r.file.name}: {value}")


def _poll(r: _Running, timeout_s: float, memory_mb: int, bars: ExtractProgress) -> tuple[str, object] | None:
    while r.conn.poll():
        try:
            kind, value = r.conn.recv()
        except EOFError:
            break
        if kind == "page":
            bars.page(r.file.name, *value)
            continue
        r.proc.join(timeout=5)
        return kind, value
    if not r.proc.is_alive():
        r.proc.join()
        return "error", f"extraction process died (exit code {r.proc.exitcode}; over the {memory_mb} MB memory cap?)"
    if time.monotonic() - r.started > timeout_s:
        r.proc.kill()
        r.proc.join()
        return "error", f"extraction took longer than {timeout_s:g} s; stopped"
    return None
