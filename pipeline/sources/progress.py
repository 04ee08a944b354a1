"""Progress of the extraction workers: a bar per file on a terminal, plain log lines elsewhere.

On a TTY (a person running `indicators build`) every file being extracted gets a line with a bar of
its pages and the time so far, under a bar of all files. Not on a TTY (CI, Dagster, cron) only the
log lines of finished files are written, so logs stay readable.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

BAR_WIDTH = 24
REDRAW_EVERY_S = 0.2  # a terminal redrawn more often only flickers


def _bar(done: int, total: int | None) -> str:
    if not total:
        return "[" + "?" * BAR_WIDTH + "]"
    filled = min(BAR_WIDTH, round(BAR_WIDTH * done / total))
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


@dataclass
class _FileState:
    started: float
    page: int = 0
    pages: int | None = None


@dataclass
class ExtractProgress:
    total_files: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    finished: int = 0
    running: dict[str, _FileState] = field(default_factory=dict)
    _drawn_lines: int = 0
    _last_draw: float = 0.0

    @property
    def on_terminal(self) -> bool:
        return os.environ.get("INDICATORS_PROGRESS", "auto") != "off" and self.stream.isatty()

    def start(self, name: str) -> None:
        self.running[name] = _FileState(time.monotonic())
        self._draw(force=True)

    def page(self, name: str, page: int, pages: int | None) -> None:
        state = self.running.get(name)
        if state is not None:
            state.page, state.pages = page, pages
            self._draw()

    def finish(self, name: str) -> None:
        self.running.pop(name, None)
        self.finished += 1
        self._draw(force=True)

    def close(self) -> None:
        if self.on_terminal and self._drawn_lines:
            self._clear()
            self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\x1b[1A\x1b[2K" * self._drawn_lines)
        self._drawn_lines = 0

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.on_terminal or (not force and now - self._last_draw < REDRAW_EVERY_S):
            return
        self._last_draw = now
        self._clear()
        lines = [f"extracting {_bar(self.finished, self.total_files)} {self.finished}/{self.total_files} files"]
        for name, st in self.running.items():
            pages = f"{st.page}/{st.pages or '?'} pages"
            lines.append(f"  {name[:40]:<40} {_bar(st.page, st.pages)} {pages:>13} {now - st.started:6.1f} s")
        self.stream.write("".join(line + "\n" for line in lines))
        self.stream.flush()
        self._drawn_lines = len(lines)
