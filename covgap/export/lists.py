"""The gap lists as a department sends them: one per operator, and one for all.

- ``gaps_<operator>.csv`` (:func:`operator_gaps`) holds only what is addressed to that
  operator: its own fibre gaps, and the mobile gaps where it is the suggested operator
  (``best_operator``, "đề xuất (tham khảo)": a suggestion, not an instruction).
- ``gaps_all.csv`` (:func:`all_gaps`) lists every gap, with an empty
  ``registered_operator`` ("DN đăng ký") column for the department to fill.
- ``lists.xlsx`` (:func:`covgap.export.excel.write_lists`) has both, a sheet each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from covgap.result import Result

__all__ = ["FIBRE_PART", "MOBILE_PART", "all_gaps", "gap_operators", "operator_gaps"]

def gap_operators(result: Result) -> list[str]:
    """Return the operators that get a gap list: those of the sites and of the fibre."""
    operators = set(result.inputs.sites["operator"])
    if result.inputs.fibre is not None:
        operators |= set(result.inputs.fibre["operator"])
    return sorted(operators)


#: The gap columns that address the mobile part of a gap, and the fibre part: an
#: operator's list keeps a part only when it is addressed to that operator.
MOBILE_PART = ("best_operator", "fix_mobile", "candidate_rank", "usp_mobile")
FIBRE_PART = ("fibre_operator", "fibre_kind", "fibre_id", "fibre_extension_m",
              "fibre_extension_road_m", "fibre_extension_basis", "fibre_extension_cost",
              "fix_fibre", "usp_fibre")


def operator_gaps(gaps: pd.DataFrame, operator: str) -> pd.DataFrame:
    """Return what is addressed to an operator: ``gaps_<operator>.csv``.

    Its own fibre gaps (its fibre is the nearest to a village without FTTH), and the
    mobile gaps where it is the suggested operator (``best_operator``, a suggestion for
    reference: its signal is the strongest nearby).  A village with both gaps, one
    addressed elsewhere, keeps only this operator's part: ``gap`` says which part is
    its, ``fix`` is its part's fix, and the other part's columns (:data:`MOBILE_PART`,
    :data:`FIBRE_PART`) are empty, so no row addresses another operator.

    Parameters
    ----------
    gaps : DataFrame
        The gap table (:attr:`covgap.result.Result.gaps`).
    operator : str

    Returns
    -------
    DataFrame
        The operator's rows of ``gaps``, in its order, narrowed to its parts.
    """
    kind = gaps["gap"].astype("string").fillna("")
    mobile = (kind.str.contains("mobile") & (gaps["best_operator"] == operator)).fillna(False)
    fibre = (kind.str.contains("fibre") & (gaps["fibre_operator"] == operator)).fillna(False)
    out = gaps[(mobile | fibre).to_numpy()].copy()
    mobile, fibre = mobile[out.index], fibre[out.index]
    out["gap"] = np.where(mobile & fibre, "mobile+fibre", np.where(mobile, "mobile", "fibre"))
    for cols, mine in ((MOBILE_PART, mobile), (FIBRE_PART, fibre)):
        for col in cols:
            if col in out:
                out[col] = out[col].where(mine.to_numpy())
    if "fix" in out and "fix_mobile" in out and "fix_fibre" in out:
        out["fix"] = (out["fix_mobile"].fillna("") + "; " + out["fix_fibre"].fillna("")
                      ).str.strip("; ").astype("string")
    return out


def all_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """Return ``gaps_all.csv``: every gap, with an empty ``registered_operator`` column.

    The department fills in ``registered_operator`` ("DN đăng ký"): the operator that
    takes the gap on; covgap's ``best_operator`` is a suggestion only.

    Examples
    --------
    >>> all_gaps(pd.DataFrame({"village_id": ["V1"]}))["registered_operator"].isna().all()
    np.True_
    """
    out = gaps.copy()
    out["registered_operator"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out
