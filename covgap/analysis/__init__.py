"""Analysis: village by village, who is covered, who is not and why, and the indicators.

The stage owns the rules about villages: ``[rules] village_covered_share`` (the
``mbb_covered`` verdict and each operator's verdict), ``ftth_max_distance_m`` (``ftth``)
and the USP programme's priority (``usp_priority``).  Later stages read the verdicts
from :class:`Analysis` and never apply a threshold again.

Modules
-------
villages
    :func:`analyse`: the village, commune, indicator and gap tables of a run.
shares
    Covered share of each village (people, area or point).
fibre
    FTTH reach from the fibre layer.
flags
    Signal diagnostics at village points and the reasons for a gap.
indicators
    Commune counts and the plan's indicators against their targets.
"""

from covgap.analysis.indicators import INDICATORS, percent, site_locations
from covgap.analysis.villages import VILLAGE_COLUMNS, Analysis, analyse

__all__ = [
    "INDICATORS",
    "VILLAGE_COLUMNS",
    "Analysis",
    "analyse",
    "percent",
    "site_locations",
]
