"""Every asyncio event loop the Pulumi SDK opens in this process is closed by us, before Python's shutdown can.

The SDK opens one loop in the main thread (``asyncio.ensure_future`` of the first registration) and, under mocks,
one in each worker thread of that loop's default executor (``pulumi/runtime/mocks.py`` ``Invoke`` and
``RegisterResource`` call ``_ensure_event_loop`` in ``pulumi/runtime/sync_await.py``), and closes none of them.
A loop nobody closed is finalized with its self-pipe sockets, in one garbage collection and in no fixed order:
when a socket goes first, ``BaseEventLoop.__del__`` prints "Exception ignored in ... ValueError: Invalid file
descriptor: -1" with a traceback, under the CLI's own output (seen in CI, 2026-12-02).
"""

from __future__ import annotations

import asyncio
import threading
import warnings


class _CloseAtThreadExit:
    """Held in a thread-local: Python drops it when its thread ends, and it closes that thread's loop then."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __del__(self) -> None:
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()


_this_thread = threading.local()


def close_worker_loop_at_thread_exit() -> None:
    """Called in a worker thread of the mock engine: the loop the SDK gave it, if any yet, closes when it ends."""
    if threading.current_thread() is threading.main_thread() or hasattr(_this_thread, "closer"):
        return
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:  # not every mock call sets one up (invokes of a registration's outputs do not)
        return
    _this_thread.closer = _CloseAtThreadExit(loop)


def close_main_loop() -> None:
    """Close the main thread's loop: the process is about to end (``python -m components``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: get_event_loop() creating one is deprecated
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # no loop in this thread, and the policy creates none (3.14)
            return
    if not loop.is_running() and not loop.is_closed():
        loop.close()
