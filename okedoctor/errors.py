"""Errors that end a run with a one-line message and a documented exit code."""

from __future__ import annotations

from okedoctor.model import ExitCode


class OkedoctorError(Exception):
    """An error the user can act on. `str(err)` is the one line printed; no traceback."""

    exit_code: ExitCode = ExitCode.UNKNOWN

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(OkedoctorError):
    """Bad flags, a bad target, an unreadable or malformed input file (exit 64)."""

    exit_code = ExitCode.USAGE


class CollectionError(OkedoctorError):
    """The facts could not be collected at all (API unreachable, no credentials): exit 3."""

    exit_code = ExitCode.UNKNOWN
