"""Accounts: who owns which ledger account, and each account's income, cost and profit.

Every participant and every special holder (the market, each subnet's owner) owns one
ledger account (``world.ledger``); the model keeps, per account, the participant that
owns it (``Network.agent_of``) and the subnet and UID it holds (-1: none). Over an epoch
``EpochBooks`` accumulate each account's income (RAO) and costs (USD); ``close_epoch``
turns them into the per-account columns the strategies, the dynamics and the records
read (MODEL.md section 4: income valued at the epoch's price, costs in USD).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from world.ledger import to_rao, to_tao
from world.membership import ROLES
from world.params import RAO_PER_TAO
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network


# the per-account columns the world keeps, with the value of accounts that never set them
COLUMNS = {
    "alive": 0.0,  # 1 while the participant is in the model
    "strategy_code": np.nan,  # index in Network.strategy_names
    "role_code": np.nan,  # index in ROLES
    "cabal": -1.0,  # its cabal (-1: none)
    "cohort": -1.0,  # the population entry it came from (-1: none)
    "cost_usd": 0.0,  # one-off costs of the epoch so far (a registration burn)
    "income_tao": np.nan,  # last epoch's income, TAO
    "income_usd": np.nan,  # ... at that epoch's price
    "epoch_cost_usd": np.nan,  # last epoch's costs, USD
    "profit_usd": np.nan,  # last epoch's income minus costs, USD
    "profit_usd_total": 0.0,  # since the start
}


def declare(model: Network) -> None:
    """Declare the accounts' columns (``COLUMNS``)."""
    for name, default in COLUMNS.items():
        model.columns.declare(name, default)


@dataclass
class EpochBooks:
    """What one epoch adds up, per account and network-wide."""

    # RAO received (emission, dividends), per account; float64 (exact below 2^53 RAO, nine
    # million TAO an epoch): today's alpha is valued at its pool's price, which a thin pool
    # can push past what int64 RAO holds
    income: np.ndarray
    cost: np.ndarray  # USD spent (GPUs, API calls, grading, servers), per account
    # computed answers, graded answers, query rounds (summed in float64, subnet after subnet)
    work: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    role_emission: np.ndarray = field(default_factory=lambda: np.zeros(3))  # owner, miners, vals
    nominator_payout: float = 0.0  # TAO paid to nominators

    @classmethod
    def open(cls, n_accounts: int) -> EpochBooks:
        return cls(np.zeros(n_accounts), np.zeros(n_accounts))

    def grow(self, n_accounts: int) -> None:
        """Extend the per-account arrays to accounts opened during the epoch."""
        extra = n_accounts - len(self.income)
        if extra > 0:
            self.income = np.pad(self.income, (0, extra))
            self.cost = np.pad(self.cost, (0, extra))


@dataclass(frozen=True)
class UidLayout:
    """Every subnet's UIDs stacked subnet after subnet (the order of the payment's and the
    metrics' arrays), with who holds them; valid while no UID changes hands
    (``Subnet.version``). Arrays are read-only.

    Attributes:
        sizes: UIDs per subnet; starts: each subnet's first place.
        net: the subnet of each place; occupant: its account (``EMPTY``: none).
        miners, occupied, validators: the places of the miners (UIDs ascending within a
            subnet, as ``Membership.members``), of the occupied UIDs and of the validators.
        miner_sizes: miners per subnet.
    """

    sizes: np.ndarray
    starts: np.ndarray
    net: np.ndarray
    occupant: np.ndarray
    miners: np.ndarray
    miner_sizes: np.ndarray
    occupied: np.ndarray
    validators: np.ndarray


def uid_layout(model: Network) -> UidLayout:
    """The :class:`UidLayout` of ``model``'s subnets, kept until a subnet is added or
    replaced or a UID changes hands (speed only: the same arrays as stacking each
    subnet's every epoch; in ``model.kept``: its subnets, their versions and sizes, the
    layout they give)."""
    subnets = model.subnets
    state = [(s.version, len(s.occupant)) for s in subnets]
    kept = model.kept.get(uid_layout)
    if kept is not None and kept[1] == state and len(kept[0]) == len(subnets) and all(
            a is b for a, b in zip(kept[0], subnets, strict=True)):
        return kept[2]
    sizes = np.array([len(s.occupant) for s in subnets], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    occupant = np.concatenate([np.zeros(0, np.int64)] + [s.occupant for s in subnets])
    is_miner = np.concatenate([np.zeros(0, bool)] + [s.is_miner for s in subnets])
    is_validator = np.concatenate([np.zeros(0, bool)] + [s.is_validator for s in subnets])
    net = np.repeat(np.arange(len(subnets), dtype=np.int64), sizes)
    miners = np.flatnonzero(is_miner)
    layout = UidLayout(
        sizes=sizes, starts=starts, net=net, occupant=occupant.astype(np.int64),
        miners=miners, miner_sizes=np.bincount(net[miners], minlength=len(subnets)),
        occupied=np.flatnonzero(occupant != EMPTY), validators=np.flatnonzero(is_validator))
    for a in vars(layout).values():
        a.flags.writeable = False
    model.kept[uid_layout] = (list(subnets), state, layout)
    return layout


def track(model: Network, agent: Any) -> None:
    """Register the newest ledger account, of ``agent`` (None: a special holder)."""
    model.agent_of.append(agent)
    n = model.ledger.n
    acct = n - 1
    model.columns.grow(n)
    if n > len(model.acct_uid):
        cap = max(n, 2 * len(model.acct_uid), 64)
        model.acct_uid = np.resize(model.acct_uid, cap)
        model.acct_netuid = np.resize(model.acct_netuid, cap)
        model.hotkey_of = np.resize(model.hotkey_of, cap)
    model.acct_uid[acct] = EMPTY
    model.hotkey_of[acct] = acct
    model.acct_netuid[acct] = EMPTY
    if agent is not None:
        model.columns.set("alive", acct, 1.0)
        model.columns.set("strategy_code", acct, model.strategy_code(agent.name))
        model.columns.set("role_code", acct, ROLES.index(agent.role))
        model.columns.set("cabal", acct, -1.0)
        model.columns.set("cohort", acct, float(model.cohort))


def endow(model: Network, agent: Any) -> None:
    """Genesis TAO (``agent.endowment()``): held liquid, a validator's or root validator's
    stake staked to itself (a delegator's is staked by ``world.delegation.place``)."""
    e = agent.endowment()
    liquid = int(to_rao(e.liquid_tao + e.stake_tao))
    model.ledger.liquid[agent.acct] = liquid
    model.ledger.initial_supply += liquid
    if agent.role in ("validator", "root") and e.stake_tao > 0:
        model.ledger.stake(agent.acct, agent.acct, int(to_rao(e.stake_tao)))


def fund_market(model: Network) -> None:
    """The market holds the rest of total issuance, so accounts sum to issuance."""
    held = model.ledger.initial_supply
    total = int(to_rao(model.params.economy.initial_issuance_tao))
    if held > total:
        raise ValueError(
            f"the population holds {held / RAO_PER_TAO:,.0f} TAO, more than "
            f"economy.initial_issuance_tao ({total / RAO_PER_TAO:,.0f})"
        )
    model.ledger.liquid[model.market] += total - held
    model.ledger.initial_supply = total


def add_cost(model: Network, acct: int, usd: float) -> None:
    """A one-off cost outside the epoch's work (a registration burn), in USD."""
    col = model.columns
    col.set("cost_usd", acct, col.get("cost_usd", np.array([acct]), 0.0)[0] + usd)


def close_epoch(model: Network) -> None:
    """Income (TAO, and USD at this epoch's price), costs and profit per account."""
    books, col = model.books, model.columns
    n = model.ledger.n
    idx = slice(0, n)  # every account (a slice: views, no gathering; speed only)
    income_tao = to_tao(books.income)
    income_usd = income_tao * model.price_usd
    cost = books.cost[:n] + col.get("cost_usd", idx, 0.0)
    col.set("cost_usd", idx, 0.0)
    col.set("income_tao", idx, income_tao)
    col.set("income_usd", idx, income_usd)
    col.set("epoch_cost_usd", idx, cost)
    col.set("profit_usd", idx, income_usd - cost)
    total = col.get("profit_usd_total", idx, 0.0)
    col.set("profit_usd_total", idx, total + income_usd - cost)
