"""The one progress-callback type every stage reports through.

Library code never prints (STYLE.md); each stage takes ``progress: Progress | None``
and calls it as its work starts, advances and ends.  The command line turns the calls
into progress bars; a notebook can pass its own function or nothing.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "Tick", "ticker"]

#: ``progress(stage, done, total)``: ``total`` is None while the amount of work is not
#: known yet, and ``done == total`` when the stage ends.  ``stage`` is one of
#: :data:`covgap.result.STAGES`.
Progress = Callable[[str, int, int | None], None]

#: A stage's own view of the callback: ``tick(done, total)``.
Tick = Callable[[int, int | None], None]


def ticker(progress: Progress | None, stage: str) -> Tick | None:
    """Bind ``progress`` to one stage, or return None when nobody listens.

    Examples
    --------
    >>> seen = []
    >>> tick = ticker(lambda s, d, t: seen.append((s, d, t)), "inputs")
    >>> tick(1, 3)
    >>> seen
    [('inputs', 1, 3)]
    >>> ticker(None, "inputs") is None
    True
    """
    if progress is None:
        return None

    def tick(done: int, total: int | None) -> None:
        progress(stage, done, total)

    return tick
