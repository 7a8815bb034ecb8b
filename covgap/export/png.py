"""How covgap writes a matplotlib figure as a PNG: one place for the PNG options.

The charts (:mod:`covgap.export.plots`) and the static maps
(:mod:`covgap.export.figures`) both save through :func:`save_png`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PNG_COMPRESS_LEVEL", "save_png"]

#: zlib level of every PNG covgap writes (charts and maps).  Pillow's default, 6, took
#: 76 ms to write a commune map of ``figures/`` (1240 x 874 px) and 3 takes 40 ms (7 s
#: CPU over a national run's 200 maps); the sample's 45 PNGs grow by 12% (4.2 -> 4.7 MB).
PNG_COMPRESS_LEVEL = 3


def save_png(fig: Figure, path: Path, *, dpi: int, tight: bool = False) -> Path:
    """Save a figure drawn on an Agg canvas as a PNG (``tight``: cropped to its artists)."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight" if tight else None,
                metadata={"Software": "covgap"},
                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return path
