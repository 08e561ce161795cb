"""Consensus guarantees: retention maps of Yuma Consensus (MODEL.md section 10).

The Monte Carlo of subtensor's own design document (``docs/consensus.md``, "Monte Carlo
simulations" and "Consensus guarantees") and of its test ``map_consensus_guarantees`` with
``split_graph`` (``pallets/subtensor/src/tests/consensus.rs``), run through this project's
Yuma kernel (:func:`world.yuma.epoch_batch`) instead of the chain's:

* 512 UIDs, the first 64 validators (the test's blockwise layout, ``interleave = 0``), the
  rest servers; the honest (major) side gets ``floor(S_H x count)`` of the validators and of
  the servers, at least one and at most all but one (``non_extreme_fixed_ratio``);
* stake per validator ``max(0, 1 + 0.3 z)``, normalised within each side and scaled to
  ``S_H`` and ``1 - S_H``; servers hold no stake;
* weights per validator and server ``max(0, 1 + sigma z)``, normalised within each quadrant
  (honest or cabal validators onto honest or cabal servers) and scaled to ``W_H`` /
  ``1 - W_H`` (honest rows) or ``1 - W_C`` / ``W_C`` (cabal rows);
* from empty bonds, the weights are held for ``epochs`` epochs with the bonds carried over;
  the honest emission share of an epoch is ``E_H = xi D_H + (1 - xi) I_H`` (eq. 7 of the
  document, ``xi`` the validators' share), and the map reports its mean over the epochs
  (the honest share of everything paid while the weights are held);
* like the test, the random draws are made once per major stake (from the seed) and shared
  by every grid point, so the map varies only with ``W_H`` and ``W_C`` (common random
  numbers); the test seeds every draw with 0, here the seed and the stake choose them.

The required honest utility of a major stake is the smallest ``W_H`` on the grid whose
``E_H >= S_H`` for every ``W_C`` on the grid (``None`` when no ``W_H`` does).

Speed: a grid row of ``W_C`` values is one batch (``epoch_batch``), only the 64 validator
rows of the weight and bond buffers are ever written, and the bonds are updated in place.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from world.yuma import YumaParams, epoch_batch

N_UIDS = 512  # map_consensus_guarantees: network_n
N_VALIDATORS = 64  # map_consensus_guarantees: validators_n
STAKE_SIGMA = 0.3  # split_graph: stddev of the stake sample
DEFAULT_STAKES = (0.51, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)
DEFAULT_KAPPA = 32767 / 65535
MAX_GRID = 201  # grid points per axis: a 201 x 201 map is ~2,400 kernel batches already
BATCH = 17  # subnets per epoch_batch call (a 51-point grid row is three batches)

# the command-line option of every parameter, for error messages
OPTIONS = {
    "version": "--version", "liquid_alpha": "--liquid-alpha", "sigma": "--sigma",
    "kappa": "--kappa", "bonds_penalty": "--bonds-penalty",
    "validator_share": "--validator-share", "epochs": "--epochs",
    "major_stake": "--major-stake", "grid": "--grid", "seed": "--seed",
}


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class GuaranteeParams:
    """What one retention map is computed with (defaults: MODEL.md section 10 and the test).

    ``ValueError`` on a bad value names the command-line option and what it allows.
    """

    version: str = "yuma2"
    liquid_alpha: bool = False
    sigma: float = 0.4
    kappa: float = DEFAULT_KAPPA
    bonds_penalty: float = 1.0
    validator_share: float = 0.5
    epochs: int = 1
    major_stake: tuple[float, ...] = DEFAULT_STAKES
    grid: int = 51
    seed: int = 0
    n_uids: int = field(default=N_UIDS)
    n_validators: int = field(default=N_VALIDATORS)

    def __post_init__(self) -> None:
        def bad(name: str, allowed: str, value: object) -> ValueError:
            return ValueError(f"{OPTIONS.get(name, name)} must be {allowed}, got {value!r}")

        if self.version not in ("yuma2", "yuma3"):
            raise bad("version", "yuma2 or yuma3", self.version)
        if self.liquid_alpha and self.version != "yuma3":
            raise ValueError("--liquid-alpha needs --version yuma3 (subtensor applies liquid "
                             "alpha only in Yuma 3)")
        if not (_finite(self.sigma) and self.sigma >= 0):
            raise bad("sigma", "a finite number >= 0", self.sigma)
        if not (_finite(self.kappa) and 0 < self.kappa < 1):
            raise bad("kappa", "in (0, 1)", self.kappa)
        for name in ("bonds_penalty", "validator_share"):
            v = getattr(self, name)
            if not (_finite(v) and 0 <= v <= 1):
                raise bad(name, "in [0, 1]", v)
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise bad("epochs", "an integer >= 1", self.epochs)
        if not self.major_stake:
            raise bad("major_stake", "a non-empty list of stakes in (0.5, 1)", self.major_stake)
        for s in self.major_stake:
            if not (_finite(s) and 0.5 < s < 1):
                raise bad("major_stake", "a list of stakes in (0.5, 1)", s)
        if len(set(self.major_stake)) != len(self.major_stake):
            raise bad("major_stake", "a list of distinct stakes", self.major_stake)
        if not (isinstance(self.grid, int) and 2 <= self.grid <= MAX_GRID):
            raise bad("grid", f"an integer in [2, {MAX_GRID}]", self.grid)
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise bad("seed", "an integer >= 0", self.seed)
        if not (isinstance(self.n_validators, int) and 2 <= self.n_validators < self.n_uids - 1):
            raise bad("n_validators", f"an integer in [2, {self.n_uids - 2}]", self.n_validators)

    def yuma(self) -> YumaParams:
        """The kernel's parameters (bonds EMA rate and liquid-alpha bounds at their defaults;
        one permit per validator)."""
        return YumaParams(version=self.version, kappa=self.kappa,
                          bonds_penalty=self.bonds_penalty, liquid_alpha=self.liquid_alpha,
                          max_validators=self.n_validators)

    def axis(self) -> np.ndarray:
        """The grid of honest utility W_H and of cabal self-weight W_C: 0, ..., 1."""
        return np.round(np.linspace(0.0, 1.0, self.grid), 12)


def split_count(ratio: float, total: int) -> int:
    """How many of ``total`` nodes the major side gets: ``floor(ratio x total)``, at least 1
    and at most ``total - 1`` (``non_extreme_fixed_ratio`` in tests/consensus.rs)."""
    k = int(math.floor(ratio * total + 1e-9))
    return min(max(k, 1), total - 1)


@dataclass(frozen=True)
class SplitGraph:
    """One sampled network of ``split_graph``: stakes and normalised quadrant weights."""

    stake: np.ndarray  # (n,), validators only, summing to 1
    to_honest: np.ndarray  # (v, servers): each row sums to 1 over honest servers (or is 0)
    to_cabal: np.ndarray  # (v, servers): each row sums to 1 over cabal servers (or is 0)
    honest_validators: np.ndarray  # (v,) bool
    honest_servers: np.ndarray  # (servers,) bool


def _normalised_rows(x: np.ndarray) -> np.ndarray:
    total = x.sum(axis=-1, keepdims=True)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 0)


def sample_network(params: GuaranteeParams, major_stake: float) -> SplitGraph:
    """The stakes and weight samples of one major stake (``split_graph``), drawn from
    ``SeedSequence([seed, round(major_stake x 1e6)])``."""
    n, v = params.n_uids, params.n_validators
    servers = n - v
    rng = np.random.default_rng(np.random.SeedSequence(
        [params.seed, round(major_stake * 1_000_000)]))
    hv = np.arange(v) < split_count(major_stake, v)
    hs = np.arange(servers) < split_count(major_stake, servers)
    stake = np.zeros(n)
    raw = np.maximum(0.0, 1.0 + STAKE_SIGMA * rng.standard_normal(v))
    for side, share in ((hv, major_stake), (~hv, 1.0 - major_stake)):
        part = raw[side]
        total = part.sum()
        stake[:v][side] = share * (part / total if total > 0 else np.full(part.size,
                                                                         1 / part.size))
    noise = np.maximum(0.0, 1.0 + params.sigma * rng.standard_normal((v, servers)))
    to_honest = _normalised_rows(np.where(hs, noise, 0.0))
    to_cabal = _normalised_rows(np.where(hs, 0.0, noise))
    return SplitGraph(stake, to_honest, to_cabal, hv, hs)


def honest_emission(params: GuaranteeParams, major_stake: float) -> np.ndarray:
    """``E_H`` over the grid: entry ``[h, c]`` for honest utility ``axis[h]`` and cabal
    self-weight ``axis[c]``, the mean over ``params.epochs`` epochs from empty bonds."""
    net = sample_network(params, major_stake)
    n, v = params.n_uids, params.n_validators
    axis = params.axis()
    yuma, xi = params.yuma(), params.validator_share
    hv = net.honest_validators
    honest_uid = np.concatenate([hv, net.honest_servers])
    size = min(BATCH, axis.size)
    weights = np.zeros((size, n, n))
    bonds = np.zeros((size, n, n))
    stake = np.broadcast_to(net.stake, (size, n))
    out = np.empty((axis.size, axis.size))
    for h, wh in enumerate(axis):
        for start in range(0, axis.size, size):
            wc = axis[start:start + size]
            b = wc.size
            # row scales of the two quadrants: honest rows W_H / 1 - W_H, cabal 1 - W_C / W_C
            on_honest = np.where(hv, wh, 1.0 - wc[:, None])  # (b, v)
            on_cabal = np.where(hv, 1.0 - wh, wc[:, None])
            weights[:b, :v, v:] = (on_honest[:, :, None] * net.to_honest
                                   + on_cabal[:, :, None] * net.to_cabal)
            bonds[:b, :v] = 0.0  # only validator rows are ever written
            total = np.zeros(b)
            permits = None
            for _ in range(params.epochs):
                res = epoch_batch(weights[:b], stake[:b], bonds[:b], yuma, permits=permits,
                                  out=bonds[:b], permitted_bonds_only=True)
                permits = res.new_permits
                total += (xi * res.dividends[:, honest_uid].sum(axis=1)
                          + (1.0 - xi) * res.incentive[:, honest_uid].sum(axis=1))
            out[h, start:start + b] = total / params.epochs
    return out


def required_utility(emission: np.ndarray, axis: np.ndarray, major_stake: float) -> float | None:
    """The smallest honest utility whose ``E_H >= S_H`` for every cabal self-weight."""
    ok = np.all(emission >= major_stake, axis=1)
    return float(axis[np.argmax(ok)]) if ok.any() else None


def retention_maps(params: GuaranteeParams) -> dict[str, Any]:
    """Every map of ``params``: the content of ``guarantees.json``."""
    axis = params.axis()
    maps = [honest_emission(params, s) for s in params.major_stake]
    p = asdict(params)
    p["major_stake"] = list(params.major_stake)
    p.update(stake_sigma=STAKE_SIGMA, bonds_ema_rate=params.yuma().bonds_ema_rate)
    return {
        "params": p,
        "major_stake": list(params.major_stake),
        "required_honest_utility": [required_utility(m, axis, s)
                                    for m, s in zip(maps, params.major_stake, strict=True)],
        "honest_utility": [float(x) for x in axis],
        "cabal_self_weight": [float(x) for x in axis],
        # honest_emission[k][h][c]: E_H at major_stake[k], honest_utility[h], cabal weight[c]
        "honest_emission": [np.round(m, 6).tolist() for m in maps],
        "source": ("MODEL.md section 10; opentensor/subtensor docs/consensus.md and "
                   "pallets/subtensor/src/tests/consensus.rs (map_consensus_guarantees)"),
    }


# ---------------------------------------------------------------------------------------
# The command: tao-arena guarantees
# ---------------------------------------------------------------------------------------


def _stakes(text: str) -> tuple[float, ...]:
    """``--major-stake``: comma-separated, no empty item, no stake twice."""
    items = [x.strip() for x in text.split(",")]
    try:
        if "" in items:
            raise ValueError
        stakes = tuple(float(x) for x in items)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated stakes in (0.5, 1) with no empty item, "
            f"got {text!r}") from None
    if len(set(stakes)) != len(stakes):
        raise argparse.ArgumentTypeError(f"expected distinct stakes, got {text!r}")
    return stakes


def add_parser(sub: Any) -> None:
    """Add ``guarantees`` to the ``tao-arena`` subparsers."""
    d = GuaranteeParams()
    p = sub.add_parser("guarantees", help="retention maps of Yuma Consensus (MODEL.md "
                                          "section 10): guarantees.json and the figure")
    p.add_argument("--version", choices=("yuma2", "yuma3"), default=d.version,
                   help=f"Yuma version (default: {d.version})")
    p.add_argument("--liquid-alpha", action="store_true", help="liquid alpha (yuma3 only)")
    p.add_argument("--sigma", type=float, default=d.sigma,
                   help=f"weight subjectivity, the weights' relative std (default: {d.sigma})")
    p.add_argument("--kappa", type=float, default=d.kappa,
                   help="consensus majority in (0, 1) (default: 32767/65535)")
    p.add_argument("--bonds-penalty", type=float, default=d.bonds_penalty,
                   help=f"bonds penalty beta in [0, 1] (default: {d.bonds_penalty:g})")
    p.add_argument("--validator-share", type=float, default=d.validator_share,
                   help=f"validators' emission share xi in [0, 1] (default: "
                        f"{d.validator_share})")
    p.add_argument("--epochs", type=int, default=d.epochs,
                   help="epochs the weights are held, bonds carried over (default: 1)")
    p.add_argument("--major-stake", type=_stakes, default=d.major_stake, metavar="LIST",
                   help="comma-separated honest stakes in (0.5, 1) (default: 0.51,0.55,"
                        "0.6,...,0.95,0.99)")
    p.add_argument("--grid", type=int, default=d.grid,
                   help=f"grid points per axis (default: {d.grid})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed (default: {d.seed})")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: <results root>/guarantees)")


def run(args: argparse.Namespace) -> int:
    """``tao-arena guarantees``: compute the maps, write guarantees.json and the figure.

    A bad value raises ``ValueError`` naming its option (the CLI exits 2)."""
    from analysis.retention import retention_figure
    from experiments.runner import results_root
    from experiments.store import make_dir, write_atomic

    params = GuaranteeParams(
        version=args.version, liquid_alpha=args.liquid_alpha, sigma=args.sigma,
        kappa=args.kappa, bonds_penalty=args.bonds_penalty,
        validator_share=args.validator_share, epochs=args.epochs,
        major_stake=tuple(args.major_stake), grid=args.grid, seed=args.seed)
    out = Path(args.out) if args.out else results_root() / "guarantees"
    make_dir(out, "an output directory")
    t0 = time.process_time()
    result = retention_maps(params)
    cpu = time.process_time() - t0
    path = out / "guarantees.json"
    write_atomic(path, (json.dumps(result, indent=1) + "\n").encode())
    figure = retention_figure(path, out / "retention.png")
    for s, w in zip(result["major_stake"], result["required_honest_utility"], strict=True):
        need = "none protects it" if w is None else f"honest utility >= {w:.2f}"
        print(f"major stake {s:.2f}: {need}")
    print(f"{len(params.major_stake)} map(s) of {params.grid} x {params.grid} in {cpu:.1f} s "
          f"CPU\nguarantees: {path}\nfigure: {figure}")
    return 0

