"""Year over year: what changed between two run directories of a province.

Provinces rerun covgap every year and report the change (Quyết định 885/QĐ-BTTTT asks
for the indicators "year over year").  :func:`diff_runs` reads two run directories
written by :meth:`covgap.Result.write` (year A, then year B) and returns a
:class:`RunDiff`:

- **villages**: every village of either year with its change: "newly covered",
  "newly lost", "still lom_song", "new gap" (still covered but lost FTTH), "gap closed"
  (gained FTTH), "unchanged", or "new village" / "removed village" when it is in one
  year only.  Villages are matched by ``village_id``; the villages left over are matched
  by location, one to one, nearest first, within ``match_distance_m`` (200 m), and
  ``matched_by`` says which.
- **crosswalk** from A's commune codes to B's (communes were merged on 1 July 2025):
  the explicit table when one is given (``code_a, code_b[, weight]``); the identity when
  both years have the same codes; else an area-weighted overlay of the two years'
  commune polygons (``results.gpkg`` layer ``communes``) in B's metric CRS, weight =
  area(A ∩ B) / area(A); without polygons, the share of A's commune's villages that went
  to each B commune (method "villages").
- **communes**: per commune of B, the villages in each change class and A's indicators
  recomputed on B's communes beside B's, with the deltas.  A's villages are put into B's
  communes by the village match (the matched village's ``commune_code`` in B), so the
  village indicators are recomputed exactly from A's village rows (a removed village by
  its location in B's polygons, else by the crosswalk's largest share).
- **indicators**: the province's indicators of A and B with the deltas and B's targets,
  and the village-based indicators (``villages_mbb_pct``, ``villages_ftth_pct``,
  ``population_mbb_pct``, ``usp_villages``) per commune of B.  ``bts_sharing_pct`` and
  ``commune_centres_5g_pct`` are compared at province level only: they depend on site
  locations and commune centres, which the village table does not carry, so they are
  not recomputed on the other year's communes.
- **operators**: per operator, the villages it newly covers or no longer covers (its
  name in the villages' ``operators`` list) and the length of its gap list
  (``gaps_<operator>.csv``) in A and B.

A change may come from the network or from the rule: when the two runs used different
coverage rules (model, technologies, thresholds, ``[rules]``) :attr:`RunDiff.notes`
says so, and the written ``diff.json`` records it.

The package, in the order a diff runs:

- :mod:`covgap.diff.runs`: reading a run directory back (:func:`~covgap.diff.runs.read_run`);
- :mod:`covgap.diff.match`: matching the villages of the two years;
- :mod:`covgap.diff.crosswalk`: the commune crosswalk;
- :mod:`covgap.diff.tables`: the villages, communes, indicators and operators tables;
- :mod:`covgap.diff.changemap`: the change map, on the offline frame of
  :mod:`covgap.export.leaflet`;
- :mod:`covgap.diff.rundiff`: :class:`RunDiff` and :func:`diff_runs`, which tie them
  together.
"""

from covgap.diff.match import MATCH_DISTANCE_M, match_villages
from covgap.diff.rundiff import RunDiff, diff_runs
from covgap.diff.tables import CHANGES, VILLAGE_INDICATORS

__all__ = ["CHANGES", "MATCH_DISTANCE_M", "VILLAGE_INDICATORS", "RunDiff", "diff_runs",
           "match_villages"]

#: The name tests have used since covgap.diff was one module.
_match_villages = match_villages
