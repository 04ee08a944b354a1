"""Extract the text of each report file into lines, cached by the file's content hash.

Takes SourceFiles, gives for each either the path of its cached extraction (a JSON list of
[page, line_no, text]) or a LoadError. A .txt is read as UTF-8; a PDF goes through pdfminer.six
(pipeline/pdf_layout.py) in a worker process with a wall-clock limit and a memory cap, because
pdfminer has no time limit of its own and hangs or recurses on some malformed files.

The cache key is the content hash plus EXTRACTOR_VERSION (a hash of the extraction code): a rebuild
with no changed file extracts nothing, and a change to the extraction code extracts everything again.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
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
CONTENT_TO_MEMORY = 64  # memory cap / largest page content stream read (32 MB under the default cap)
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


def read_pdf(
    path: str, on_page: Callable[[int], None] | None = None, max_content_bytes: int | None = None
) -> list[TextLine]:
    if Path(path).stat().st_size == 0:
        raise ExtractionFailed("empty file (0 bytes)")
    with open(path, "rb") as fh:
        if not fh.read(1024).lstrip().startswith(b"%PDF"):
            raise ExtractionFailed("not a PDF (no %PDF header)")
    from pipeline.pdf_layout import pdf_to_lines  # pdfminer is only imported where PDFs are read

    try:
        if max_content_bytes:
            check_content_streams(path, max_content_bytes)
        lines = pdf_to_lines(path, on_page)
    except ExtractionFailed:
        raise
    except Exception as exc:  # pdfminer raises many types; the reason is what matters to a user
        raise ExtractionFailed(_pdf_reason(exc)) from exc
    if not any(ln.text.strip() for ln in lines):
        if xref_damaged(path):
            raise ExtractionFailed(f"{CORRUPT_XREF}: no text could be found through it")
        raise ExtractionFailed("no text layer (scanned images?); needs OCR before it can be read")
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


def check_content_streams(path: str, max_bytes: int) -> None:
    """Stop before pdfminer parses a page whose content stream is too large for the memory cap (it holds a
    whole decoded stream and an object per operator): a clear reason instead of an aborted worker."""
    import zlib

    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, resolve1

    with open(path, "rb") as fh:
        for page_no, page in enumerate(PDFPage.create_pages(PDFDocument(PDFParser(fh))), start=1):
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


# --- the cache -------------------------------------------------------------------------------


def cache_path(cache_dir: Path, file: SourceFile) -> Path:
    return cache_dir / "extract" / f"{file.sha256}.v{EXTRACTOR_VERSION}.json"


# A cache entry is a header line with the SHA-256 of the rest, then the JSON lines: an entry changed
# or cut short after it was written is found before use, discarded and extracted again.
_CHECKSUM_PREFIX = b"sha256 "


def write_cache(path: Path, lines: list[TextLine]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps([[ln.page, ln.line_no, ln.text] for ln in lines], ensure_ascii=False).encode("utf-8")
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(_CHECKSUM_PREFIX + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body)
    os.replace(tmp, path)


class DamagedCacheEntry(Exception):
    """A cache entry whose content does not match the checksum written with it."""


def read_cache(path: Path) -> list[TextLine]:
    """The lines of a cache entry, verified against its checksum; DamagedCacheEntry when they do not match."""
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if not header.startswith(_CHECKSUM_PREFIX) or header[len(_CHECKSUM_PREFIX) :] != hashlib.sha256(
        body
    ).hexdigest().encode("ascii"):
        raise DamagedCacheEntry(f"checksum mismatch in {path.name}")
    try:
        return [TextLine(p, n, t) for p, n, t in json.loads(body)]
    except (ValueError, TypeError) as exc:  # written by this code, checksum right: should never happen
        raise DamagedCacheEntry(f"unreadable {path.name}: {exc}") from None


def cache_entry_ok(path: Path) -> bool:
    try:
        read_cache(path)
    except (OSError, DamagedCacheEntry):
        return False
    return True


DAMAGED_CACHE_WARNING = "warning: cached extraction was damaged (checksum mismatch); discarded and extracted again"
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
    return ExtractedText(item.file, read_cache(item.cache_path))


def _page_count(lines: list[TextLine]) -> int | None:
    pages = [ln.page for ln in lines if ln.page is not None]
    return max(pages) if pages else None


# --- worker processes ------------------------------------------------------------------------


PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCHDOG_S = 1.0


def _die_with(build_pid: int) -> None:
    """End this worker when the build that started it is gone, even by kill -9: the kernel's parent-death
    signal on Linux (the parent is the fork server, which exits with the build), and a watchdog thread
    that looks for the build itself wherever prctl is missing."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    parent = os.getppid()

    def watch() -> None:
        while True:
            try:
                os.kill(build_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(_WATCHDOG_S)

    threading.Thread(target=watch, name="extract-watchdog", daemon=True).start()


def _worker(file: SourceFile, out: str, memory_mb: int, conn, build_pid: int, faults: dict[str, str | None]) -> None:
    # runs in the child; forkserver children inherit the server's environment, not this build's: pass the fault hooks on
    apply_fault_settings(faults)
    _die_with(build_pid)
    fault_point("extract:worker")
    _quiet_stderr()
    try:
        fault_point(f"extract:{file.name}")
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        sys.setrecursionlimit(5000)
        pages = pdf_page_count(file.path) if file.kind == "pdf" else None
        lines = read_lines(file, lambda n: conn.send(("page", (n, pages))), max_content_bytes(memory_mb))
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


def died_reason(exitcode: int | None, memory_mb: int) -> str:
    """Why a worker ended without an answer, in words (its exit status is a signal number, or a code)."""
    if exitcode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV, -signal.SIGBUS):
        how = {
            -signal.SIGABRT: "aborted",
            -signal.SIGKILL: "was killed",
            -signal.SIGSEGV: "crashed",
            -signal.SIGBUS: "crashed",
        }[exitcode]
        return f"the extraction {how} reading this file, most likely over the {memory_mb} MB memory cap; stopped"
    return (
        f"the extraction ended without a result (exit status {exitcode}), possibly over the {memory_mb} MB memory cap"
    )


def _quiet_stderr() -> None:
    """An interpreter that aborts prints a dump nobody asked for; the parent says what happened in one line."""
    if os.environ.get("INDICATORS_LOG", "").upper() == "DEBUG":
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


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
        if path.exists() and cache_entry_ok(path):
            done.append(Extracted(f, path, None, from_cache=True))
            continue
        if path.exists():
            path.unlink(missing_ok=True)
            log.warning("cached extraction of %s was damaged (checksum mismatch); extracting it again", f.name)
            errors.append(LoadError(f.name, "extract", DAMAGED_CACHE_WARNING))
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
            proc = ctx.Process(
                target=_worker, args=(f, out, settings.memory_mb, child, os.getpid(), fault_settings()), daemon=True
            )
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
        return "error", died_reason(r.proc.exitcode, memory_mb)
    if time.monotonic() - r.started > timeout_s:
        r.proc.kill()
        r.proc.join()
        return "error", f"extraction took longer than {timeout_s:g} s; stopped"
    return None
