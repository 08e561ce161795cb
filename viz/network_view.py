"""The network drawing: one subnet's validators and miners on two rings, coloured by
strategy, sized by emission or stake, with each validator's strongest weights and the
cabals as shaded sectors; the static part is drawn once per membership, the PNG reused
while nothing visible changed."""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import networkx as nx
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Wedge

from viz.style import (
    EDGES_PER_VALIDATOR,
    POINTS_PER_UNIT,
    RING_RADIUS,
    SIZE_BY,
    STRATEGY_COLOURS,
    encode_png,
    new_figure,
    strategy_colour,
)
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network

# ---------------------------------------------------------------------------------------
# Drawing helpers
# ---------------------------------------------------------------------------------------


class _PngCache:
    """A small LRU of rendered PNGs keyed by what they show."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Any, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Any, render: Callable[[], bytes]) -> bytes:
        """The PNG stored under ``key``, rendering (and storing) it if missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        png = render()
        with self._lock:
            self.misses += 1
            self._items[key] = png
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return png


NETWORK_PNGS = _PngCache(32)


@dataclass(frozen=True)
class SubnetPicture:
    """What the network drawing of one subnet shows (all arrays over its occupied UIDs)."""

    netuid: int
    uids: np.ndarray
    is_validator: np.ndarray
    strategy: list[str]
    cabal: np.ndarray  # cabal id, -1 for none
    cabal_names: dict[int, str]
    size_value: np.ndarray  # emission (TAO this epoch) or stake (TAO)
    edges: list[tuple[int, int, float]]  # (validator UID, target UID, weight / row max)
    size_by: str

    def layout_key(self) -> str:
        """A digest of what fixes the layout: who holds which UID, roles, strategies, cabals."""
        h = hashlib.sha256()
        for part in (self.uids, self.is_validator, self.cabal):
            h.update(np.ascontiguousarray(part).tobytes())
        h.update("|".join(self.strategy).encode())
        h.update(repr(sorted(self.cabal_names.items())).encode())
        h.update(f"{self.netuid}|{self.size_by}".encode())
        return h.hexdigest()

    def sizes(self) -> np.ndarray:
        """Marker areas (points²): the square root of the value, relative within each
        role, in 12 steps (noise below what the eye sees does not force a new drawing),
        the largest about as wide as 2.5 times the spacing of the role's ring."""
        out = np.zeros(len(self.uids))
        for is_val in (False, True):
            idx = np.flatnonzero(self.is_validator == is_val)
            if len(idx) == 0:
                continue
            spacing = 2 * math.pi * RING_RADIUS[is_val] * POINTS_PER_UNIT / len(idx)
            largest = min(158.0, max(9.0, (2.5 * spacing) ** 2))
            top = float(self.size_value[idx].max())
            rel = (np.round(12 * np.sqrt(self.size_value[idx] / top)) / 12 if top > 0
                   else np.full(len(idx), 0.5))
            out[idx] = largest * (0.05 + 0.95 * rel)
        return out

    def key(self) -> str:
        """A digest of everything visible in the drawing."""
        h = hashlib.sha256(self.layout_key().encode())
        h.update(self.sizes().tobytes())
        h.update(repr([(a, b, round(w, 1)) for a, b, w in self.edges]).encode())
        return h.hexdigest()


def subnet_picture(net: Network, netuid: int = 0, size_by: str = "emission",
                   edges_per_validator: int = EDGES_PER_VALIDATOR) -> SubnetPicture:
    """Read what the drawing shows from the world model's subnet ``netuid``."""
    if size_by not in SIZE_BY:
        raise ValueError(f"size_by must be one of {SIZE_BY}, got {size_by!r}")
    s = net.subnets[netuid]
    uids = np.flatnonzero(s.occupant != EMPTY)
    accts = s.occupant[uids]
    codes = net.columns.get("strategy_code", accts).astype(np.int64)
    names = [net.strategy_names[c] for c in codes]
    cabal = np.nan_to_num(net.columns.get("cabal", accts, -1.0), nan=-1.0).astype(np.int64)
    cabal_names = {int(c): str(net.cabals[int(c)].get("name", f"cabal {c}"))
                   for c in np.unique(cabal) if c >= 0 and int(c) in net.cabals}
    size_value = (np.asarray(s.emission_tao, dtype=float)[uids] if size_by == "emission"
                  else np.asarray(s.stake_tao, dtype=float)[uids])
    size_value = np.nan_to_num(np.clip(size_value, 0.0, None))
    edges: list[tuple[int, int, float]] = []
    occupied = s.occupant != EMPTY
    for v in uids[s.is_validator[uids]]:
        row = np.where(occupied, s.weights[v], 0.0)
        row[v] = 0.0
        top = float(row.max())
        if top <= 0:
            continue
        best = np.argsort(row, kind="stable")[::-1][:edges_per_validator]
        edges += [(int(v), int(j), float(row[j] / top)) for j in best if row[j] > 0]
    return SubnetPicture(netuid, uids, s.is_validator[uids].copy(), names, cabal, cabal_names,
                         size_value, edges, size_by)


def subnet_graph(pic: SubnetPicture) -> nx.DiGraph:
    """The picture as a directed graph: UIDs with their role, strategy and cabal; an edge
    from each validator to the UIDs it weights most (attribute ``weight``, relative to the
    validator's largest weight)."""
    g = nx.DiGraph()
    for i, uid in enumerate(pic.uids):
        g.add_node(int(uid), role="validator" if pic.is_validator[i] else "miner",
                   strategy=pic.strategy[i], cabal=int(pic.cabal[i]),
                   size=float(pic.size_value[i]))
    g.add_weighted_edges_from(pic.edges)
    return g


def ring_layout(pic: SubnetPicture, gap: float = 0.04) -> tuple[dict[int, np.ndarray],
                                                                list[tuple[int, float, float]]]:
    """Positions: validators on an inner ring, miners on an outer ring.

    Each cabal gets one angular sector on both rings (its validators and miners side by
    side), sized by its larger share of either ring; the other UIDs fill the rest of each
    ring grouped by strategy. Returns positions by UID and the cabals' sectors
    ``(cabal, start, end)`` in radians.
    """
    nv = max(int(pic.is_validator.sum()), 1)
    nm = max(int((~pic.is_validator).sum()), 1)
    cabals = sorted(int(c) for c in np.unique(pic.cabal) if c >= 0)
    usable = 2 * math.pi - (len(cabals) + 1) * gap
    sectors: list[tuple[int, float, float]] = []
    pos: dict[int, np.ndarray] = {}
    theta = math.pi / 2  # start at the top, go clockwise
    radius = RING_RADIUS

    def place(uids: np.ndarray, is_val: bool, start: float, width: float) -> None:
        n = len(uids)
        for k, uid in enumerate(uids):
            a = start - (k + 0.5) / n * width
            pos[int(uid)] = radius[is_val] * np.array([math.cos(a), math.sin(a)])

    names = sorted(set(pic.strategy))
    rank = np.array([names.index(s) for s in pic.strategy], dtype=np.int64)
    order = np.lexsort((pic.uids, rank))  # by strategy, then UID
    for c in cabals:
        members = order[pic.cabal[order] == c]
        vals = members[pic.is_validator[members]]
        mins = members[~pic.is_validator[members]]
        width = min(usable * max(len(vals) / nv, len(mins) / nm), usable * 0.5)
        theta -= gap
        place(pic.uids[vals], True, theta, width)
        place(pic.uids[mins], False, theta, width)
        sectors.append((c, theta - width, theta))
        theta -= width
    theta -= gap
    rest = order[pic.cabal[order] < 0]
    remaining = max(theta - (math.pi / 2 - 2 * math.pi), 1e-6)
    for is_val in (True, False):
        place(pic.uids[rest[pic.is_validator[rest] == is_val]], is_val, theta, remaining)
    return pos, sectors


class SubnetCanvas:
    """The drawing of one subnet layout, redrawn cheaply from epoch to epoch.

    The static part (rings' layout, cabal sectors, legend, notes) is rendered once and
    kept as a pixel background; each epoch restores it and draws only the weight lines and
    the nodes (networkx node collections, whose sizes change) on top (matplotlib
    blitting). A new layout (registrations, deregistrations, strategy switches, cabals)
    builds a new canvas.
    """

    def __init__(self, pic: SubnetPicture, title: str) -> None:
        self.lock = threading.Lock()
        self.fig, self.canvas = new_figure((7.2, 5.0))
        fig = self.fig
        ax = fig.add_axes((0.0, 0.0, 0.66, 0.93))
        self.ax = ax
        ax.set_aspect("equal")
        ax.set_xlim(-1.25, 1.25)
        ax.set_ylim(-1.25, 1.25)
        ax.axis("off")
        fig.suptitle(title, x=0.02, y=0.985, ha="left", fontsize=11, fontweight="bold")
        self.graph = subnet_graph(pic)
        self.pos, sectors = ring_layout(pic)
        tints = ("#fde0dd", "#e5f5e0", "#deebf7", "#fee6ce", "#efedf5")
        for k, (c, a0, a1) in enumerate(sectors):
            ax.add_patch(Wedge((0, 0), 1.13, math.degrees(a0), math.degrees(a1), width=0.82,
                               facecolor=tints[k % len(tints)], edgecolor="#999999", lw=0.8,
                               zorder=0))
            mid = (a0 + a1) / 2
            ax.text(1.2 * math.cos(mid), 1.2 * math.sin(mid),
                    f"cabal {pic.cabal_names.get(c, str(c))}", ha="center", va="center",
                    fontsize=8, color="#444444", zorder=5)
        if len(pic.uids) == 0:
            ax.text(0, 0, "no UIDs registered", ha="center", va="center")
        self.colour_of = {int(u): strategy_colour(s)
                          for u, s in zip(pic.uids, pic.strategy, strict=True)}
        handles = []
        for name in sorted(set(pic.strategy), key=lambda n: (n not in STRATEGY_COLOURS, n)):
            members = [i for i, s in enumerate(pic.strategy) if s == name]
            is_val = bool(np.any(pic.is_validator[members]))
            handles.append(Line2D([], [], ls="", marker="s" if is_val else "o", markersize=8,
                                  color=strategy_colour(name), label=f"{name} ({len(members)})"))
        if handles:
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.66, 0.92),
                       frameon=False, fontsize=8.5, title="strategy (count)",
                       title_fontsize=9, alignment="left")
        what = "TAO earned this epoch" if pic.size_by == "emission" else "stake"
        note = (f"■ validators, inner ring\n● miners, outer ring\nsize: {what},\n"
                "  relative within each ring\n"
                f"lines: each validator's {EDGES_PER_VALIDATOR}\nstrongest weights on chain"
                + ("\nshaded: cabals" if sectors else ""))
        fig.text(0.67, 0.03, note, fontsize=8, va="bottom", ha="left", color="#333333",
                 linespacing=1.35)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)
        # the dynamic artists (excluded from the background by animated=True)
        self.edges = LineCollection([], linewidths=0.8, zorder=1, animated=True)
        ax.add_collection(self.edges)
        self.nodes: list[tuple[np.ndarray, Any]] = []
        for is_val, shape in ((False, "o"), (True, "s")):
            idx = np.flatnonzero(pic.is_validator == is_val)
            if len(idx) == 0:
                continue
            nodelist = [int(pic.uids[i]) for i in idx]
            spacing = 2 * math.pi * RING_RADIUS[is_val] * POINTS_PER_UNIT / len(idx)
            coll = nx.draw_networkx_nodes(
                self.graph, self.pos, nodelist=nodelist, node_size=15.0,
                node_color=[self.colour_of[u] for u in nodelist], node_shape=shape,
                edgecolors="white", linewidths=0.4 if spacing > 4 else 0.0, ax=ax)
            coll.set_animated(True)
            coll.set_zorder(2)
            self.nodes.append((idx, coll))

    def render(self, pic: SubnetPicture) -> bytes:
        """The PNG of ``pic`` (which must have this canvas's layout)."""
        with self.lock:
            segments = [(self.pos[a], self.pos[b]) for a, b, _ in pic.edges
                        if a in self.pos and b in self.pos]
            colours = [matplotlib.colors.to_rgba(self.colour_of[a], 0.12 + 0.5 * w)
                       for a, b, w in pic.edges if a in self.pos and b in self.pos]
            self.edges.set_segments(segments)
            self.edges.set_color(colours)
            sizes = pic.sizes()
            for idx, coll in self.nodes:
                coll.set_sizes(sizes[idx])
            self.canvas.restore_region(self.background)
            self.ax.draw_artist(self.edges)
            for _, coll in self.nodes:
                self.ax.draw_artist(coll)
            return encode_png(self.canvas)


_CANVASES: OrderedDict[tuple[str, str], SubnetCanvas] = OrderedDict()
_CANVAS_LOCK = threading.Lock()


def network_png(net: Network, netuid: int = 0, size_by: str = "emission") -> bytes:
    """The network drawing of subnet ``netuid``; the PNG is reused while nothing visible
    changed, the layout and static drawing while the membership did not."""
    pic = subnet_picture(net, netuid, size_by)
    n_val = int(pic.is_validator.sum())
    title = f"Subnet {netuid}: {n_val} validators, {len(pic.uids) - n_val} miners"

    def render() -> bytes:
        key = (pic.layout_key(), title)
        with _CANVAS_LOCK:
            canvas = _CANVASES.get(key)
            if canvas is None:
                canvas = _CANVASES[key] = SubnetCanvas(pic, title)
                while len(_CANVASES) > 8:
                    _CANVASES.popitem(last=False)
            _CANVASES.move_to_end(key)
        return canvas.render(pic)

    return NETWORK_PNGS.get((pic.key(), title), render)

