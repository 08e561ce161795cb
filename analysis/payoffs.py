"""Payoffs: what each strategy earned in each run, and the per-seed samples the statistics use.

Issue 6 and MODEL.md sections 4 and 7. A *payoff* is measured per run and per strategy:

- ``profit_usd_per_epoch`` (and ``_per_day``): with per-agent records, the mean over the
  agents that started the window playing the strategy of each one's profit over the
  window (:func:`agent_payoffs`; **survivorship**: an agent that exits or is deregistered
  earns 0 for the rest of the run and keeps the costs it paid, so a strategy that gets
  its agents deregistered does not look as good as its survivors). Without them, the mean
  over post-warm-up epochs of the world's metric ``profit_usd_per_agent:<strategy>`` (the
  agents alive in each epoch). The warm-up is skipped because bonds and moving averages
  start empty (an initial transient, Law 2015, "Simulation Modeling and Analysis", sec.
  9.5.1).
- ``income_usd_per_day`` and ``cost_usd_per_day`` likewise (income = TAO income valued
  at the epoch's price; cost = income - profit).
- ``return_on_capital``: annualised profit over the TAO the strategy's agents hold
  (stake + liquid, valued in USD) at the first per-agent record after the warm-up; the
  ratio of the per-agent means (a capital-weighted return).
- ``survival``: the share of the strategy's agents at the first per-agent record that are
  still registered and still play it at the last record.

The *seed is the unit of replication* (``analysis.stats``): one payoff per run; a run is
one (sweep cell, seed index) pair, and the same seed index in two cells shares its random
numbers (common random numbers), so cells are compared seed by seed.

This module reads result tables (pandas DataFrames from the Parquet files the runner
writes, see ``analysis.results``); it never imports the simulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats import Estimate, bootstrap_ci

__all__ = [
    "EPOCHS_PER_DAY_DEFAULT",
    "Axis",
    "PAYOFF_COLUMNS",
    "ResultSet",
    "RunData",
    "agent_payoffs",
    "find_result_dirs",
    "load_results",
    "paired_samples",
    "payoff_table",
    "run_payoffs",
    "strategies_in",
    "summarize",
]

EPOCHS_PER_DAY_DEFAULT = 20.0  # 7,200 blocks a day / tempo 360 (MODEL.md section 2)
DAYS_PER_YEAR = 365.0

PAYOFF_COLUMNS = (
    "profit_usd_per_epoch",
    "profit_usd_per_day",
    "income_usd_per_day",
    "cost_usd_per_day",
    "return_on_capital",
    "survival",
    "population_start",
    "population_end",
)
"""The payoff measures of :func:`run_payoffs`, one column each."""


@dataclass
class RunData:
    """One run's data as the analysis sees it.

    Attributes:
        run_id: the run's identifier (unique within a results directory).
        cell: index of the sweep cell (0 when there is no sweep).
        seed_index: the seed index (the unit of replication; equal indices share random
            numbers across cells).
        params: the cell's coordinates: swept parameter path -> value, and ``profile``
            for an empirical-game profile (e.g. ``"baseline"``, ``"miner:copy_cabal"``).
        metrics: per-epoch metrics, one row per epoch (column ``epoch``).
        agents: per-agent records (columns ``epoch, account, strategy, role, ...``), or
            None when the run recorded none.
        epochs_per_day: epochs per simulated day (20 at tempo 360).
        warmup: epochs skipped at the start (the first epoch counted is ``warmup``).
    """

    run_id: str
    cell: int
    seed_index: int
    params: dict[str, Any]
    metrics: pd.DataFrame
    agents: pd.DataFrame | None = None
    epochs_per_day: float = EPOCHS_PER_DAY_DEFAULT
    warmup: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def strategies_in(metrics: pd.DataFrame) -> list[str]:
    """Strategy names that have per-strategy metric columns (``population:<name>``)."""
    return [c.split(":", 1)[1] for c in metrics.columns if c.startswith("population:")]


def _after_warmup(frame: pd.DataFrame, warmup: int) -> pd.DataFrame:
    if "epoch" not in frame.columns:
        raise ValueError("a per-epoch metrics table needs an 'epoch' column")
    out = frame[frame["epoch"] >= warmup]
    if out.empty:
        raise ValueError(
            f"no epochs after the warm-up ({warmup}); the run has epochs "
            f"{int(frame['epoch'].min())}..{int(frame['epoch'].max())}"
        )
    return out


def run_payoffs(
    metrics: pd.DataFrame,
    agents: pd.DataFrame | None = None,
    *,
    warmup: int = 0,
    epochs_per_day: float = EPOCHS_PER_DAY_DEFAULT,
) -> pd.DataFrame:
    """Payoff of every strategy in one run (see the module docstring for the measures).

    Args:
        metrics: the run's per-epoch metrics (columns ``epoch``, ``price_usd``,
            ``population:<s>``, ``emission_tao:<s>``, ``profit_usd_per_agent:<s>``).
        agents: the run's per-agent records, for the per-agent payoffs (survivorship),
            return on capital and survival (metric means and NaN without them).
        warmup: first epoch counted; earlier epochs are skipped.
        epochs_per_day: to convert per-epoch amounts into per-day ones.

    Returns:
        One row per strategy with a column ``strategy``, ``role`` (from the agent records,
        ``""`` without them) and the :data:`PAYOFF_COLUMNS`. A strategy with no agent
        after the warm-up gets NaN payoffs.
    """
    if epochs_per_day <= 0:
        raise ValueError(f"epochs_per_day must be > 0, got {epochs_per_day}")
    post = _after_warmup(metrics, warmup)
    price = post["price_usd"].to_numpy(float)
    roles = _roles(agents)
    capital = _capital(agents, metrics, warmup)
    survival = _survival(agents)
    by_agent = (agent_payoffs(agents, warmup=warmup, epochs_per_day=epochs_per_day)
                .groupby("strategy_start")[["profit_usd_per_day", "income_usd_per_day"]].mean()
                if agents is not None and not agents.empty else pd.DataFrame())
    rows = []
    for s in strategies_in(metrics):
        pop = post[f"population:{s}"].to_numpy(float)
        alive = pop > 0
        if s in by_agent.index:  # every agent that started with s, 0 after it left
            profit = float(by_agent.loc[s, "profit_usd_per_day"]) / epochs_per_day
            income = float(by_agent.loc[s, "income_usd_per_day"]) / epochs_per_day
        elif alive.any():
            profit = float(np.mean(post[f"profit_usd_per_agent:{s}"].to_numpy(float)[alive]))
            income_tao = post[f"emission_tao:{s}"].to_numpy(float)[alive] / pop[alive]
            income = float(np.mean(income_tao * price[alive]))
        else:
            profit = income = float("nan")
        cap = capital.get(s, float("nan"))
        per_day = profit * epochs_per_day
        roc = per_day * DAYS_PER_YEAR / cap if cap and np.isfinite(cap) and cap > 0 else np.nan
        rows.append({
            "strategy": s,
            "role": roles.get(s, ""),
            "profit_usd_per_epoch": profit,
            "profit_usd_per_day": per_day,
            "income_usd_per_day": income * epochs_per_day,
            "cost_usd_per_day": (income - profit) * epochs_per_day,
            "return_on_capital": float(roc),
            "survival": survival.get(s, float("nan")),
            "population_start": float(metrics[f"population:{s}"].iloc[0]),
            "population_end": float(metrics[f"population:{s}"].iloc[-1]),
        })
    return pd.DataFrame(rows, columns=["strategy", "role", *PAYOFF_COLUMNS])


def _roles(agents: pd.DataFrame | None) -> dict[str, str]:
    if agents is None or agents.empty or "role" not in agents.columns:
        return {}
    first = agents.drop_duplicates("strategy")
    return dict(zip(first["strategy"], first["role"], strict=True))


def _capital(agents: pd.DataFrame | None, metrics: pd.DataFrame, warmup: int) -> dict[str, float]:
    """Mean USD value of the TAO each strategy's agents hold at the first record >= warmup."""
    if agents is None or agents.empty:
        return {}
    recorded = np.sort(agents["epoch"].unique())
    later = recorded[recorded >= warmup]
    at = int(later[0]) if later.size else int(recorded[-1])
    rec = agents[agents["epoch"] == at]
    price_at = metrics.loc[metrics["epoch"] == at, "price_usd"]
    price = float(price_at.iloc[0]) if len(price_at) else float(metrics["price_usd"].iloc[0])
    held = (rec["stake_tao"] + rec["liquid_tao"]) * price
    return held.groupby(rec["strategy"]).mean().to_dict()


def _survival(agents: pd.DataFrame | None) -> dict[str, float]:
    """Share of each strategy's agents at the first record still playing it at the last."""
    if agents is None or agents.empty:
        return {}
    first_epoch, last_epoch = agents["epoch"].min(), agents["epoch"].max()
    first = agents[agents["epoch"] == first_epoch]
    last = agents[agents["epoch"] == last_epoch]
    last_pairs = set(zip(last["account"], last["strategy"], strict=True))
    out = {}
    for s, grp in first.groupby("strategy"):
        kept = sum((a, s) in last_pairs for a in grp["account"])
        out[str(s)] = kept / len(grp)
    return out


def agent_payoffs(
    agents: pd.DataFrame,
    *,
    warmup: int = 0,
    epochs_per_day: float = EPOCHS_PER_DAY_DEFAULT,
) -> pd.DataFrame:
    """Per-agent payoffs of one run from its per-agent records.

    ``profit_usd_per_day``: the change of the agent's cumulative profit
    (``profit_usd_total``) from the first record at or after the warm-up to the last
    record of the run, per epoch of that window, times ``epochs_per_day``. An agent that
    left earlier keeps its last cumulative profit (it earns 0 after leaving), so its
    payoff covers the same window as everyone's; one that left before the window starts
    has a payoff of 0 (netuid and uid -1): survivorship, an agent that exits or is
    deregistered earns 0 for the rest of the run and keeps the costs it paid.
    ``income_usd_per_day`` and ``cost_usd_per_day`` are the sampled epochs' income and
    cost (the records hold one epoch's amounts every recording interval) summed over the
    agent's records and divided by the recorded epochs from its first record to the end (0
    after it left). Agents that appear only after the window starts are measured from
    their first record.

    Returns:
        One row per account: ``account, strategy, strategy_start`` (at its first record in
        the window), ``role, netuid, uid, cabal, cohort,
        stake_tao, profit_usd_per_day, income_usd_per_day, cost_usd_per_day``
        (strategy, role, netuid, uid, cabal and cohort, the population entry the agent
        came from (-1 for newcomers or records without it), as at the account's last record,
        stake_tao at its first record in the window).
    """
    if agents is None or agents.empty:
        raise ValueError("agent_payoffs needs per-agent records (the run recorded none)")
    recorded = np.sort(agents["epoch"].unique())
    later = recorded[recorded >= warmup]
    start = int(later[0]) if later.size else int(recorded[-1])
    end = int(recorded[-1])
    win = agents[agents["epoch"] >= start].sort_values(["account", "epoch"])
    g = win.groupby("account", sort=True)
    first, last = g.first(), g.last()
    # the window is [first record, end]: the cumulative total before the first record's
    # epoch is its total minus that epoch's own profit
    before = first["profit_usd_total"].to_numpy(float) - first["profit_usd"].to_numpy(float)
    gained = last["profit_usd_total"].to_numpy(float) - before
    span = end - first["epoch"].to_numpy(float) + 1.0
    # income and cost are sampled every recording interval: an agent's sum over its
    # records, over the recorded epochs from its first record to the end (0 once it left)
    sampled = np.sort(win["epoch"].unique())
    n_samples = len(sampled) - np.searchsorted(sampled, first["epoch"].to_numpy())
    out = pd.DataFrame({
        "account": first.index.to_numpy(),
        "strategy": last["strategy"].to_numpy(),
        "strategy_start": first["strategy"].to_numpy(),
        "role": last["role"].to_numpy() if "role" in last else "",
        "netuid": last["netuid"].to_numpy() if "netuid" in last else -1,
        "uid": last["uid"].to_numpy() if "uid" in last else -1,
        "cabal": last["cabal"].to_numpy() if "cabal" in last else -1,
        "cohort": last["cohort"].to_numpy() if "cohort" in last else -1,
        "stake_tao": first["stake_tao"].to_numpy(float) if "stake_tao" in first else np.nan,
        "profit_usd_per_day": gained / span * epochs_per_day,
        "income_usd_per_day": g["income_usd"].sum().to_numpy(float) / n_samples
        * epochs_per_day,
        "cost_usd_per_day": g["cost_usd"].sum().to_numpy(float) / n_samples * epochs_per_day,
    })
    # agents that left before the window earn nothing in it: a payoff of 0, not a gap
    gone = agents[~agents["account"].isin(out["account"])]
    if len(gone):
        last_gone = gone.sort_values(["account", "epoch"]).groupby("account", sort=True).last()
        out = pd.concat([out, pd.DataFrame({
            "account": last_gone.index.to_numpy(),
            "strategy": last_gone["strategy"].to_numpy(),
            "strategy_start": last_gone["strategy"].to_numpy(),
            "role": last_gone["role"].to_numpy() if "role" in last_gone else "",
            "netuid": -1, "uid": -1,
            "cabal": last_gone["cabal"].to_numpy() if "cabal" in last_gone else -1,
            "cohort": last_gone["cohort"].to_numpy() if "cohort" in last_gone else -1,
            "stake_tao": last_gone["stake_tao"].to_numpy(float)
            if "stake_tao" in last_gone else np.nan,
            "profit_usd_per_day": 0.0, "income_usd_per_day": 0.0, "cost_usd_per_day": 0.0,
        })], ignore_index=True)
    return out.sort_values("account").reset_index(drop=True)


def payoff_table(runs: Iterable[RunData]) -> pd.DataFrame:
    """The payoffs of every strategy in every run, long format.

    Columns: ``run_id, cell, seed_index``, one column per swept parameter / profile
    (from ``RunData.params``), ``strategy, role`` and the :data:`PAYOFF_COLUMNS`.
    """
    frames = []
    for r in runs:
        p = run_payoffs(r.metrics, r.agents, warmup=r.warmup, epochs_per_day=r.epochs_per_day)
        p.insert(0, "seed_index", r.seed_index)
        p.insert(0, "cell", r.cell)
        p.insert(0, "run_id", r.run_id)
        for k, v in r.params.items():
            p[k] = [v] * len(p)
        frames.append(p)
    if not frames:
        raise ValueError("no runs to tabulate")
    return pd.concat(frames, ignore_index=True)


def summarize(
    table: pd.DataFrame,
    value: str = "profit_usd_per_day",
    by: Sequence[str] = ("cell", "strategy"),
    *,
    confidence: float = 0.95,
    n_resamples: int = 4999,
    rng: int = 0,
) -> pd.DataFrame:
    """Mean of ``value`` across seeds per group, with a BCa bootstrap interval.

    Each group must hold one row per seed (the unit of replication); NaNs (a strategy
    absent from a run) are dropped. Groups with a single seed get no interval (NaN
    bounds, ``method="none"``).

    Returns:
        One row per group: the ``by`` columns, ``mean, low, high, n, method``.
    """
    rows = []
    for key, grp in table.groupby(list(by), sort=True, dropna=False):
        x = grp[value].to_numpy(float)
        x = x[np.isfinite(x)]
        key_t = key if isinstance(key, tuple) else (key,)
        if x.size == 0:
            continue
        if grp["seed_index"].duplicated().any() if "seed_index" in grp else False:
            raise ValueError(
                f"group {key_t} has several rows per seed; add the distinguishing column to by"
            )
        est = _estimate(x, confidence, n_resamples, rng)
        rows.append({**dict(zip(by, key_t, strict=True)), "mean": est.mean, "low": est.low,
                     "high": est.high, "n": est.n, "method": est.method})
    return pd.DataFrame(rows, columns=[*by, "mean", "low", "high", "n", "method"])


def _estimate(x: np.ndarray, confidence: float, n_resamples: int, rng: int) -> Estimate:
    if x.size < 2:
        v = float(x[0]) if x.size else float("nan")
        return Estimate(v, float("nan"), float("nan"), int(x.size), "none", confidence)
    return bootstrap_ci(x, confidence=confidence, n_resamples=n_resamples, rng=rng)


def paired_samples(
    table: pd.DataFrame,
    value: str,
    a: dict[str, Any],
    b: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-seed values of two selections of a payoff table, aligned on the seed index.

    ``a`` and ``b`` select rows by column equality (e.g. ``{"cell": 3, "strategy":
    "weight_copier"}``); each must give at most one row per seed. Only seeds present (and
    finite) in both are kept, so the pair is a common-random-numbers comparison.

    Returns:
        ``(seed_indices, a_values, b_values)``.
    """

    def pick(sel: dict[str, Any]) -> pd.Series:
        mask = np.ones(len(table), dtype=bool)
        for k, v in sel.items():
            mask &= (table[k] == v).to_numpy()
        rows = table[mask]
        if rows["seed_index"].duplicated().any():
            raise ValueError(f"selection {sel} has several rows per seed")
        return rows.set_index("seed_index")[value].astype(float)

    sa, sb = pick(a), pick(b)
    both = sa.index.intersection(sb.index)
    va, vb = sa.loc[both].to_numpy(), sb.loc[both].to_numpy()
    ok = np.isfinite(va) & np.isfinite(vb)
    return np.asarray(both)[ok], va[ok], vb[ok]


# ---------------------------------------------------------------------------------------
# Reading a results directory (the layout of docs/experiments.md)
# ---------------------------------------------------------------------------------------

RUN_META_KEY = b"tao_arena.run"
SECONDS_PER_BLOCK = 12.0  # MODEL.md section 2
BLOCKS_PER_DAY = 7_200


@dataclass
class ResultSet:
    """A results directory: the manifest and every complete run.

    Attributes:
        root: the directory (``results/<experiment>/<config-hash>/``).
        manifest: ``manifest.json`` as a dict.
        config: the experiment as resolved (defaults filled), from the manifest.
        cells: per cell index, ``{"cell", "overrides", "profile"}`` (``profile`` None
            without profiles).
        runs: the complete runs, ordered by (cell, seed index).
    """

    root: Path
    manifest: dict[str, Any]
    config: dict[str, Any]
    cells: dict[int, dict[str, Any]]
    runs: list[RunData]

    @property
    def name(self) -> str:
        """The experiment's name."""
        return str(self.config.get("name") or self.manifest.get("name") or self.root.name)

    @property
    def epochs(self) -> int:
        """Epochs per run."""
        return int(self.config.get("epochs", 0))

    @property
    def warmup(self) -> int:
        """Warm-up epochs skipped by the payoffs (the file's, or epochs // 5)."""
        return warmup_of(self.config)

    @property
    def epochs_per_day(self) -> float:
        """Epochs per simulated day (7,200 blocks / tempo)."""
        return epochs_per_day_of(self.config)

    def axes(self) -> list[Axis]:
        """The sweep's axes in sweep order: each grid path alone, each zip group together
        (``manifest.grid.paths`` and ``manifest.grid.zip``), with their values in the order
        the cells visit them."""
        grid = self.manifest.get("grid") or {}
        groups: list[tuple[str, ...]] = [(p,) for p in grid.get("paths") or []]
        groups += [tuple(g) for g in grid.get("zip") or []]
        seen = {p for g in groups for p in g} | set(grid.get("constant") or [])
        for c in (self.cells[k] for k in sorted(self.cells)):  # older manifests: no grid
            for path in c.get("overrides") or {}:
                if path not in seen:
                    seen.add(path)
                    groups.append((path,))
        out = []
        for paths in groups:
            values: list[tuple[Any, ...]] = []
            for c in (self.cells[k] for k in sorted(self.cells)):
                ov = c.get("overrides") or {}
                if all(p in ov for p in paths):
                    v = tuple(ov[p] for p in paths)
                    if v not in values:
                        values.append(v)
            out.append(Axis(paths, values))
        return out

    def era_of(self, cell: int) -> str | None:
        """The era a cell ran (``manifest.eras``: each era group lists its cells), or None
        for results written before the manifest named eras."""
        for group in self.manifest.get("eras") or []:
            if cell in (group.get("cells") or []):
                return str(group.get("era"))
        return None

    def eras(self) -> list[str]:
        """The eras the complete runs ran, in the order their cells first appear."""
        return list(dict.fromkeys(e for e in (self.era_of(r.cell) for r in self.runs)
                                  if e is not None))

    def subset(self, cells: Iterable[int]) -> ResultSet:
        """The same results directory restricted to ``cells``: their runs only, and a sweep
        whose axes are those that still vary among them (an axis with one value left, such
        as the era in one era's cells, is no longer an axis)."""
        keep = set(cells)
        manifest = dict(self.manifest)
        grid = dict(manifest.get("grid") or {})
        overrides = [self.cells[k].get("overrides") or {} for k in sorted(keep)
                     if k in self.cells]

        def varies(paths: Sequence[str]) -> bool:
            values = {tuple(repr(ov.get(p)) for p in paths) for ov in overrides}
            return len(values) > 1

        grid["paths"] = [p for p in grid.get("paths") or [] if varies([p])]
        grid["zip"] = [g for g in grid.get("zip") or [] if varies(g)]
        grid["cells"] = [c for c in grid.get("cells") or [] if int(c["cell"]) in keep]
        manifest["grid"] = grid
        dropped = {p for g in (self.manifest.get("grid") or {}).get("zip") or [] for p in g}
        dropped |= set((self.manifest.get("grid") or {}).get("paths") or [])
        dropped -= set(grid["paths"]) | {p for g in grid["zip"] for p in g}
        grid["constant"] = sorted(dropped | set(grid.get("constant") or []))
        return ResultSet(self.root, manifest, self.config,
                         {k: v for k, v in self.cells.items() if k in keep},
                         [r for r in self.runs if r.cell in keep])


@dataclass(frozen=True)
class Axis:
    """One axis of a sweep: a grid path, or a zip group of paths varying together."""

    paths: tuple[str, ...]
    values: list[tuple[Any, ...]]

    @property
    def name(self) -> str:
        """The paths, joined by " & "."""
        return " & ".join(self.paths)

    def coord(self, overrides: dict[str, Any]) -> tuple[Any, ...] | None:
        """This axis' value in a cell with ``overrides`` (None if the cell lacks it)."""
        if not all(p in overrides for p in self.paths):
            return None
        return tuple(overrides[p] for p in self.paths)

    @staticmethod
    def label(value: tuple[Any, ...]) -> str:
        """A value as a tick label: ``"3"`` or ``"True/3"`` for a zip group."""
        return "/".join(str(v) for v in value)


def warmup_of(config: dict[str, Any]) -> int:
    """The warm-up of a resolved experiment config (``warmup_epochs`` or epochs // 5)."""
    w = config.get("warmup_epochs")
    return int(w) if w is not None else int(config.get("epochs", 0)) // 5


def epochs_per_day_of(config: dict[str, Any]) -> float:
    """Epochs per day of a resolved experiment config (7,200 blocks / tempo)."""
    tempo = (config.get("scenario") or {}).get("tempo", 360)
    return BLOCKS_PER_DAY / float(tempo)


def _file_meta(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(RUN_META_KEY)
    return json.loads(raw) if raw else {}


def load_results(root: str | Path) -> ResultSet:
    """Read a results directory written by ``tao-arena run/sweep``.

    Per-run Parquet files are recognised by the run identity in their metadata (key
    ``tao_arena.run``: ``run_id``, ``cell``, ``seed_index``, ``table`` = ``metrics`` or
    ``agents``), so the reader does not depend on file names; ``summary.parquet`` and
    temporary files are ignored. Runs without a metrics file (failed or incomplete) are
    left out.

    Raises:
        ValueError: no ``manifest.json`` in ``root`` or no complete run.
    """
    root = Path(root)
    mpath = root / "manifest.json"
    if not mpath.is_file():
        raise ValueError(f"{root} is not a results directory (no manifest.json)")
    manifest = json.loads(mpath.read_text())
    config = manifest.get("config") or manifest.get("experiment") or {}
    cell_list = manifest.get("cells") or (manifest.get("grid") or {}).get("cells") or []
    cells = {int(c["cell"]): c for c in cell_list}
    found: dict[str, dict[str, Any]] = {}
    for f in sorted(root.rglob("*.parquet")):
        if f.name == "summary.parquet" or ".tmp" in f.name:
            continue
        meta = _file_meta(f)
        if not meta.get("run_id") or meta.get("table") not in ("metrics", "agents"):
            continue
        entry = found.setdefault(meta["run_id"], {"meta": meta})
        entry[meta["table"]] = f
    runs = []
    for rid, entry in found.items():
        if "metrics" not in entry:
            continue
        meta = entry["meta"]
        cell = int(meta["cell"])
        metrics = _strip_ids(pd.read_parquet(entry["metrics"]))
        agents = _strip_ids(pd.read_parquet(entry["agents"])) if "agents" in entry else None
        info = cells.get(cell, {})
        params = dict(info.get("overrides") or {})
        cfg = _cell_config(config, params)
        warmup, per_day = warmup_of(cfg), epochs_per_day_of(cfg)
        profile = info.get("profile")
        if profile:
            params["profile"] = profile.get("id")
        runs.append(RunData(rid, cell, int(meta["seed_index"]), params, metrics, agents,
                            per_day, warmup,
                            {"profile": profile, "drawn": dict(meta.get("params") or {})}))
    if not runs:
        raise ValueError(f"{root} holds no complete run")
    runs.sort(key=lambda r: (r.cell, r.seed_index))
    for c in {r.cell for r in runs} - set(cells):
        cells[c] = {"cell": c, "overrides": {}, "profile": None}
    return ResultSet(root, manifest, config, cells, runs)


def _cell_config(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The config keys the payoffs depend on (epochs, warm-up, tempo) with a cell's overrides."""
    scenario = dict(config.get("scenario") or {})
    out = {k: config.get(k) for k in ("epochs", "warmup_epochs")}
    for path, value in overrides.items():
        key = path.removeprefix("scenario.")
        if key in ("epochs", "warmup_epochs"):
            out[key] = value
        elif key == "tempo":
            scenario["tempo"] = value
    out["scenario"] = scenario
    return out


def _strip_ids(df: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in ("run_id", "cell", "seed_index", "profile") if c in df.columns]
    return df.drop(columns=drop)


def find_result_dirs(root: str | Path) -> list[Path]:
    """Every results directory (holding ``manifest.json``) at or below ``root``."""
    root = Path(root)
    if (root / "manifest.json").is_file():
        return [root]
    return sorted(p.parent for p in root.rglob("manifest.json"))
