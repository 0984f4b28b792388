"""The one error type users see: a message that says what broke and what to do."""


class DriftlineError(Exception):
    """A problem the user can fix: bad params, bad input data, a missing file.

    The CLI and the stage entry points print its message without a traceback and exit 2.
    """
