"""The network: a Mesa model in which one step is one epoch (tempo) of every subnet.

``Network.step`` runs the epoch's phases in order (MODEL.md sections 3-6), each a call
into the module named for it:

1. ``delegation``: delegators choose validators; stake moves once a choice has
   persisted its delay;
2. every subnet's turn (phase by phase across the subnets, the same numbers as one turn
   after another, ``_subnet_turns``): ``grading``, miners' answers, the permitted
   grading validators' queries and grading, and everyone's costs; ``weights``,
   validators set weights (rate limit, commit-reveal) and due commits are revealed;
3. ``consensus``: Yuma Consensus on the weights on chain, carrying bonds and permits to
   the next epoch (by default every subnet at once after their turns, batched;
   ``batch_subnets=False``: at the end of each subnet's turn);
4. ``payments``: the epoch's emission minted and paid (owners, miners by incentive,
   validators by dividends with their take and their nominators' shares); with today's
   pools on (``dtao.pools``), ``coinbase`` instead (subnet pools, alpha, root);
5. ``registration``: burns adjust; the ledger is checked to the RAO; ``accounts``: each
   account's income, cost and profit; ``measure``: metrics and per-agent records;
6. population dynamics registered in ``model.dynamics`` (entry, exit, imitation).

The rest of this class is the public event API that strategies and population dynamics call
for rare events: ``register``, ``deregister``, ``seat``, ``switch_strategy``,
``form_cabal``, ``join_cabal``, and today's ``take_ownership`` and ``register_subnet``; and
the groups the world hands strategies (``groups``, ``delegator_groups``).
``docs/architecture.md`` follows one epoch through the code.

All randomness comes from ``model.rng`` (Mesa's ``rng=``), split at construction into
independent streams (prices, queries, grading, decisions, arrivals) so that the same seed
gives the same exogenous draws in every cell of a sweep (common random numbers).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import mesa
import numpy as np
import pandas as pd

from world import accounts, delegation, grading, measure, payments, registration, weights
from world.accounts import EpochBooks
from world.alpha_ledger import DtaoLedger
from world.coinbase import Coinbase
from world.columns import Columns
from world.consensus import Consensus
from world.interfaces import Group, NetworkContext, SubnetContext
from world.ledger import Ledger
from world.membership import ROLES, Membership
from world.params import NetworkParams
from world.prices import PricePath
from world.records import Records
from world.subnet import EMPTY, Subnet

__all__ = ["BATCH_SUBNETS", "ROLES", "STREAMS", "Cohort", "Dynamics", "Network"]

# Yuma Consensus of all subnets of an epoch in batched calls (one per set of subnets with the
# same size and hyperparameters) once every subnet has set its weights, rather than subnet
# by subnet; the results are the same (the determinism tests compare the two paths).
BATCH_SUBNETS = True
STREAMS = ("price", "queries", "grading", "decisions", "arrivals")


@dataclass(frozen=True)
class Cohort:
    """``count`` participants of one strategy class, on subnet ``subnet`` (None: delegators).

    ``entry``: the population entry these participants are recorded as (their ``cohort``);
    None: this cohort's own index in the population. Several cohorts may stand for one
    entry (e.g. an entry split into one cohort per agent to give each its own parameters).
    """

    strategy: type
    count: int
    subnet: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    entry: int | None = None


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
        self.streams = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.epoch = 0
        self.block = 0
        dtao = self.params.dtao
        self.ledger = (DtaoLedger(tao_weight=dtao.tao_weight, fee=dtao.pool_fee) if dtao.pools
                       else Ledger())
        self.columns = Columns()
        self.agent_of: list[Any] = []  # per account: its participant (None: market, owners)
        self.acct_netuid = np.zeros(0, dtype=np.int64)  # per account: its subnet (-1: none)
        self.acct_uid = np.zeros(0, dtype=np.int64)  # per account: its UID (-1: none)
        # per account: the hotkey whose stake its UID counts (itself, unless linked to
        # another registration of the same hotkey: Network.link_hotkey, 2023's global stake)
        self.hotkey_of = np.zeros(0, dtype=np.int64)
        self.dynamics: list[Dynamics] = []
        self.cabals: dict[int, dict[str, Any]] = {}
        self.root_shares: np.ndarray | None = None  # subnets' shares by the root network
        self.root_seats = np.zeros(0, dtype=np.int64)  # accounts seated on the root network
        self.membership = Membership(self)
        self.consensus = Consensus(self)
        # subnets' moving averages stacked for the strategies (``world.subnet.stack_views``)
        self.stacks: dict[tuple[Any, ...], tuple[np.ndarray, list[np.ndarray]]] = {}
        # what speed-only paths keep between epochs, each under its own key (the function
        # that keeps it); nothing here changes a result (``forget``)
        self.kept: dict[Any, Any] = {}
        self.books = EpochBooks.open(0)
        self.cohort = -1  # population entry of the participants being created (-1: none)
        self._adopt: int | None = None  # account a switching agent takes over
        self.strategy_names: list[str] = []
        self._strategy_index: dict[str, int] = {}
        accounts.declare(self)
        delegation.declare(self)
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
        self.records = Records()  # per-agent records (``agent_records``)
        registration.populate(self, population)
        delegation.place(self)
        accounts.fund_market(self)
        self.coinbase = Coinbase(self) if dtao.pools else None  # today's pools (``dtao``)
        if self.coinbase is not None:
            self.coinbase.open()
        self.datacollector = measure.Collector(self)

    # -- the epoch -----------------------------------------------------------------------
    def step(self) -> None:
        """One epoch of every subnet, its phases in order (see the module docstring)."""
        self.price_usd = self.prices.at(self.epoch)
        self.books = EpochBooks.open(self.ledger.n)
        delegation.move_stake(self)
        self._subnet_turns()
        if self.batch_subnets:
            self.consensus.run_all()
        if self.coinbase is not None:
            self.coinbase.pay()
        else:
            payments.pay(self)
        registration.adjust_burns(self)
        self.ledger.check(self.epoch)
        accounts.close_epoch(self)
        measure.measure(self)
        self.datacollector.collect(self)
        interval = self.params.agent_record_interval
        if interval and self.epoch % interval == 0:
            measure.record_agents(self)
        for d in self.dynamics:
            d.after_epoch(self)
        self.epoch += 1
        self.block += self.params.tempo

    def _subnet_turns(self) -> None:
        """Every subnet's turn: work, grading and costs, then weights, then its consensus
        unless it is batched with the other subnets' (MODEL.md sections 3 and 5).

        The turns run phase by phase across subnets: every subnet's start
        (``begin_turn``), every validator's server, every miner strategy's answers,
        every subnet's grading, every validator strategy's weights and every subnet's
        commits. Each strategy is called once for its members on a run of consecutive
        subnets of one shape (``Membership.spans``, ``world.interfaces``). A subnet's
        turn reads and writes only its own state (strategies' rare events run after the
        epoch in the order of the turns, ``agents.population.Events``; what they set up
        on the network, such as cabals, they do in ``begin_turn``, subnet after subnet)
        and each random stream is drawn subnet after subnet (``SubnetContext.draws``), so
        the results are those of the subnets taking their turns one after another, but
        for two strategies that both draw on one run of subnets (``world.interfaces``;
        tests/test_turn_order.py, tests/strategies/test_contract.py)."""
        for s in self.subnets:
            plan = self.membership.plan(s.netuid)
            if plan.starters:
                ctx = self.subnet_context(s)
                for cls, g in plan.starters:
                    cls.begin_turn(g, ctx)
        for span in self.membership.spans("validator"):
            grading.charge_servers(self, span)
        turns = []  # in subnet order: spans are runs of consecutive subnets
        for span in self.membership.spans("miner"):
            answers = grading.answers(self, span, self.span_context(span.subnets))
            turns += zip(span.subnets, span.plans, answers, strict=True)
        grading.grade_all(self, turns)
        for span in self.membership.spans("validator"):
            for s in weights.set_weights(self, span, self.span_context(span.subnets)):
                if not self.batch_subnets:
                    self.consensus.run(s)

    def __deepcopy__(self, memo: dict[int, Any]) -> Network:
        """A copy of a running network (``copy.deepcopy``, to fork a run) that starts its
        speed caches cold (``forget``): the subnets' arrays that are views of a stacked
        array (weights, bonds, moving averages, qualities) come out of a copy as arrays of
        their own, apart from the copied stack, which would no longer reach them; dropped,
        the stacks are rebuilt from the subnets' arrays, and the copy runs on as the
        original does (tests/test_scale.py, tests/test_dtao_network.py)."""
        fork = object.__new__(type(self))
        memo[id(self)] = fork  # the agents' and parts' references to the network
        fork.__dict__.update(copy.deepcopy(self.__dict__, memo))
        fork.forget()
        return fork

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A network read back from a pickle (``pickle.loads``, e.g. a run saved to resume
        or handed to another process), its speed caches started cold as a fork's are
        (``__deepcopy__``): pickled views of a stacked array come back as arrays of their
        own. The same network runs on as the original would (tests/test_scale.py)."""
        self.__dict__.update(state)
        self.forget()

    def forget(self) -> None:
        """Drop everything kept between epochs for speed: memberships (and the answers
        kept with their spans), stacks, consensus batches and ``kept`` (a cold start; the
        results are the same: tests/test_scale.py, tests/test_dtao_network.py)."""
        self.membership.forget()
        self.consensus.forget()
        self.stacks.clear()
        self.kept.clear()

    def subnet_context(self, s: Subnet) -> SubnetContext:
        """Subnet ``s``'s public state this epoch, as its strategies see it."""
        return self.span_context([s])

    def span_context(self, subnets: Sequence[Subnet]) -> SubnetContext:
        """The public state this epoch of ``subnets`` (of one shape), as their strategies
        see it (``world.interfaces``)."""
        return SubnetContext(
            self, subnets, self.epoch, self.params.epoch_hours, self.streams["decisions"])

    def network_context(self) -> NetworkContext:
        """What delegators see this epoch (``world.delegation.context``)."""
        return delegation.context(self)

    def agent_records(self) -> pd.DataFrame:
        """All per-agent records collected so far, one row per agent per recorded epoch
        (numeric columns read-only, views of the records: ``.copy()`` to edit in place;
        ``measure.frame``)."""
        return measure.frame(self.records, self.strategy_names)

    # -- accounts --------------------------------------------------------------------------
    def _open_special(self, name: str) -> int:
        acct = self.ledger.open(name)
        accounts.track(self, None)
        return acct

    def open_account(self, agent: Any) -> int:
        """Open the ledger account of a new participant (called by ``Participant``).

        During ``switch_strategy`` the new participant takes over the old one's account.
        """
        if self._adopt is not None:
            return self._adopt
        acct = self.ledger.open(f"{agent.name}#{self.ledger.n}")
        accounts.track(self, agent)
        return acct

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
        outer, self.cohort = self.cohort, int(cohort)
        try:
            yield
        finally:
            self.cohort = outer

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

    # -- groups ------------------------------------------------------------------------
    def groups(self, netuid: int) -> dict[type, Group]:
        """Members of each strategy on subnet ``netuid`` (kept until membership changes)."""
        return self.membership.groups(netuid)

    def delegator_groups(self) -> dict[type, Group]:
        """Delegators of each policy, network-wide."""
        return self.membership.delegator_groups()

    # -- rare events ---------------------------------------------------------------------
    def seat(self, agent: Any, netuid: int, uid: int) -> None:
        """Give ``agent`` UID ``uid`` on subnet ``netuid`` (a clean start, MODEL.md section 3)."""
        s = self.subnets[netuid]
        s.seat(uid, agent.acct, agent.role, self.block)
        agent.netuid = netuid
        self.acct_uid[agent.acct] = uid
        self.acct_netuid[agent.acct] = netuid
        self.membership.invalidate(netuid)

    def take_ownership(self, agent: Any) -> None:
        """Make ``agent`` the owner of the subnet it is seated on (MODEL.md section 9): it
        gets the owner's cut from now on, and its UID is the owner's UID
        (``Subnet.set_owner``). A subnet has one owner."""
        s = self.subnets[agent.netuid]
        held = self.agent_of[s.owner_acct]
        if held is not None and held is not agent:
            raise ValueError(
                f"population: subnet {s.netuid} has two owners ({type(held).__name__} and "
                f"{type(agent).__name__}); a subnet has one")
        s.set_owner(agent.acct)

    def deregister(self, agent: Any) -> None:
        """Take ``agent``'s UID away and remove it from the model; its account remains.

        With ``economy.dereg_unstakes`` (2023: subtensor@2023-12-20 uids.rs
        ``replace_neuron``), a hotkey that holds no other registration (``link_hotkey``)
        is unstaked: every stake behind it, nominators' included, returns to free
        balances (``Ledger.unstake_behind``)."""
        if self.params.economy.dereg_unstakes:
            hotkey = int(self.hotkey_of[agent.acct])
            same = np.flatnonzero(self.hotkey_of[: self.ledger.n] == hotkey)
            if not ((same != agent.acct) & (self.acct_uid[same] != EMPTY)).any():
                self.ledger.unstake_behind(hotkey)
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
        self.membership.invalidate(netuid)

    def link_hotkey(self, agent: Any, hotkey: int) -> None:
        """Make ``agent``'s registrations those of hotkey account ``hotkey`` (2023's global
        stake, ``economy.stake_scope = "global"``): its UIDs count the hotkey's whole stake,
        own plus nominators' (subtensor@2023-12-20 uids.rs
        ``get_stake_for_uid_and_subnetwork`` = ``get_total_stake_for_hotkey``), and what
        they earn is paid to that hotkey (block_step.rs
        ``emit_inflation_through_hotkey_account``). ``agent`` keeps its own account for its
        costs and records; it holds no stake of its own."""
        if self.params.economy.stake_scope != "global":
            raise ValueError("link_hotkey needs economy.stake_scope 'global' (a hotkey on "
                             "several subnets), got 'subnet'")
        root = int(self.hotkey_of[hotkey])
        if agent.role != "validator" or self.agent_of[root] is None:
            raise ValueError("link_hotkey: only a validator may share a participant's hotkey")
        self.hotkey_of[agent.acct] = root
        self.membership.invalidate(None)

    def register(self, agent: Any, netuid: int) -> int:
        """Burn-register ``agent`` on subnet ``netuid``; the UID, or -1 if refused
        (MODEL.md section 4; ``world.registration.register``)."""
        return registration.register(self, agent, netuid)

    def form_cabal(self, members: Sequence[Any], leader: Any, name: str = "") -> int:
        """Make ``members`` a cabal led by ``leader``; returns the cabal's id.

        MODEL.md section 6 and claims 4/11: collusion is explicit. The cabal's id appears
        in every member's per-agent records (column ``cabal``).
        """
        if leader not in members:
            raise ValueError("form_cabal: the leader must be one of the members")
        cabal = len(self.cabals)
        accts = np.array(sorted(a.acct for a in members), dtype=np.int64)
        self.cabals[cabal] = {
            "name": name or f"cabal-{cabal}", "leader": leader.acct, "members": accts,
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
        owned = agent.netuid >= 0 and self.subnets[agent.netuid].owner_acct == agent.acct
        if new_cls.owns_subnet() and not owned:
            raise ValueError(
                f"switch_strategy: {new_cls.__name__} owns its subnet and {agent.name} owns "
                "none (a subnet is owned from genesis or by register_subnet)")
        return self._become(agent, new_cls, params, cohort)

    def register_subnet(
        self, agent: Any, owner_cls: type, params: Mapping[str, Any] | None = None,
    ) -> Any | None:
        """``agent``, holding no UID, registers a subnet and runs it as a participant of
        ``owner_cls`` (a subnet owner's strategy) on the same account, seated on UID 0 of
        the new subnet (``registration.register_subnet``: the lock, a dissolved subnet,
        MODEL.md section 9). Returns the new participant, or None if the registration was
        refused (the lock unaffordable, every subnet immune)."""
        if self.acct_uid[agent.acct] != EMPTY:
            raise ValueError(f"register_subnet: {agent.name} holds a UID; a founder holds none")
        owner_cls.resolve_params(dict(params or {}))  # fails before any change
        netuid = registration.register_subnet(self, agent.acct)
        if netuid == EMPTY:
            return None
        owner = self._become(agent, owner_cls, params, self.cohort_of(agent.acct))
        self.columns.set("role_code", owner.acct, ROLES.index(owner.role))
        self.seat(owner, netuid, 0)
        return owner

    def _become(
        self, agent: Any, new_cls: type, params: Mapping[str, Any] | None, cohort: int,
    ) -> Any:
        """``switch_strategy`` without the role check (see there)."""
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
        self.membership.invalidate(new.netuid)
        return new

    def cabal_members(self, cabal: int) -> np.ndarray:
        """Accounts of the members of ``cabal`` still in the model."""
        accts = self.cabals[cabal]["members"]
        return accts[self.columns.get("alive", accts, 0.0) > 0]

