"""File names made from data: provinces, operators and runs named by their users.

The run directory (:mod:`covgap.export.rundir`), the map (:mod:`covgap.export.map`) and
the year-over-year comparison all name files after text from the inputs, so they share
these functions and agree on every name.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["file_part", "operator_part"]


def file_part(text: str, *, default: str) -> str:
    """Return text safe inside a file name: ASCII letters, digits and hyphens.

    Vietnamese diacritics are dropped (đ becomes d); every other run of characters
    becomes one hyphen, so no path separator, dot or markup survives.

    Parameters
    ----------
    text : str
    default : str
        Returned when nothing is left.

    Returns
    -------
    str

    Examples
    --------
    >>> file_part("Tỉnh Thanh Hóa", default="province")
    'Tinh-Thanh-Hoa'
    >>> file_part("../<script>", default="province")
    'script'
    >>> file_part("…", default="province")
    'province'
    """
    bare = unicodedata.normalize("NFKD", str(text).replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in bare if not unicodedata.combining(c))
    return re.sub(r"[^0-9A-Za-z]+", "-", bare).strip("-") or default


def operator_part(operator: str) -> str:
    """Return an operator's name as it appears in ``gaps_<operator>.csv``.

    Examples
    --------
    >>> operator_part("MobiFone")
    'MobiFone'
    >>> operator_part("../")
    'operator'
    """
    return file_part(operator, default="operator")
