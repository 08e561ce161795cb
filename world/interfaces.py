"""What the world hands a strategy each epoch, and what it expects back.

A strategy is a class (see ``agents.base``); the world calls its class methods once per
epoch per group of members that share the strategy, with a ``Group`` (the members'
accounts, UIDs and parameter columns) and a context (the public state of their subnets
this epoch). The methods return arrays over the group. This keeps every per-epoch
decision vectorised (DEVELOPERS.md) while each strategy stays one readable class.

The three roles and their per-epoch calls (MODEL.md sections 5 and 6):

- miners: ``produce(group, ctx) -> Production`` (how the members answer this epoch);
- validators: ``set_weights(group, ctx) -> (len(group), n_uids) array`` (rows of weights;
  the world normalises them, enforces the rate limit and commit-reveal);
- delegators: ``choose(group, ctx) -> account of the validator each member wants``.

A miner's or validator's group holds the strategy's members on a run of consecutive
subnets of one shape (UIDs and hyperparameters; ``world.membership.Span``; all subnets
when they share one): member i is on subnet
``ctx.subnets[group.rows[i]]``, and the context's per-UID arrays are stacked (subnets x
UIDs), so ``ctx.stake[group.rows, group.uids]`` is each member's own stake. One call per
strategy for the whole network rather than one per subnet (``bench/bench_network.py``).
A strategy draws from ``ctx.rng`` through ``ctx.draws`` (subnet after subnet, as one call
per subnet would), so that its draws do not depend on how the world groups its calls.
Two strategies that both draw take their draws strategy after strategy (each's subnet
after subnet), where turns one after another would interleave them subnet by subnet: in
the catalogue only ``model_arbitrage`` draws during the turns. The events strategies
schedule run in the order of the turns (``agents.population.Events``).

Besides its decisions, the world asks a strategy a few questions about what it declared
(its parameters): how much TAO a participant brings at genesis (``endowment()``), what a
validator's node costs (``server_usd_per_hour(group)``), how a grading validator grades
(``grading(group) -> Grading``, None for one that grades nothing) and how long a
delegator's new choice must persist (``switch_delay(group)``). A subnet strategy may
also define ``begin_turn(group, ctx)``, called at the start of its subnet's turn before
any strategy there acts: whatever it sets up beyond its subnet (a cabal, numbered in
the order cabals form) it does there, in subnet order, since the world runs each phase
of the subnets' turns across all subnets before the next (``Network._subnet_turns``).
``MinerStrategy``, ``ValidatorStrategy`` and ``DelegatorStrategy`` below list these
calls; the world reads no parameter of a strategy by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from world import kernels
from world.subnet import stack_views
from world.work import finish_rows, weights_from_scores

if TYPE_CHECKING:
    from world.model import Network
    from world.params import SubnetParams
    from world.subnet import Subnet


@dataclass
class Group:
    """The members of one strategy on one subnet, on the subnets of a context (miners and
    validators: subnet after subnet, each's in UID order), or all delegators of one
    policy."""

    cls: type
    accts: np.ndarray  # ledger accounts of the members (in UID order on a subnet)
    uids: np.ndarray  # their UIDs on their subnets (-1 for delegators)
    model: Network
    # the members' parameter values gathered from their columns, by name: (column version,
    # values), kept as long as the group (the world builds a new group when the
    # membership changes)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # per member, the position of its subnet in the context's ``subnets`` (ascending;
    # None: all on the first)
    rows: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.rows is None:
            self.rows = np.zeros(len(self.accts), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.accts)

    def param(self, name: str) -> np.ndarray:
        """The members' values of a declared parameter (see ``Participant.params``).

        Read-only (copy it to change it): the gather from the column is kept until the
        column is written (parameters rarely change, and strategies read them every
        epoch)."""
        columns = self.model.columns
        version = columns.version(name)
        hit = self.memo.get(name)
        if hit is None or hit[0] != version:
            values = columns.get(name, self.accts)
            values.flags.writeable = False
            hit = self.memo[name] = (version, values)
        return hit[1]

    def state(self, name: str, default: float = 0.0) -> np.ndarray:
        """The members' values of strategy state column ``name``, declared on first use
        with ``default`` (the value of members that never wrote it)."""
        columns = self.model.columns
        declared = self.memo.get((Group.state, name))  # (column, default) once declared
        if declared is None or declared[1] is not default:
            column = f"{self.cls.__name__}.{name}"
            columns.declare(column, default)
            # kept by identity of the default: another default object declares again
            declared = self.memo[(Group.state, name)] = (column, default)
        return columns.get(declared[0], self.accts)

    def set_state(self, name: str, values: np.ndarray | float) -> None:
        """Write the members' values of a state column (read with ``state`` first)."""
        declared = self.memo.get((Group.state, name))
        column = declared[0] if declared is not None else f"{self.cls.__name__}.{name}"
        self.model.columns.set(column, self.accts, values)

    @property
    def agents(self) -> list[Any]:
        """The member agents (for rare per-agent events only; never per epoch)."""
        return [self.model.agent_of[a] for a in self.accts]


@dataclass
class Production:
    """How a group of miners answers this epoch (MODEL.md section 5).

    ``quality``: true mean quality in [0, 1] of each member's answers.
    ``answer_key``: members with the same key >= 0 return identical answers (a copy
    cabal); -1 means the member's answers are its own.
    ``fixed_cost_usd``: cost of the epoch whatever the traffic (GPU rent).
    ``query_cost_usd``: cost per query received (an API call).
    ``computes``: whether the member's answers cost compute (False for copies and
    blank answers); feeds the report's N + V overhead metric.
    """

    quality: np.ndarray
    answer_key: np.ndarray
    fixed_cost_usd: np.ndarray
    query_cost_usd: np.ndarray
    computes: np.ndarray

    @classmethod
    def own_answers(
        cls,
        quality: np.ndarray,
        fixed_cost_usd: np.ndarray | float = 0.0,
        query_cost_usd: np.ndarray | float = 0.0,
        computes: bool | np.ndarray = True,
    ) -> Production:
        """Members answering with their own answers."""
        k = len(quality)
        return cls(
            quality=np.asarray(quality, dtype=np.float64),
            answer_key=np.full(k, -1, dtype=np.int64),
            fixed_cost_usd=_per_member(fixed_cost_usd, np.float64, k),
            query_cost_usd=_per_member(query_cost_usd, np.float64, k),
            computes=_per_member(computes, np.bool_, k),
        )


def _per_member(value: Any, dtype: type, k: int) -> np.ndarray:
    """``value`` (a scalar or one value per member) as a new array of ``k`` values."""
    arr = np.asarray(value, dtype)
    if arr.ndim == 0:
        return np.full(k, arr, dtype)
    if arr.shape == (k,):
        return arr.copy()
    return np.broadcast_to(arr, (k,)).copy()  # (1,) broadcasts; other shapes raise


@dataclass
class SubnetContext:
    """The state of one or more subnets of one shape as their participants see it during
    one epoch.

    Everything here is public on chain or the participant's own. Per UID, stacked over
    ``subnets`` (subnets x UIDs; index with ``group.rows`` and ``group.uids``):
    ``is_miner``, ``is_validator``, ``occupant``, ``stake`` (TAO behind each UID as of the
    start of this epoch), ``consensus`` (last epoch's Yuma consensus weight) and
    ``queries_received`` (at the subnet's latest grading: last epoch's for miners, this
    epoch's for validators). Rows over a subnet's UIDs: ``own_scores(group)``,
    each member's own moving averages of what it perceived; ``weight_rows(rows, uids)``,
    the weights on chain of the given UIDs (with commit-reveal the revealed ones,
    ``reveal_period`` epochs old). A context of one subnet also gives it (``subnet``) and
    its arrays by their one-subnet names (``score_ema``, ``visible_weights``)."""

    model: Network
    subnets: Sequence[Subnet]
    epoch: int
    epoch_hours: float
    rng: np.random.Generator
    _stacked: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """UIDs per subnet."""
        return self.subnets[0].n

    @property
    def netuids(self) -> list[int]:
        return [s.netuid for s in self.subnets]

    @property
    def subnet(self) -> Subnet:
        """The context's subnet (a context of one subnet, as ``begin_turn`` gets)."""
        if len(self.subnets) != 1:
            raise ValueError(f"a context of {len(self.subnets)} subnets has no one subnet")
        return self.subnets[0]

    @property
    def params(self) -> SubnetParams:
        """The subnets' hyperparameters (one shape: the same on all)."""
        return self.subnets[0].params

    @property
    def versions(self) -> tuple[int, ...]:
        """Each subnet's ``Subnet.version`` (it changes with the subnet's occupants)."""
        return tuple(s.version for s in self.subnets)

    @property
    def is_miner(self) -> np.ndarray:
        return self._stack("is_miner", lambda s: s.is_miner)

    @property
    def is_validator(self) -> np.ndarray:
        return self._stack("is_validator", lambda s: s.is_validator)

    @property
    def occupant(self) -> np.ndarray:
        return self._stack("occupant", lambda s: s.occupant)

    @property
    def stake(self) -> np.ndarray:
        """Stake (TAO) behind each UID as of the start of this epoch."""
        return self._stack("stake", lambda s: s.stake_tao)

    @property
    def consensus(self) -> np.ndarray:
        """Last epoch's Yuma consensus weight of each UID."""
        return self._stack("consensus", lambda s: s.last.consensus)

    @property
    def queries_received(self) -> np.ndarray:
        """Queries each UID received at its subnet's latest grading."""
        return self._stack("queries_received", lambda s: s.queries_received)

    @property
    def score_ema(self) -> np.ndarray:
        """The one subnet's moving averages (validators x UIDs; ``own_scores``)."""
        return self.subnet.score_ema

    @property
    def visible_weights(self) -> np.ndarray:
        """The one subnet's weights on chain (``weight_rows``)."""
        return self.subnet.weights

    def own_scores(self, group: Group, miners_only: bool = False) -> np.ndarray:
        """Each member's row of its subnet's ``score_ema`` (a copy, members x UIDs);
        ``miners_only``: times its subnet's ``is_miner`` (0 on UIDs that are not miners)."""
        if miners_only and len(self.subnets) > 1 and len(group):
            jit = kernels.compiled("weights_jit")
            if jit is not None:  # one compiled pass (speed only: the same numbers)
                out = np.empty((len(group), self.n))
                jit.gather_masked(stack_views(self.model.stacks, self.subnets, "score_ema"),
                       group.rows, group.uids, self.is_miner, out)
                return out
        scores = self._gather("score_ema", group.rows, group.uids)
        if miners_only:
            scores *= self.is_miner[group.rows]
        return scores

    def own_weights(self, group: Group, sharpen: np.ndarray, top_k: np.ndarray) -> np.ndarray:
        """Each member's weights from its own moving averages on miners:
        ``work.weights_from_scores(own_scores(group, miners_only=True), sharpen, top_k)``
        (MODEL.md section 5: normalised, optionally top-k and sharpened); without top-k
        or sharpening over several subnets, gathered and normalised row by row in one
        compiled pass (speed only: the same numbers)."""
        jit = kernels.compiled("weights_jit") if len(self.subnets) > 1 and len(group) else None
        if jit is None or np.count_nonzero(top_k) or np.count_nonzero(sharpen != 1.0):
            return weights_from_scores(self.own_scores(group, miners_only=True), sharpen,
                                       top_k, overwrite=True)
        out = np.empty((len(group), self.n))
        stack = stack_views(self.model.stacks, self.subnets, "score_ema")
        done = jit.own_weights(stack, group.rows, group.uids, self.is_miner, out)
        if done < len(group):  # a negative zero: the rest as weights_from_scores does it
            jit.gather_masked(stack, group.rows[done:], group.uids[done:], self.is_miner,
                              out[done:])
            finish_rows(out, done)
        return out

    def weight_rows(self, rows: np.ndarray, uids: np.ndarray) -> np.ndarray:
        """The weights on chain of UID ``uids[i]`` of subnet ``subnets[rows[i]]`` (a copy;
        ``rows`` ascending)."""
        return self._gather("weights", rows, uids)

    def draws(self, group: Group, where: np.ndarray,
              draw: Callable[[np.random.Generator, int], tuple[np.ndarray, ...]]
              ) -> tuple[np.ndarray, ...]:
        """``draw(rng, m)`` (arrays of ``m`` values) from ``rng`` for the ``m`` members of
        each subnet where any member is in ``where``, subnet after subnet, gathered per
        member (zeros elsewhere): the draws, in the same order, of one call per subnet
        that draws when any of its members is in ``where`` (``where`` must hold one)."""
        cuts = [0, *(np.flatnonzero(np.diff(group.rows)) + 1).tolist(), len(group)]
        out: list[np.ndarray] | None = None
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            if not where[a:b].any():
                continue
            got = draw(self.rng, b - a)
            if out is None:
                out = [np.zeros(len(group), dtype=np.asarray(x).dtype) for x in got]
            for full, x in zip(out, got, strict=True):
                full[a:b] = x
        if out is None:
            raise ValueError("SubnetContext.draws: no member is in `where`")
        return tuple(out)

    def _stack(self, name: str, of: Any) -> np.ndarray:
        """A per-UID array of every subnet, stacked (read-only; kept for the epoch)."""
        out = self._stacked.get(name)
        if out is None:
            out = (of(self.subnets[0])[None, :] if len(self.subnets) == 1
                   else np.stack([of(s) for s in self.subnets]))
            out.flags.writeable = False
            self._stacked[name] = out
        return out

    def _gather(self, name: str, rows: np.ndarray, uids: np.ndarray) -> np.ndarray:
        """Rows ``uids`` of each subnet's matrix ``name``, subnet after subnet (the
        moving averages from their stack, ``Network.stacks``: one gather)."""
        if name == "score_ema" and len(self.subnets) > 1:
            return stack_views(self.model.stacks, self.subnets, name)[rows, uids]
        out = np.empty((len(uids), self.n))
        if not len(uids):
            return out
        cuts = [0, *(np.flatnonzero(np.diff(rows)) + 1).tolist(), len(uids)]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            np.take(getattr(self.subnets[int(rows[a])], name), uids[a:b], axis=0,
                    out=out[a:b])
        return out


@dataclass
class NetworkContext:
    """What delegators see: every registered validator across the network.

    ``validators``: their accounts; ``stake_tao``: stake behind each; ``net_yield``:
    trailing yield to a nominator per TAO staked per epoch, after the validator's take
    (an exponential moving average, MODEL.md section 6); ``price_trend``: the trailing
    relative change per epoch of the price of the alpha of each one's subnet (today's
    chain, MODEL.md section 9; zeros without pools).
    """

    model: Network
    epoch: int
    rng: np.random.Generator
    validators: np.ndarray
    stake_tao: np.ndarray
    net_yield: np.ndarray
    price_trend: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.price_trend is None:
            self.price_trend = np.zeros(len(self.validators))


@dataclass(frozen=True)
class RootContext:
    """What root validators see when they set weights over subnets (MODEL.md section 9,
    ``dec2023``): per subnet, ``stake_tao`` (the stake behind its UIDs this epoch) and
    ``emission_tao`` (what it was paid last epoch)."""

    model: Network
    epoch: int
    rng: np.random.Generator
    stake_tao: np.ndarray
    emission_tao: np.ndarray

    @property
    def n_subnets(self) -> int:
        """Number of subnets the weights range over."""
        return len(self.stake_tao)


@dataclass(frozen=True)
class Endowment:
    """What a participant holds at genesis (TAO): ``liquid_tao`` in its account and
    ``stake_tao`` staked (a validator's to its own hotkey, a delegator's to a validator
    drawn at random; the world buys neither, it is part of the initial issuance)."""

    liquid_tao: float = 0.0
    stake_tao: float = 0.0


@dataclass(frozen=True)
class Grading:
    """How a group of grading validators queries and grades miners (MODEL.md section 5),
    one value per member: ``capability`` (the quality ceiling of what it can tell
    apart), ``noise`` (standard deviation of one graded response), ``dedup`` (> 0: it
    zeroes answers it detects as copies), ``score_ema_rate`` (weight of a new score in
    its moving average) and ``cost_usd`` (USD per response graded)."""

    capability: np.ndarray
    noise: np.ndarray
    dedup: np.ndarray
    score_ema_rate: np.ndarray
    cost_usd: np.ndarray


class Strategy(Protocol):
    """What every strategy class tells the world (see ``agents.base.Participant``)."""

    name: ClassVar[str]
    role: ClassVar[str]

    def endowment(self) -> Endowment: ...

    def stakes_root(self) -> bool: ...

    @classmethod
    def owns_subnet(cls) -> bool: ...


class MinerStrategy(Strategy, Protocol):
    """A miner strategy. One whose ``classifier`` says it neither is ``stochastic`` nor
    ``adapts`` answers as a function of its parameters (read through ``Group.param``)
    and, if it ``colludes``, of the cabals (column ``cabal``) and its subnets' occupants:
    the world reuses its ``Production`` until one of them changes
    (``world.grading.produce``)."""

    classifier: ClassVar[dict[str, Any]]

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production: ...


class ValidatorStrategy(Strategy, Protocol):
    """A validator strategy. Its ``grading`` is a function of its parameters (read through
    ``Group.param``): the world keeps the graders' inputs until one of them is written
    (``world.grading.graders``)."""

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray: ...

    @classmethod
    def server_usd_per_hour(cls, group: Group) -> np.ndarray: ...

    @classmethod
    def grading(cls, group: Group) -> Grading | None: ...


class DelegatorStrategy(Strategy, Protocol):
    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray: ...

    @classmethod
    def switch_delay(cls, group: Group) -> np.ndarray: ...
