"""Extract the text of each report file into lines, cached by the file's content hash.

Takes SourceFiles, gives for each either the path of its cached extraction (a JSON list of
[page, line_no, text], with the row's flag and other reading after them where a tagged PDF's structure
tree and its drawing disagree) or a LoadError. A .txt is read as UTF-8; a PDF goes through pdfminer.six
(pipeline/pdf/document.py) in a worker process with a wall-clock limit and a memory cap, because
pdfminer has no time limit of its own and hangs or recurses on some malformed files. A PDF too long
for one worker to read while the others idle is read in parts by several, then laid out by one
(plan_jobs).

The cache key is the content hash plus EXTRACTOR_VERSION (a hash of the extraction code): a rebuild
with no changed file extracts nothing, and a change to the extraction code extracts everything again.

Reading one file is in pipeline/sources/extract_read.py and the cache in pipeline/sources/extract_cache.py;
this module holds what a worker does with a job and the pool of workers (extract_all).
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.faults import fault_point
from pipeline.common.models import LoadError, SourceFile, TextLine
from pipeline.common.paths import PROJECT_DIR
from pipeline.common.sealed import cache_key, remove_entry
from pipeline.sources.extract_cache import (
    DAMAGED_CACHE_WARNING,
    Extracted,
    _mark_used,
    cache_entry_problem,
    cache_path,
    entry_key,
    fetch_entries,
    prune_cache,
    publish_entries,
    write_cache,
)
from pipeline.sources.extract_read import (
    ExtractionFailed,
    join_pdf_parts,
    max_content_bytes,
    pdf_page_count,
    read_lines,
    read_pdf_part,
    read_txt,
)
from pipeline.sources.progress import ExtractProgress

log = logging.getLogger(__name__)


DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MEMORY_MB = 2048
_POLL_S = 0.05
# A file larger than its share of the run (all bytes / workers / PARTS_PER_WORKER) is read in parts
# of at least MIN_PART_PAGES pages, each by whichever worker is free, then laid out as one document
# by one of them: one long report no longer leaves the other cores idle. Shorter parts would cost
# more in opening the document again than they save. The worker given the file counts its pages
# and says how it is split (the parent never parses a PDF: only workers have limits).
PARTS_PER_WORKER = 2
MIN_PART_PAGES = 8


@dataclass(frozen=True)
class ExtractSettings:
    cache_dir: Path
    workers: int = os.cpu_count() or 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    min_part_pages: int = MIN_PART_PAGES  # 0: every file read whole by one worker
    prune: bool = True  # False when `files` are some of the reports (one partition): the others' entries stay


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
        key = entry_key(Path(out))  # the part files and the entry are sealed with the cache's key
        if pages is not None:
            count = read_pdf_part(
                file.path, *pages, Path(out), lambda n: send("page", (n, None)), max_content_bytes(memory_mb), key
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
                    key,
                )
            else:
                if parts:
                    lines = join_pdf_parts(file.path, parts, key)
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
    cache_key(settings.cache_dir)  # made here if new, before any worker seals with it
    paths = {id(f): cache_path(settings.cache_dir, f) for f in files}
    fetch_entries(settings.cache_dir, [p for p in paths.values() if not p.exists()])  # from a shared store
    for f in files:
        path = paths[id(f)]
        problem = cache_entry_problem(path)
        if problem is None:
            _mark_used(path)
            done.append(Extracted(f, path, None, from_cache=True))
            continue
        if problem != "missing":
            remove_entry(path)
            log.warning("cache entry %s of %s failed its check (%s); extracted again", path.name, f.name, problem)
            errors.append(LoadError(f.name, "extract", DAMAGED_CACHE_WARNING))
        todo.append(f)
    report = progress or (lambda msg: log.info(msg))
    if settings.prune:
        prune_cache(settings.cache_dir, {f.sha256 for f in files})
    todo = _extract_text_files(todo, settings, done, errors)
    if todo:
        bars = ExtractProgress(len(todo))
        try:
            _run_workers(todo, settings, done, errors, report, bars)
        finally:
            bars.close()
    publish_entries(settings.cache_dir, [d.cache_path for d in done if not d.from_cache])
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
