#!/usr/bin/env python3
"""Runs a command for as long as this process's standard input stays open.

    python guard.py -- CMD [ARGS...]

When stdin reaches EOF (the parent closed the pipe, exited, or was killed) the command is
terminated (SIGTERM, then SIGKILL after 3 s) and guard exits 0. When the command exits first,
guard exits with its status. The Rust harness runs moto_server under it, so a moto started for
a whole test binary (held in a static, never dropped) dies with that binary.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable


def when_stdin_closes(then: Callable[[], None]) -> None:
    """Calls `then` on a daemon thread once standard input reaches EOF or fails: the parent
    closed the pipe, exited or was killed. The sink uses it too."""

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        then()

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: guard.py -- CMD [ARGS...]", file=sys.stderr)
        return 2
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    stop = threading.Event()
    when_stdin_closes(stop.set)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    while not stop.is_set():
        code = child.poll()
        if code is not None:
            return code if code >= 0 else 128 - code
        stop.wait(0.2)

    child.terminate()
    try:
        child.wait(timeout=3)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
