"""Who plays what where: the strategy groups of each subnet and of the delegators.

The world calls a strategy once per epoch for all of its members on a subnet (a
``Group``, ``world.interfaces``). Membership changes rarely (registration, exit, a switch
of strategy), so the groups, each subnet's miners and occupied UIDs, and the accounts
sorted by strategy for the metrics are built once and kept until it changes:
``Membership.invalidate`` after a change of membership or strategy, ``Subnet.version``
for a subnet's occupants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from world.interfaces import Group
from world.subnet import EMPTY, Subnet

if TYPE_CHECKING:
    from world.model import Network

ROLES = ("miner", "validator", "delegator", "root")


@dataclass
class Plan:
    """One subnet's strategy groups sorted by what the epoch does with them."""

    groups: dict[type, Group]
    miner_groups: list[tuple[type, Group]]
    setters: list[tuple[type, Group]]  # every validator group, in group order
    setter_uids: np.ndarray
    setter_accts: np.ndarray
    # groups whose strategy acts at the start of the subnet's turn (``begin_turn``)
    starters: list[tuple[type, Group]] = field(default_factory=list)
    # values the world derives from the groups, kept as long as the plan (e.g. the
    # graders' inputs, ``world.grading.graders``)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Span:
    """The miners or the validators of consecutive subnets of one shape (UIDs and
    hyperparameters), for one ``produce`` or ``set_weights`` call per strategy
    (``world.interfaces``): per strategy one group spanning the subnets (subnet after
    subnet, ``Group.rows`` the position of each member's subnet in ``subnets``), and per
    subnet where each of its groups' members lie, in its plan's order (``miner_groups``
    or ``setters``): (strategy, start, stop) in that strategy's group."""

    subnets: list[Subnet]
    plans: list[Plan]
    groups: list[tuple[type, Group]]
    layout: list[list[tuple[type, int, int]]]
    # values the world derives from the span, kept as long as it (``Plan.memo``)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Members:
    """One subnet's miners and occupancy, valid while ``Subnet.version`` is ``version``."""

    version: int
    miners: np.ndarray  # UIDs, ascending
    miner_accts: np.ndarray
    miner_cols: slice | np.ndarray  # the miners' columns: a slice when their UIDs are a range
    occupied: np.ndarray
    full: bool


class Membership:
    """The groups of every subnet and of the delegators, kept until membership changes."""

    def __init__(self, model: Network) -> None:
        self.model = model
        self._groups: dict[int, dict[type, Group]] = {}
        self._plans: dict[int, Plan] = {}
        self._members: dict[int, Members] = {}
        self._networkwide: dict[str, dict[type, Group]] = {}
        self._tally: tuple[Any, ...] | None = None
        self._spans: dict[str, tuple[list[Plan], list[Span]]] = {}

    def invalidate(self, netuid: int | None = None) -> None:
        """Forget the groups of subnet ``netuid`` (every subnet: None; none: -1, a
        participant without a UID) and the delegator groups."""
        if netuid is None:
            self._groups.clear()
            self._plans.clear()
        elif netuid >= 0:
            self._groups.pop(netuid, None)
            self._plans.pop(netuid, None)
        self._networkwide.clear()

    def forget(self) -> None:
        """Drop everything kept (a cold start; results are the same)."""
        self.invalidate(None)
        self._members.clear()
        self._spans.clear()
        self._tally = None

    def groups(self, netuid: int) -> dict[type, Group]:
        """Members of each strategy on subnet ``netuid``, in UID order within a group."""
        cached = self._groups.get(netuid)
        if cached is not None:
            return cached
        s = self.model.subnets[netuid]
        uids = np.flatnonzero(s.occupant != EMPTY)
        out = {cls: Group(cls, s.occupant[u], u, self.model)
               for cls, u in self.by_strategy(s.occupant[uids], uids)}
        self._groups[netuid] = out
        return out

    def plan(self, netuid: int) -> Plan:
        """The subnet's groups sorted by role (kept with the groups)."""
        groups = self.groups(netuid)
        plan = self._plans.get(netuid)
        if plan is not None and plan.groups is groups:
            return plan
        setters = [(cls, g) for cls, g in groups.items() if cls.role == "validator"]
        plan = Plan(
            groups=groups,
            miner_groups=[(cls, g) for cls, g in groups.items() if cls.role == "miner"],
            setters=setters,
            setter_uids=_cat([g.uids for _, g in setters]),
            setter_accts=_cat([g.accts for _, g in setters]),
            starters=[(cls, g) for cls, g in groups.items() if hasattr(cls, "begin_turn")],
        )
        self._plans[netuid] = plan
        return plan

    def spans(self, role: str = "validator") -> list[Span]:
        """The miners or validators (``role``) of every subnet by runs of consecutive
        subnets of one shape (``Span``; one span when all subnets share a shape), in
        subnet order, so that whatever a strategy does subnet after subnet within a span
        comes in subnet order across spans too; kept until a subnet's plan changes."""
        model = self.model
        plans = [self.plan(s.netuid) for s in model.subnets]
        kept = self._spans.get(role)
        if kept is not None and len(kept[0]) == len(plans) and all(
                a is b for a, b in zip(kept[0], plans, strict=True)):
            return kept[1]
        runs: list[list[Subnet]] = []
        for s in model.subnets:
            if runs and (runs[-1][0].n, runs[-1][0].params) == (s.n, s.params):
                runs[-1].append(s)
            else:
                runs.append([s])
        out = [_span(model, subnets, [plans[s.netuid] for s in subnets], role)
               for subnets in runs]
        self._spans[role] = (plans, out)
        return out

    def is_current(self, netuid: int, plan: Plan) -> bool:
        """Whether ``plan`` is still the subnet's (no membership change since it was made)."""
        return self._plans.get(netuid) is plan

    def members(self, s: Subnet) -> Members:
        """Subnet ``s``'s miners and occupied UIDs (until a UID changes hands)."""
        m = self._members.get(s.netuid)
        if m is not None and m.version == s.version:
            return m
        miners = np.flatnonzero(s.is_miner)
        contiguous = len(miners) > 0 and miners[-1] - miners[0] + 1 == len(miners)
        occupied = s.occupant != EMPTY
        m = Members(
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

    def by_strategy(self, accts: np.ndarray, keys: np.ndarray) -> list[tuple[type, np.ndarray]]:
        """``keys`` split by the strategy of the matching account (array operations; one
        Python step per strategy, none per agent)."""
        model = self.model
        codes = model.columns.get("strategy_code", accts).astype(np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        return [
            (type(model.agent_of[int(accts[idx[0]])]), keys[idx].astype(np.int64))
            for idx in np.split(order, bounds) if len(idx)
        ]

    def delegator_groups(self) -> dict[type, Group]:
        """Delegators of each policy, network-wide."""
        return self.networkwide_groups("delegator")

    def root_groups(self) -> dict[type, Group]:
        """Root validators of each policy (MODEL.md section 9, ``dec2023``), network-wide."""
        return self.networkwide_groups("root")

    def networkwide_groups(self, role: str) -> dict[type, Group]:
        """Participants of ``role`` without a UID (delegators, root validators), by
        strategy."""
        if role not in self._networkwide:
            model = self.model
            accts = self.alive()
            accts = accts[model.columns.get("role_code", accts) == ROLES.index(role)]
            self._networkwide[role] = {
                cls: Group(cls, a, np.full(len(a), EMPTY, dtype=np.int64), model)
                for cls, a in self.by_strategy(accts, accts)
            }
        return self._networkwide[role]

    def alive(self) -> np.ndarray:
        """Accounts of the participants still in the model (ascending)."""
        model = self.model
        return np.flatnonzero(model.columns.get("alive", np.arange(model.ledger.n), 0.0) > 0)

    def by_strategy_code(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(alive accounts, their order sorted by strategy code, stable, and where each
        code's run starts in it), kept until membership or strategies change."""
        model = self.model
        col = model.columns

        def key() -> tuple[int, ...]:
            return (model.ledger.n, col.version("alive"), col.version("strategy_code"),
                    len(model.strategy_names))

        if self._tally is not None and self._tally[0] == key():
            return self._tally[1]
        alive = self.alive()
        codes = col.get("strategy_code", alive).astype(np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(model.strategy_names) + 1),
                                 side="left").tolist()
        self._tally = (key(), (alive, order, bounds))  # after get created the columns
        return alive, order, bounds


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)


def _span(model: Network, subnets: list[Subnet], plans: list[Plan], role: str) -> Span:
    """The ``Span`` of the ``role`` groups of ``subnets`` (of one shape), their plans."""
    parts: dict[type, list[tuple[int, Group]]] = {}
    size: dict[type, int] = {}  # members of each strategy's spanning group so far
    layout: list[list[tuple[type, int, int]]] = []
    for row, plan in enumerate(plans):
        here = []
        for cls, g in plan.setters if role == "validator" else plan.miner_groups:
            parts.setdefault(cls, []).append((row, g))
            start = size.get(cls, 0)
            size[cls] = start + len(g)
            here.append((cls, start, size[cls]))
        layout.append(here)
    groups = [(cls, Group(cls, _cat([g.accts for _, g in have]), _cat([g.uids for _, g in have]),
                          model, rows=_cat([np.full(len(g), row) for row, g in have])))
              for cls, have in parts.items()]
    return Span(subnets, plans, groups, layout)
