"""How the page draws: sizes, the colour of each strategy, and figures encoded as PNGs."""

from __future__ import annotations

import hashlib
import io

import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SIZE_BY = ("emission", "stake")
TOP_EARNERS = 8
EDGES_PER_VALIDATOR = 3
DPI = 80
RING_RADIUS = {True: 0.55, False: 1.0}  # validators inside, miners outside (data units)
POINTS_PER_UNIT = 7.2 * 0.66 * 72 / 2.5  # the network axes: 66% of 7.2 in over 2.5 units

# Stable colours per strategy: cool for miners, warm for validators, purple for delegators.
STRATEGY_COLOURS = {
    "honest_miner": "#1f77b4",
    "gpt_passthrough": "#17becf",
    "copy_cabal": "#2ca02c",
    "model_arbitrage": "#bcbd22",
    "lazy_miner": "#7f7f7f",
    "honest_validator": "#ff7f0e",
    "weight_copier": "#e377c2",
    "cabal_validator": "#d62728",
    "poison_pill": "#8c564b",
    "stake_attacker": "#000000",
    "yield_chaser": "#9467bd",
    "popularity_follower": "#c5b0d5",
    "loyal_delegator": "#6a3d9a",
}
_FALLBACK_COLOURS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c49c94", "#f7b6d2",
                     "#dbdb8d", "#9edae5")



def strategy_colour(name: str) -> str:
    """The colour of strategy ``name`` in every drawing of the page."""
    if name in STRATEGY_COLOURS:
        return STRATEGY_COLOURS[name]
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    return _FALLBACK_COLOURS[digest % len(_FALLBACK_COLOURS)]


def encode_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as a PNG (fast compression: these images live for one epoch)."""
    w, h = canvas.get_width_height(physical=True)
    buf = io.BytesIO()
    PIL.Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buf, format="PNG", compress_level=1)
    return buf.getvalue()


def new_figure(size: tuple[float, float]) -> tuple[Figure, FigureCanvasAgg]:
    fig = Figure(figsize=size, dpi=DPI)
    return fig, FigureCanvasAgg(fig)
