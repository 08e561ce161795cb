"""Populations that evolve: cabals, entry, exit and imitation (MODEL.md section 6).

The report expects the population itself to move: "Miners not running absolute
state-of-the-art models will either be downranked and booted", newcomers arrive while
"inflows from naive new miners and validators" last, and "subnets and cabals will
consolidate amid vicious infighting" once they fall (claims 2, 9 and 12 of MODEL.md
section 7). This module holds the processes that change who plays what:

- cabals: agents declaring the same ``cabal_tag`` on one subnet form one explicit cabal
  (``Network.form_cabal``), joined later by newcomers and switchers with that tag;
- ``Entry``: newcomers arrive at a rate per epoch, pick a strategy by the scenario's rule
  and burn-register when they expect a profit;
- ``Exit``: participants leave after ``patience`` consecutive losing epochs;
- ``Imitation``: every ``every`` epochs each participant meets a random peer of its role
  and adopts the peer's strategy with the Fermi probability
  ``1 / (1 + exp(-beta (profit_peer - profit_self)))``;
- ``Events``: a queue of rare per-agent actions strategies schedule during an epoch and
  the model carries out between epochs, when accounts may be opened (a stake attacker's
  entry).

Each is a ``world.model.Dynamics`` (``after_epoch(model)``), appended to ``model.dynamics``.
Decisions are drawn as arrays over all participants; per-agent Python runs only for the
few that actually enter, leave or switch. Randomness: ``model.streams['arrivals']`` for
entry, ``model.streams['decisions']`` for imitation (MODEL.md section 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from agents.base import REGISTRY, ROLES, Param
from world.ledger import to_rao
from world.parameters import ParameterError, param, parameters
from world.params import RAO_PER_TAO
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.interfaces import Group, SubnetContext
    from world.model import Network



# -- cabals ------------------------------------------------------------------------------
def cabal_param(default: int) -> Param:
    """The ``cabal_tag`` parameter: agents with the same tag on a subnet form one cabal."""
    return Param(default, -1, 1_000_000, "cabal it joins on its subnet (-1: none)", integer=True)


def cabal_name(netuid: int, tag: int) -> str:
    """The name of the cabal of tag ``tag`` on subnet ``netuid``."""
    return f"subnet{netuid}/tag{tag}"


def ensure_cabals(model: Network, *netuids: int) -> None:
    """Put every agent on subnets ``netuids`` with a ``cabal_tag`` >= 0 into its cabal,
    subnet after subnet (``_ensure_cabals``; a subnet where nothing changed since it last
    found nothing new is passed over here, at the cost of a comparison)."""
    checked = _checked(model)
    columns = model.columns
    versions = (columns.version("cabal_tag"), columns.version("cabal"))
    for netuid in netuids:
        if checked.get(netuid) == (model.subnets[netuid].version, *versions):
            continue
        _ensure_cabals(model, netuid)
        versions = (columns.version("cabal_tag"), columns.version("cabal"))


def _checked(model: Network) -> dict[int, tuple[int, int, int]]:
    """Per subnet, the (occupants, ``cabal_tag``, ``cabal``) versions at which
    ``ensure_cabals`` last found every tagged agent in its cabal (in ``model.kept``)."""
    return model.kept.setdefault(ensure_cabals, {})


def _ensure_cabals(model: Network, netuid: int) -> None:
    """Put every agent on subnet ``netuid`` with a ``cabal_tag`` >= 0 into its cabal.

    The first agents of a tag form the cabal (``Network.form_cabal``; its leader is the
    lowest-account validator among them, else the lowest-account member); later ones
    (newcomers, switchers) join it (``Network.join_cabal``). Agents already in a cabal stay
    where they are. Colluding strategies call this at the start of their epoch; it costs
    two column reads when nothing is new, and nothing when neither the subnet's occupants
    nor the ``cabal_tag`` and ``cabal`` columns changed since it last found nothing new.
    """
    s = model.subnets[netuid]
    checked = _checked(model)
    columns = model.columns
    state = (s.version, columns.version("cabal_tag"), columns.version("cabal"))
    if checked.get(netuid) == state:
        return
    occ = s.occupant[s.occupant != EMPTY]
    tags = columns.get("cabal_tag", occ, -1.0)
    need = tags >= 0  # NaN (a strategy without the parameter) is no tag
    if need.any():
        need &= columns.get("cabal", occ, -1.0) < 0
    if not need.any():
        checked[netuid] = state
        return
    existing = {c["name"]: cid for cid, c in model.cabals.items()}
    for tag in np.unique(tags[need]).astype(np.int64):
        agents = [model.agent_of[int(a)] for a in occ[need & (tags == tag)]]
        cid = existing.get(cabal_name(netuid, int(tag)))
        if cid is not None:
            model.join_cabal(cid, agents)
            continue
        validators = [a for a in agents if a.role == "validator"]
        leader = min(validators or agents, key=lambda a: a.acct)
        model.form_cabal(agents, leader, cabal_name(netuid, int(tag)))


class FormsCabals:
    """A colluding strategy's members join their cabals at the start of their subnet's
    turn (``begin_turn``, ``world.interfaces``): cabals then form subnet after subnet,
    numbered in that order, whichever strategies on a subnet collude. Its decisions call
    ``ensure_cabals`` again (nothing when nothing is new), so that they stand alone."""

    @classmethod
    def begin_turn(cls, group: Group, ctx: SubnetContext) -> None:
        ensure_cabals(group.model, *ctx.netuids)


# -- between-epoch events ----------------------------------------------------------------
class Events:
    """Rare per-agent actions scheduled during an epoch, carried out after it.

    An epoch's accounts are fixed while it runs (its income and cost arrays are sized at
    its start), so an action that opens accounts, such as registering new miners, waits
    here until ``after_epoch``. Use ``schedule``; it installs the queue on first use.
    The actions strategies schedule in their decisions run in the order of the epoch's
    turns, whatever the order of the calls that scheduled them (the world calls a
    strategy once for a run of subnets of one shape): first those of participants
    without a UID (delegators) and those scheduled for nobody, as scheduled; then subnet
    after subnet, by the position of the participant's strategy among its subnet's
    groups (miners', then validators', ``world.membership.Plan``) and by UID. An action
    scheduled elsewhere (in ``begin_turn``, or by another action after the epoch, for the
    next) is ordered by the same key, which need not be the order turns would give.
    """

    def __init__(self) -> None:
        self.queue: list[tuple[tuple[int, ...], Callable[[Network], None]]] = []

    def after_epoch(self, model: Network) -> None:
        todo, self.queue = self.queue, []
        for _, action in sorted(todo, key=lambda item: item[0]):  # stable: ties as queued
            action(model)


def schedule(model: Network, action: Callable[[Network], None], acct: int | None = None
             ) -> None:
    """Run ``action(model)`` after the current epoch (see ``Events``), as an action of
    participant ``acct`` (None: of none)."""
    key: tuple[int, ...] = (0,)
    agent = model.agent_of[acct] if acct is not None and acct >= 0 else None
    if agent is not None and agent.uid != EMPTY:
        plan = model.membership.plan(agent.netuid)
        order = [cls for cls, _ in plan.miner_groups] + [cls for cls, _ in plan.setters]
        at = order.index(type(agent)) if type(agent) in order else len(order)
        key = (1, agent.netuid, at, agent.uid)
    for d in model.dynamics:
        if isinstance(d, Events):
            d.queue.append((key, action))
            return
    events = Events()
    events.queue.append((key, action))
    model.dynamics.append(events)


def buy_stake(model: Network, acct: int, tao: float) -> int:
    """Buy up to ``tao`` TAO from the market account and stake it to ``acct`` itself.

    Outside capital entering the network (a newcomer validator, a stake attacker). Returns
    the RAO bought (less than asked if the market holds less).
    """
    rao = min(int(to_rao(tao)), int(model.ledger.liquid[model.market]))
    if rao > 0:
        model.ledger.transfer(model.market, acct, rao)
        model.ledger.stake(acct, acct, rao)
    return rao


# -- helpers over accounts -----------------------------------------------------------------
def alive_accounts(model: Network) -> np.ndarray:
    """Accounts of the participants still in the model (ascending)."""
    return np.flatnonzero(model.columns.get("alive", np.arange(model.ledger.n), 0.0) > 0)


def _grown(arr: np.ndarray, n: int, fill: float = 0.0) -> np.ndarray:
    if len(arr) >= n:
        return arr
    out = np.full(max(n, 2 * len(arr), 64), fill)
    out[: len(arr)] = arr
    return out


# -- entry -----------------------------------------------------------------------------------
Role = Literal["miner", "validator", "delegator"]


@parameters("EntryOption")
class EntryOption:
    """A strategy newcomers may choose: registry name, its parameters, a weight for the
    ``weighted`` rule and the subnet it targets (None: any of ``Entry.netuids``)."""

    strategy: str = Field(description="strategy name from the registry")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="its parameters (defaults filled)")
    weight: float = param(1.0, 0, None, "relative chance of this option (rule weighted)")
    netuid: int | None = param(None, 0, None, "the subnet it targets (null: any of netuids)")


@parameters("Entry")
class EntryParams:
    """The parameters of :class:`Entry` (MODEL.md section 6)."""

    options: tuple[EntryOption, ...] = Field(min_length=1,
                                             description="strategies newcomers may choose")
    rate: float = param(1.0, 0, None, "newcomers arriving per epoch (Poisson mean)")
    rule: Literal["weighted", "imitate"] = param("weighted", doc="how a newcomer picks its "
                                                 "strategy and subnet")
    netuids: tuple[int, ...] | None = Field(default=None, description="subnets newcomers "
                                            "may join (null: all)")
    payback_epochs: float = param(200.0, 0, None, "epochs within which the expected profit "
                                  "must pay back the burn", low_open=True)
    profit_rate: float = param(0.1, 0, 1, "EMA rate per epoch of the trailing profit",
                               low_open=True)
    naive: bool = param(False, doc="enter without looking at profits (hype)")
    enter_unknown: bool = param(True, doc="enter where no incumbent shows a profit yet")

    @model_validator(mode="after")
    def _weights(self) -> EntryParams:
        if sum(o.weight for o in self.options) <= 0:
            raise ParameterError("options", "Entry option weights must not all be 0")
        return self


class Entry:
    """Newcomers arrive, choose a strategy and register when they expect a profit.

    MODEL.md section 6: "newcomers register when they expect a profit and the burn
    allows". Each epoch ``Poisson(rate)`` newcomers arrive (``model.streams['arrivals']``).
    Each picks an option and a subnet by ``rule``: ``weighted`` draws an option by the
    options' weights and a subnet (the option's, else one of ``netuids``) at random;
    ``imitate`` takes the option and subnet whose incumbents had the best trailing profit
    per agent (as ``weighted`` while no option has incumbents). Its expected profit is
    the trailing mean profit per epoch (USD, EMA of rate ``profit_rate``) of the
    incumbents of that strategy on that subnet; it registers if that expectation is
    positive and pays back the burn (burn in USD) within ``payback_epochs``, or without
    looking if ``naive`` (hype). Where there are no incumbents it enters if
    ``enter_unknown``. Registration goes through ``Network.register`` (burn, pruning of a
    full subnet); a refused registration removes the newcomer. A validator newcomer buys
    its ``stake_tao`` from the market and stakes it (outside capital). Newcomers are miners
    or validators. ``history`` keeps (epoch, arrived, entered, declined, refused):
    declined, they expected no profit or the subnet took no more registrations this
    interval; refused, ``Network.register`` turned them down (no TAO to buy the burn).
    Parameters: :class:`EntryParams`.

    The strategies must be known to the model at construction
    (``Network(..., strategies=[...])``) so its data collector reports them.
    """

    Params = EntryParams
    needs_model = True

    def __init__(self, model: Network, options: Sequence[Any], **params: Any) -> None:
        from agents.catalog import get  # the registry imports this module's users

        p = EntryParams(options=tuple(options), **params)
        n_sub = len(model.subnets)
        self.netuids = tuple(range(n_sub)) if p.netuids is None else tuple(p.netuids)
        if not self.netuids or any(not 0 <= u < n_sub for u in self.netuids):
            raise ValueError(f"Entry.netuids must be subnets in [0, {n_sub - 1}], "
                             f"got {p.netuids!r}")
        self.classes = []
        for o in p.options:
            cls = get(o.strategy)
            if cls.role == "delegator":
                raise ValueError(f"Entry option {o.strategy!r}: newcomers register a UID, so "
                                 "they are miners or validators")
            if cls.owns_subnet():
                raise ValueError(f"Entry option {o.strategy!r}: it owns its subnet and a "
                                 "newcomer owns none (subnet_founder registers a subnet)")
            cls.resolve_params(dict(o.params))  # fail now, not at the first arrival
            if o.strategy not in model.strategy_names:
                raise ValueError(
                    f"Entry: strategy {o.strategy!r} is unknown to the model; pass it in "
                    "Network(..., strategies=[...]) so the data collector reports it"
                )
            if o.netuid is not None and not 0 <= o.netuid < n_sub:
                raise ValueError(f"Entry option {o.strategy!r}: netuid {o.netuid} is no subnet")
            self.classes.append(cls)
        weights = np.array([o.weight for o in p.options], dtype=np.float64)
        self.options = p.options
        self.weights = weights / weights.sum()
        self.codes = np.array([model.strategy_code(o.strategy) for o in p.options])
        self.rate, self.rule = float(p.rate), p.rule
        self.payback_epochs, self.profit_rate = float(p.payback_epochs), float(p.profit_rate)
        self.naive, self.enter_unknown = p.naive, p.enter_unknown
        # trailing mean profit per agent, by (strategy code, subnet; the last: no subnet)
        self.expected = np.full((len(model.strategy_names), n_sub + 1), np.nan)
        self.history: list[tuple[int, int, int, int, int]] = []

    def _update_expectations(self, model: Network) -> None:
        n_codes, n_buckets = len(model.strategy_names), len(model.subnets) + 1
        if self.expected.shape[0] < n_codes:
            grown = np.full((n_codes, n_buckets), np.nan)
            grown[: self.expected.shape[0]] = self.expected
            self.expected = grown
        accts = alive_accounts(model)
        code = model.columns.get("strategy_code", accts).astype(np.int64)
        netuid = model.acct_netuid[accts]
        bucket = code * n_buckets + np.where(netuid >= 0, netuid, n_buckets - 1)
        profit = model.columns.get("profit_usd", accts, 0.0)
        size = n_codes * n_buckets
        count = np.bincount(bucket, minlength=size).reshape(n_codes, n_buckets)
        total = np.bincount(bucket, weights=profit, minlength=size).reshape(n_codes, n_buckets)
        mean = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
        r = self.profit_rate
        blended = np.where(np.isnan(self.expected), mean, (1 - r) * self.expected + r * mean)
        self.expected = np.where(count > 0, blended, np.nan)

    def after_epoch(self, model: Network) -> None:
        self._update_expectations(model)
        rng = model.streams["arrivals"]
        arrived = int(rng.poisson(self.rate))
        entered = declined = refused = 0
        for _ in range(arrived):
            k, netuid = self._pick(rng)
            cls = self.classes[k]
            if not self._wants_in(model, self.expected[self.codes[k], netuid], netuid):
                declined += 1
                continue
            if self._enter(model, cls, self.options[k].params, netuid):
                entered += 1
            else:
                refused += 1
        self.history.append((model.epoch, arrived, entered, declined, refused))

    def _pick(self, rng: np.random.Generator) -> tuple[int, int]:
        """The option and subnet of one newcomer."""
        if self.rule == "imitate":
            # the best trailing profit per agent over each option's subnets
            best, where = np.full(len(self.options), -np.inf), np.zeros(len(self.options), int)
            for k, o in enumerate(self.options):
                subnets = self.netuids if o.netuid is None else (o.netuid,)
                seen = self.expected[self.codes[k], list(subnets)]
                if np.isfinite(seen).any():
                    j = int(np.nanargmax(seen))
                    best[k], where[k] = seen[j], subnets[j]
            if np.isfinite(best).any():
                k = int(np.argmax(best))
                return k, int(where[k])
        k = int(rng.choice(len(self.options), p=self.weights))
        o = self.options[k]
        return k, (o.netuid if o.netuid is not None else int(rng.choice(self.netuids)))

    def _wants_in(self, model: Network, expected: float, netuid: int) -> bool:
        s = model.subnets[netuid]
        if not s.can_register():
            return False
        if self.naive:
            return True
        if np.isnan(expected):
            return self.enter_unknown
        burn_usd = s.burn_rao / RAO_PER_TAO * model.price_usd
        return bool(expected > 0 and expected * self.payback_epochs >= burn_usd)

    def _enter(self, model: Network, cls: type, params: Mapping[str, Any], netuid: int) -> bool:
        agent = cls(model, **dict(params))
        if model.register(agent, netuid) == EMPTY:
            model.deregister(agent)  # a refused newcomer leaves; its empty account stays
            return False
        if cls.role == "validator":
            buy_stake(model, agent.acct, agent.values.get("stake_tao", 0.0))
        return True


# -- exit --------------------------------------------------------------------------------------
@parameters("Exit")
class ExitParams:
    """The parameters of :class:`Exit` (MODEL.md section 6)."""

    patience: int = param(20, 1, None, "consecutive losing epochs before leaving")
    roles: tuple[Role, ...] = param(("miner",), doc="roles that may leave")

    @model_validator(mode="after")
    def _no_delegators(self) -> ExitParams:
        if "delegator" in self.roles:
            raise ParameterError("roles", "Exit.roles: delegators hold no UID to give up")
        return self


class Exit:
    """Participants leave after ``patience`` consecutive epochs of losses.

    MODEL.md section 6: "miners leave after sustained losses". The loss streak (column
    ``loss_streak``) counts consecutive epochs with ``profit_usd < 0`` and is updated for
    every participant of the given roles at once; those reaching ``patience`` deregister
    (``Network.deregister``: the UID is freed, the account and its balances remain).
    ``departed`` keeps (epoch, account, strategy name) of each departure. Parameters:
    :class:`ExitParams`.
    """

    Params = ExitParams
    needs_model = False

    def __init__(self, **params: Any) -> None:
        p = ExitParams(**params)
        self.patience, self.roles = p.patience, p.roles
        self.departed: list[tuple[int, int, str]] = []

    def after_epoch(self, model: Network) -> None:
        accts = alive_accounts(model)
        role = model.columns.get("role_code", accts).astype(np.int64)
        accts = accts[np.isin(role, [ROLES.index(r) for r in self.roles])]
        model.columns.declare("loss_streak", 0.0)
        losing = model.columns.get("profit_usd", accts, 0.0) < 0
        streak = np.where(losing, model.columns.get("loss_streak", accts, 0.0) + 1, 0.0)
        model.columns.set("loss_streak", accts, streak)
        for acct in accts[streak >= self.patience]:
            agent = model.agent_of[int(acct)]
            self.departed.append((model.epoch, int(acct), agent.name))
            model.deregister(agent)


# -- imitation ----------------------------------------------------------------------------------
@parameters("Imitation")
class ImitationParams:
    """The parameters of :class:`Imitation` (MODEL.md section 6)."""

    every: int = param(10, 1, None, "epochs between comparisons")
    beta: float = param(0.01, 0, None, "selection intensity of the Fermi rule, 1/USD")
    roles: tuple[Role, ...] = param(("miner", "validator"), doc="roles that imitate")
    same_subnet: bool = param(True, doc="peers are met on one's own subnet only")
    exclude: tuple[str, ...] = Field(default=(), description="strategies never adopted, "
                                     "whose players never switch")


class Imitation:
    """Pairwise imitation with the Fermi rule (MODEL.md section 6).

    Every ``every`` epochs each participant of the given roles meets one random peer of
    its role (on its own subnet if ``same_subnet``), compares its mean profit per epoch
    (USD) since the last comparison with the peer's, and adopts the peer's strategy, with
    the peer's parameters, with probability ``1 / (1 + exp(-beta (profit_peer -
    profit_self)))`` (``beta`` in 1/USD: the selection intensity). All decisions are
    drawn at once; only those who switch run Python (``Network.switch_strategy``: same
    account, UID and stake). Strategies in ``exclude`` stay out of it: never adopted, and
    their players never switch (an outsider with a plan, such as a stake attacker); so do
    subnet owners' strategies (``owns_subnet``: copying one would not make one an owner).
    ``switches`` keeps (epoch, account, old name, new name). Parameters:
    :class:`ImitationParams`.
    """

    Params = ImitationParams
    needs_model = False

    def __init__(self, **params: Any) -> None:
        p = ImitationParams(**params)
        self.every, self.beta = p.every, float(p.beta)
        self.roles, self.same_subnet = p.roles, p.same_subnet
        self.exclude = frozenset(p.exclude)
        self._sum = np.zeros(0)
        self._count = np.zeros(0)
        self.switches: list[tuple[int, int, str, str]] = []

    def after_epoch(self, model: Network) -> None:
        n = model.ledger.n
        self._sum, self._count = _grown(self._sum, n), _grown(self._count, n)
        accts = alive_accounts(model)
        self._sum[accts] += model.columns.get("profit_usd", accts, 0.0)
        self._count[accts] += 1
        if (model.epoch + 1) % self.every:
            return
        self._compare(model, accts)
        self._sum[:] = 0.0
        self._count[:] = 0.0

    def _compare(self, model: Network, accts: np.ndarray) -> None:
        role = model.columns.get("role_code", accts).astype(np.int64)
        accts = accts[np.isin(role, [ROLES.index(r) for r in self.roles])]
        if len(accts) < 2:
            return
        role = model.columns.get("role_code", accts).astype(np.int64)
        netuid = model.acct_netuid[accts] if self.same_subnet else np.zeros(len(accts), np.int64)
        key = role * (len(model.subnets) + 2) + (netuid + 1)
        order = np.argsort(key, kind="stable")
        accts, key = accts[order], key[order]
        _, start, size = np.unique(key, return_index=True, return_counts=True)
        block = np.repeat(np.arange(len(start)), size)
        pos = np.arange(len(accts)) - start[block]
        rng = model.streams["decisions"]
        span = size[block]
        offset = rng.integers(0, np.maximum(span - 1, 1))  # another member of the block
        peer = accts[start[block] + (pos + 1 + offset) % span]
        profit = self._sum[accts] / np.maximum(self._count[accts], 1)
        gap = self._sum[peer] / np.maximum(self._count[peer], 1) - profit
        p = 0.5 * (1.0 + np.tanh(0.5 * self.beta * gap))  # Fermi, without overflow
        code = model.columns.get("strategy_code", accts).astype(np.int64)
        peer_code = model.columns.get("strategy_code", peer).astype(np.int64)
        switch = (rng.random(len(accts)) < p) & (span > 1) & (code != peer_code)
        # owners stay out too: adopting an owner's strategy would not make one an owner
        out = [model.strategy_code(name) for name in self.exclude] + [
            code for code, name in enumerate(model.strategy_names)
            if name in REGISTRY and REGISTRY[name].owns_subnet()]
        if out:
            switch &= ~np.isin(peer_code, out) & ~np.isin(code, out)
        # adopt the peers' strategies as they were before anyone switched this round
        adopted = [(model.agent_of[int(a)], model.agent_of[int(b)])
                   for a, b in zip(accts[switch], peer[switch], strict=True)]
        adopted = [(a, type(b), dict(b.values), model.cohort_of(b.acct)) for a, b in adopted]
        for agent, cls, params, cohort in adopted:
            self.switches.append((model.epoch, agent.acct, agent.name, cls.name))
            model.switch_strategy(agent, cls, params, cohort=cohort)
