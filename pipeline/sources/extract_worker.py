"""An extraction worker process: takes files to extract on stdin, answers on stdout, one JSON line each.

Started by pipeline/sources/extract.py as `python -m pipeline.sources.extract_worker MEMORY_MB` and kept for many
files. Its main module is this small one, so a worker loads pdfminer and the extraction code only,
never what the parent has loaded (Dagster, Polars, DuckDB, pandas: seconds of CPU and ~200 MB each).

A job is {"path", "name", "sha256", "size", "kind", "out"}, with "pages": [first, last] to read
only those pages into the part file "out", or "parts": [part files] to lay them out as one document,
or "split": [parts wanted, fewest pages a part] to split a long PDF (it answers {"split": [pages,
ranges]} and reads the first range). The answers: {"ready": true} once started; {"page": [n, pages]}
while it reads, then {"ok": [pages, peak_mb]} or {"error": reason}, then {"ready": true} when it
takes another job or {"ready": false} when it exits.
The memory cap (an address-space limit) is set once the code is loaded. After a failed allocation, or
when its address space has grown past half the cap, the worker exits after answering: the parent
starts a fresh one for the next file.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1
# A worker whose address space has grown past this share of the cap exits after its file, so the
# next file starts with the whole cap.
RECYCLE_SHARE = 0.5
# Set to a folder: every worker writes its cProfile statistics there when it exits.
PROFILE_ENV = "INDICATORS_EXTRACT_PROFILE"


def die_with_parent() -> None:
    """A worker must not outlive its build (killed builds leave no workers behind)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the closed stdin still ends the worker between files
        pass


def _no_debug(*_args, **_kwargs) -> None:
    pass


def skip_disabled_debug_calls() -> None:
    """pdfminer calls log.debug for every token it reads (millions per report); with debug logging off
    each call still costs a method call and a level check, ~4 % of the work. Skip them outright."""
    import logging

    for name, module in list(sys.modules.items()):
        log = getattr(module, "log", None) if name.startswith("pdfminer") else None
        if isinstance(log, logging.Logger) and not log.isEnabledFor(logging.DEBUG):
            log.debug = _no_debug


def address_space_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def main() -> None:
    memory_mb = int(sys.argv[1])
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:
        return
    from pipeline.common.faults import fault_point
    from pipeline.sources.extract import _quiet_stderr

    fault_point("extract:worker")  # a test kills the build here: the worker must die with it
    _quiet_stderr()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever else prints goes to stderr, never into the answers
    sys.stdout = sys.stderr

    import pdfminer.cmapdb  # noqa: F401 - loaded before the cap, as the code every file needs
    import pdfminer.pdffont  # noqa: F401

    import pipeline.pdf.document  # noqa: F401
    from pipeline.common.models import SourceFile
    from pipeline.sources.extract import extract_one

    skip_disabled_debug_calls()
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.setrecursionlimit(5000)

    def send(kind: str, value: object) -> None:
        replies.write(json.dumps({kind: value}) + "\n")

    send("ready", True)
    for line in sys.stdin:
        job = json.loads(line)
        out, pages, parts, split = (job.pop(key, None) for key in ("out", "pages", "parts", "split"))
        kind = extract_one(SourceFile(**job), out, memory_mb, send, pages and tuple(pages), parts, split)
        go_on = kind != "memory" and address_space_bytes() <= RECYCLE_SHARE * limit
        send("ready", go_on)
        if not go_on:
            return


def profiled(folder: str) -> None:
    """main() under cProfile, its statistics written to FOLDER/worker-<pid>.prof (`bench --profile`)."""
    import cProfile

    profile = cProfile.Profile()
    try:
        profile.runcall(main)
    finally:
        profile.dump_stats(os.path.join(folder, f"worker-{os.getpid()}.prof"))


if __name__ == "__main__":
    if os.environ.get(PROFILE_ENV):
        profiled(os.environ[PROFILE_ENV])
    else:
        main()
