"""How the CLI ends when its reader goes away (``plan … | head``) or the user presses Ctrl-C: quietly, by the signal.

A C tool in the same place dies by the signal's default action, and the shell reports 128 + the signal number
(bash manual, "Exit Status": "When a command terminates on a fatal signal whose number is N, Bash uses the value
128+N as the exit status"): 141 for SIGPIPE, 130 for SIGINT. Python ignores SIGPIPE and turns both into
exceptions, so the CLI catches them and ends the same way. Python's docs ("Note on SIGPIPE", library/signal.html)
point stdout at /dev/null first so the interpreter's final flush does not raise again, and warn against SIG_DFL
for SIGPIPE while a program still runs (a closed socket would kill it): here it is restored only to end.
Dying by SIGINT rather than exiting 130 is also what Python does with an uncaught KeyboardInterrupt since 3.8
(bpo-1054041): a calling shell script can tell the user interrupted, and stops too.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn


def end_by_signal(signum: signal.Signals) -> NoReturn:
    """End the process as the signal's default action would, with nothing more on stdout."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    raise SystemExit(128 + signum)  # only where the default action does not end the process
