"""The network: a Mesa model in which one step is one epoch (tempo) of every subnet.

Each epoch (MODEL.md sections 3-5), in order:

1. delegators choose validators; stake moves once a choice has persisted its delay;
2. on every subnet: miners produce answers; permitted grading validators query samples of
   miners and grade what they get; everyone's costs accrue; validators set weights (rate
   limit, commit-reveal); due commits are revealed; Yuma Consensus runs on the weights on
   chain and carries bonds and permits to the next epoch (by default for all subnets at
   once after their turns, batched; ``batch_subnets=False``: at the end of each turn);
3. the epoch's emission is minted and paid: subnets' shares, 18% to each owner, miners by
   incentive, validators by dividends with their take and their nominators' shares;
4. registration burns adjust; the ledger is checked to the RAO; metrics are collected;
5. population dynamics registered in ``model.dynamics`` run (entry, exit, imitation).

All randomness comes from ``model.rng`` (Mesa's ``rng=``), split at construction into
independent streams (prices, queries, grading, decisions, arrivals) so that the same seed
gives the same exogenous draws in every cell of a sweep (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import mesa
import numpy as np
import pandas as pd

from world import metrics, work
from world.columns import Columns
from world.emission import epoch_emission, subnet_shares
from world.interfaces import Group, NetworkContext, SubnetContext
from world.ledger import NO_HOTKEY, Ledger, to_rao, to_tao
from world.params import RAO_PER_TAO, NetworkParams
from world.prices import PricePath
from world.subnet import EMPTY, LastEpoch, Subnet
from world.yuma import epoch as yuma_epoch
from world.yuma import epoch_batch as yuma_epoch_batch

# Yuma Consensus of all subnets of an epoch in batched calls (one per set of subnets with the
# same size and hyperparameters) once every subnet has set its weights, rather than subnet
# by subnet; the results are the same (the determinism tests compare the two paths).
BATCH_SUBNETS = True
# at most this many bytes of bonds per batched Yuma call (32 subnets of 256 UIDs): below
# glibc's largest mmap threshold (32 MB) the kernel's new bonds come from reused heap
# memory instead of fresh pages faulted in every epoch (4 ms of system time per epoch
# at 64 x 256 in one batch)
BATCH_BYTES = 16 * 2**20
ROLES = ("miner", "validator", "delegator")
STREAMS = ("price", "queries", "grading", "decisions", "arrivals")
YIELD_EMA_RATE = 0.2  # weight of the latest epoch in delegators' trailing yield
# a grading validator's columns the world reads every epoch (agents.base.GradingValidator)
GRADER_COLUMNS = ("capability", "noise", "dedup", "score_ema_rate", "grading_cost_usd")


@dataclass(frozen=True)
class Cohort:
    """``count`` participants of one strategy class, on subnet ``subnet`` (None: delegators)."""

    strategy: type
    count: int
    subnet: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Plan:
    """What one subnet's epoch needs from its strategy groups (rebuilt with them)."""

    groups: dict[type, Group]
    miner_groups: list[tuple[type, Group]]
    setters: list[tuple[type, Group]]  # every validator group, in group order
    setter_uids: np.ndarray
    setter_accts: np.ndarray
    graders: np.ndarray  # UIDs of the grading validators, in group order
    grader_accts: np.ndarray
    values: dict[tuple[str, str], tuple[int, np.ndarray]] = field(default_factory=dict)
    graded: tuple[tuple[int, ...], list[np.ndarray], bool] | None = None

    def grader_columns(self, columns: Columns) -> tuple[list[np.ndarray], bool]:
        """``GRADER_COLUMNS`` at the graders (cached until one of them is written), and
        whether their capability, noise and rate suit the compiled grading."""
        key = tuple(columns.version(name) for name in GRADER_COLUMNS)
        if self.graded is None or self.graded[0] != key:
            out = [self.column(columns, name, "graders") for name in GRADER_COLUMNS]
            capability, noise, _, rate, _ = out
            plain = work.plain_inputs(np.zeros(0), capability, noise, rate)
            self.graded = (tuple(columns.version(name) for name in GRADER_COLUMNS), out, plain)
        return list(self.graded[1]), self.graded[2]

    def column(self, columns: Columns, name: str, who: str) -> np.ndarray:
        """Column ``name`` at ``who`` ('graders' or 'setters'), cached until it is written
        (read-only: shared between epochs)."""
        hit = self.values.get((name, who))
        if hit is not None and hit[0] == columns.version(name):
            return hit[1]
        out = columns.get(name, self.grader_accts if who == "graders" else self.setter_accts)
        out.flags.writeable = False
        self.values[(name, who)] = (columns.version(name), out)  # after get created it
        return out


@dataclass
class _Answers:
    """This epoch's answers of one subnet's miners, per UID (``Production`` fields), kept
    between epochs: a group whose strategy returns the same immutable ``Production`` as
    last epoch needs no writing."""

    plan: _Plan
    version: int
    quality: np.ndarray
    key: np.ndarray
    fixed: np.ndarray
    per_query: np.ndarray
    computes: np.ndarray
    last: dict[type, Any] = field(default_factory=dict)
    plain: bool | None = None  # quality suits the compiled grading (None: not checked)

    @classmethod
    def empty(cls, plan: _Plan, version: int, n: int) -> _Answers:
        return cls(plan, version, np.zeros(n), np.full(n, -1, dtype=np.int64), np.zeros(n),
                   np.zeros(n), np.zeros(n, dtype=bool))


def _immutable(prod: Any) -> bool:
    """Whether every array of a ``Production`` is read-only (so it cannot change)."""
    return not any(getattr(prod, f).flags.writeable for f in (
        "quality", "answer_key", "fixed_cost_usd", "query_cost_usd", "computes"))


@dataclass
class _Members:
    """One subnet's miners and occupancy, valid while ``Subnet.version`` is ``version``."""

    version: int
    miners: np.ndarray  # UIDs, ascending
    miner_accts: np.ndarray
    miner_cols: slice | np.ndarray  # the miners' columns: a slice when their UIDs are a range
    occupied: np.ndarray
    full: bool


class Dynamics(Protocol):
    """A population process run after each epoch (entry, exit, imitation...)."""

    def after_epoch(self, model: Network) -> None: ...


class Network(mesa.Model):
    """A Bittensor-like network of subnets, miners, validators and delegators."""

    def __init__(
        self,
        params: NetworkParams | None = None,
        population: Sequence[Cohort] = (),
        *,
        rng: int | np.random.Generator | None = None,
        strategies: Sequence[type] = (),
        batch_subnets: bool | None = None,
    ) -> None:
        if rng is None:
            raise ValueError("Network needs rng= (a seed): runs must be reproducible")
        super().__init__(rng=rng)
        self.params = params or NetworkParams()
        self.batch_subnets = BATCH_SUBNETS if batch_subnets is None else bool(batch_subnets)
        self._stacks: dict[tuple[int, ...], tuple[np.ndarray, list[np.ndarray]]] = {}
        self._batches: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], list[Subnet]]]] = {}
        self.streams = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.epoch = 0
        self.block = 0
        self.ledger = Ledger()
        self.columns = Columns()
        self.agent_of: list[Any] = []
        self.acct_netuid = np.zeros(0, dtype=np.int64)
        self.acct_uid = np.zeros(0, dtype=np.int64)
        self.dynamics: list[Dynamics] = []
        self.cabals: dict[int, dict[str, Any]] = {}
        self._groups_cache: dict[int, dict[type, Group]] = {}
        self._plans: dict[int, _Plan] = {}  # per subnet: what its epoch needs from its groups
        self._members: dict[int, _Members] = {}  # per subnet: miners, occupancy (by version)
        self._answers: dict[int, _Answers] = {}  # per subnet: its miners' answers
        self._tally: tuple[Any, ...] | None = None  # accounts sorted by strategy, for metrics
        self._adopt: int | None = None  # account a switching agent takes over
        self._cohort = -1  # population entry of the participants being created (-1: none)
        self._deleg_cache: dict[type, Group] | None = None
        self.strategy_names: list[str] = []
        self._strategy_index: dict[str, int] = {}
        for cls in [c.strategy for c in population] + list(strategies):
            self.strategy_code(cls.name)
        self.market = self._open_special("market")
        self.subnets = [
            Subnet(i, sp, self._open_special(f"owner:{i}"))
            for i, sp in enumerate(self.params.subnets)
        ]
        self.prices = PricePath(
            self.params.price, self.params.epoch_hours, self.streams["price"]
        )
        self.price_usd = self.prices.at(0)
        self.metrics: dict[str, float] = {}
        self._records: list[dict[str, np.ndarray]] = []
        self._populate(population)
        self._fund_market()
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())

    # -- accounts and membership ------------------------------------------------------
    def _open_special(self, name: str) -> int:
        acct = self.ledger.open(name)
        self._track_account(None)
        return acct

    def open_account(self, agent: Any) -> int:
        """Open the ledger account of a new participant (called by ``Participant``).

        During ``switch_strategy`` the new participant takes over the old one's account.
        """
        if self._adopt is not None:
            return self._adopt
        acct = self.ledger.open(f"{agent.name}#{self.ledger.n}")
        self._track_account(agent)
        return acct

    def _track_account(self, agent: Any) -> None:
        self.agent_of.append(agent)
        n = self.ledger.n
        acct = n - 1
        self.columns.grow(n)
        if n > len(self.acct_uid):
            cap = max(n, 2 * len(self.acct_uid), 64)
            self.acct_uid = np.resize(self.acct_uid, cap)
            self.acct_netuid = np.resize(self.acct_netuid, cap)
        self.acct_uid[acct] = EMPTY
        self.acct_netuid[acct] = EMPTY
        if agent is not None:
            self.columns.set("alive", acct, 1.0)
            self.columns.set("strategy_code", acct, self.strategy_code(agent.name))
            self.columns.set("role_code", acct, ROLES.index(agent.role))
            self.columns.set("cabal", acct, -1.0)
            self.columns.set("cohort", acct, float(self._cohort))

    def strategy_code(self, name: str) -> int:
        """Index of strategy ``name`` in ``strategy_names`` (added on first sight)."""
        if name not in self._strategy_index:
            self._strategy_index[name] = len(self.strategy_names)
            self.strategy_names.append(name)
        return self._strategy_index[name]

    @contextmanager
    def in_cohort(self, cohort: int) -> Iterator[None]:
        """Participants created inside this block belong to population entry ``cohort``
        (the index of its ``Cohort`` in the population; -1: none), as their records say."""
        outer, self._cohort = self._cohort, int(cohort)
        try:
            yield
        finally:
            self._cohort = outer

    def cohort_of(self, acct: int) -> int:
        """The population entry account ``acct``'s participant came from (-1: none)."""
        return int(self.columns.get("cohort", np.array([acct]), -1.0)[0])

    def uid_of(self, acct: int) -> int:
        """UID held by account ``acct`` on its subnet, or -1."""
        return int(self.acct_uid[acct])

    def uids_of(self, accts: np.ndarray, netuid: int) -> np.ndarray:
        """UIDs of ``accts`` on subnet ``netuid`` (-1 where not registered there)."""
        accts = np.asarray(accts, dtype=np.int64)
        ok = (accts >= 0) & (self.acct_netuid[np.maximum(accts, 0)] == netuid)
        return np.where(ok, self.acct_uid[np.maximum(accts, 0)], EMPTY)

    def _invalidate(self, netuid: int | None = None) -> None:
        """Forget the strategy groups of subnet ``netuid`` (every subnet: None; none: -1,
        a participant without a UID) and the delegator groups, after a change of
        membership or strategy."""
        if netuid is None:
            self._groups_cache.clear()
            self._plans.clear()
        elif netuid >= 0:
            self._groups_cache.pop(netuid, None)
            self._plans.pop(netuid, None)
        self._deleg_cache = None

    def _populate(self, population: Sequence[Cohort]) -> None:
        """Create the genesis population: registered at block 0 without a burn."""
        for i, c in enumerate(population):
            if c.count < 0:
                raise ValueError(f"population count of {c.strategy.__name__} must be >= 0")
            role = getattr(c.strategy, "role", None)
            if role == "delegator":
                continue
            if c.subnet is None or not 0 <= c.subnet < len(self.subnets):
                raise ValueError(
                    f"population: {c.strategy.__name__} needs subnet in "
                    f"[0, {len(self.subnets) - 1}], got {c.subnet!r}"
                )
            s = self.subnets[c.subnet]
            for _ in range(c.count):
                uid = s.free_uid()
                if uid == EMPTY:
                    raise ValueError(
                        f"population: subnet {c.subnet} has {s.n} UIDs (subnet.n_uids) and "
                        f"the population asks for more"
                    )
                with self.in_cohort(i):
                    agent = c.strategy(self, **dict(c.params))
                self._endow(agent)
                self.seat(agent, c.subnet, uid)
        for i, c in enumerate(population):
            if getattr(c.strategy, "role", None) == "delegator":
                for _ in range(c.count):
                    with self.in_cohort(i):
                        agent = c.strategy(self, **dict(c.params))
                    self._endow(agent)
        self._place_delegators()

    def _endow(self, agent: Any) -> None:
        """Genesis TAO: validators stake ``stake_tao`` to themselves, delegators hold theirs."""
        v = agent.values
        liquid = to_rao(v.get("endowment_tao", 0.0) + v.get("stake_tao", 0.0))
        self.ledger.liquid[agent.acct] = int(liquid)
        self.ledger.initial_supply += int(liquid)
        if agent.role == "validator" and v.get("stake_tao", 0.0) > 0:
            self.ledger.stake(agent.acct, agent.acct, int(to_rao(v["stake_tao"])))

    def _fund_market(self) -> None:
        """The market holds the rest of total issuance, so accounts sum to issuance."""
        held = self.ledger.initial_supply
        total = int(to_rao(self.params.economy.initial_issuance_tao))
        if held > total:
            raise ValueError(
                f"the population holds {held / RAO_PER_TAO:,.0f} TAO, more than "
                f"economy.initial_issuance_tao ({total / RAO_PER_TAO:,.0f})"
            )
        self.ledger.liquid[self.market] += total - held
        self.ledger.initial_supply = total

    def _place_delegators(self) -> None:
        """Genesis delegation: every delegator stakes to a validator drawn uniformly at random.

        Policies act from the first epoch on, with their switching delay, so whatever
        concentration of stake they cause happens over time, where claim 9 of MODEL.md
        section 7 looks for it (not at genesis).
        """
        groups = self.delegator_groups()
        if not groups:
            return
        ctx = self._network_context()
        if len(ctx.validators) == 0:
            raise ValueError("population: delegators need at least one validator to stake to")
        for _, g in groups.items():
            target = self.streams["decisions"].choice(ctx.validators, size=len(g))
            for acct, hk in zip(g.accts, target, strict=True):
                stake = int(to_rao(self.columns.get("stake_tao", np.array([acct]))[0]))
                self.ledger.stake(int(acct), int(hk), stake)

    def seat(self, agent: Any, netuid: int, uid: int) -> None:
        """Give ``agent`` UID ``uid`` on subnet ``netuid`` (a clean start, MODEL.md section 3)."""
        s = self.subnets[netuid]
        s.seat(uid, agent.acct, agent.role, self.block)
        agent.netuid = netuid
        self.acct_uid[agent.acct] = uid
        self.acct_netuid[agent.acct] = netuid
        self._invalidate(netuid)

    def deregister(self, agent: Any) -> None:
        """Take ``agent``'s UID away and remove it from the model; its account remains."""
        netuid = agent.netuid
        if netuid >= 0:
            uid = self.uid_of(agent.acct)
            if uid >= 0:
                self.subnets[netuid].vacate(uid)
        self.acct_uid[agent.acct] = EMPTY
        self.acct_netuid[agent.acct] = EMPTY
        agent.netuid = -1
        self.columns.set("alive", agent.acct, 0.0)
        agent.remove()
        self._invalidate(netuid)

    def register(self, agent: Any, netuid: int) -> int:
        """Burn-register ``agent`` on subnet ``netuid``; the UID, or -1 if refused.

        MODEL.md section 4: the burn is paid (TAO bought from the market if the agent's
        liquid balance is short; the burned TAO is a USD cost at this epoch's price); a
        full subnet replaces its UID to prune (subtensor ``get_neuron_to_prune``).
        """
        s = self.subnets[netuid]
        if not s.can_register():
            return EMPTY
        burn = s.burn_rao
        short = burn - int(self.ledger.liquid[agent.acct])
        if short > 0:
            if self.ledger.liquid[self.market] < short:
                return EMPTY
            self.ledger.transfer(self.market, agent.acct, short)
        self.ledger.burn(agent.acct, burn)
        self._add("cost_usd", agent.acct, burn / RAO_PER_TAO * self.price_usd)
        uid = s.free_uid()
        if uid == EMPTY:
            uid = s.uid_to_prune(self.block)
            self.deregister(self.agent_of[int(s.occupant[uid])])
        self.seat(agent, netuid, uid)
        s.regs_this_interval += 1
        return uid

    def form_cabal(self, members: Sequence[Any], leader: Any, name: str = "") -> int:
        """Make ``members`` a cabal led by ``leader``, with a shared purse account.

        MODEL.md section 6 and claim 4/11: collusion is explicit. The cabal's id appears
        in every member's per-agent records (column ``cabal``); its purse is a ledger
        account the members may pay into and draw from.
        """
        if leader not in members:
            raise ValueError("form_cabal: the leader must be one of the members")
        cabal = len(self.cabals)
        purse = self._open_special(f"cabal:{cabal}:purse")
        accts = np.array(sorted(a.acct for a in members), dtype=np.int64)
        self.cabals[cabal] = {
            "name": name or f"cabal-{cabal}", "leader": leader.acct, "members": accts,
            "purse": purse,
        }
        self.columns.set("cabal", accts, float(cabal))
        return cabal

    def join_cabal(self, cabal: int, members: Sequence[Any]) -> None:
        """Add ``members`` to an existing ``cabal`` (newcomers, or agents that switched)."""
        accts = np.array([a.acct for a in members], dtype=np.int64)
        c = self.cabals[cabal]
        c["members"] = np.union1d(c["members"], accts)
        self.columns.set("cabal", accts, float(cabal))

    def switch_strategy(
        self, agent: Any, new_cls: type, params: Mapping[str, Any] | None = None,
        cohort: int = -1,
    ) -> Any:
        """Replace ``agent`` by a new participant of ``new_cls`` on the same account.

        MODEL.md section 6 (imitation): the account keeps its UID, balances, stake, cabal
        and records; parameter columns the new strategy does not declare are cleared and
        its state columns start afresh. The role cannot change. ``cohort``: the population
        entry the new participant copies (an imitator: its peer's; -1: none). Returns the
        new agent.
        """
        if getattr(new_cls, "role", None) != agent.role:
            raise ValueError(
                f"switch_strategy: {agent.name} is a {agent.role}, {new_cls.__name__} a "
                f"{getattr(new_cls, 'role', None)}; a switch keeps the role"
            )
        new_cls.resolve_params(dict(params or {}))  # a bad switch fails before any change
        acct = agent.acct
        self._adopt = acct
        try:
            new = new_cls(self, **dict(params or {}))
        finally:
            self._adopt = None
        for key in agent.values.keys() - new.values.keys():
            self.columns.set(key, acct, np.nan)
        self.columns.reset(f"{new_cls.__name__}.", acct)
        self.columns.set("strategy_code", acct, self.strategy_code(new_cls.name))
        self.columns.set("cohort", acct, float(cohort))
        new.netuid = agent.netuid
        self.agent_of[acct] = new
        agent.remove()
        self._invalidate(new.netuid)
        return new

    def cabal_members(self, cabal: int) -> np.ndarray:
        """Accounts of the members of ``cabal`` still in the model."""
        accts = self.cabals[cabal]["members"]
        return accts[self.columns.get("alive", accts, 0.0) > 0]

    # -- groups ------------------------------------------------------------------------
    def groups(self, netuid: int) -> dict[type, Group]:
        """Members of each strategy on subnet ``netuid`` (cached until membership changes)."""
        cached = self._groups_cache.get(netuid)
        if cached is not None:
            return cached
        s = self.subnets[netuid]
        uids = np.flatnonzero(s.occupant != EMPTY)
        out = {cls: Group(cls, s.occupant[u], u, self) for cls, u in self._by_strategy(
            s.occupant[uids], uids)}
        self._groups_cache[netuid] = out
        return out

    def _plan(self, netuid: int) -> _Plan:
        """The subnet's groups sorted by what the epoch does with them (cached with them)."""
        groups = self.groups(netuid)
        plan = self._plans.get(netuid)
        if plan is not None and plan.groups is groups:
            return plan
        setters = [(cls, g) for cls, g in groups.items() if cls.role == "validator"]
        graders = [g for cls, g in setters if cls.classifier.get("grades")]

        def cat(arrays: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)

        plan = _Plan(
            groups=groups,
            miner_groups=[(cls, g) for cls, g in groups.items() if cls.role == "miner"],
            setters=setters,
            setter_uids=cat([g.uids for _, g in setters]),
            setter_accts=cat([g.accts for _, g in setters]),
            graders=cat([g.uids for g in graders]),
            grader_accts=cat([g.accts for g in graders]),
        )
        self._plans[netuid] = plan
        return plan

    def _members_of(self, s: Subnet) -> _Members:
        """Subnet ``s``'s miners and occupied UIDs (cached until a UID changes hands)."""
        m = self._members.get(s.netuid)
        if m is not None and m.version == s.version:
            return m
        miners = np.flatnonzero(s.is_miner)
        contiguous = len(miners) > 0 and miners[-1] - miners[0] + 1 == len(miners)
        occupied = s.occupant != EMPTY
        m = _Members(
            version=s.version,
            miners=miners,
            miner_accts=s.occupant[miners],
            miner_cols=slice(int(miners[0]), int(miners[-1]) + 1) if contiguous else miners,
            occupied=occupied,
            full=bool(occupied.all()),
        )
        for a in (miners, m.miner_accts, occupied):
            a.flags.writeable = False
        self._members[s.netuid] = m
        return m

    def _by_strategy(
        self, accts: np.ndarray, keys: np.ndarray
    ) -> list[tuple[type, np.ndarray]]:
        """``keys`` split by the strategy of the matching account (array operations; one
        Python step per strategy, none per agent)."""
        codes = self.columns.get("strategy_code", accts).astype(np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        return [
            (type(self.agent_of[int(accts[idx[0]])]), keys[idx].astype(np.int64))
            for idx in np.split(order, bounds) if len(idx)
        ]

    def delegator_groups(self) -> dict[type, Group]:
        """Delegators of each policy, network-wide."""
        if self._deleg_cache is None:
            accts = self._alive_accounts()
            accts = accts[self.columns.get("role_code", accts) == ROLES.index("delegator")]
            self._deleg_cache = {
                cls: Group(cls, a, np.full(len(a), EMPTY, dtype=np.int64), self)
                for cls, a in self._by_strategy(accts, accts)
            }
        return self._deleg_cache

    # -- the epoch -----------------------------------------------------------------------
    def step(self) -> None:
        """One epoch of every subnet (see the module docstring for the order)."""
        self.price_usd = self.prices.at(self.epoch)
        self._epoch_income = np.zeros(self.ledger.n, dtype=np.int64)
        self._epoch_cost = np.zeros(self.ledger.n)
        self._work_totals = [0.0, 0.0, 0.0]  # computed answers, graded answers, query rounds
        self._delegate()
        for s in self.subnets:
            self._run_subnet(s)
        if self.batch_subnets:
            self._consensus_all()
        self._pay_emission()
        for s in self.subnets:
            s.adjust_burn()
        self.ledger.check(self.epoch)
        self._account()
        self._measure()
        self.datacollector.collect(self)
        interval = self.params.agent_record_interval
        if interval and self.epoch % interval == 0:
            self._record_agents()
        for d in self.dynamics:
            d.after_epoch(self)
        self.epoch += 1
        self.block += self.params.tempo

    def _delegate(self) -> None:
        """Delegators' choices, with each member's switching delay (MODEL.md section 6)."""
        groups = self.delegator_groups()
        if not groups:
            return
        ctx = self._network_context()
        for cls, g in groups.items():
            want = np.asarray(cls.choose(g, ctx), dtype=np.int64)
            valid = np.isin(want, ctx.validators)
            current = self.ledger.staked_to[g.accts]
            want = np.where(valid, want, current)
            pending = self.columns.get("pending_target", g.accts, NO_HOTKEY)
            since = self.columns.get("pending_since", g.accts, 0.0)
            fresh = want != pending
            since = np.where(fresh, self.epoch, since)
            self.columns.set("pending_target", g.accts, want)
            self.columns.set("pending_since", g.accts, since)
            move = (want != current) & (self.epoch - since >= g.param("switch_delay"))
            if move.any():
                self.ledger.redelegate(g.accts[move], want[move])

    def _network_context(self) -> NetworkContext:
        vals = np.concatenate(
            [np.zeros(0, np.int64)] + [s.occupant[s.is_validator] for s in self.subnets]
        ).astype(np.int64)
        stake = to_tao(self.ledger.hotkey_stake()[vals]) if len(vals) else np.zeros(0)
        yld = self.columns.get("net_yield", vals, 0.0)
        return NetworkContext(
            self, self.epoch, self.streams["decisions"], vals, stake, yld,
            self.params.economy.validator_take,
        )

    def _subnet_context(self, s: Subnet) -> SubnetContext:
        return SubnetContext(
            self, s, self.epoch, self.block, self.price_usd, self.params.epoch_hours,
            self.streams["decisions"],
        )

    def _run_subnet(self, s: Subnet) -> None:
        """Work, grading, costs and weights on one subnet, and its consensus unless it is
        batched with the other subnets' (MODEL.md 3 and 5)."""
        ctx = self._subnet_context(s)
        plan = self._plan(s.netuid)
        ans = self._answers.get(s.netuid)
        if ans is None or ans.plan is not plan or ans.version != s.version:
            ans = self._answers[s.netuid] = _Answers.empty(plan, s.version, s.n)
        for cls, g in plan.miner_groups:
            prod = cls.produce(g, ctx)
            if ans.last.get(cls) is prod:
                continue  # the same read-only answers as last epoch, already in place
            ans.quality[g.uids] = np.clip(prod.quality, 0.0, 1.0)
            ans.key[g.uids] = prod.answer_key
            ans.fixed[g.uids] = prod.fixed_cost_usd
            ans.per_query[g.uids] = prod.query_cost_usd
            ans.computes[g.uids] = prod.computes
            ans.last[cls] = prod if _immutable(prod) else None
            ans.plain = None
        if ans.plain is None:
            ans.plain = work.plain_inputs(ans.quality, np.zeros(0), np.zeros(0), np.zeros(0))
        s.quality[:] = ans.quality
        key, fixed, per_query, computes = ans.key, ans.fixed, ans.per_query, ans.computes
        if len(plan.setter_accts):
            server = plan.column(self.columns, "server_usd_per_hour", "setters")
            self._epoch_cost[plan.setter_accts] += server * self.params.epoch_hours
        self._grade(s, plan, key, fixed, per_query, computes, ans.plain)
        if plan.setters:
            uids = plan.setter_uids
            rows = self._clean_weights(
                s, uids, np.concatenate([self._rows_of(cls, g, ctx) for cls, g in plan.setters])
            )
            can = s.can_set_weights(uids, self.block)
            if can.all():
                s.commit(self.epoch, self.block, uids, rows, copy=False)
            else:
                s.commit(self.epoch, self.block, uids[can], rows[can], copy=False)
        s.reveal_due(self.epoch, self.block)
        if not self.batch_subnets:
            self._consensus(s)

    def _grade(
        self,
        s: Subnet,
        plan: _Plan,
        key: np.ndarray,
        fixed: np.ndarray,
        per_query: np.ndarray,
        computes: np.ndarray,
        plain_quality: bool,
    ) -> None:
        """Queries and grading, vectorised over graders x miners (MODEL.md section 5;
        ``work.grade_epoch``), and what they cost."""
        mem = self._members_of(s)
        miners, m_accts = mem.miners, mem.miner_accts
        if s.permits is not None:
            permitted = s.permits
        else:  # before the first epoch every UID with stake holds a permit (MODEL.md 3)
            permitted = self.ledger.hotkey_stake()[np.maximum(s.occupant, 0)] > 0
        col = self.columns
        graders, g_accts = plan.graders, plan.grader_accts
        if self._plans.get(s.netuid) is plan:
            params, plain = plan.grader_columns(col)
        else:  # a strategy changed the subnet's membership during its turn
            g_accts = s.occupant[graders]
            params = [col.get(name, g_accts) for name in GRADER_COLUMNS]
            plain = work.plain_inputs(np.zeros(0), params[0], params[1], params[3])
        keep = permitted[graders]
        if not keep.all():
            graders, g_accts = graders[keep], g_accts[keep]
            params = [p[keep] for p in params]
        capability, noise, dedup, rate, grading_cost = params
        wp = s.params.work
        cols = mem.miner_cols  # the miners' UIDs: a slice when they are a range (views)
        received, graded = work.grade_epoch(
            self.streams["queries"], self.streams["grading"], s.score_ema, graders, cols,
            s.quality[cols], capability, noise, rate, key[cols], dedup > 0,
            wp.query_rounds, wp.sample_size, plain=plain and plain_quality,
        )
        self._epoch_cost[m_accts] += fixed[cols] + per_query[cols] * received
        self._epoch_cost[g_accts] += grading_cost * graded
        totals = self._work_totals  # summed in float64, subnet after subnet
        totals[0] += float((received * computes[cols]).sum())
        totals[1] += float(graded.sum())
        totals[2] += float(len(graders) * wp.query_rounds if len(miners) else 0)
        s.queries_received = np.zeros(s.n)
        s.queries_received[cols] = received

    @staticmethod
    def _rows_of(cls: type, g: Group, ctx: SubnetContext) -> np.ndarray:
        """A validator strategy's weight rows, checked for shape."""
        rows = np.asarray(cls.set_weights(g, ctx), dtype=np.float64)
        if rows.shape != (len(g), ctx.n):
            raise ValueError(
                f"{cls.__name__}.set_weights returned shape {rows.shape}, expected "
                f"{(len(g), ctx.n)}"
            )
        return rows

    def _clean_weights(self, s: Subnet, uids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Strategies' weight rows made valid: non-negative, on occupied UIDs,
        row-normalised (the chain normalises set weights, subtensor ``set_weights``).
        NaN counts as no weight; an infinite weight is a strategy's bug and an error."""
        rows = np.fmax(rows, 0.0, out=rows)  # NaN and negatives to 0, in one pass
        total = rows.sum(axis=1, keepdims=True)  # finite unless a weight is infinite
        if not np.isfinite(total).all() and not np.isfinite(rows).all():
            bad = s.occupant[uids[~np.isfinite(rows).all(axis=1)]]
            raise ValueError(
                f"subnet {s.netuid}: infinite weights set by "
                + ", ".join(self.agent_of[int(a)].name for a in bad[:5])
            )
        mem = self._members_of(s)
        if not mem.full:
            rows *= mem.occupied
            total = rows.sum(axis=1, keepdims=True)
        # an all-zero row (total 0) stays zero: dividing its zeros by 1 leaves them as they are
        total[total <= 0] = 1.0
        rows /= total
        return rows

    def _consensus(self, s: Subnet) -> None:
        """Yuma Consensus on the weights on chain (MODEL.md section 3, ``world.yuma``)."""
        active = self._consensus_inputs(s)
        res = yuma_epoch(
            s.weights, s.stake_tao, s.bonds, s.params.yuma,
            permits=s.permits, active=active,
            new_registrations=s.new_registrations,
            last_update=s.last_update, block_at_registration=s.registered_block,
            out=s.bonds, permitted_bonds_only=True,  # see _consensus_all
        )
        self._consensus_outputs(
            s, res.bonds, res.new_permits, res.consensus, res.incentive, res.dividends,
            res.validator_trust, res.miner_emission_share, res.validator_emission_share,
        )

    def _consensus_inputs(self, s: Subnet) -> np.ndarray:
        """The stake behind each UID (into ``s.stake_tao``) and the activity mask."""
        occupied = self._members_of(s).occupied
        s.stake_tao = np.where(
            occupied, self.ledger.hotkey_stake_tao()[np.maximum(s.occupant, 0)], 0.0
        )
        return s.active(self.block) & occupied

    def _consensus_outputs(
        self, s: Subnet, bonds: np.ndarray, new_permits: np.ndarray, consensus: np.ndarray,
        incentive: np.ndarray, dividends: np.ndarray, trust: np.ndarray,
        miner_share: np.ndarray, validator_share: np.ndarray,
    ) -> None:
        """Carry one subnet's Yuma results: bonds and permits to the next epoch, the rest
        to emission, metrics and the strategies' context."""
        s.bonds = bonds
        s.permits = new_permits & self._members_of(s).occupied
        s.new_registrations[:] = False
        s.last = LastEpoch(consensus, incentive, dividends, trust)
        s.shares = (miner_share, validator_share)

    def _consensus_all(self, subnets: Sequence[Subnet] | None = None) -> None:
        """Yuma Consensus of ``subnets`` (all), batched (``world.yuma.epoch_batch``) over
        the subnets that share a size and hyperparameters (up to ``BATCH_BYTES`` of bonds
        per call); the same numbers as ``_consensus`` subnet by subnet. Their weights and
        bonds live in one stacked array per batch (each subnet's are views into it), so a
        batch is passed without copying."""
        subnets = self.subnets if subnets is None else subnets
        first = tuple(s.permits is None for s in subnets)  # before a subnet's first epoch
        key = (tuple(s.netuid for s in subnets), first)
        batches = self._batches.get(key)
        if batches is None:  # subnets' sizes and hyperparameters are fixed: group them once
            grouped: dict[tuple[Any, ...], list[Subnet]] = {}
            for s, new in zip(subnets, first, strict=True):
                grouped.setdefault((s.n, s.params.yuma, new), []).append(s)
            batches = []
            for (n, params, new), group in grouped.items():
                size = max(1, BATCH_BYTES // (8 * n * n))
                batches += [((n, params, new), group[i : i + size])
                            for i in range(0, len(group), size)]
            self._batches[key] = batches
        for (_, params, no_permits), batch in batches:
            if len(batch) == 1:
                self._consensus(batch[0])
                continue
            # _consensus_inputs for the whole batch: the stake behind each UID, activity
            occupant = np.stack([s.occupant for s in batch])
            occupied = occupant != EMPTY
            stake = np.where(
                occupied, self.ledger.hotkey_stake_tao()[np.maximum(occupant, 0)], 0.0
            )
            last_update = np.stack([s.last_update for s in batch])
            cutoff = np.array([s.params.activity_cutoff for s in batch], dtype=np.int64)
            active = (last_update + cutoff[:, None] >= self.block) & occupied
            permits = None if no_permits else np.stack([s.permits for s in batch])
            registered = np.stack([s.registered_block for s in batch])
            # weights are outdated where a validator last set them before the miner
            # registered (the kernel zeroes them); when no UID that may vote has such a
            # weight (``_none_outdated``), the mask is not passed: it would zero nothing
            voters = stake > 0
            if permits is not None:
                voters |= permits
            newest = np.where(voters, last_update, np.iinfo(np.int64).max).min(axis=1)
            outdated = not (newest > registered.max(axis=1)).all()
            # Bonds are updated in place in their stack, and only rows of UIDs with a permit
            # are read: the rest are zero, as on chain (the kernel stores rows for new
            # permits only, and registration and deregistration clear a UID's row and permit)
            bonds = self._stacked(batch, "bonds")
            res = yuma_epoch_batch(
                self._stacked(batch, "weights"), stake, bonds, params,
                permits=permits, active=active,
                new_registrations=np.stack([s.new_registrations for s in batch]),
                last_update=last_update if outdated else None,
                block_at_registration=registered if outdated else None,
                out=bonds, permitted_bonds_only=True,
            )
            bonds = list(res.bonds)
            self._stacks[(*(s.netuid for s in batch), 1)] = (res.bonds, bonds)
            new_permits = res.new_permits & occupied
            for s, stake_tao, b, permit, *outputs in zip(
                batch, stake, bonds, new_permits, res.consensus, res.incentive, res.dividends,
                res.validator_trust, res.miner_emission_share, res.validator_emission_share,
                strict=True,
            ):
                s.stake_tao = stake_tao
                s.bonds = b
                s.permits = permit
                s.new_registrations[:] = False
                s.last = LastEpoch(*outputs[:4])
                s.shares = (outputs[4], outputs[5])

    def _stacked(self, subnets: list[Subnet], name: str) -> np.ndarray:
        """The subnets' ``weights`` or ``bonds`` as one b x n x n array: the array whose
        views they are, or (the first time, or after one was replaced) a stack of them,
        whose views they then become."""
        key = (*(s.netuid for s in subnets), 0 if name == "weights" else 1)
        hit = self._stacks.get(key)
        if hit is not None and all(
            getattr(s, name) is v for s, v in zip(subnets, hit[1], strict=True)
        ):
            return hit[0]
        stack = np.stack([getattr(s, name) for s in subnets])
        views = list(stack)
        for s, v in zip(subnets, views, strict=True):
            setattr(s, name, v)
        self._stacks[key] = (stack, views)
        return stack

    def _grow_epoch_arrays(self) -> None:
        """Extend this epoch's income and cost arrays to accounts opened during the epoch
        (a cabal's purse, formed by a strategy in the middle of its turn)."""
        extra = self.ledger.n - len(self._epoch_income)
        if extra > 0:
            self._epoch_income = np.pad(self._epoch_income, (0, extra))
            self._epoch_cost = np.pad(self._epoch_cost, (0, extra))

    def _pay_emission(self) -> None:
        """Mint this epoch's emission and pay it (MODEL.md section 4)."""
        self._grow_epoch_arrays()
        eco = self.params.economy
        issuance = self.ledger.supply / RAO_PER_TAO
        blocks = self.params.tempo
        if eco.fixed_emission_per_block is not None:
            total = eco.fixed_emission_per_block * blocks
        else:
            total = epoch_emission(issuance, blocks, eco.halving_base_per_block)
        stake_per_subnet = (  # read only when subnets share by stake
            np.zeros(len(self.subnets)) if eco.subnet_split == "fixed"
            else np.array([s.stake_tao.sum() for s in self.subnets])
        )
        shares = subnet_shares(
            eco.subnet_split, [s.params.emission_share for s in self.subnets], stake_per_subnet
        )
        # every subnet at once, element by element the arithmetic of one subnet at a time
        subnets = self.subnets
        e_sub = total * np.asarray(shares, dtype=np.float64)
        owner = to_rao(e_sub * eco.owner_share)
        pool = e_sub * (eco.miner_share + eco.validator_share)
        sizes = [s.n for s in subnets]
        starts = np.cumsum([0, *sizes[:-1]])
        pool_of_uid = np.repeat(pool, sizes)
        occupant = np.concatenate([s.occupant for s in subnets])
        occ = occupant != EMPTY
        inc_rao = np.where(occ, to_rao(
            pool_of_uid * np.concatenate([s.shares[0] for s in subnets])), 0)
        div_rao = np.where(occ, to_rao(
            pool_of_uid * np.concatenate([s.shares[1] for s in subnets])), 0)
        emission = to_tao(inc_rao + div_rao)
        for s, start in zip(subnets, starts.tolist(), strict=True):
            s.emission_tao = emission[start : start + s.n]
        # owner, miners, validators (TAO), summed subnet by subnet as floats, in order
        role = to_tao(np.stack([owner, np.add.reduceat(inc_rao, starts),
                                np.add.reduceat(div_rao, starts)], axis=1))
        acc = [0.0, 0.0, 0.0]
        for o, m, v in role.tolist():
            acc[0] += o
            acc[1] += m
            acc[2] += v
        self._role_emission = np.array(acc)
        hk = occupant[occ]
        dv = div_rao[occ]
        accts = np.concatenate([[s.owner_acct for s in subnets], hk]).astype(np.int64)
        amounts = np.concatenate([owner, inc_rao[occ]]).astype(np.int64)
        self.ledger.mint_liquid(accts, amounts)
        np.add.at(self._epoch_income, accts, amounts)
        stake_before = self.ledger.hotkey_stake()
        received, to_nominators = self.ledger.mint_dividends(hk, dv, eco.validator_take)
        self._epoch_income[: len(received)] += received
        self._nominator_payout = float(to_tao(to_nominators.sum()))
        # delegators' trailing yield per validator: what a staker got per TAO staked
        pool_rate = np.where(
            stake_before[hk] > 0, dv * (1.0 - eco.validator_take) / np.maximum(stake_before[hk], 1),
            0.0,
        )
        old = self.columns.get("net_yield", hk, 0.0)
        self.columns.set("net_yield", hk, (1 - YIELD_EMA_RATE) * old + YIELD_EMA_RATE * pool_rate)

    def _account(self) -> None:
        """Income (TAO, and USD at this epoch's price), costs and profit per account."""
        n = self.ledger.n
        idx = np.arange(n)
        income_tao = to_tao(self._epoch_income)
        income_usd = income_tao * self.price_usd
        cost = self._epoch_cost[:n] + self.columns.get("cost_usd", idx, 0.0)
        self.columns.set("cost_usd", idx, 0.0)
        self.columns.set("income_tao", idx, income_tao)
        self.columns.set("income_usd", idx, income_usd)
        self.columns.set("epoch_cost_usd", idx, cost)
        self.columns.set("profit_usd", idx, income_usd - cost)
        total = self.columns.get("profit_usd_total", idx, 0.0)
        self.columns.set("profit_usd_total", idx, total + income_usd - cost)

    def _add(self, column: str, acct: int, value: float) -> None:
        self.columns.set(column, acct, self.columns.get(column, np.array([acct]), 0.0)[0] + value)

    # -- measurement ---------------------------------------------------------------------
    def _reporters(self) -> dict[str, Callable[[Network], float]]:
        keys = [
            "epoch", "price_usd", "issuance_tao", "burned_tao", "emission_tao",
            "emission_owner_tao", "emission_miners_tao", "emission_validators_tao",
            "nominator_payout_tao", "alignment", "gini_emission", "nakamoto_stake",
            "compute_per_useful_answer",
        ]
        for name in self.strategy_names:
            keys += [f"population:{name}", f"emission_tao:{name}", f"profit_usd:{name}",
                     f"profit_usd_per_agent:{name}"]
        return {k: (lambda m, k=k: m.metrics.get(k, float("nan"))) for k in keys}

    def _measure(self) -> None:
        """This epoch's network metrics (read by the DataCollector)."""
        m: dict[str, float] = {
            "epoch": float(self.epoch),
            "price_usd": self.price_usd,
            "issuance_tao": self.ledger.supply / RAO_PER_TAO,
            "burned_tao": self.ledger.burned / RAO_PER_TAO,
            "emission_tao": float(self._role_emission.sum()),
            "emission_owner_tao": float(self._role_emission[0]),
            "emission_miners_tao": float(self._role_emission[1]),
            "emission_validators_tao": float(self._role_emission[2]),
            "nominator_payout_tao": self._nominator_payout,
        }
        subnets = self.subnets
        pairs = [(s, self._members_of(s)) for s in subnets]
        rhos = metrics.spearman_segments(
            np.concatenate([s.quality[mem.miners] for s, mem in pairs]),
            np.concatenate([s.last.incentive[mem.miners] for s, mem in pairs]),
            np.array([len(mem.miners) for _, mem in pairs], dtype=np.int64),
        )
        finite = [r for r in rhos.tolist() if np.isfinite(r)]
        m["alignment"] = float(np.mean(finite)) if finite else float("nan")
        m["gini_emission"] = metrics.gini(
            np.concatenate([s.emission_tao[mem.occupied] for s, mem in pairs]))
        m["nakamoto_stake"] = float(metrics.nakamoto(np.concatenate(
            [s.stake_tao[s.is_validator] for s in subnets])))
        m["compute_per_useful_answer"] = metrics.compute_per_useful_answer(*self._work_totals)
        alive, order, bounds = self._by_strategy_code()
        income = self.columns.get("income_tao", alive, 0.0)[order]
        profit = self.columns.get("profit_usd", alive, 0.0)[order]
        # each strategy's values in account order, as ``income[codes == i]`` gives them
        for i, name in enumerate(self.strategy_names):
            lo, hi = bounds[i], bounds[i + 1]
            count = hi - lo
            m[f"population:{name}"] = float(count)
            total = profit[lo:hi].sum()
            m[f"emission_tao:{name}"] = float(income[lo:hi].sum())
            m[f"profit_usd:{name}"] = float(total)
            # ndarray.mean is the same sum divided by the count
            m[f"profit_usd_per_agent:{name}"] = float(total / count) if count else float("nan")
        self.metrics = m

    def _by_strategy_code(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(alive accounts, their order sorted by strategy code, stable, and where each
        code's run starts in it); cached until membership or strategies change."""
        col = self.columns
        key = (self.ledger.n, col.version("alive"), col.version("strategy_code"),
               len(self.strategy_names))
        if self._tally is not None and self._tally[0] == key:
            return self._tally[1]
        alive = self._alive_accounts()
        codes = col.get("strategy_code", alive).astype(np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(self.strategy_names) + 1),
                                 side="left").tolist()
        key = (self.ledger.n, col.version("alive"), col.version("strategy_code"),
               len(self.strategy_names))
        self._tally = (key, (alive, order, bounds))
        return alive, order, bounds

    def _alive_accounts(self) -> np.ndarray:
        """Accounts of the participants still in the model."""
        return np.flatnonzero(self.columns.get("alive", np.arange(self.ledger.n), 0.0) > 0)

    def _record_agents(self) -> None:
        """Per-agent records, every ``agent_record_interval`` epochs (columnar)."""
        accts = self._alive_accounts()
        col = self.columns
        stake = to_tao(self.ledger.staked[accts])
        self._records.append({
            "epoch": np.full(len(accts), self.epoch, dtype=np.int64),
            "account": accts,
            "strategy": np.asarray(self.strategy_names, dtype=object)[
                col.get("strategy_code", accts).astype(np.int64)],
            "role": np.asarray(ROLES, dtype=object)[col.get("role_code", accts).astype(np.int64)],
            "netuid": self.acct_netuid[accts].copy(),
            "uid": self.acct_uid[accts].copy(),
            "cabal": col.get("cabal", accts).astype(np.int64),
            "cohort": col.get("cohort", accts).astype(np.int64),
            "stake_tao": stake,
            "hotkey_stake_tao": self.ledger.hotkey_stake_tao()[accts],
            "liquid_tao": to_tao(self.ledger.liquid[accts]),
            "income_tao": col.get("income_tao", accts, 0.0),
            "income_usd": col.get("income_usd", accts, 0.0),
            "cost_usd": col.get("epoch_cost_usd", accts, 0.0),
            "profit_usd": col.get("profit_usd", accts, 0.0),
            "profit_usd_total": col.get("profit_usd_total", accts, 0.0),
        })

    def agent_records(self) -> pd.DataFrame:
        """All per-agent records collected so far, one row per agent per recorded epoch."""
        if not self._records:
            return pd.DataFrame()
        keys = self._records[0].keys()
        # the concatenations are the frame's own: no second copy into consolidated blocks
        return pd.DataFrame(
            {k: np.concatenate([r[k] for r in self._records]) for k in keys}, copy=False
        )
