"""The interactive page: watch the game play out in a browser (Mesa's SolaraViz).

Start it with ``tao-arena viz [FILE]`` (``experiments.viz``), which serves this module
with ``solara run`` and passes the experiment file in the ``TAO_ARENA_VIZ_FILE``
environment variable (default: ``experiments/configs/quickstart.yaml``). The layout is the
one of Mesa's own examples: a module-level ``page = SolaraViz(...)`` with a model,
``model_params`` (the sidebar's sliders and selectors) and components.

What the page shows (see docs/visualisation.md):

- the subnet as a network: validators (squares, inner ring) and miners (circles, outer
  ring) coloured by strategy and sized by this epoch's emission or by stake, lines for
  the strongest weights each validator has on chain, cabals as shaded sectors;
- plots over epochs from ``model.datacollector``: emission and profit by strategy,
  population by strategy, alignment, Gini of emission and the Nakamoto coefficient;
- the epoch, what the model in view was built with, and a table of the top earners.

The sliders rebuild the model when Reset is pressed (Mesa's semantics): ``ArenaModel``
takes them as keyword arguments, applies them to the experiment file's resolved
configuration and builds the world model with ``experiments.wiring.build_model``, seeded
like run ``seed_index`` of ``tao-arena run``. Drawings are PNGs rendered once per epoch
from kept figures that redraw only their data over a cached background (matplotlib
blitting); the network drawing is reused outright while nothing visible in it changed.
"""

from __future__ import annotations

import copy
import hashlib
import html
import io
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets
import matplotlib
import mesa
import networkx as nx
import numpy as np
import pandas as pd
import PIL.Image
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Wedge
from matplotlib.ticker import MaxNLocator
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from world.ledger import to_tao
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network

ENV_FILE = "TAO_ARENA_VIZ_FILE"
AS_IN_FILE = "as in the file"
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


def default_experiment() -> Path:
    """The experiment the page shows without ``TAO_ARENA_VIZ_FILE``: the quickstart."""
    import experiments

    return Path(experiments.__file__).resolve().parent / "configs" / "quickstart.yaml"


def experiment_path() -> str:
    """The experiment file this page shows (``TAO_ARENA_VIZ_FILE`` or the quickstart)."""
    return os.environ.get(ENV_FILE) or str(default_experiment())


def strategy_colour(name: str) -> str:
    """The colour of strategy ``name`` in every drawing of the page."""
    if name in STRATEGY_COLOURS:
        return STRATEGY_COLOURS[name]
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    return _FALLBACK_COLOURS[digest % len(_FALLBACK_COLOURS)]


# ---------------------------------------------------------------------------------------
# The experiment file and the page's overrides
# ---------------------------------------------------------------------------------------

_plan_lock = threading.Lock()
_plan_cache: dict[tuple[str, int, int], Any] = {}


def load_base(path: str | os.PathLike[str]) -> Any:
    """The validated experiment file (an ``experiments.plan.Plan``), cached per file
    version; ``experiments.loader.ConfigError`` if the file is refused."""
    from experiments.plan import load_plan

    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
        key = (str(p), st.st_mtime_ns, st.st_size)
    except OSError:
        return load_plan(p)  # raises the loader's ConfigError naming the file
    with _plan_lock:
        if key not in _plan_cache:
            _plan_cache.clear()
            _plan_cache[key] = load_plan(p)
        return _plan_cache[key]


def _role_of(strategy: str) -> str:
    from agents.catalog import get

    return str(get(strategy).role)


def strategies_of_role(role: str) -> list[str]:
    """Registered strategy names of ``role``, sorted."""
    from agents.catalog import REGISTRY

    return sorted(n for n, cls in REGISTRY.items() if cls.role == role)


def _largest_remainder(weights: list[float], total: int) -> list[int]:
    """Integers proportional to ``weights`` that sum to ``total``."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    exact = [w * total / s for w in weights]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def remix(population: list[dict[str, Any]], role: str, strategy: str,
          share: float) -> list[dict[str, Any]]:
    """``population`` with ``share`` of each subnet's ``role`` agents playing ``strategy``.

    Per subnet, the count of the role is kept; ``strategy`` gets ``round(share * count)``
    agents (in its first cohort there, or in a new cohort with the strategy's defaults and
    the parameters it inherits from the same declaration as the role's first cohort, such
    as a validator's stake), and the other cohorts of the role share the rest in
    proportion to their counts in the file.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the mix share must be in [0, 1], got {share!r}")
    if _role_of(strategy) != role:
        raise ValueError(f"{strategy!r} is not a {role} strategy")
    from agents.catalog import get

    pop = copy.deepcopy(population)
    subnets = sorted({c["subnet"] for c in pop if _role_of(c["strategy"]) == role})
    for sn in subnets:
        idx = [i for i, c in enumerate(pop)
               if c["subnet"] == sn and _role_of(c["strategy"]) == role]
        total = sum(pop[i]["count"] for i in idx)
        mine = [i for i in idx if pop[i]["strategy"] == strategy]
        others = [i for i in idx if pop[i]["strategy"] != strategy]
        k = round(share * total)
        if not others or sum(pop[i]["count"] for i in others) == 0:
            k = total if share > 0 else k
        rest = _largest_remainder([float(pop[i]["count"]) for i in others], total - k)
        for i, n in zip(others, rest, strict=True):
            pop[i]["count"] = n
        if mine:
            pop[mine[0]]["count"] = k
            for i in mine[1:]:
                pop[i]["count"] = 0
        elif k > 0:
            # keep only what both strategies inherit from one declaration (a validator's
            # stake, an endowment), as experiments.plan does for strategy profiles; the
            # rest (quality, capability, ...) defines the strategy: its defaults
            new, old = get(strategy).all_params(), get(pop[idx[0]]["strategy"]).all_params()
            params = {key: v for key, v in pop[idx[0]]["params"].items()
                      if key in new and new[key] is old.get(key)}
            pop.append({"strategy": strategy, "count": k, "subnet": sn, "params": params,
                        "label": f"mixed in by the page ({share:.0%})"})
    return pop


def configure(
    base: dict[str, Any],
    *,
    kappa: float | None = None,
    bonds_penalty: float | None = None,
    reveal_period: int | None = None,
    liquid_alpha: bool | None = None,
    tao_price_usd: float | None = None,
    miner_mix: str = AS_IN_FILE,
    miner_mix_share: float = 0.0,
    validator_mix: str = AS_IN_FILE,
    validator_mix_share: float = 0.0,
) -> dict[str, Any]:
    """The resolved experiment ``base`` with the page's overrides, for every subnet.

    ``None`` (or ``AS_IN_FILE``) keeps the file's value. ``reveal_period`` 0 turns
    commit-reveal off. ``liquid_alpha`` applies to Yuma 3 subnets only (the chain has no
    liquid alpha in Yuma 2). ``tao_price_usd`` sets the starting TAO price (a price
    series is rescaled to start there). Mix shares are fractions in [0, 1].
    """
    cfg = copy.deepcopy(base)
    cfg.pop("sweep", None)
    cfg.pop("profiles", None)
    for sn in cfg["scenario"]["subnets"]:
        yuma = sn["yuma"]
        if kappa is not None:
            yuma["kappa"] = float(kappa)
        if bonds_penalty is not None:
            yuma["bonds_penalty"] = float(bonds_penalty)
        if liquid_alpha is not None:
            yuma["liquid_alpha"] = bool(liquid_alpha) and yuma["version"] == "yuma3"
        if reveal_period is not None:
            rp = int(reveal_period)
            sn["commit_reveal"] = rp > 0
            sn["reveal_period"] = rp
    price = cfg["scenario"]["price"]
    price["series_file"] = None  # its values are already in series_usd
    if tao_price_usd is not None:
        p = float(tao_price_usd)
        if price["kind"] == "series" and price["series_usd"]:
            first = price["series_usd"][0]
            price["series_usd"] = [v * p / first for v in price["series_usd"]]
        price["initial_usd"] = p
    if miner_mix and miner_mix != AS_IN_FILE:
        cfg["population"] = remix(cfg["population"], "miner", miner_mix, miner_mix_share)
    if validator_mix and validator_mix != AS_IN_FILE:
        cfg["population"] = remix(cfg["population"], "validator", validator_mix,
                                  validator_mix_share)
    return cfg


# ---------------------------------------------------------------------------------------
# The model the page steps
# ---------------------------------------------------------------------------------------


class ArenaModel(mesa.Model):
    """One world model (``network``) built from an experiment file with the page's overrides.

    SolaraViz rebuilds the model on Reset by calling this class with the sidebar's values
    as keyword arguments, so each slider is a parameter here. One step is one epoch of the
    network. ``datacollector`` is the network's (model variables per epoch).
    """

    def __init__(
        self,
        experiment: str | None = None,
        seed_index: int | str = 0,
        kappa: float | None = None,
        bonds_penalty: float | None = None,
        reveal_period: int | None = None,
        liquid_alpha: bool | None = None,
        tao_price_usd: float | None = None,
        miner_mix: str = AS_IN_FILE,
        miner_mix_share: int = 0,
        validator_mix: str = AS_IN_FILE,
        validator_mix_share: int = 0,
    ) -> None:
        from experiments.schema import Experiment
        from experiments.wiring import build_model, run_seed

        self.experiment = str(experiment or experiment_path())
        self.plan = load_base(self.experiment)
        # typed into a text box: anything but a non-negative integer means run 0
        text = str(seed_index).strip()
        self.seed_index = int(text) if text.isdigit() and len(text) < 10 else 0
        self.seed = run_seed(self.plan.master_seed, self.seed_index)
        super().__init__(rng=self.seed)
        # a value left at the sidebar's default (subnet 0's value in the file) keeps every
        # subnet's own value from the file
        file = file_values(self.plan.config)
        kappa, bonds_penalty, reveal_period, liquid_alpha, tao_price_usd = (
            None if given is None or given == file[key] else given
            for key, given in (("kappa", kappa), ("bonds_penalty", bonds_penalty),
                               ("reveal_period", reveal_period),
                               ("liquid_alpha", liquid_alpha),
                               ("tao_price_usd", tao_price_usd)))
        self.config = configure(
            self.plan.config, kappa=kappa, bonds_penalty=bonds_penalty,
            reveal_period=reveal_period, liquid_alpha=liquid_alpha,
            tao_price_usd=tao_price_usd, miner_mix=miner_mix,
            miner_mix_share=float(miner_mix_share) / 100.0, validator_mix=validator_mix,
            validator_mix_share=float(validator_mix_share) / 100.0,
        )
        self.spec = Experiment.model_validate(self.config)
        self.network: Network = build_model(self.spec, self.seed)
        self.datacollector = self.network.datacollector
        self.mix = {"miner": (miner_mix, int(miner_mix_share)),
                    "validator": (validator_mix, int(validator_mix_share))}
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._figures: dict[str, Any] = {}
        self._pictures: dict[str, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def step(self) -> None:
        """One epoch of the network."""
        self.network.step()

    @property
    def epoch(self) -> int:
        """Epochs run so far."""
        return int(self.network.epoch)

    def metrics(self) -> pd.DataFrame:
        """The per-epoch model variables (one DataFrame per epoch, cached)."""
        if self._frame is None or self._frame[0] != self.epoch:
            self._frame = (self.epoch, self.datacollector.get_model_vars_dataframe())
        return self._frame[1]

    def figure(self, name: str, make: Callable[[], Any]) -> Any:
        """This model's kept figure ``name`` (made on first use)."""
        with self._lock:
            if name not in self._figures:
                self._figures[name] = make()
            return self._figures[name]

    def picture(self, name: str, render: Callable[[], bytes]) -> bytes:
        """Drawing ``name`` of the current epoch, rendered once per epoch."""
        epoch = self.epoch
        cached = self._pictures.get(name)
        if cached is not None and cached[0] == epoch:
            return cached[1]
        png = render()
        self._pictures[name] = (epoch, png)
        return png

    def describe(self) -> str:
        """What the model in view was built with (the overrides as applied), one line."""
        subnets = self.config["scenario"]["subnets"]
        sn = subnets[0]
        yuma = sn["yuma"]
        rp = f"{sn['reveal_period']} epoch(s)" if sn["commit_reveal"] else "off"
        mix = ", ".join(f"{share}% of {role}s {name}" for role, (name, share)
                        in self.mix.items() if name and name != AS_IN_FILE) or "as in the file"
        return (f"kappa {yuma['kappa']:.2f} · bonds penalty {yuma['bonds_penalty']:.2f} · "
                f"commit-reveal {rp} · liquid alpha {'on' if yuma['liquid_alpha'] else 'off'}"
                f" · TAO ${self.config['scenario']['price']['initial_usd']:,.0f} at start · "
                f"mix: {mix} · seed index {self.seed_index}"
                + (" (subnet 0's values shown)" if len(subnets) > 1 else ""))


def file_values(config: dict[str, Any]) -> dict[str, Any]:
    """The sidebar's defaults: subnet 0's values (and the starting price) in the file."""
    sn = config["scenario"]["subnets"][0]
    return {
        "kappa": float(sn["yuma"]["kappa"]),
        "bonds_penalty": float(sn["yuma"]["bonds_penalty"]),
        "reveal_period": int(sn["reveal_period"]) if sn["commit_reveal"] else 0,
        "liquid_alpha": bool(sn["yuma"]["liquid_alpha"]),
        "tao_price_usd": float(config["scenario"]["price"]["initial_usd"]),
    }


def model_params_for(plan: Any, experiment: str) -> dict[str, Any]:
    """The sidebar: sliders and selectors (defaults from the file) and the fixed file."""
    file = file_values(plan.config)
    price = file["tao_price_usd"]
    present = {c["strategy"] for c in plan.config["population"]}
    roles = {r: strategies_of_role(r) for r in ("miner", "validator")}
    # strategies in the file first, then the rest of the registry
    for r, names in roles.items():
        roles[r] = sorted(names, key=lambda n: (n not in present, n))
    return {
        "experiment": experiment,
        "seed_index": {"type": "InputText", "value": "0", "label": "Seed index (run s0000 = 0)"},
        "kappa": Slider("Kappa (consensus majority)", file["kappa"], 0.0, 1.0, 0.01,
                        dtype=float),
        "bonds_penalty": Slider("Bonds penalty (beta)", file["bonds_penalty"], 0.0, 1.0,
                                0.05, dtype=float),
        "reveal_period": Slider("Commit-reveal period (epochs, 0 = off)",
                                file["reveal_period"], 0, max(10, file["reveal_period"]), 1,
                                dtype=int),
        "liquid_alpha": {"type": "Checkbox", "value": file["liquid_alpha"],
                         "label": "Liquid alpha (Yuma 3)"},
        "tao_price_usd": Slider("TAO price at start (USD)", price, min(1.0, price),
                                max(1000.0, round(price) * 2), 1.0, dtype=float),
        "miner_mix": {"type": "Select", "value": AS_IN_FILE, "label": "Mix in miner strategy",
                      "values": [AS_IN_FILE, *roles["miner"]]},
        "miner_mix_share": Slider("... its share of miners (%)", 25, 0, 100, 5, dtype=int),
        "validator_mix": {"type": "Select", "value": AS_IN_FILE,
                          "label": "Mix in validator strategy",
                          "values": [AS_IN_FILE, *roles["validator"]]},
        "validator_mix_share": Slider("... its share of validators (%)", 25, 0, 100, 5,
                                      dtype=int),
    }


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


def _encode(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as a PNG (fast compression: these images live for one epoch)."""
    w, h = canvas.get_width_height(physical=True)
    buf = io.BytesIO()
    PIL.Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _figure(size: tuple[float, float]) -> tuple[Figure, FigureCanvasAgg]:
    fig = Figure(figsize=size, dpi=DPI)
    return fig, FigureCanvasAgg(fig)


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
        self.fig, self.canvas = _figure((7.2, 5.0))
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
            return _encode(self.canvas)


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


def _x_limits(epochs: np.ndarray) -> tuple[float, float]:
    """The x range: from the first epoch to a round number of epochs past the last (10,
    20, 30, 50, 100, ...), so that it stays put for many epochs."""
    lo = float(epochs[0]) if len(epochs) else 0.0
    span = (float(epochs[-1]) - lo + 1.0) if len(epochs) else 1.0
    scale = 1.0
    while True:
        for m in (10, 20, 30, 50):
            if m * scale >= span:
                return lo - 0.5, lo + m * scale - 0.5
        scale *= 10


def _y_limits(values: np.ndarray, floor: float | None = None) -> tuple[float, float]:
    """A range covering ``values`` with a little headroom, its ends rounded (so that it
    changes only when the data leave it)."""
    v = values[np.isfinite(values)]
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    if floor is not None:
        lo = min(lo, floor)
    if hi - lo < 1e-9:
        lo, hi = (lo - 1.0 if lo < 0 else lo), hi + 1.0
    pad = 0.05 * (hi - lo)  # headroom, but not below zero for data that are not
    ticks = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi + pad)
    fine = float(ticks[1] - ticks[0]) / 5  # round the ends to a fifth of a tick step
    low = fine * math.floor((lo - pad) / fine)
    if lo >= 0:
        low = max(low, 0.0)
    return low, fine * math.ceil((hi + pad) / fine)


class _Blitter:
    """Keeps a figure's static pixels (axes, ticks, labels, legend) between renders and
    draws only the data lines on them; the static part is redrawn when the axes' limits,
    the legend or the style change."""

    def __init__(self, size: tuple[float, float]) -> None:
        self.lock = threading.Lock()
        self.fig, self.canvas = _figure(size)
        self._background: Any = None
        self._state: Any = None

    def finish(self, state: Any, lines: list[Line2D]) -> bytes:
        """Render: reuse the background if ``state`` (what the static part shows) is the
        same as last time, then draw ``lines`` (animated artists) on it."""
        if self._background is None or state != self._state:
            self.canvas.draw()  # animated lines are left out
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._state = state
        else:
            self.canvas.restore_region(self._background)
        for line in lines:
            line.axes.draw_artist(line)
        return _encode(self.canvas)


class LineFigure(_Blitter):
    """A plot over epochs, one line per strategy, redrawn cheaply from epoch to epoch."""

    def __init__(self, title: str, ylabel: str, *, step: bool = False) -> None:
        super().__init__((6.2, 4.0))
        self.ax = self.fig.add_subplot()
        self.ax.set_title(title, fontsize=11, loc="left", fontweight="bold")
        self.ax.set_ylabel(ylabel, fontsize=9)
        self.ax.set_xlabel("epoch", fontsize=9)
        self.ax.grid(alpha=0.3)
        self.ax.tick_params(labelsize=8)
        self.fig.subplots_adjust(left=0.12, right=0.7, top=0.9, bottom=0.13)
        self.step = step
        self.lines: dict[str, Line2D] = {}
        self.hint = self.ax.text(0.5, 0.5, "press Step or ▶ to run epochs", ha="center",
                                 va="center", transform=self.ax.transAxes, color="#777777")

    def render(self, df: pd.DataFrame, series: dict[str, str], scale: float = 1.0) -> bytes:
        """The PNG with one line per ``{label: column}`` of ``df`` (times ``scale``)."""
        with self.lock:
            shown = {k: c for k, c in series.items() if c in df and df[c].notna().any()}
            if set(shown) != set(self.lines):
                for name in set(self.lines) - set(shown):
                    self.lines.pop(name).remove()
                for name in sorted(set(shown) - set(self.lines)):
                    (self.lines[name],) = self.ax.plot(
                        [], [], color=strategy_colour(name), lw=1.6, markersize=3, label=name,
                        drawstyle="steps-post" if self.step else "default", animated=True)
                legend = self.ax.get_legend()
                if legend is not None:
                    legend.remove()
                if self.lines:
                    self.ax.legend(handles=[self.lines[n] for n in sorted(self.lines)],
                                   fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                                   frameon=False)
            epochs = df["epoch"].to_numpy(dtype=float) if len(df) else np.zeros(0)
            marker = "o" if len(df) < 25 else ""
            values = []
            for name, col in shown.items():
                y = df[col].to_numpy(dtype=float) * scale
                self.lines[name].set_data(epochs, y)
                self.lines[name].set_marker(marker)
                values.append(y)
            self.hint.set_visible(not shown)
            limits = (_x_limits(epochs), _y_limits(np.concatenate(values) if values
                                                   else np.zeros(0),
                                                   floor=0.0 if self.step else None))
            self.ax.set_xlim(*limits[0])
            self.ax.set_ylim(*limits[1])
            state = (limits, tuple(sorted(shown)), marker)
            return self.finish(state, [self.lines[n] for n in sorted(self.lines)])


class HealthFigure(_Blitter):
    """Alignment, Gini of emission and Nakamoto coefficient over epochs (kept figure)."""

    SPECS = (
        ("alignment", "alignment", "rank corr. of miner quality\nand incentive (1 = ideal)",
         "#2ca02c"),
        ("gini_emission", "Gini", "Gini of emission\n(0 equal, 1 one takes all)", "#d62728"),
        ("nakamoto_stake", "Nakamoto", "fewest validators holding\nhalf the stake", "#1f77b4"),
    )

    def __init__(self) -> None:
        super().__init__((6.2, 4.0))
        self.axes = self.fig.subplots(3, 1, sharex=True)
        self.fig.suptitle("Does the network reward good work?", fontsize=11, x=0.02,
                          ha="left", fontweight="bold")
        self.lines: list[Line2D] = []
        for ax, (col, short, label, colour) in zip(self.axes, self.SPECS, strict=True):
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
            ax.text(1.01, 0.5, label, transform=ax.transAxes, fontsize=7.5, va="center",
                    ha="left", color="#333333")
            ax.set_ylabel(short, fontsize=8.5)
            (line,) = ax.plot([], [], color=colour, lw=1.6, markersize=3, animated=True,
                              drawstyle="steps-post" if col == "nakamoto_stake" else "default")
            self.lines.append(line)
        self.axes[0].set_ylim(-1.05, 1.05)
        self.axes[0].axhline(0, color="#888888", lw=0.8)
        self.axes[1].set_ylim(0, 1.02)
        self.axes[2].yaxis.get_major_locator().set_params(integer=True)
        self.axes[-1].set_xlabel("epoch", fontsize=9)
        self.hint = self.axes[1].text(0.5, 0.5, "press Step or ▶ to run epochs", ha="center",
                                      va="center", transform=self.axes[1].transAxes,
                                      color="#777777")
        self.fig.subplots_adjust(left=0.1, right=0.72, top=0.9, bottom=0.12, hspace=0.25)

    def render(self, df: pd.DataFrame) -> bytes:
        """The PNG of the three measures in ``df``."""
        with self.lock:
            epochs = df["epoch"].to_numpy(dtype=float) if len(df) else np.zeros(0)
            marker = "o" if len(df) < 25 else ""
            for line, (col, *_rest) in zip(self.lines, self.SPECS, strict=True):
                if col in df:
                    line.set_data(epochs, df[col].to_numpy(dtype=float))
                line.set_marker(marker)
            self.hint.set_visible(len(df) == 0)
            naka = (df["nakamoto_stake"].to_numpy(dtype=float) if "nakamoto_stake" in df
                    else np.zeros(0))
            limits = (_x_limits(epochs), _y_limits(naka, floor=0.0))
            self.axes[-1].set_xlim(*limits[0])
            self.axes[2].set_ylim(*limits[1])
            return self.finish((limits, marker, len(df) == 0), self.lines)


def strategy_lines_png(model: ArenaModel, prefix: str, title: str, ylabel: str,
                       scale: float = 1.0, step: bool = False) -> bytes:
    """A plot over epochs of the ``<prefix>:<strategy>`` model variables, per strategy."""
    df = model.metrics()
    series = {c.split(":", 1)[1]: c for c in df.columns if c.startswith(prefix + ":")}

    def render() -> bytes:
        plot = model.figure(prefix, lambda: LineFigure(title, ylabel, step=step))
        return plot.render(df, series, scale)

    return model.picture(prefix, render)


def health_png(model: ArenaModel) -> bytes:
    """Alignment, Gini of emission and Nakamoto coefficient over epochs."""
    df = model.metrics()
    return model.picture("health", lambda: model.figure("health", HealthFigure).render(df))


def top_earners(model: ArenaModel, n: int = TOP_EARNERS) -> pd.DataFrame:
    """The ``n`` participants with the highest profit so far per day of the run (for a
    newcomer, its profit spread over the whole run so far)."""
    from world.model import ROLES

    net = model.network
    accts = np.flatnonzero(net.columns.get("alive", np.arange(net.ledger.n), 0.0) > 0)
    if len(accts) == 0:
        return pd.DataFrame()
    col = net.columns
    days = max(net.epoch, 1) * net.params.epoch_hours / 24.0
    profit_day = np.nan_to_num(col.get("profit_usd_total", accts, 0.0)) / days
    role = [ROLES[int(r)] for r in col.get("role_code", accts)]
    hotkey = to_tao(net.ledger.hotkey_stake())
    own = to_tao(net.ledger.staked)
    stake = np.array([hotkey[a] if r == "validator" else (own[a] if r == "delegator"
                                                          else np.nan)
                      for a, r in zip(accts, role, strict=True)])
    cabal = np.nan_to_num(col.get("cabal", accts, -1.0), nan=-1.0).astype(np.int64)
    df = pd.DataFrame({
        "account": accts,
        "strategy": [net.strategy_names[int(c)] for c in col.get("strategy_code", accts)],
        "role": role,
        "subnet": net.acct_netuid[accts],
        "uid": net.acct_uid[accts],
        "cabal": [net.cabals[int(c)].get("name", str(c)) if c >= 0 and int(c) in net.cabals
                  else "" for c in cabal],
        "stake_tao": stake,
        "earned_tao_epoch": np.nan_to_num(col.get("income_tao", accts, 0.0)),
        "profit_usd_per_day": profit_day,
    })
    return df.sort_values(["profit_usd_per_day", "account"], ascending=[False, True]).head(n)


def _fmt(v: float, digits: int = 0) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.{digits}f}"


def status_html(model: ArenaModel) -> str:
    """The epoch counter, what the model was built with, and the top earners table."""
    net = model.network
    days = net.epoch * net.params.epoch_hours / 24.0
    df = model.metrics()
    last = df.iloc[-1] if len(df) else None
    head = (f'<div style="font-size:20px;font-weight:600;margin-bottom:2px">'
            f'<span id="tao-epoch">Epoch {net.epoch}</span>'
            f'<span style="font-size:13px;font-weight:400;color:#666"> · day {days:.1f} · '
            f'TAO ${net.price_usd:,.2f}</span></div>')
    if last is not None:
        total = float(last["emission_tao"]) or 1.0
        head += (f'<div style="font-size:12px">Last epoch: {total:,.1f} TAO minted; '
                 f'miners got {100 * last["emission_miners_tao"] / total:.0f}%, validators '
                 f'{100 * last["emission_validators_tao"] / total:.0f}% (owner '
                 f'{100 * last["emission_owner_tao"] / total:.0f}%)</div>')
    else:
        minutes = net.params.epoch_hours * 60
        head += (f'<div style="font-size:12px">One step is one epoch ({net.params.tempo} '
                 f'blocks, {minutes:.0f} minutes of chain time): miners answer, validators '
                 'grade them and set weights, and Yuma Consensus turns weights and stake '
                 'into emission.</div>')
    head += (f'<div id="tao-built" style="font-size:11.5px;color:#555;margin:2px 0 6px 0">'
             f'Built with: {html.escape(model.describe())}. '
             f'<i>Sidebar changes apply on Reset.</i></div>')
    top = top_earners(model)
    rows = []
    for rank, r in enumerate(top.itertuples(index=False), start=1):
        who = html.escape(r.strategy) + (f' <span style="color:#888">({html.escape(r.cabal)})'
                                         f'</span>' if r.cabal else "")
        dot = f'<span style="color:{strategy_colour(r.strategy)}">■</span> '
        uid = f"{r.subnet}/{r.uid}" if r.uid >= 0 else "–"
        rows.append(
            f"<tr><td>{rank}</td><td>{dot}{who}</td><td>{r.role}</td><td>{uid}</td>"
            f'<td style="text-align:right">{_fmt(r.stake_tao)}</td>'
            f'<td style="text-align:right">{_fmt(r.earned_tao_epoch, 3)}</td>'
            f'<td style="text-align:right">{_fmt(r.profit_usd_per_day)}</td></tr>')
    table = (
        '<div style="font-size:13px;font-weight:600;margin-top:4px">Top earners '
        '<span style="font-weight:400;color:#666">(profit so far per day of the run)</span></div>'
        '<table id="tao-top-earners" style="border-collapse:collapse;font-size:12px;'
        'width:100%"><thead><tr style="border-bottom:1px solid #bbb;text-align:left">'
        '<th>#</th><th>strategy</th><th>role</th><th>subnet/UID</th>'
        '<th style="text-align:right">stake τ</th>'
        '<th style="text-align:right">τ last epoch</th>'
        '<th style="text-align:right">profit $/day</th></tr></thead><tbody>'
        + ("".join(rows) if net.epoch else
           '<tr><td colspan="7" style="color:#777">no epochs yet</td></tr>')
        + "</tbody></table>")
    return f'<div style="line-height:1.35">{head}{table}</div>'


# ---------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------

_IMAGE_LAYOUT = {"max_width": "100%", "max_height": "370px", "object_fit": "contain"}


def _image(png: bytes, name: str) -> Any:
    """A PNG scaled into its card (classes ``tao-plot tao-<name>`` for tests)."""
    return ipywidgets.Image.element(value=png, format="png",
                                    layout=ipywidgets.Layout.element(**_IMAGE_LAYOUT),
                                    _dom_classes=["tao-plot", f"tao-{name}"])


@solara.component
def NetworkView(model: ArenaModel) -> Any:
    """The subnet as a network, with choices of subnet and of what sizes the nodes."""
    update_counter.get()
    netuid, set_netuid = solara.use_state(0)
    size_by, set_size_by = solara.use_state("emission")
    net = model.network
    netuid = min(netuid, len(net.subnets) - 1)
    png = network_png(net, netuid, size_by)
    with solara.Column(gap="2px") as main:
        with solara.Row(gap="12px", style={"align-items": "center"}):
            if len(net.subnets) > 1:
                solara.Select("subnet", value=str(netuid),
                              values=[str(i) for i in range(len(net.subnets))],
                              on_value=lambda v: set_netuid(int(v)), dense=True,
                              style={"max-width": "90px"})
            solara.Text("node size:", style={"font-size": "12px", "color": "#666"})
            solara.ToggleButtonsSingle(value=size_by, values=list(SIZE_BY),
                                       on_value=set_size_by, dense=True)
        _image(png, "network")
    return main


@solara.component
def StatusView(model: ArenaModel) -> Any:
    """The epoch counter, the model's settings and the top earners."""
    update_counter.get()
    return solara.HTML(tag="div", unsafe_innerHTML=status_html(model),
                       classes=["tao-status"])


@solara.component
def EmissionPlot(model: ArenaModel) -> Any:
    """Emission by strategy over epochs."""
    update_counter.get()
    scale = 24.0 / model.network.params.epoch_hours
    return _image(strategy_lines_png(model, "emission_tao", "Emission by strategy",
                                     "TAO per day (all members)", scale), "emission")


@solara.component
def ProfitPlot(model: ArenaModel) -> Any:
    """Profit per agent by strategy over epochs."""
    update_counter.get()
    scale = 24.0 / model.network.params.epoch_hours
    return _image(strategy_lines_png(model, "profit_usd_per_agent",
                                     "Profit per agent by strategy",
                                     "USD per day (emission − costs)", scale), "profit")


@solara.component
def PopulationPlot(model: ArenaModel) -> Any:
    """Population by strategy over epochs."""
    update_counter.get()
    return _image(strategy_lines_png(model, "population", "Population by strategy",
                                     "participants", step=True), "population")


@solara.component
def HealthPlot(model: ArenaModel) -> Any:
    """Alignment, Gini and Nakamoto coefficient over epochs."""
    update_counter.get()
    return _image(health_png(model), "health")


COMPONENTS = [NetworkView, StatusView, EmissionPlot, ProfitPlot, PopulationPlot, HealthPlot]

# ---------------------------------------------------------------------------------------
# The page (the layout of Mesa's examples)
# ---------------------------------------------------------------------------------------

EXPERIMENT = experiment_path()
_plan = load_base(EXPERIMENT)
model_params = model_params_for(_plan, EXPERIMENT)
model = ArenaModel(experiment=EXPERIMENT)

page = SolaraViz(
    model,
    components=COMPONENTS,
    model_params=model_params,
    name=f"tao-arena · {_plan.name}",
    play_interval=150,
)
page  # noqa: B018
