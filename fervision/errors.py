"""User-facing errors.

Anything raised as :class:`FervisionError` carries one clear sentence for the person at
the keyboard; the CLI prints it without a traceback and exits non-zero.
"""


class FervisionError(Exception):
    """An error caused by the user's input or environment, explained in one sentence."""


class CheckpointError(FervisionError):
    """A checkpoint file is missing, corrupt, or not a fervision checkpoint."""


class DataError(FervisionError):
    """A dataset path is missing or not in any layout fervision understands."""
