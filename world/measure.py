"""Measurement: the network metrics of each epoch and the per-agent records.

MODEL.md section 7 names what the claims are tested on; ``docs/world.md`` ("Measurement")
lists every metric. The statistics themselves (Spearman's rho, Gini, Nakamoto
coefficient) are ``world.metrics``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd
import pyarrow as pa

from world import dtao_measure, metrics
from world.accounts import uid_layout
from world.ledger import to_tao
from world.membership import ROLES
from world.params import RAO_PER_TAO
from world.records import Records

if TYPE_CHECKING:
    from world.model import Network


def metric_keys(strategy_names: Sequence[str], pool_subnets: int = 0) -> list[str]:
    """Every per-epoch metric of a network with these strategies: the network metrics and,
    per strategy, its population, emission and profit; with today's pools
    (``dtao.pools``) on ``pool_subnets`` subnets, their per-subnet metrics too."""
    keys = [
        "epoch", "price_usd", "issuance_tao", "burned_tao", "emission_tao",
        "emission_owner_tao", "emission_miners_tao", "emission_validators_tao",
        "nominator_payout_tao", "alignment", "gini_emission", "nakamoto_stake",
        "compute_per_useful_answer",
    ]
    for name in strategy_names:
        keys += [f"population:{name}", f"emission_tao:{name}", f"profit_usd:{name}",
                 f"profit_usd_per_agent:{name}"]
    if pool_subnets:
        keys += dtao_measure.metric_keys(pool_subnets)
    return keys


class Collector(mesa.DataCollector):
    """Mesa's ``DataCollector`` over the network's metrics (:func:`reporters`): the same
    table, each epoch's values appended as the reporters give them. Mesa deep-copies
    every reporter's value, a copy a float does not need (about 1 ms an epoch over the
    1,116 metrics of 128 subnets); where the collector holds anything but these
    reporters' lists (other reporters, agent reporters, another Mesa's layout), Mesa
    collects. It makes its reporters itself (:func:`reporters` of ``model``), so that the
    ones it reads from ``model.metrics`` are those."""

    def __init__(self, model: Network) -> None:
        metrics = reporters(model)
        super().__init__(model_reporters=metrics)
        self._metrics = dict(metrics)  # the reporters this collector reads itself

    def collect(self, model: Network) -> None:  # type: ignore[override]
        steps = getattr(self, "_collection_steps", None)
        if not (getattr(self, "_validated", False) and isinstance(steps, list)
                and self._metrics and self.model_reporters == self._metrics
                and not self.agent_reporters and not self.agenttype_reporters
                and self.model_vars.keys() == self._metrics.keys()):
            super().collect(model)
            return
        steps.append(model.time)
        metrics = model.metrics
        for var, values in self.model_vars.items():
            values.append(metrics.get(var, math.nan))


def reporters(model: Network) -> dict[str, Callable[[Network], float]]:
    """The data collector's model reporters: :func:`metric_keys` of this network (NaN
    before the first epoch)."""
    pools = len(model.subnets) if model.coinbase is not None else 0
    keys = metric_keys(model.strategy_names, pools)
    return {k: functools.partial(metric, key=k) for k in keys}


def metric(model: Network, key: str) -> float:
    """This epoch's value of metric ``key`` (a model reporter: Mesa calls a partial with
    the model; module-level, so a collector pickles)."""
    return model.metrics.get(key, math.nan)


def measure(model: Network) -> None:
    """This epoch's network metrics (read by the DataCollector)."""
    books = model.books
    m: dict[str, float] = {
        "epoch": float(model.epoch),
        "price_usd": model.price_usd,
        "issuance_tao": model.ledger.supply / RAO_PER_TAO,
        "burned_tao": model.ledger.burned / RAO_PER_TAO,
        "emission_tao": float(books.role_emission.sum()),
        "emission_owner_tao": float(books.role_emission[0]),
        "emission_miners_tao": float(books.role_emission[1]),
        "emission_validators_tao": float(books.role_emission[2]),
        "nominator_payout_tao": books.nominator_payout,
    }
    subnets = model.subnets
    # every subnet's miners, occupied UIDs and validators, stacked subnet after subnet
    layout = uid_layout(model)

    def stacked(arrays: list[np.ndarray], places: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros(0)] + arrays)[places]

    rhos = metrics.spearman_segments(
        stacked([s.quality for s in subnets], layout.miners),
        stacked([s.last.incentive for s in subnets], layout.miners),
        # the miners' quality ranks, kept while the qualities are the same (speed only)
        layout.miner_sizes, memo=model.kept.setdefault(measure, {}),
    )
    finite = [r for r in rhos.tolist() if math.isfinite(r)]
    m["alignment"] = float(np.mean(finite)) if finite else float("nan")
    m["gini_emission"] = metrics.gini(
        stacked([s.emission_tao for s in subnets], layout.occupied))
    m["nakamoto_stake"] = float(metrics.nakamoto(
        stacked([s.stake_tao for s in subnets], layout.validators)))
    m["compute_per_useful_answer"] = metrics.compute_per_useful_answer(*books.work)
    alive, order, bounds = model.membership.by_strategy_code()
    income = model.columns.get("income_tao", alive, 0.0)[order]
    profit = model.columns.get("profit_usd", alive, 0.0)[order]
    # each strategy's values in account order, as ``income[codes == i]`` gives them
    for i, name in enumerate(model.strategy_names):
        lo, hi = bounds[i], bounds[i + 1]
        count = hi - lo
        m[f"population:{name}"] = float(count)
        total = profit[lo:hi].sum()
        m[f"emission_tao:{name}"] = float(income[lo:hi].sum())
        m[f"profit_usd:{name}"] = float(total)
        # ndarray.mean is the same sum divided by the count
        m[f"profit_usd_per_agent:{name}"] = float(total / count) if count else float("nan")
    if model.coinbase is not None:
        m.update(dtao_measure.metrics(model))
    model.metrics = m


def record_agents(model: Network) -> None:
    """Per-agent records, every ``agent_record_interval`` epochs (columnar)."""
    accts = model.membership.alive()
    col = model.columns
    stake = to_tao(model.ledger.staked[accts])
    record = {
        "epoch": np.full(len(accts), model.epoch, dtype=np.int64),
        "account": accts,
        # codes: names in ``frame`` (``model.strategy_names`` only grows, codes stay valid)
        "strategy": col.get("strategy_code", accts).astype(np.int64),
        "role": col.get("role_code", accts).astype(np.int64),
        "netuid": model.acct_netuid[accts].copy(),
        "uid": model.acct_uid[accts].copy(),
        "cabal": col.get("cabal", accts).astype(np.int64),
        "cohort": col.get("cohort", accts).astype(np.int64),
        "stake_tao": stake,
        "hotkey_stake_tao": model.ledger.hotkey_stake_tao()[accts],
        "liquid_tao": to_tao(model.ledger.liquid[accts]),
        "income_tao": col.get("income_tao", accts, 0.0),
        "income_usd": col.get("income_usd", accts, 0.0),
        "cost_usd": col.get("epoch_cost_usd", accts, 0.0),
        "profit_usd": col.get("profit_usd", accts, 0.0),
        "profit_usd_total": col.get("profit_usd_total", accts, 0.0),
    }
    if model.coinbase is not None:
        record.update(dtao_measure.agent_columns(model, accts))
    model.records.append(record)

def frame(records: Records, strategy_names: Sequence[str]) -> pd.DataFrame:
    """Per-agent records as one DataFrame, one row per agent per recorded epoch; the
    records' strategy and role codes as their names (pandas' ``str`` columns). The
    numeric columns are read-only views of the records' buffers, not copies: writing
    into the frame in place (``.loc``, ``.iloc``, ``fillna(inplace=True)``) needs a
    ``.copy()`` of it first. With no record yet, an empty frame without columns; with
    records of no rows, the columns without rows."""
    if not records.names:
        return pd.DataFrame()
    labels = {"strategy": strategy_names, "role": ROLES}
    columns = {k: _named(v, labels[k]) if k in labels else v
               for k, v in records.columns().items()}
    return pd.DataFrame(columns, copy=False)


def _named(codes: np.ndarray, names: Sequence[str]) -> pd.api.extensions.ExtensionArray:
    """``np.asarray(names, dtype=object)[codes]`` as a ``str`` column, made by Arrow from
    the codes (a fifth of a second per million rows less than from Python strings)."""
    if len(codes) and not 0 <= codes.min() <= codes.max() < len(names):
        raise IndexError(f"a record's code is outside the {len(names)} names")
    words = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                           pa.array(list(names), pa.large_string()))
    return pd.array(words.cast(pa.large_string()), dtype="str")
