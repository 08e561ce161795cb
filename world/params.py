"""Scenario parameters of the world, validated when the model is built.

These dataclasses hold numbers only; ``experiments`` maps experiment files onto them and
``world`` never reads a file. Every check raises ``ValueError`` naming the parameter and
the allowed range. Defaults come from ../shared/MODEL.md sections 2-4 and 8; where a
number is a calibration choice, the comment beside it says where it comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from world.dtao_params import DtaoParams
from world.eras import ERA_NAMES, era_variants
from world.yuma import YumaParams

BLOCK_SECONDS = 12.0  # MODEL.md section 2
BLOCKS_PER_DAY = 7_200
RAO_PER_TAO = 1_000_000_000  # the chain's base unit (subtensor balances are u64 RAO)


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number inside the given range."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        bounds = f"{'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")


def check_int(name: str, value: int, low: int, high: int | None = None) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer in ``[low, high]``."""
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{low}, {hi}], got {value!r}")


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


@dataclass(frozen=True)
class RegistrationParams:
    """Burn registration and pruning of one subnet (MODEL.md section 4).

    The burn adjusts once per interval by ``(regs + target) / (2 target)``
    (subtensor ``upgrade_difficulty_and_burn`` / ``adjust_burn``, the 2023 rule), then is
    clamped to ``[min_burn, max_burn]``. At most ``3 * target`` registrations are accepted
    per interval (subtensor ``TooManyRegistrationsThisInterval``). One interval is one
    epoch here, since one model step is one epoch.
    """

    initial_burn_tao: float = 1.0  # SN1 burn hovered around 1 TAO in late 2023
    min_burn_tao: float = 0.0005  # subtensor DefaultMinBurn
    max_burn_tao: float = 100.0  # subtensor DefaultMaxBurn
    target_per_interval: int = 2  # subtensor DefaultTargetRegistrationsPerInterval
    immunity_period: int = 5_000  # blocks, MODEL.md section 3 defaults
    # proportional: burn *= (regs + target) / (2 target) every epoch (this world's rule
    # before the eras); interval: the chain's 2023 six cases (world.rules_2023.adjust_burn)
    burn_rule: Literal["proportional", "interval"] = "proportional"
    # emission: the lowest last emission, ties to the earliest registration; score: the
    # 2023 pruning score, ties to the highest UID (world.rules_2023.neuron_to_prune)
    pruning: Literal["emission", "score"] = "emission"

    def __post_init__(self) -> None:
        check_choice("registration.burn_rule", self.burn_rule, ("proportional", "interval"))
        check_choice("registration.pruning", self.pruning, ("emission", "score"))
        check_range("registration.min_burn_tao", self.min_burn_tao, 0)
        check_range("registration.max_burn_tao", self.max_burn_tao, self.min_burn_tao)
        check_range(
            "registration.initial_burn_tao", self.initial_burn_tao, self.min_burn_tao,
            self.max_burn_tao,
        )
        check_int("registration.target_per_interval", self.target_per_interval, 1)
        check_int("registration.immunity_period", self.immunity_period, 0)


@dataclass(frozen=True)
class WorkParams:
    """How validators query miners each epoch (MODEL.md section 5).

    Each permitted, grading validator sends ``query_rounds`` rounds of queries per epoch;
    each round reaches every miner independently with probability
    ``sample_size / n_miners`` (so a round's expected sample is ``sample_size``).
    """

    query_rounds: int = 30  # SN1 validators queried every ~12 blocks of a 360-block epoch
    sample_size: int = 50  # SN1 sampled ~50 miners per query in late 2023
    dedup_window: bool = True  # copies are only detectable within one round

    def __post_init__(self) -> None:
        check_int("work.query_rounds", self.query_rounds, 0)
        check_int("work.sample_size", self.sample_size, 0)


@dataclass(frozen=True)
class SubnetParams:
    """One subnet's hyperparameters (MODEL.md section 3 defaults)."""

    n_uids: int = 256
    yuma: YumaParams = field(default_factory=YumaParams)
    activity_cutoff: int = 5_000  # blocks
    weights_rate_limit: int = 100  # blocks (subtensor DefaultWeightsSetRateLimit)
    commit_reveal: bool = True
    reveal_period: int = 1  # epochs
    registration: RegistrationParams = field(default_factory=RegistrationParams)
    work: WorkParams = field(default_factory=WorkParams)
    emission_share: float | None = None  # fixed share of network emission, if fixed split
    # column: a new registration resets its bond column (today); pair: bonds masked per
    # (validator, miner) pair set at or before the miner's registration (2023, epoch.rs)
    bond_reset: Literal["column", "pair"] = "column"

    def __post_init__(self) -> None:
        check_choice("subnet.bond_reset", self.bond_reset, ("column", "pair"))
        check_int("subnet.n_uids", self.n_uids, 2, 4096)
        check_int("subnet.activity_cutoff", self.activity_cutoff, 1)
        check_int("subnet.weights_rate_limit", self.weights_rate_limit, 0)
        check_int("subnet.reveal_period", self.reveal_period, 1 if self.commit_reveal else 0)
        if self.emission_share is not None:
            check_range("subnet.emission_share", self.emission_share, 0, 1)
        if not isinstance(self.yuma, YumaParams):
            raise ValueError(f"subnet.yuma must be YumaParams, got {type(self.yuma).__name__}")
        if self.yuma.max_validators > self.n_uids:
            raise ValueError(
                f"subnet.yuma.max_validators must be at most n_uids ({self.n_uids}), "
                f"got {self.yuma.max_validators}"
            )

    @property
    def effective_reveal_period(self) -> int:
        """Epochs between setting weights and the chain using them (0 without commit-reveal)."""
        return self.reveal_period if self.commit_reveal else 0


@dataclass(frozen=True)
class PriceParams:
    """The TAO/USD price path (MODEL.md section 4).

    ``constant``: ``initial_usd`` forever; ``gbm``: geometric Brownian motion with annual
    ``drift`` and ``volatility``, one step per epoch; ``series``: ``series_usd`` gives the
    price per epoch (held at its last value after its end).
    """

    kind: Literal["constant", "gbm", "series"] = "constant"
    initial_usd: float = 275.0  # the report's setting, TAO at $235-$314 in Dec 2023
    drift: float = 0.0
    volatility: float = 0.8  # TAO's annualised volatility was roughly 80% in 2023
    series_usd: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        check_choice("price.kind", self.kind, ("constant", "gbm", "series"))
        check_range("price.initial_usd", self.initial_usd, 0, low_open=True)
        check_range("price.drift", self.drift, -10, 10)
        check_range("price.volatility", self.volatility, 0, 10)
        if self.kind == "series":
            if not self.series_usd:
                raise ValueError("price.series_usd must be a non-empty list when kind is 'series'")
            for i, p in enumerate(self.series_usd):
                check_range(f"price.series_usd[{i}]", p, 0, low_open=True)


@dataclass(frozen=True)
class EconomyParams:
    """Network emission and its split (MODEL.md section 4)."""

    initial_issuance_tao: float = 5_600_000.0  # total issuance in December 2023
    fixed_emission_per_block: float | None = None  # overrides the halving schedule
    halving_base_per_block: float = 1.0  # TAO per block before the first halving
    subnet_split: Literal["fixed", "stake"] = "fixed"
    owner_share: float = 0.18
    miner_share: float = 0.41
    validator_share: float = 0.41
    validator_take: float = 0.18  # default and maximum delegate take
    # liquid: miners' incentive paid to their free balance; stake: added to their
    # hotkey's stake, as on chain (2023: block_step.rs emit_inflation_through_hotkey_account)
    miner_pay: Literal["liquid", "stake"] = "liquid"
    # whether a deregistered hotkey's stake, nominators' included, returns to free
    # balances (2023: uids.rs replace_neuron -> unstake_all_coldkeys_from_hotkey_account)
    dereg_unstakes: bool = False

    def __post_init__(self) -> None:
        check_choice("economy.miner_pay", self.miner_pay, ("liquid", "stake"))
        if not isinstance(self.dereg_unstakes, bool):
            raise ValueError(f"economy.dereg_unstakes must be true or false, got "
                             f"{self.dereg_unstakes!r}")
        check_range("economy.initial_issuance_tao", self.initial_issuance_tao, 0, 21_000_000)
        if self.fixed_emission_per_block is not None:
            check_range("economy.fixed_emission_per_block", self.fixed_emission_per_block, 0)
        check_range("economy.halving_base_per_block", self.halving_base_per_block, 0)
        check_choice("economy.subnet_split", self.subnet_split, ("fixed", "stake"))
        for name in ("owner_share", "miner_share", "validator_share", "validator_take"):
            check_range(f"economy.{name}", getattr(self, name), 0, 1)
        total = self.owner_share + self.miner_share + self.validator_share
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                "economy.owner_share + miner_share + validator_share must sum to 1, "
                f"got {total:.6g}"
            )
        if abs(self.miner_share - self.validator_share) > 1e-12:
            # Yuma pays miners E*I/(sum I + sum D) and validators E*D/(...), i.e. equal
            # halves of what the owner leaves (MODEL.md section 3 step 10).
            raise ValueError(
                "economy.miner_share must equal economy.validator_share (Yuma splits the "
                f"non-owner emission in halves), got {self.miner_share} and "
                f"{self.validator_share}"
            )


@dataclass(frozen=True)
class NetworkParams:
    """The whole network: time, economy, prices and its subnets."""

    subnets: tuple[SubnetParams, ...] = (SubnetParams(),)
    tempo: int = 360  # blocks per epoch; one model step
    economy: EconomyParams = field(default_factory=EconomyParams)
    price: PriceParams = field(default_factory=PriceParams)
    agent_record_interval: int = 10  # epochs between per-agent records (0: never)
    era: Literal["dec2023", "dtao"] = "dtao"  # the chain's rules (MODEL.md section 9)
    era_variant: str | None = None  # a named switch of the era (dec2023: sn1_legacy)
    dtao: DtaoParams = field(default_factory=DtaoParams)  # today's pools (off by default)

    def __post_init__(self) -> None:
        check_choice("network.era", self.era, ERA_NAMES)
        if self.era_variant is not None and self.era_variant not in era_variants(self.era):
            names = ", ".join(map(repr, era_variants(self.era))) or "none"
            raise ValueError(
                f"network.era_variant of era {self.era!r} must be one of {names}, "
                f"got {self.era_variant!r}"
            )
        if not self.subnets:
            raise ValueError("network.subnets must list at least one subnet")
        check_int("network.tempo", self.tempo, 1)
        check_int("network.agent_record_interval", self.agent_record_interval, 0)
        if self.economy.subnet_split == "fixed":
            shares = [s.emission_share for s in self.subnets]
            if any(s is not None for s in shares) and not all(s is not None for s in shares):
                raise ValueError(
                    "subnets[*].emission_share must be given for every subnet or for none"
                )
        if self.dtao.pools:
            if self.era != "dtao":
                raise ValueError(
                    f"dtao.pools needs era 'dtao' (subnet pools are today's chain), got era "
                    f"{self.era!r}")
            for name in ("pool_tao", "price"):
                self.dtao.per_subnet(name, len(self.subnets))

    @property
    def epoch_hours(self) -> float:
        """Length of one epoch in hours (1 block = 12 s, MODEL.md section 2)."""
        return self.tempo * BLOCK_SECONDS / 3600.0
