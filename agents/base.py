"""Participant base classes: miners, validators and delegators.

In the manner of the Axelrod library's strategies: one class per strategy, with a
docstring naming the report's claim it tests (MODEL.md sections 6 and 7), a
``classifier`` dict, and declared ``params`` (``world.parameters.Param``: default, range,
meaning; the same declaration the world's parameters use). The world calls a
strategy's class methods once per epoch for all of its members on a subnet (see
``world.interfaces``), so each decision is an array operation over the group; an agent
object is a handle (its account, subnet and UID) used for rare events such as entry,
exit and switching strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from world.interfaces import (
    Endowment,
    Grading,
    Group,
    NetworkContext,
    Production,
    RootContext,
    SubnetContext,
)
from world.parameters import Param

__all__ = ["REGISTRY", "ROLES", "Delegator", "Miner", "Param", "Participant", "RootValidator",
           "Validator", "register"]

if TYPE_CHECKING:
    from world.model import Network

ROLES = ("miner", "validator", "delegator", "root")
CLASSIFIER_KEYS = (
    "role",  # miner, validator, delegator or root
    "cost_model",  # what it pays for, in words
    "colludes",  # acts for a cabal (MODEL.md section 6: collusion is explicit)
    "stochastic",  # its own decisions draw random numbers
    "needs_gpu",  # rents a GPU to do its work
    "grades",  # queries and grades miners itself (the world charges its grading)
    "copies",  # reuses someone else's work (answers or weights) instead of its own
    "adapts",  # changes what it does from what it observes during the run
)


class Participant(mesa.Agent):
    """A participant with a ledger account; subclasses are strategies of one role."""

    name: ClassVar[str] = ""
    role: ClassVar[str] = ""
    classifier: ClassVar[dict[str, Any]] = {}
    params: ClassVar[dict[str, Param]] = {}

    model: Network

    def __init__(self, model: Network, **params: Any) -> None:
        values = self.resolve_params(params)  # before Mesa registers the agent: no ghosts
        super().__init__(model)
        self.values = values
        self.acct = model.open_account(self)
        self.netuid = -1
        for key, value in self.values.items():
            model.columns.declare(key)
            model.columns.set(key, self.acct, value)

    # -- parameters -----------------------------------------------------------------
    @classmethod
    def all_params(cls) -> dict[str, Param]:
        """Declared parameters, the subclass's overriding its bases'."""
        merged: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            merged.update(getattr(klass, "params", {}) if "params" in vars(klass) else {})
        return merged

    @classmethod
    def resolve_params(cls, given: dict[str, Any]) -> dict[str, float]:
        """Defaults filled in and every value checked; unknown names are an error."""
        spec = cls.all_params()
        unknown = sorted(set(given) - set(spec))
        if unknown:
            raise ValueError(
                f"{cls.name or cls.__name__} has no parameter(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(spec)) or 'none'}"
            )
        values = {
            key: p.validate(cls.name or cls.__name__, key, given.get(key, p.default))
            for key, p in spec.items()
        }
        cls.check_params(values)
        return values

    @classmethod
    def check_params(cls, values: dict[str, float]) -> None:
        """Checks across parameters (``ValueError`` naming them); none by default."""

    def endowment(self) -> Endowment:
        """TAO it holds at genesis: ``endowment_tao`` liquid and ``stake_tao`` staked
        (the world's ``world.interfaces.Endowment``)."""
        return Endowment(self.values.get("endowment_tao", 0.0), self.values.get("stake_tao", 0.0))

    def stakes_root(self) -> bool:
        """Whether its genesis stake sits on root (TAO 1:1) instead of buying alpha, when
        the network has pools (MODEL.md section 9); a root staker says yes."""
        return False

    @classmethod
    def owns_subnet(cls) -> bool:
        """Whether it is the owner of the subnet it is seated on at genesis (MODEL.md
        section 9: the owner's cut, and its UID exempt where the era says so); a subnet
        owner's strategy says yes."""
        return False

    @classmethod
    def spawned_strategies(cls) -> tuple[type[Participant], ...]:
        """Strategies this one may bring into the network mid-run (e.g. its own miners),
        so that the world's data collection has their columns from the first epoch."""
        return ()

    @property
    def cabal(self) -> int:
        """The cabal this participant belongs to (-1: none); see ``world.model.Network``."""
        return int(self.model.columns.get("cabal", self.acct, -1.0))

    @property
    def uid(self) -> int:
        """This participant's UID on its subnet (-1 if it holds none)."""
        return self.model.uid_of(self.acct)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} acct={self.acct} netuid={self.netuid} uid={self.uid}>"


class Miner(Participant):
    """A miner: answers validators' queries; paid by incentive (MODEL.md section 5)."""

    role = "miner"
    params: ClassVar[dict[str, Param]] = {
        "endowment_tao": Param(5.0, 0, None, "liquid TAO held at the start"),
    }

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        raise NotImplementedError(f"{cls.__name__} must define produce()")


class Validator(Participant):
    """A validator: stakes, grades miners (or not) and sets weights.

    Grading validators (``classifier['grades']``) query miners and perceive their answers
    through ``capability`` and ``noise``; the world keeps their moving averages in
    ``ctx.own_scores`` and charges ``grading_cost_usd`` per response.
    """

    role = "validator"
    params: ClassVar[dict[str, Param]] = {
        "stake_tao": Param(10_000.0, 0, None, "own TAO staked to its hotkey at the start"),
        "endowment_tao": Param(10.0, 0, None, "liquid TAO held at the start"),
        "server_usd_per_hour": Param(0.5, 0, None, "USD per hour to run its node"),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        raise NotImplementedError(f"{cls.__name__} must define set_weights()")

    @classmethod
    def server_usd_per_hour(cls, group: Group) -> np.ndarray:
        """What each member's node costs per hour (USD)."""
        return group.param("server_usd_per_hour")

    @classmethod
    def grading(cls, group: Group) -> Grading | None:
        """How the members grade miners; None: they grade nothing (the world queries no
        miner for them)."""
        return None


class GradingValidator(Validator):
    """Base of validators that query and grade miners themselves (MODEL.md section 5)."""

    params: ClassVar[dict[str, Param]] = {
        "capability": Param(0.93, 0, 1, "quality ceiling of its grading model (GPT-4 ~0.93)",
                            source="MODEL.md section 8: GPT-4 Turbo MT-bench ~9.3 / 10"),
        "noise": Param(0.05, 0, 1, "standard deviation of one graded response"),
        "grading_cost_usd": Param(0.002, 0, None, "USD per response graded"),
        "score_ema_rate": Param(0.1, 0, 1, "weight of a new score in its moving average"),
        "sharpen": Param(1.0, 0, 50, "power applied to scores before normalising"),
        "top_k": Param(0, 0, 4096, "weight only the best k miners (0: all)", integer=True),
        "dedup": Param(0, 0, 1, "1 if it zeroes answers it detects as copies", integer=True),
        "server_usd_per_hour": Param(1.6, 0, None, "USD per hour for its grading GPU (A100)",
                                     source="MODEL.md section 8: A100 80GB $1.3-$2 an hour"),
    }

    @classmethod
    def grading(cls, group: Group) -> Grading:
        return Grading(group.param("capability"), group.param("noise"), group.param("dedup"),
                       group.param("score_ema_rate"), group.param("grading_cost_usd"))


class Delegator(Participant):
    """A nominator without a UID: stakes TAO to a validator by a policy (MODEL.md section 6).

    The world moves a member's stake once it has wanted the same new validator for
    ``switch_delay`` epochs (its inertia).
    """

    role = "delegator"
    params: ClassVar[dict[str, Param]] = {
        "stake_tao": Param(1_000.0, 0, None, "TAO it stakes"),
        "switch_delay": Param(3, 0, 10_000, "epochs a new choice must persist", integer=True),
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        raise NotImplementedError(f"{cls.__name__} must define choose()")

    @classmethod
    def switch_delay(cls, group: Group) -> np.ndarray:
        """Epochs each member's new choice must persist before its stake moves."""
        return group.param("switch_delay")


class RootValidator(Participant):
    """A root validator of December 2023 (MODEL.md section 9): a hotkey with stake on the
    root network that sets weights over subnets each epoch; the world seats the
    ``root.max_validators`` with the most stake (subtensor@2023-12-20 root.rs
    ``do_root_register``) and splits emission by ``root_epoch``. It holds no subnet UID.
    """

    role = "root"
    params: ClassVar[dict[str, Param]] = {
        "stake_tao": Param(100_000.0, 0, None, "TAO staked to its root hotkey"),
    }

    @classmethod
    def root_weights(cls, group: Group, ctx: RootContext) -> np.ndarray:
        """One row of non-negative weights over the subnets per member (any scale: the
        chain stores each row max-upscaled)."""
        raise NotImplementedError(f"{cls.__name__} must define root_weights()")


REGISTRY: dict[str, type[Participant]] = {}


def register(cls: type[Participant]) -> type[Participant]:
    """Class decorator: add a strategy to the registry under its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a registry name")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"strategy name {cls.name!r} is registered twice")
    if cls.role not in ROLES:
        raise ValueError(f"{cls.__name__}.role must be one of {ROLES}")
    missing = [k for k in CLASSIFIER_KEYS if k not in cls.classifier]
    if missing:
        raise ValueError(f"{cls.__name__}.classifier lacks {', '.join(missing)}")
    REGISTRY[cls.name] = cls
    return cls
