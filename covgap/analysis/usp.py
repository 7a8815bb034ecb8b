"""Universal service in two parts (Quyết định 2269/QĐ-TTg), one rule each.

The programme funds two different things, and a village can qualify for either:

- ``usp_mobile``: mobile coverage of villages without mobile broadband (``lom_song``);
- ``usp_fibre``: fibre to the cultural houses of disadvantaged villages without FTTH
  reach (``ftth`` false; NA without a fibre layer is not a gap).

Each part has its own rule (:class:`covgap.config.UspRule`, ``[rules.usp_mobile]`` and
``[rules.usp_fibre]``): the commune classes that qualify (khu vực I/II/III, QĐ
861/QĐ-TTg), whether ĐBKK villages qualify (QĐ 612/QĐ-UBDT), and whether border or
island communes or villages qualify.  ``usp_eligible`` is either part.

Since the 2025 merger of communes, the khu vực class belongs to the old commune: a
village's own ``region`` column, where given, takes precedence over its commune's.

This module owns the rule; planning and the exports read the columns it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

__all__ = ["USP_COLUMNS", "UspClasses", "qualifies", "usp_parts", "village_classes"]

#: The columns :func:`usp_parts` writes, in order.
USP_COLUMNS: tuple[str, ...] = ("usp_mobile", "usp_fibre", "usp_eligible",
                                "usp_mobile_reason", "usp_fibre_reason")

_TRUE_TEXT = frozenset({"true", "1", "yes", "y", "x", "có", "co", "t"})


class _Rule(Protocol):
    regions: list[str]
    difficult: bool
    border: bool
    island: bool


@dataclass(frozen=True)
class UspClasses:
    """What each village is, for the programme's rules (one entry per village).

    Attributes
    ----------
    region : Series of str
        khu vực class (I/II/III, NA unclassified): the village's own, else its commune's.
    region_source : Series of str
        "village" or "commune": where ``region`` came from.
    difficult : Series of bool
        ĐBKK village.
    border, island : Series of bool
        Border or island commune or village (false where no column says so).
    """

    region: pd.Series
    region_source: pd.Series
    difficult: pd.Series
    border: pd.Series
    island: pd.Series


def _flag(values: pd.Series | None, index: pd.Index) -> pd.Series:
    """Read a yes/no column leniently (bool, 0/1, "true"/"có"/"x"); missing is false."""
    if values is None:
        return pd.Series(False, index=index)
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).astype(float) != 0
    text = values.astype("string").str.strip().str.casefold()
    return text.isin(_TRUE_TEXT).fillna(False).astype(bool)


def village_classes(villages: pd.DataFrame, communes: pd.DataFrame) -> UspClasses:
    """Each village's class, ĐBKK, border and island status.

    Parameters
    ----------
    villages : DataFrame
        Checked villages (``commune_code``, ``difficult``; optional ``region``,
        ``border``, ``island``).
    communes : DataFrame
        Checked communes (``commune_code``, ``region``; optional ``border``, ``island``).

    Returns
    -------
    UspClasses

    Examples
    --------
    >>> v = pd.DataFrame({"commune_code": ["A", "A"], "difficult": [False, True],
    ...                   "region": ["III", None]})
    >>> c = pd.DataFrame({"commune_code": ["A"], "region": ["I"]})
    >>> k = village_classes(v, c)
    >>> k.region.tolist(), k.region_source.tolist()
    (['III', 'I'], ['village', 'commune'])
    """
    idx = villages.index
    by_code = communes.set_index("commune_code")
    commune_region = villages["commune_code"].map(by_code["region"]).astype("string")
    own = (villages["region"].astype("string").str.strip() if "region" in villages
           else pd.Series(pd.NA, index=idx, dtype="string"))
    own = own.mask(own == "")
    region = own.fillna(commune_region).astype("string")
    source = pd.Series(np.where(own.notna(), "village", "commune"), index=idx)

    def either(col: str) -> pd.Series:
        from_commune = (_flag(villages["commune_code"].map(by_code[col]), idx)
                        if col in by_code else pd.Series(False, index=idx))
        return _flag(villages.get(col), idx) | from_commune

    return UspClasses(region=region, region_source=source,
                      difficult=_flag(villages.get("difficult"), idx),
                      border=either("border"), island=either("island"))


def qualifies(classes: UspClasses, rule: _Rule, *, regions_decision: str = "QĐ 861/QĐ-TTg",
              difficult_decision: str = "QĐ 612/QĐ-UBDT") -> tuple[pd.Series, pd.Series]:
    """Return whether each village's class qualifies under one part's rule, and why.

    The class alone, gap or not: planning favours these villages (the mobile part's).
    The reasons cite ``regions_decision`` and ``difficult_decision``
    (``[legal]``, :meth:`covgap.config.LegalConfig.cite`).
    """
    # the answer depends on a village's class alone: work it out once per distinct class
    parts = pd.DataFrame({"region": classes.region, "source": classes.region_source,
                          "difficult": classes.difficult, "border": classes.border,
                          "island": classes.island})
    codes = parts.groupby(list(parts.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    if len(first) < len(parts):
        one = parts.iloc[first]
        ok, why = qualifies(UspClasses(region=one["region"], region_source=one["source"],
                                       difficult=one["difficult"], border=one["border"],
                                       island=one["island"]), rule,
                            regions_decision=regions_decision,
                            difficult_decision=difficult_decision)
        index = classes.region.index
        return (ok.iloc[codes].set_axis(index), why.iloc[codes].set_axis(index))
    idx = classes.region.index
    in_class = classes.region.isin(list(rule.regions)).fillna(False).astype(bool)
    why = pd.Series("", index=idx, dtype=object)

    def add(mask: pd.Series, text: pd.Series | str) -> None:
        nonlocal why
        why = why.where(~mask, why + np.where(why == "", "", "; ") + text)

    source = classes.region_source.map({"village": "the village's old commune",
                                        "commune": "commune"})
    add(in_class, source + " class " + classes.region.fillna("") + f" ({regions_decision})")
    ok = in_class.copy()
    if rule.difficult:
        add(classes.difficult, f"ĐBKK village ({difficult_decision})")
        ok |= classes.difficult
    if rule.border:
        add(classes.border, "border area")
        ok |= classes.border
    if rule.island:
        add(classes.island, "island")
        ok |= classes.island
    return ok, why


def usp_parts(lom_song: pd.Series, no_ftth: pd.Series, classes: UspClasses, *,
              mobile: _Rule, fibre: _Rule, decisions: dict[str, str] | None = None
              ) -> pd.DataFrame:
    """Return the two universal-service parts of each village, with their reasons.

    Parameters
    ----------
    lom_song : Series of bool
        Not covered by mobile broadband (the village rule's verdict).
    no_ftth : Series of bool
        No FTTH reach (:func:`covgap.analysis.fibre.lacks_ftth`: NA is not a gap).
    classes : UspClasses
        :func:`village_classes`.
    mobile, fibre : UspRule
        ``[rules.usp_mobile]`` and ``[rules.usp_fibre]``.
    decisions : dict, optional
        ``regions_decision`` and ``difficult_decision``: the citations the reasons
        give (``[legal]``); default today's decisions.

    Returns
    -------
    DataFrame
        :data:`USP_COLUMNS`: ``usp_mobile``, ``usp_fibre``, ``usp_eligible`` (either)
        and a reason per part (empty where the part does not apply).
    """
    gap_m = lom_song.fillna(False).astype(bool)
    gap_f = no_ftth.fillna(False).astype(bool)
    ok_m, why_m = qualifies(classes, mobile, **(decisions or {}))
    ok_f, why_f = qualifies(classes, fibre, **(decisions or {}))
    out = pd.DataFrame(index=lom_song.index)
    out["usp_mobile"] = gap_m & ok_m
    out["usp_fibre"] = gap_f & ok_f
    out["usp_eligible"] = out["usp_mobile"] | out["usp_fibre"]
    out["usp_mobile_reason"] = np.where(out["usp_mobile"],
                                        "no mobile broadband (lõm sóng); " + why_m, "")
    out["usp_fibre_reason"] = np.where(out["usp_fibre"], "no FTTH reach; " + why_f, "")
    return out
