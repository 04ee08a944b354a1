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
import os
import resource
import selectors
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.faults import fault_point
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


def extract_one(file: SourceFile, out: str, memory_mb: int, send: Callable[[str, object], None]) -> str:
    """Extract one file into the cache, in a worker (pipeline/extract_worker.py); gives what was sent last."""
    try:
        fault_point(f"extract:{file.name}")  # a test's deliberately slow input (pipeline/faults.py)
        pages = pdf_page_count(file.path) if file.kind == "pdf" else None
        lines = read_lines(file, lambda n: send("page", (n, pages)))
        write_cache(Path(out), lines)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        send("ok", (_page_count(lines), peak_mb))
        return "ok"
    except ExtractionFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, MemoryError) or (cause is not None and _is_allocation_failure(cause)):
            send("error", _over_memory(memory_mb))
            return "memory"
        send("error", str(exc))
        return "error"
    except MemoryError:
        send("error", _over_memory(memory_mb))
        return "memory"
    except BaseException as exc:  # noqa: BLE001 - the parent needs a reason, whatever went wrong
        if _is_allocation_failure(exc):
            send("error", _over_memory(memory_mb))
            return "memory"
        log.debug("extract worker failed: %s", traceback.format_exc())
        send("error", f"{type(exc).__name__}: {str(exc)[:160]}")
        return "error"


def _over_memory(memory_mb: int) -> str:
    return f"needs more than the {memory_mb} MB memory cap; stopped"


def _is_allocation_failure(exc: BaseException) -> bool:
    """Under the address-space cap a failed allocation can surface as an OSError or ImportError."""
    text = str(exc).lower()
    return any(words in text for words in ("failed to map", "cannot allocate memory", "out of memory"))


class _Worker:
    """One long-lived worker process (pipeline/extract_worker.py) and the file it is extracting."""

    def __init__(self, memory_mb: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_SOURCE_ROOT, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.extract_worker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.buffer = b""
        self.file: SourceFile | None = None
        self.started = 0.0
        self.served = False  # said it was ready at least once

    def give(self, file: SourceFile, out: str) -> bool:
        """Send a file to extract; False when the worker is gone."""
        job = {"path": file.path, "name": file.name, "sha256": file.sha256, "size": file.size, "kind": file.kind}
        try:
            self.proc.stdin.write((json.dumps({**job, "out": out}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        self.file, self.started = file, time.monotonic()
        return True

    def read(self) -> list[dict] | None:
        """The answers that arrived (call when its stdout is readable); None at end of file: it exited."""
        chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        if not chunk:
            return None
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in complete if line.strip()]

    def stop(self, kill: bool = False) -> int | None:
        if kill:
            self.proc.kill()
        else:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        return code


_SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)


def extract_all(
    files: Iterable[SourceFile],
    settings: ExtractSettings,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Extracted], list[LoadError]]:
    """Extract every file not already cached, `settings.workers` at a time."""
    files = list(files)
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
    todo = _extract_text_files(todo, settings, done, errors)
    if todo:
        bars = ExtractProgress(len(todo))
        try:
            _run_workers(todo, settings, done, errors, report, bars)
        finally:
            bars.close()
    order = {id(f): i for i, f in enumerate(files)}
    done.sort(key=lambda e: (order.get(id(e.file), 0), e.file.name))
    return done, errors


def _extract_text_files(todo, settings, done, errors) -> list[SourceFile]:
    """Texts are read here: no parser to hang, nothing to cap. Gives the files left for the workers."""
    pdfs = []
    for file in todo:
        if file.kind != "txt":
            pdfs.append(file)
            continue
        try:
            write_cache(cache_path(settings.cache_dir, file), read_txt(file.path))
            done.append(Extracted(file, cache_path(settings.cache_dir, file), None, False))
        except ExtractionFailed as exc:
            errors.append(LoadError(file.name, "extract", str(exc)))
    return pdfs


def _run_workers(todo, settings, done, errors, report, bars: ExtractProgress) -> None:
    # Largest files first: a long report started last would leave the other workers idle at the end.
    queue = sorted(todo, key=lambda f: -f.size)
    total, finished = len(todo), 0
    workers: list[_Worker] = []
    idle: list[_Worker] = []  # started and waiting for a file
    selector = selectors.DefaultSelector()

    def finish(worker: _Worker, status: str, value) -> None:
        nonlocal finished
        file = worker.file
        assert file is not None
        worker.file = None
        bars.finish(file.name)
        finished += 1
        elapsed = time.monotonic() - worker.started
        if status == "ok":
            pages, peak_mb = value
            done.append(Extracted(file, cache_path(settings.cache_dir, file), pages, False, peak_mb))
            report(f"[{finished}/{total}] extracted {file.name} ({pages or '-'} pages, {elapsed:.1f} s)")
        else:
            errors.append(LoadError(file.name, "extract", value))
            report(f"[{finished}/{total}] rejected {file.name}: {value}")

    def retire(worker: _Worker, kill: bool = False) -> int | None:
        selector.unregister(worker.proc.stdout)
        workers.remove(worker)
        if worker in idle:
            idle.remove(worker)
        return worker.stop(kill)

    try:
        while queue or any(w.file is not None for w in workers):
            # a new worker only for a file no started worker will take
            while queue and len(workers) < max(1, settings.workers) and _free(workers) < len(queue):
                worker = _Worker(settings.memory_mb)
                selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
                workers.append(worker)
            while queue and idle:
                worker, file = idle.pop(), queue.pop(0)
                if worker.give(file, str(cache_path(settings.cache_dir, file))):
                    bars.start(file.name)
                else:
                    retire(worker, kill=True)
                    queue.insert(0, file)
            for key, _ in selector.select(timeout=_POLL_S):
                worker = key.data
                answers = worker.read()
                if answers is None:  # the worker exited: in the middle of a file, or after saying it would
                    code = retire(worker)
                    if worker.file is not None:
                        finish(worker, "error", _died(code, settings.memory_mb))
                    elif not worker.served and queue:  # it could not even start: the next ones would not either
                        worker.file = queue.pop(0)
                        finish(worker, "error", f"extraction process could not start (exit code {code})")
                    continue
                for answer in answers:
                    ((status, value),) = answer.items()
                    if status == "page":
                        bars.page(worker.file.name, *value)
                    elif status == "ready":  # started, or done with a file: whether it takes (another) one
                        worker.served = True
                        if value:
                            idle.append(worker)
                        else:
                            retire(worker)
                    else:
                        finish(worker, status, value)
            now = time.monotonic()
            for worker in list(workers):
                if worker.file is not None and now - worker.started > settings.timeout_s:
                    retire(worker, kill=True)
                    finish(worker, "error", f"extraction took longer than {settings.timeout_s:g} s; stopped")
    finally:
        for worker in list(workers):
            retire(worker, kill=worker.file is not None)
        selector.close()


def _free(workers: list[_Worker]) -> int:
    """Workers started or starting that hold no file."""
    return sum(1 for w in workers if w.file is None)


def _died(code: int | None, memory_mb: int) -> str:
    return f"extraction process died (exit code {code}; over the {memory_mb} MB memory cap?)"
