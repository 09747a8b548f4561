"""Feedback while a long plan runs: resources registered so far, on stderr, and only when stderr is a terminal.

Nothing is shown for a plan that ends within ``after_seconds``, nothing at all when stderr is a file or a pipe
(CI logs stay clean), and stdout (the plan itself) is never touched. The line is redrawn in place and erased
when the run ends, however it ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from .recorded import RecordedResource

_ERASE_LINE = "\r\x1b[K"


class Progress:
    def __init__(
        self,
        stream: TextIO | None = None,
        after_seconds: float = 2.0,
        every_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream or sys.stderr
        self._after = after_seconds
        self._every = every_seconds
        self._clock = clock
        self._enabled = self._stream.isatty()
        self._started = clock()
        self._shown_at: float | None = None
        self.registered = 0

    def __call__(self, resource: RecordedResource) -> None:
        self.registered += 1
        now = self._clock()
        if not self._enabled or now - self._started < self._after:
            return
        if self._shown_at is not None and now - self._shown_at < self._every:
            return
        try:
            columns = os.get_terminal_size(self._stream.fileno()).columns or 80  # 0: a terminal of no set size
        except OSError:
            columns = 80
        line = f"planning: {self.registered} resources registered ({resource.type} {resource.name})"
        self._stream.write(_ERASE_LINE + line[: max(columns - 1, 1)])
        self._stream.flush()
        self._shown_at = now

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._shown_at is not None:
            self._stream.write(_ERASE_LINE)
            self._stream.flush()
