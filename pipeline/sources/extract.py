"""Extract the text of each report file into lines, cached by the file's content hash.

Takes SourceFiles, gives for each either the path of its cached extraction (a JSON list of
[page, line_no, text]) or a LoadError. A .txt is read as UTF-8; a PDF goes through pdfminer.six
(pipeline/pdf/layout.py) in a worker process with a wall-clock limit and a memory cap, because
pdfminer has no time limit of its own and hangs or recurses on some malformed files. A PDF too long
for one worker to read while the others idle is read in parts by several, then laid out by one
(plan_jobs).

The cache key is the content hash plus EXTRACTOR_VERSION (a hash of the extraction code): a rebuild
with no changed file extracts nothing, and a change to the extraction code extracts everything again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import math
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.faults import fault_point
from pipeline.common.models import ExtractedText, LoadError, SourceFile, TextLine
from pipeline.common.paths import PACKAGE_DIR, PROJECT_DIR
from pipeline.sources.progress import ExtractProgress

log = logging.getLogger(__name__)


def _code_version() -> str:
    """A change to the extraction code makes every cached extraction stale, with no version to bump."""
    digest = hashlib.sha256()
    for path in (*sorted(Path(__file__).parent.glob("extract*.py")), *sorted((PACKAGE_DIR / "pdf").glob("*.py"))):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


EXTRACTOR_VERSION = _code_version()
DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MEMORY_MB = 2048
CONTENT_TO_MEMORY = 64  # memory cap / largest page content stream read (32 MB under the default cap)
_POLL_S = 0.05
# A file larger than its share of the run (all bytes / workers / PARTS_PER_WORKER) is read in parts
# of at least MIN_PART_PAGES pages, each by whichever worker is free, then laid out as one document
# by one of them: one long report no longer leaves the other cores idle. Shorter parts would cost
# more in opening the document again than they save. The worker given the file counts its pages
# and says how it is split (the parent never parses a PDF: only workers have limits).
PARTS_PER_WORKER = 2
MIN_PART_PAGES = 8


class ExtractionFailed(Exception):
    """A file whose text cannot be had; the message is the one-line reason users see."""


@dataclass(frozen=True)
class Extracted:
    file: SourceFile
    cache_path: Path
    pages: int | None
    from_cache: bool
    worker_peak_mb: float | None = None  # largest resident set of the worker process(es) that extracted it
    parts: int = 1  # read in parts by several workers (plan_jobs)


@dataclass(frozen=True)
class ExtractSettings:
    cache_dir: Path
    workers: int = os.cpu_count() or 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    min_part_pages: int = MIN_PART_PAGES  # 0: every file read whole by one worker


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
    from pipeline.pdf.layout import pdf_to_lines  # pdfminer is only imported where PDFs are read

    with pdf_reasons():
        if max_content_bytes:
            check_content_streams(path, max_content_bytes)
        lines = pdf_to_lines(path, on_page)
    return with_text(path, lines)


def read_pdf_part(
    path: str, first: int, last: int | None, part: Path, on_page: Callable[[int], None], max_content_bytes: int
) -> int:
    """Read pages first..last (None: to the end) of a PDF, unlaid, into the file `part` (for
    join_pdf_parts); gives the page count."""
    check_pdf_file(path)
    from pipeline.pdf.layout import read_raw_pages

    with pdf_reasons():
        check_content_streams(path, max_content_bytes, first, last)
        pages = list(read_raw_pages(path, first, last, on_page))
    part.parent.mkdir(parents=True, exist_ok=True)
    tmp = part.with_name(f"{part.name}.tmpw{os.getpid()}")
    tmp.write_bytes(marshal.dumps(pages))  # plain tuples of str and float: marshal is the fastest way
    os.replace(tmp, part)
    return len(pages)


def join_pdf_parts(path: str, parts: list[str]) -> list[TextLine]:
    """The lines of a PDF whose pages were read in parts (read_pdf_part): laid out here as one document,
    the same lines read_pdf gives."""
    from pipeline.pdf.layout import lines_from_pages

    with pdf_reasons():
        lines = lines_from_pages(page for part in parts for page in marshal.loads(Path(part).read_bytes()))
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
    body = verified_body(path)
    try:
        return [TextLine(p, n, t) for p, n, t in json.loads(body)]
    except (ValueError, TypeError) as exc:  # written by this code, checksum right: should never happen
        raise DamagedCacheEntry(f"unreadable {path.name}: {exc}") from None


def verified_body(path: Path) -> bytes:
    """A cache entry's content once its checksum is found right (not parsed: most entries of a
    rebuild are only checked, their reports' results being cached further on)."""
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if not header.startswith(_CHECKSUM_PREFIX) or header[len(_CHECKSUM_PREFIX) :] != hashlib.sha256(
        body
    ).hexdigest().encode("ascii"):
        raise DamagedCacheEntry(f"checksum mismatch in {path.name}")
    return body


def cache_entry_ok(path: Path) -> bool:
    try:
        verified_body(path)
    except (OSError, DamagedCacheEntry):
        return False
    return True


DAMAGED_CACHE_WARNING = "warning: cached extraction was damaged (checksum mismatch); discarded and extracted again"
STALE_TMP_S = 3600  # a temporary file this old was left by a killed worker, not one still writing
# The extraction of a file no longer among the reports (replaced by a new version, or removed) is
# kept this long after it was last used, then removed: the cache does not grow with every version
# of every report ever read, and a report moved out for a while and back is not read again.
UNUSED_ENTRY_S = 30 * 86400


def prune_cache(cache_dir: Path, in_use: set[str] | None = None) -> int:
    """Remove extractions made by other versions of the code, temporary files of killed workers, and
    extractions of files not `in_use` (content hashes) unused for UNUSED_ENTRY_S."""
    removed = 0
    now = time.time()
    for path in (cache_dir / "extract").glob("*"):
        current = path.name.endswith(f".v{EXTRACTOR_VERSION}.json")
        stale_version = path.suffix == ".json" and not current
        abandoned = ".tmp" in path.suffix and now - path.stat().st_mtime > STALE_TMP_S
        unused = (
            current
            and in_use is not None
            and path.name.split(".", 1)[0] not in in_use
            and now - path.stat().st_mtime > UNUSED_ENTRY_S
        )
        if stale_version or abandoned or unused:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _mark_used(path: Path) -> None:
    """A cache entry's modification time says when a build last used it (prune_cache)."""
    try:
        os.utime(path)
    except OSError:  # a cache on a read-only medium is still a cache
        pass


def load_extracted(item: Extracted) -> ExtractedText:
    return ExtractedText(item.file, read_cache(item.cache_path))


def _page_count(lines: list[TextLine]) -> int | None:
    pages = [ln.page for ln in lines if ln.page is not None]
    return max(pages) if pages else None


# --- worker processes ------------------------------------------------------------------------


def extract_one(
    file: SourceFile,
    out: str,
    memory_mb: int,
    send: Callable[[str, object], None],
    pages: tuple[int, int | None] | None = None,
    parts: list[str] | None = None,
    split: tuple[int, int] | None = None,
) -> str:
    """In a worker (pipeline/sources/extract_worker.py): extract one file into the cache, or read `pages`
    (first, last) of it into the part file `out`, or lay out the `parts` read so into the cache.
    With `split` (parts wanted, fewest pages a part) a PDF long enough is split instead: the worker
    says so ("split": pages, ranges) and reads the first part. Gives what was sent last."""
    try:
        fault_point(f"extract:{file.name}")  # a test's deliberately slow input (pipeline/common/faults.py)
        if pages is not None:
            count = read_pdf_part(
                file.path, *pages, Path(out), lambda n: send("page", (n, None)), max_content_bytes(memory_mb)
            )
        else:
            total = pdf_page_count(file.path) if file.kind == "pdf" and not parts else None
            ranges = page_ranges(total, min(split[0], total // split[1])) if split and total else []
            if len(ranges) > 1:  # this worker reads the first part, others the rest (_run_workers)
                send("split", (total, ranges))
                first, last = ranges[0]
                count = read_pdf_part(
                    file.path,
                    first,
                    last,
                    Path(part_path(out, first, last, os.getppid())),
                    lambda n: send("page", (n, None)),
                    max_content_bytes(memory_mb),
                )
            else:
                if parts:
                    lines = join_pdf_parts(file.path, parts)
                else:
                    lines = read_lines(file, lambda n: send("page", (n, total)), max_content_bytes(memory_mb))
                write_cache(Path(out), lines)
                count = _page_count(lines)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        send("ok", (count, peak_mb))
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


# --- sharing the pages of long files among the workers -------------------------------------


@dataclass
class Job:
    """What a worker is given: a whole file (to split if `split`), the pages `pages` of one, or its
    `parts` to lay out."""

    file: SourceFile
    out: str
    weight: float  # bytes of the file this job reads: the heaviest go first
    pages: tuple[int, int | None] | None = None  # first, last page (None: to the end)
    parts: tuple[str, ...] = ()
    split: tuple[int, int] | None = None  # parts wanted, fewest pages a part

    def message(self) -> dict:
        f = self.file
        job = {"path": f.path, "name": f.name, "sha256": f.sha256, "size": f.size, "kind": f.kind, "out": self.out}
        for key in ("pages", "parts", "split"):
            if getattr(self, key):
                job[key] = list(getattr(self, key))
        return job


@dataclass
class _Split:
    """A file read in parts: what is still out, pages read so far, the largest worker memory seen."""

    parts: list[Job]
    pages: int
    waiting: int
    read: dict[int, int] = field(default_factory=dict)  # pages read so far, by part's first page
    peak_mb: float = 0.0
    failed: bool = False


def page_ranges(pages: int, parts: int) -> list[tuple[int, int]]:
    """1..pages in `parts` consecutive ranges of (nearly) equal length."""
    parts = max(1, parts)
    bounds = [round(i * pages / parts) for i in range(parts + 1)]
    return [(lo + 1, hi) for lo, hi in zip(bounds, bounds[1:], strict=False)]


def part_path(out: str, first: int, last: int, build_pid: int) -> str:
    """Where pages first..last of the file whose extraction goes to `out` are kept until laid out."""
    return f"{out}.p{first}-{last}.tmp{build_pid}"


def plan_jobs(files: list[SourceFile], settings: ExtractSettings) -> list[Job]:
    """The jobs for the workers, heaviest first; a file above its share of the run may be split."""
    share = sum(f.size for f in files) / (max(1, settings.workers) * PARTS_PER_WORKER)
    jobs = []
    for file in files:
        job = Job(file, str(cache_path(settings.cache_dir, file)), file.size)
        if settings.workers > 1 and settings.min_part_pages > 0 and file.kind == "pdf" and file.size > share:
            job.split = (math.ceil(file.size / share), settings.min_part_pages)
        jobs.append(job)
    jobs.sort(key=lambda job: -job.weight)
    return jobs


def split_job(job: Job, pages: int, ranges: list[tuple[int, int]]) -> _Split:
    """The parts of a file its worker split (the first of them is that worker's). The last part reads
    to the end, whatever the page count the document gave: a count that is short loses no page."""
    parts = [
        Job(job.file, part_path(job.out, a, b, os.getpid()), job.weight * (b - a + 1) / pages, (a, b))
        for a, b in ranges
    ]
    parts[-1].pages = (parts[-1].pages[0], None)
    return _Split(parts, pages, len(parts))


class _Worker:
    """One long-lived worker process (pipeline/sources/extract_worker.py) and the job it is doing."""

    def __init__(self, memory_mb: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_SOURCE_ROOT, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.sources.extract_worker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.buffer = b""
        self.job: Job | None = None
        self.started = time.monotonic()  # of the worker, then of each job it is given
        self.served = False  # said it was ready at least once

    @property
    def file(self) -> SourceFile | None:
        return self.job.file if self.job is not None else None

    def give(self, job: Job) -> bool:
        """Send a job; False when the worker is gone."""
        try:
            self.proc.stdin.write((json.dumps(job.message()) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        self.job, self.started = job, time.monotonic()
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


_SOURCE_ROOT = str(PROJECT_DIR)


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
        if path.exists() and cache_entry_ok(path):
            _mark_used(path)
            done.append(Extracted(f, path, None, from_cache=True))
            continue
        if path.exists():
            path.unlink(missing_ok=True)
            log.warning("cached extraction of %s was damaged (checksum mismatch); extracting it again", f.name)
            errors.append(LoadError(f.name, "extract", DAMAGED_CACHE_WARNING))
        todo.append(f)
    report = progress or (lambda msg: log.info(msg))
    prune_cache(settings.cache_dir, {f.sha256 for f in files})
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
    queue = plan_jobs(todo, settings)
    splits: dict[str, _Split] = {}
    total, finished = len(todo), 0
    workers: list[_Worker] = []
    idle: list[_Worker] = []  # started and waiting for a job
    selector = selectors.DefaultSelector()
    file_started: dict[str, float] = {}

    def file_done(file: SourceFile, status: str, value) -> None:
        nonlocal finished
        bars.finish(file.name)
        finished += 1
        elapsed = time.monotonic() - file_started.get(file.name, time.monotonic())
        if status == "ok":
            pages, peak_mb = value
            split = splits.get(file.name)
            parts = len(split.parts) if split else 1
            if split:
                peak_mb = max(peak_mb, split.peak_mb)
            done.append(Extracted(file, cache_path(settings.cache_dir, file), pages, False, peak_mb, parts))
            how = f", {parts} parts" if parts > 1 else ""
            report(f"[{finished}/{total}] extracted {file.name} ({pages or '-'} pages{how}, {elapsed:.1f} s)")
        else:
            errors.append(LoadError(file.name, "extract", value))
            report(f"[{finished}/{total}] rejected {file.name}: {value}")

    def finish(worker: _Worker, status: str, value) -> None:
        """A job ended: a whole file or its layout is done, or a part of one read."""
        job = worker.job
        assert job is not None
        worker.job = None
        split = splits.get(job.file.name)
        if job.pages is None:
            file_done(job.file, status, value)
            if split:
                _remove_parts(split)
        elif split.failed:
            Path(job.out).unlink(missing_ok=True)  # its file was rejected meanwhile
        elif status != "ok":
            split.failed = True
            queue[:] = [j for j in queue if j.file is not job.file]
            _remove_parts(split)
            file_done(job.file, status, value)
        else:
            split.waiting -= 1
            split.peak_mb = max(split.peak_mb, value[1])
            if not split.waiting:  # every page read: one worker lays the document out, next in line
                weight = job.file.size
                final = str(cache_path(settings.cache_dir, job.file))
                queue.insert(0, Job(job.file, final, weight, parts=tuple(p.out for p in split.parts)))

    def on_page(worker: _Worker, page: int, pages: int | None) -> None:
        job = worker.job
        split = splits.get(job.file.name)
        if job.pages is not None and split is not None:
            split.read[job.pages[0]] = page - job.pages[0] + 1
            page, pages = sum(split.read.values()), split.pages
        bars.page(job.file.name, page, pages)

    def retire(worker: _Worker, kill: bool = False) -> int | None:
        selector.unregister(worker.proc.stdout)
        workers.remove(worker)
        if worker in idle:
            idle.remove(worker)
        return worker.stop(kill)

    try:
        while queue or any(w.job is not None for w in workers):
            # a new worker only for a job no started worker will take
            while queue and len(workers) < max(1, settings.workers) and _free(workers) < len(queue):
                worker = _Worker(settings.memory_mb)
                selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
                workers.append(worker)
            while queue and idle:
                worker, job = idle.pop(), queue.pop(0)
                if worker.give(job):
                    if job.file.name not in file_started:
                        file_started[job.file.name] = time.monotonic()
                        bars.start(job.file.name)
                else:
                    retire(worker, kill=True)
                    queue.insert(0, job)
            for key, _ in selector.select(timeout=_POLL_S):
                worker = key.data
                answers = worker.read()
                if answers is None:  # the worker exited: in the middle of a job, or after saying it would
                    code = retire(worker)
                    if worker.job is not None:
                        finish(worker, "error", died_reason(code, settings.memory_mb))
                    elif not worker.served and queue:  # it could not even start: the next ones would not either
                        worker.job = queue.pop(0)
                        finish(worker, "error", f"extraction process could not start (exit code {code})")
                    continue
                for answer in answers:
                    ((status, value),) = answer.items()
                    if status == "page":
                        on_page(worker, *value)
                    elif status == "split":  # its worker reads the first part; the others go in line
                        split = splits[worker.file.name] = split_job(worker.job, *value)
                        worker.job = split.parts[0]
                        queue.extend(split.parts[1:])
                        queue.sort(key=lambda job: -job.weight)
                    elif status == "ready":  # started, or done with a job: whether it takes another one
                        worker.served = True
                        if value:
                            idle.append(worker)
                        else:
                            retire(worker)
                    else:
                        finish(worker, status, value)
            now = time.monotonic()
            for worker in list(workers):
                if worker.job is not None and now - worker.started > settings.timeout_s:
                    retire(worker, kill=True)
                    finish(worker, "error", f"extraction took longer than {settings.timeout_s:g} s; stopped")
                elif not worker.served and now - worker.started > settings.timeout_s and queue:
                    retire(worker, kill=True)  # it never got going: the job next in line says so
                    worker.job = queue.pop(0)
                    finish(worker, "error", f"extraction process did not start within {settings.timeout_s:g} s")
    finally:
        for worker in list(workers):
            retire(worker, kill=worker.job is not None)
        selector.close()
        for split in splits.values():
            _remove_parts(split)


def _remove_parts(split: _Split) -> None:
    for part in split.parts:
        Path(part.out).unlink(missing_ok=True)


def _free(workers: list[_Worker]) -> int:
    """Workers started or starting that hold no job."""
    return sum(1 for w in workers if w.job is None)
