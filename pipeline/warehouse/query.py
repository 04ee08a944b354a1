"""Statements people run against the warehouse (`indicators query`), bounded.

A memory limit DuckDB enforces (with nothing spilled to disk: load.connect_read_only), a time limit,
and Ctrl-C that stops the statement at once. The statement runs in a thread of its own so that the
main thread stays free to wait: Python handles a signal only in the main thread and only between its
own steps, so a main thread inside DuckDB would see Ctrl-C only once the statement ended (a runaway
`string_agg` grew to gigabytes before it did). The time limit and Ctrl-C both call DuckDB's interrupt,
which stops the statement at its next chunk of work.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import duckdb

from pipeline.common.faults import fault_point

MEMORY_ENV = "INDICATORS_QUERY_MEMORY"
TIMEOUT_ENV = "INDICATORS_QUERY_TIMEOUT"
DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_TIMEOUT_S = 60.0

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B)\s*$", re.IGNORECASE)
_STOP_POLL_S = 0.1  # how often a stop is asked again until the statement has ended


class QueryStopped(Exception):
    """The statement was stopped by a limit: `limit` is "time" or "memory"."""

    def __init__(self, limit: str):
        super().__init__(limit)
        self.limit = limit


def memory_limit(text: str) -> str:
    """A size as DuckDB's memory_limit takes it: '2GB', '512 MB', '1.5GiB' -> '2GB', '512MB', '1.5GiB'."""
    m = _SIZE.match(text)
    if not m or float(m[1]) <= 0:
        raise ValueError(f"{text!r} is not a size such as 2GB or 512MB")
    unit = m[2].upper().replace("IB", "iB")
    return f"{m[1]}{unit}"


def memory_label(limit: str) -> str:
    """'2GB' -> '2 GB', for a message."""
    m = _SIZE.match(limit)
    return f"{m[1]} {m[2]}" if m else limit


def timeout_seconds(text: str) -> float:
    """Seconds a statement may run; 0 for no limit."""
    seconds = float(text)
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{text!r} is not a number of seconds (0 for no limit)")
    return seconds


def run_bounded(con: duckdb.DuckDBPyConnection, work: Callable[[], None], timeout_s: float | None) -> None:
    """Run work() (which uses `con`) within `timeout_s` seconds (None: no limit).

    Raises QueryStopped when the time limit or the connection's memory limit stopped it,
    KeyboardInterrupt (once the statement has stopped) on Ctrl-C, else whatever work() raised.
    """
    outcome: list[BaseException] = []
    finished = threading.Event()  # not Thread.join: a join cut short by Ctrl-C marks the thread ended

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            outcome.append(exc)
        finally:
            finished.set()

    threading.Thread(target=run, name="indicators-query", daemon=True).start()
    try:
        fault_point("query")
        finished.wait(timeout_s)
    except KeyboardInterrupt:
        _stop(con, finished)
        raise
    timed_out = not finished.is_set()
    _stop(con, finished)
    error = outcome[0] if outcome else None
    if timed_out and (error is None or isinstance(error, duckdb.InterruptException)):
        if error is not None:  # it ended on the interrupt; one that finished meanwhile printed its rows
            raise QueryStopped("time")
        return
    if isinstance(error, duckdb.OutOfMemoryException):
        raise QueryStopped("memory") from error
    if error is not None:
        raise error


def _stop(con: duckdb.DuckDBPyConnection, finished: threading.Event) -> None:
    """Interrupt the statement until its thread has finished (an interrupt sent just before DuckDB starts
    the statement is forgotten, so it is sent again); a second Ctrl-C meanwhile changes nothing."""
    while not finished.is_set():
        try:
            con.interrupt()
            finished.wait(_STOP_POLL_S)
        except KeyboardInterrupt:
            continue
