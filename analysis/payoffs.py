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
writes, read by :mod:`analysis.results`); it never imports the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.results import EPOCHS_PER_DAY_DEFAULT, RunData
from analysis.stats import Estimate, bootstrap_ci

__all__ = [
    "PAYOFF_COLUMNS",
    "agent_payoffs",
    "paired_samples",
    "payoff_table",
    "run_payoffs",
    "strategies_in",
    "summarize",
]

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
