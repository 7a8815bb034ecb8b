"""Errors and warnings raised by covgap.

Every error a user can cause (a bad file, a bad configuration value) is a
:class:`CovgapError`; the command line prints its message and exits 1 instead of
showing a traceback.  :class:`InputError` is also a :class:`ValueError` so generic
``except ValueError`` code keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "CovgapError",
    "CovgapWarning",
    "InputError",
    "InputWarning",
    "OutputError",
    "RepairWarning",
    "check_option",
    "quoted",
]


class CovgapError(Exception):
    """Base class of every error covgap raises on purpose."""


class InputError(CovgapError, ValueError):
    """Bad input data or configuration, with a message a user can act on.

    Parameters
    ----------
    message : str
        Headline, e.g. ``"sites.csv: 3 problems"``.
    problems : iterable of str, optional
        One line per problem; they are appended to the message, one per line.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        text = message
        if self.problems:
            text += "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class ConfigError(InputError):
    """The configuration file or dict is invalid."""


class CovgapWarning(UserWarning):
    """Base class of covgap's warnings."""


class InputWarning(CovgapWarning):
    """Something in an input layer looks wrong but covgap can go on."""


class RepairWarning(InputWarning):
    """covgap changed input data to make it usable (e.g. repaired polygons)."""


def quoted(choices: Iterable[str]) -> str:
    """Return the valid values of an option as users type them: ``'a', 'b'``."""
    return ", ".join(repr(c) for c in choices)


def check_option(name: str, value: object, choices: Iterable[str],
                 problems: list[str]) -> None:
    """Append a problem naming the valid values when ``value`` is not one of ``choices``.

    Examples
    --------
    >>> problems = []
    >>> check_option("mode", "fast", ("greedy", "exact"), problems)
    >>> problems
    ["mode 'fast' is not valid; valid values: 'greedy', 'exact'"]
    """
    choices = tuple(choices)
    if value not in choices:
        problems.append(f"{name} {value!r} is not valid; valid values: {quoted(choices)}")


class OutputError(CovgapError):
    """An output folder cannot be written: read-only, no permission, disk full, a bad name.

    Parameters
    ----------
    message : str
        The text printed, naming the path and the system's reason.
    path : Path or str, optional
        The run (or diff) directory that could not be written.
    strerror : str, optional
        The system's reason, e.g. ``"No space left on device"``.
    errno : int, optional
        The system's error number (:mod:`errno`), e.g. ``errno.ENOSPC``.
    """

    def __init__(self, message: str, *, path: object = None, strerror: str | None = None,
                 errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.strerror = strerror
        self.errno = errno
