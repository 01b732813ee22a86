"""``python -m fervision`` and the installed ``fervision`` command (``run``, the console script's entry).

Loading the command line takes a moment (argparse, numpy, the layers under it); ``run`` imports
nothing else first, and holds Ctrl-C, SIGTERM and SIGHUP while it loads, so a stop at any moment
ends with the same one line and exit status (130 for Ctrl-C) as a stop during a command, never
a traceback. ``cli.main`` takes the signals over once it runs.
"""

import contextlib
import signal
import sys

INTERRUPTED = "fervision: interrupted; what was finished before the stop is saved."  # as cli.INTERRUPTED
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _interrupted(number: int) -> int:
    with contextlib.suppress(OSError, ValueError):  # the terminal is gone (SIGHUP)
        print(INTERRUPTED, file=sys.stderr, flush=True)
    exec("pass")  # clears CPython's "ended by Ctrl-C" mark, as in cli.main (the exit status is ours)
    return 128 + number


def run() -> int:
    """Load the command line and run it; a stop while it loads ends with one line, not a traceback."""
    stopped_by: list[int] = []

    def stop(number: int, frame: object) -> None:
        stopped_by.append(number)
        raise KeyboardInterrupt

    previous = {}
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) != signal.SIG_IGN:  # nohup's stay ignored
            previous[number] = signal.signal(number, stop)
    try:
        from .cli import main
    except BaseException:
        if not stopped_by:
            raise
        # stopped (an import cut short by the interrupt may raise ImportError instead of it)
        return _interrupted(stopped_by[0])
    finally:
        # main() installs its own handlers and gives these back when it ends (the desktop app
        # keeps the usual meaning of the signals)
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stopped_by:  # the interrupt came, but an import swallowed it
        return _interrupted(stopped_by[0])
    try:
        return main()
    except KeyboardInterrupt:  # Ctrl-C in the instant before main() took the signals over
        return _interrupted(signal.SIGINT)


if __name__ == "__main__":
    sys.exit(run())
