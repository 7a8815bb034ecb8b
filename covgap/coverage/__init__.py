"""Coverage models: one interface, four models, chosen by ``[coverage] model``.

- ``radius``: a disc, or a pattern-shaped sector, per cell (vector).
- ``pathloss``: best-server signal from EIRP, height, frequency, an empirical path loss
  and the antenna pattern (raster).
- ``terrain``: ``pathloss`` plus line of sight and knife-edge diffraction over the DEM,
  Earth curvature included (raster).
- ``raster``: operators' own coverage maps (read and checked by :mod:`covgap.io`),
  put onto the analysis grid as they are.

:func:`compute_coverage` (module ``compute``) returns a :class:`Coverage` whatever the
model; the coverage carries the ``min_rsrp_dbm`` it was computed with, and nothing
after this stage reads that threshold from the configuration.
"""

from covgap.coverage.compute import analysis_grid, compute_coverage
from covgap.coverage.grid import Grid
from covgap.coverage.result import Coverage, raster_name

__all__ = ["Coverage", "Grid", "analysis_grid", "compute_coverage", "raster_name"]
