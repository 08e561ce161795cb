"""Measurement of the dtao economy: per-subnet pools and per-agent value (issue 16).

Added to the metrics and the per-agent records only when the pools are on
(``dtao.pools``), so the tables of other worlds keep their columns. Per subnet j and
epoch (``metrics``): ``dtao_price:j`` (TAO per alpha), ``dtao_moving_price:j``,
``dtao_tao_reserve:j`` and ``dtao_alpha_reserve:j``, ``dtao_share:j`` (its share of the
TAO emission this epoch), ``dtao_inflow_tao:j`` (TAO staked in minus out this epoch),
``dtao_market_cap_tao:j`` (all its alpha, pool and outstanding, at the pool price),
``dtao_miner_burned:j`` (the share of its miner emission its owner's UID burned this
epoch, which lowers its next share); and
network-wide ``dtao_root_stake_tao``, ``dtao_pool_tao`` and ``dtao_alpha_recycled``.
Per agent (``agent_columns``): its alpha, the subnet it is on, its root stake, and its
value in TAO and USD two ways: alpha marked to the pool price (``value_tao``) and to what
selling all of it alone would return after fee and slippage (``value_sell_tao``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from world.alpha_ledger import DtaoLedger
from world.pool import ALPHA_UNITS

if TYPE_CHECKING:
    from world.model import Network

__all__ = ["agent_columns", "metric_keys", "metrics"]

RAO = 1_000_000_000
PER_SUBNET = ("price", "moving_price", "tao_reserve", "alpha_reserve", "share", "inflow_tao",
              "market_cap_tao", "miner_burned")
NETWORK = ("dtao_root_stake_tao", "dtao_pool_tao", "dtao_alpha_recycled")


def metric_keys(k: int) -> list[str]:
    """The metric columns of a network of ``k`` subnets with pools."""
    return [*NETWORK, *_subnet_keys(k)]


@functools.cache
def _subnet_keys(k: int) -> tuple[str, ...]:
    """The per-subnet metric names of ``k`` subnets, in ``metric_keys``' order (kept:
    speed only)."""
    return tuple(f"dtao_{name}:{j}" for name in PER_SUBNET for j in range(k))


def metrics(model: Network) -> dict[str, float]:
    """This epoch's pool metrics (see the module docstring)."""
    ledger = model.ledger
    assert isinstance(ledger, DtaoLedger) and model.coinbase is not None
    last = model.coinbase.last
    k = len(ledger.pools)
    tao, alpha = ledger.reserves()
    price = ledger.prices()
    zeros = np.zeros(k)
    values = {
        "price": price, "moving_price": model.coinbase.moving,
        "tao_reserve": tao / RAO, "alpha_reserve": alpha / ALPHA_UNITS,
        "share": last.get("share", zeros), "inflow_tao": last.get("inflow", zeros),
        "market_cap_tao": (alpha + ledger.alpha_outstanding()) * price / RAO,
        "miner_burned": model.coinbase.miner_burned,
    }
    per_subnet = [np.asarray(values[name], dtype=np.float64) for name in PER_SUBNET]
    out = dict(zip(_subnet_keys(k), np.concatenate(per_subnet).tolist(), strict=True))
    out["dtao_root_stake_tao"] = float(ledger.staked[: ledger.n].sum()) / RAO
    out["dtao_pool_tao"] = float(tao.sum()) / RAO
    out["dtao_alpha_recycled"] = float(np.sum(last.get("recycled", zeros)))
    return out


def agent_columns(model: Network, accts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-agent columns of the records: alpha, its subnet, root stake, value in TAO/USD."""
    ledger = model.ledger
    assert isinstance(ledger, DtaoLedger)
    units = ledger.alpha[accts].astype(np.float64)
    net = ledger.alpha_net[accts]
    tao, alpha_res = ledger.reserves()
    on = net >= 0
    j = np.maximum(net, 0)
    price = np.where(on, ledger.prices()[j], 0.0) if len(tao) else np.zeros(len(accts))
    # selling a alone: y a' / (x + a') with a' = a (1 - fee), the pool's own rule
    net_in = units * (1.0 - float(ledger.fee))
    y, x = tao[j].astype(np.float64), alpha_res[j].astype(np.float64)
    sell = np.where(on, y * net_in / np.maximum(x + net_in, 1.0), 0.0)
    cash = (ledger.liquid[accts] + ledger.staked[accts]).astype(np.float64)
    value = (cash + units * price) / RAO
    value_sell = (cash + sell) / RAO
    return {
        "alpha": units / ALPHA_UNITS, "alpha_netuid": net.copy(),
        "root_stake_tao": ledger.staked[accts] / RAO,
        "value_tao": value, "value_sell_tao": value_sell,
        "value_usd": value * model.price_usd, "value_sell_usd": value_sell * model.price_usd,
    }
