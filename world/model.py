"""The network: a Mesa model in which one step is one epoch (tempo) of every subnet.

Each epoch (MODEL.md sections 3-5), in order:

1. delegators choose validators; stake moves once a choice has persisted its delay;
2. on every subnet: miners produce answers; permitted grading validators query samples of
   miners and grade what they get; everyone's costs accrue; validators set weights (rate
   limit, commit-reveal); due commits are revealed; Yuma Consensus runs on the weights on
   chain and carries bonds and permits to the next epoch;
3. the epoch's emission is minted and paid: subnets' shares, 18% to each owner, miners by
   incentive, validators by dividends with their take and their nominators' shares;
4. registration burns adjust; the ledger is checked to the RAO; metrics are collected;
5. population dynamics registered in ``model.dynamics`` run (entry, exit, imitation).

All randomness comes from ``model.rng`` (Mesa's ``rng=``), split at construction into
independent streams (prices, queries, grading, decisions, arrivals) so that the same seed
gives the same exogenous draws in every cell of a sweep (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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

ROLES = ("miner", "validator", "delegator")
STREAMS = ("price", "queries", "grading", "decisions", "arrivals")
YIELD_EMA_RATE = 0.2  # weight of the latest epoch in delegators' trailing yield


@dataclass(frozen=True)
class Cohort:
    """``count`` participants of one strategy class, on subnet ``subnet`` (None: delegators)."""

    strategy: type
    count: int
    subnet: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


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
    ) -> None:
        if rng is None:
            raise ValueError("Network needs rng= (a seed): runs must be reproducible")
        super().__init__(rng=rng)
        self.params = params or NetworkParams()
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
        self._adopt: int | None = None  # account a switching agent takes over
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

    def strategy_code(self, name: str) -> int:
        """Index of strategy ``name`` in ``strategy_names`` (added on first sight)."""
        if name not in self._strategy_index:
            self._strategy_index[name] = len(self.strategy_names)
            self.strategy_names.append(name)
        return self._strategy_index[name]

    def uid_of(self, acct: int) -> int:
        """UID held by account ``acct`` on its subnet, or -1."""
        return int(self.acct_uid[acct])

    def uids_of(self, accts: np.ndarray, netuid: int) -> np.ndarray:
        """UIDs of ``accts`` on subnet ``netuid`` (-1 where not registered there)."""
        accts = np.asarray(accts, dtype=np.int64)
        ok = (accts >= 0) & (self.acct_netuid[np.maximum(accts, 0)] == netuid)
        return np.where(ok, self.acct_uid[np.maximum(accts, 0)], EMPTY)

    def _invalidate(self) -> None:
        self._groups_cache.clear()
        self._deleg_cache = None

    def _populate(self, population: Sequence[Cohort]) -> None:
        """Create the genesis population: registered at block 0 without a burn."""
        for c in population:
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
                agent = c.strategy(self, **dict(c.params))
                self._endow(agent)
                self.seat(agent, c.subnet, uid)
        for c in population:
            if getattr(c.strategy, "role", None) == "delegator":
                for _ in range(c.count):
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
        """Genesis delegation: each delegator stakes to its policy's choice (or at random)."""
        groups = self.delegator_groups()
        if not groups:
            return
        ctx = self._network_context()
        if len(ctx.validators) == 0:
            raise ValueError("population: delegators need at least one validator to stake to")
        for cls, g in groups.items():
            want = np.asarray(cls.choose(g, ctx), dtype=np.int64)
            fallback = self.streams["decisions"].choice(ctx.validators, size=len(g))
            target = np.where(np.isin(want, ctx.validators), want, fallback)
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
        self._invalidate()

    def deregister(self, agent: Any) -> None:
        """Take ``agent``'s UID away and remove it from the model; its account remains."""
        if agent.netuid >= 0:
            uid = self.uid_of(agent.acct)
            if uid >= 0:
                self.subnets[agent.netuid].vacate(uid)
        self.acct_uid[agent.acct] = EMPTY
        self.acct_netuid[agent.acct] = EMPTY
        agent.netuid = -1
        self.columns.set("alive", agent.acct, 0.0)
        agent.remove()
        self._invalidate()

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
        self, agent: Any, new_cls: type, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Replace ``agent`` by a new participant of ``new_cls`` on the same account.

        MODEL.md section 6 (imitation): the account keeps its UID, balances, stake, cabal
        and records; parameter columns the new strategy does not declare are cleared and
        its state columns start afresh. The role cannot change. Returns the new agent.
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
        new.netuid = agent.netuid
        self.agent_of[acct] = new
        agent.remove()
        self._invalidate()
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
        self._work_totals = np.zeros(3)  # computed answers, graded answers, query rounds
        self._delegate()
        for s in self.subnets:
            self._run_subnet(s)
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
        vals = np.array(
            [a for s in self.subnets for a in s.occupant[s.is_validator]], dtype=np.int64
        )
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
        """Work, grading, costs, weights and consensus on one subnet (MODEL.md 3 and 5)."""
        ctx = self._subnet_context(s)
        groups = self.groups(s.netuid)
        hours = self.params.epoch_hours
        n = s.n
        key = np.full(n, -1, dtype=np.int64)
        fixed, per_query = np.zeros(n), np.zeros(n)
        computes = np.zeros(n, dtype=bool)
        s.quality[:] = 0.0
        graders: list[np.ndarray] = []
        for cls, g in groups.items():
            if cls.role == "miner":
                prod = cls.produce(g, ctx)
                s.quality[g.uids] = np.clip(prod.quality, 0.0, 1.0)
                key[g.uids] = prod.answer_key
                fixed[g.uids] = prod.fixed_cost_usd
                per_query[g.uids] = prod.query_cost_usd
                computes[g.uids] = prod.computes
            elif cls.role == "validator":
                self._epoch_cost[g.accts] += g.param("server_usd_per_hour") * hours
                if cls.classifier.get("grades"):
                    graders.append(g.uids)
        self._grade(s, np.concatenate(graders) if graders else np.zeros(0, np.int64),
                    key, fixed, per_query, computes)
        setters = [(cls, g) for cls, g in groups.items() if cls.role == "validator"]
        if setters:
            uids = np.concatenate([g.uids for _, g in setters])
            rows = self._clean_weights(
                s, uids, np.vstack([self._rows_of(cls, g, ctx) for cls, g in setters])
            )
            can = s.can_set_weights(uids, self.block)
            s.commit(self.epoch, self.block, uids[can], rows[can])
        s.reveal_due(self.epoch, self.block)
        self._consensus(s)

    def _grade(
        self,
        s: Subnet,
        graders: np.ndarray,
        key: np.ndarray,
        fixed: np.ndarray,
        per_query: np.ndarray,
        computes: np.ndarray,
    ) -> None:
        """Queries and grading, vectorised over graders x miners (MODEL.md section 5)."""
        miners = np.flatnonzero(s.is_miner)
        if s.permits is not None:
            permitted = s.permits
        else:  # before the first epoch every UID with stake holds a permit (MODEL.md 3)
            permitted = self.ledger.hotkey_stake()[np.maximum(s.occupant, 0)] > 0
        graders = graders[permitted[graders]]
        wp = s.params.work
        q = work.sample_queries(
            self.streams["queries"], len(graders), len(miners), wp.query_rounds, wp.sample_size
        )
        g_accts = s.occupant[graders]
        col = self.columns
        scores = work.perceived_scores(
            self.streams["grading"], s.quality[miners], col.get("capability", g_accts),
            col.get("noise", g_accts), q,
        )
        dup = work.duplicate_detection(
            self.streams["grading"], key[miners], col.get("dedup", g_accts) > 0,
            wp.query_rounds, wp.sample_size,
        )
        scores = np.where(dup & (q > 0), 0.0, scores)
        block = np.ix_(graders, miners)
        s.score_ema[block] = work.update_ema(
            s.score_ema[block], scores, col.get("score_ema_rate", g_accts)
        )
        received = q.sum(axis=0)
        graded = q.sum(axis=1)
        m_accts = s.occupant[miners]
        self._epoch_cost[m_accts] += fixed[miners] + per_query[miners] * received
        self._epoch_cost[g_accts] += col.get("grading_cost_usd", g_accts) * graded
        self._work_totals += (
            float((received * computes[miners]).sum()),
            float(graded.sum()),
            float(len(graders) * wp.query_rounds if len(miners) else 0),
        )
        s.queries_received = np.zeros(s.n)
        s.queries_received[miners] = received

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
        rows = np.fmax(rows, 0.0)  # NaN and negatives to 0, in one pass
        if not np.isfinite(rows).all():
            bad = s.occupant[uids[~np.isfinite(rows).all(axis=1)]]
            raise ValueError(
                f"subnet {s.netuid}: infinite weights set by "
                + ", ".join(self.agent_of[int(a)].name for a in bad[:5])
            )
        rows *= s.occupant != EMPTY
        total = rows.sum(axis=1, keepdims=True)
        return np.divide(rows, total, out=rows, where=total > 0)

    def _consensus(self, s: Subnet) -> None:
        """Yuma Consensus on the weights on chain (MODEL.md section 3, ``world.yuma``)."""
        stake_all = to_tao(self.ledger.hotkey_stake())
        occupied = s.occupant != EMPTY
        s.stake_tao = np.where(occupied, stake_all[np.maximum(s.occupant, 0)], 0.0)
        res = yuma_epoch(
            s.weights, s.stake_tao, s.bonds, s.params.yuma,
            permits=s.permits, active=s.active(self.block) & occupied,
            new_registrations=s.new_registrations,
            last_update=s.last_update, block_at_registration=s.registered_block,
        )
        s.bonds = res.bonds
        s.permits = res.new_permits & occupied
        s.new_registrations[:] = False
        s.last = LastEpoch(res.consensus, res.incentive, res.dividends, res.validator_trust)
        s.shares = (res.miner_emission_share, res.validator_emission_share)

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
        stake_per_subnet = np.array([s.stake_tao.sum() for s in self.subnets])
        shares = subnet_shares(
            eco.subnet_split, [s.params.emission_share for s in self.subnets], stake_per_subnet
        )
        liquid_accts, liquid_rao, hotkeys, dividends = [], [], [], []
        self._role_emission = np.zeros(3)  # owner, miners, validators (TAO)
        for s, share in zip(self.subnets, shares, strict=True):
            e_sub = total * share
            owner = to_rao(e_sub * eco.owner_share)
            pool = e_sub * (eco.miner_share + eco.validator_share)
            incentive_share, dividend_share = s.shares
            occ = s.occupant != EMPTY
            inc_rao = np.where(occ, to_rao(pool * incentive_share), 0)
            div_rao = np.where(occ, to_rao(pool * dividend_share), 0)
            s.emission_tao = to_tao(inc_rao + div_rao)
            liquid_accts += [np.array([s.owner_acct]), s.occupant[occ]]
            liquid_rao += [np.array([owner]).reshape(1), inc_rao[occ]]
            hotkeys.append(s.occupant[occ])
            dividends.append(div_rao[occ])
            self._role_emission += to_tao([owner, inc_rao.sum(), div_rao.sum()])
        accts = np.concatenate(liquid_accts).astype(np.int64)
        amounts = np.concatenate(liquid_rao).astype(np.int64)
        self.ledger.mint_liquid(accts, amounts)
        np.add.at(self._epoch_income, accts, amounts)
        hk = np.concatenate(hotkeys).astype(np.int64)
        dv = np.concatenate(dividends).astype(np.int64)
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
        rhos, emissions, stakes = [], [], []
        for s in self.subnets:
            miners = np.flatnonzero(s.is_miner)
            rhos.append(metrics.spearman(s.quality[miners], s.last.incentive[miners]))
            emissions.append(s.emission_tao[s.occupant != EMPTY])
            stakes.append(s.stake_tao[s.is_validator])
        finite = [r for r in rhos if np.isfinite(r)]
        m["alignment"] = float(np.mean(finite)) if finite else float("nan")
        m["gini_emission"] = metrics.gini(np.concatenate(emissions))
        m["nakamoto_stake"] = float(metrics.nakamoto(np.concatenate(stakes)))
        m["compute_per_useful_answer"] = metrics.compute_per_useful_answer(*self._work_totals)
        alive = self._alive_accounts()
        codes = self.columns.get("strategy_code", alive).astype(np.int64)
        income = self.columns.get("income_tao", alive, 0.0)
        profit = self.columns.get("profit_usd", alive, 0.0)
        for i, name in enumerate(self.strategy_names):
            mask = codes == i
            count = int(mask.sum())
            m[f"population:{name}"] = float(count)
            m[f"emission_tao:{name}"] = float(income[mask].sum())
            m[f"profit_usd:{name}"] = float(profit[mask].sum())
            m[f"profit_usd_per_agent:{name}"] = (
                float(profit[mask].mean()) if count else float("nan")
            )
        self.metrics = m

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
            "stake_tao": stake,
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
        return pd.DataFrame({k: np.concatenate([r[k] for r in self._records]) for k in keys})
