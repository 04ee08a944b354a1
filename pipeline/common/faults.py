"""Named points in a build where a test can stop it, to prove a crash there leaves the warehouse intact.

Takes the environment: INDICATORS_FAULT_AT names one or more points (comma-separated); when the build
reaches one, it prints `fault point <name> reached` to stderr and sleeps INDICATORS_FAULT_PAUSE_S
seconds, so a test can kill -9 the process exactly there (or read the old warehouse meanwhile).
Unset in production: then each point is one dictionary lookup.

Points: extract:<file name> (a worker process is about to read that file: a deliberately slow input for
the extraction time limit), load:schema (new file has its tables), load:midway (half of load.sql ran), gate (the new
file is complete, not yet checked), publish (checked and recorded, not yet renamed), published
(renamed, the rejected/leftover clean-up not yet done), extract:worker (an extraction worker started,
before it reads its file; the worker prints its own pid), query (`indicators query` has started its statement;
with INDICATORS_FAULT_PAUSE_S=0 it only says so, for a test that then sends Ctrl-C).
"""

from __future__ import annotations

import os
import sys
import time

FAULT_AT_ENV = "INDICATORS_FAULT_AT"
FAULT_PAUSE_ENV = "INDICATORS_FAULT_PAUSE_S"
DEFAULT_PAUSE_S = 60.0


def fault_point(name: str) -> None:
    """Pause here when a test asked for it; otherwise do nothing."""
    wanted = os.environ.get(FAULT_AT_ENV)
    if not wanted or name not in {w.strip() for w in wanted.split(",")}:
        return
    print(f"fault point {name} reached (pid {os.getpid()})", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get(FAULT_PAUSE_ENV, DEFAULT_PAUSE_S)))


def fault_settings() -> dict[str, str | None]:
    """The fault variables of this process, for a worker process whose environment is not inherited."""
    return {name: os.environ.get(name) for name in (FAULT_AT_ENV, FAULT_PAUSE_ENV)}


def apply_fault_settings(settings: dict[str, str | None]) -> None:
    for name, value in settings.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
