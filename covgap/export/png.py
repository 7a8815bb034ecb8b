"""How covgap writes a matplotlib figure as a PNG: one place for the PNG options.

The charts (:mod:`covgap.export.plots`) and the static maps
(:mod:`covgap.export.figures`) save through :func:`save_png`; a figure already drawn on
its canvas (the commune maps, drawn over a saved background) through
:func:`save_canvas_png`, with the same options: the same bytes as :func:`save_png`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

__all__ = ["PNG_COMPRESS_LEVEL", "save_canvas_png", "save_png"]

_METADATA = {"Software": "covgap"}

#: zlib level of every PNG covgap writes (charts and maps).  Pillow's default, 6, took
#: 76 ms to write a commune map of ``figures/`` (1240 x 874 px) and 3 takes 40 ms (7 s
#: CPU over a national run's 200 maps); the sample's 45 PNGs grow by 12% (4.2 -> 4.7 MB).
PNG_COMPRESS_LEVEL = 3


def save_png(fig: Figure, path: Path, *, dpi: int, tight: bool = False) -> Path:
    """Save a figure drawn on an Agg canvas as a PNG (``tight``: cropped to its artists)."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight" if tight else None,
                metadata=_METADATA, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return path


def save_canvas_png(canvas: FigureCanvasAgg, path: Path) -> Path:
    """Save what an Agg canvas holds now as a PNG, without drawing the figure again.

    The pixels are the canvas buffer's, at the figure's dpi: ``save_png(fig, path,
    dpi=fig.dpi)`` of the same figure writes the same bytes (it draws, then encodes
    the buffer this way).
    """
    from matplotlib.image import imsave

    imsave(path, canvas.buffer_rgba(), format="png", origin="upper", dpi=canvas.figure.dpi,
           metadata=_METADATA, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return path
