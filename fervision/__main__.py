import signal
import sys

_stopped_by: list[int] = []


def _stop(number: int, frame: object) -> None:
    _stopped_by.append(number)
    raise KeyboardInterrupt


# Until the command line has loaded (its main() takes over the signals), Ctrl-C, SIGTERM and
# SIGHUP end with the same one line as later, not a traceback or a silent death.
_previous = {}
for _name in ("SIGINT", "SIGTERM", "SIGHUP"):
    _number = getattr(signal, _name, None)
    if _number is not None and signal.getsignal(_number) != signal.SIG_IGN:
        _previous[_number] = signal.signal(_number, _stop)

try:
    from .cli import main
except BaseException:
    if not _stopped_by:
        raise
    # stopped (an import cut short by the interrupt may raise ImportError instead of it)
    print("fervision: interrupted; finished work has been saved.", file=sys.stderr)
    exec("pass")  # clears CPython's "ended by Ctrl-C" mark, as in cli.main (the exit status is ours)
    sys.exit(128 + (_stopped_by[0] if _stopped_by else signal.SIGINT))
for _number, _handler in _previous.items():
    signal.signal(_number, _handler)

sys.exit(main())
