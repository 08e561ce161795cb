"""Scenario parameters of the world, declared and validated by ``world.parameters``.

These parameter sets hold numbers only; ``experiments`` maps experiment files onto them
and ``world`` never reads a file. Each field is a :func:`~world.parameters.param`
declaration: its default, allowed range, meaning (``doc``) and where the default comes
from (``source``); a refused value raises ``ValueError`` naming the parameter and what is
allowed. Defaults come from ../shared/MODEL.md sections 2-4 and 8.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from world.dtao_params import DtaoParams
from world.eras import ERA_NAMES, era_variants
from world.parameters import ParameterError, param, parameters, section
from world.work import GradedJudge
from world.yuma import YumaParams

BLOCK_SECONDS = 12.0  # MODEL.md section 2
BLOCKS_PER_DAY = 7_200
RAO_PER_TAO = 1_000_000_000  # the chain's base unit (subtensor balances are u64 RAO)
MAX_TAO = 21_000_000  # the supply cap


@parameters("registration")
class RegistrationParams:
    """Burn registration and pruning of one subnet (MODEL.md section 4).

    The burn adjusts once per interval by ``(regs + target) / (2 target)``
    (subtensor ``upgrade_difficulty_and_burn`` / ``adjust_burn``, the 2023 rule), then is
    clamped to ``[min_burn, max_burn]``. At most ``3 * target`` registrations are accepted
    per interval (subtensor ``TooManyRegistrationsThisInterval``). The interval is
    ``adjustment_interval`` blocks (0: one epoch, this world's rule before the eras); since
    one model step is one epoch, an adjustment falling inside an epoch is applied at its
    end.
    """

    initial_burn_tao: float = param(1.0, 0, None, "burn of the first registration, TAO",
                                    source="SN1 burn hovered around 1 TAO in late 2023")
    min_burn_tao: float = param(0.0005, 0, None, "lowest burn, TAO",
                                source="subtensor DefaultMinBurn")
    max_burn_tao: float = param(100.0, 0, None, "highest burn, TAO",
                                source="subtensor DefaultMaxBurn")
    target_per_interval: int = param(2, 1, None, "registrations per interval the burn aims at",
                                     source="subtensor DefaultTargetRegistrationsPerInterval")
    adjustment_interval: int = param(
        0, 0, None, "blocks between burn adjustments (0: one epoch, this world's rule "
        "before the eras); adjustments fall every adjustment_interval blocks and apply at "
        "the end of the epoch holding them",
        source="subtensor@2023-12-20 block_step.rs adjust_registration_terms_for_networks "
        "(current_block - last_adjustment_block >= adjustment_interval); root.rs "
        "init_new_network: set_adjustment_interval(360)")
    immunity_period: int = param(5_000, 0, None, "blocks a new UID cannot be pruned",
                                 source="MODEL.md section 3 defaults")
    burn_rule: Literal["proportional", "interval", "price"] = param(
        "proportional", doc="how the burn adjusts each interval: proportional, burn *= "
        "(regs + target) / (2 target) (this world's rule before the eras); interval, the "
        "chain's six cases (world.rules_2023.adjust_burn); price (today), times "
        "burn_increase_mult per registration and halving every burn_half_life blocks",
        source="subtensor@2023-12-20 block_step.rs adjust_registration_terms_for_networks; "
        "subtensor@2026-06-30 subnets/registration.rs update_registration_prices_for_networks")
    burn_increase_mult: float = param(
        1.26, 1, None, "factor of the burn after each registration (burn_rule price)",
        source="subtensor@2026-06-30 lib.rs DefaultBurnIncreaseMult")
    burn_half_life: int = param(
        360, 0, None, "blocks in which the burn halves without registrations (burn_rule "
        "price; 0: no decay)", source="subtensor@2026-06-30 lib.rs DefaultBurnHalfLife")
    pruning: Literal["emission", "score"] = param(
        "emission", doc="which UID a registration on a full subnet replaces: emission, the "
        "lowest last emission, ties to the earliest registration; score, the 2023 pruning "
        "score, ties to the highest UID (world.rules_2023.neuron_to_prune)",
        source="subtensor@2023-12-20 registration.rs get_neuron_to_prune")

    @model_validator(mode="after")
    def _burn_order(self) -> RegistrationParams:
        if self.max_burn_tao < self.min_burn_tao:
            raise ParameterError("max_burn_tao", "registration.max_burn_tao must be at least "
                                 f"min_burn_tao ({self.min_burn_tao:g}), got {self.max_burn_tao!r}")
        if not self.min_burn_tao <= self.initial_burn_tao <= self.max_burn_tao:
            raise ParameterError(
                "initial_burn_tao", "registration.initial_burn_tao must be in [min_burn_tao, "
                f"max_burn_tao] = [{self.min_burn_tao:g}, {self.max_burn_tao:g}], "
                f"got {self.initial_burn_tao!r}")
        return self


@parameters("work")
class WorkParams:
    """How validators query miners each epoch (MODEL.md section 5).

    Each permitted, grading validator sends ``query_rounds`` rounds of queries per epoch;
    each round reaches every miner independently with probability
    ``sample_size / n_miners`` (so a round's expected sample is ``sample_size``).
    ``grader`` says how a validator perceives an answer above its own capability
    (``world.work``: ``min``, not at all; ``graded``, a judge whose discrimination fades,
    ``world.work.GradedJudge`` with ``judge_slope_above`` and ``judge_softness``).
    """

    query_rounds: int = param(30, 0, None, "rounds of queries a validator sends per epoch",
                              source="SN1 validators queried every ~12 blocks of a "
                              "360-block epoch")
    sample_size: int = param(50, 0, None, "expected miners reached by one round",
                             source="SN1 sampled ~50 miners per query in late 2023")
    dedup_window: bool = param(True, doc="copies are only detectable within one round",
                               source="MODEL.md section 5")
    grader: Literal["min", "graded"] = param(
        "min", doc="how a validator perceives an answer of quality q at capability c: min, "
        "min(q, c) (blind above c); graded, a judge whose discrimination fades above c "
        "(world.work.GradedJudge: its chance of ranking two answers correctly rises with "
        "their gap and falls as both exceed c)",
        source="MODEL.md section 5 (min); section 8, LLM-as-a-judge agreement, Zheng et al. "
        "2023 (graded)")
    judge_slope_above: float = param(
        0.25, 0, 1, "grader graded: the judge's discrimination far above its capability, "
        "as a fraction of its discrimination below it (0: blind there, as min; 1: no "
        "ceiling)", source="a modelling choice anchored on Zheng et al. 2023 (MODEL.md "
        "section 8: weaker judges agree less with humans); claim files draw it from a prior")
    judge_softness: float = param(
        0.05, 0, 1, "grader graded: the span of quality above the capability over which the "
        "judge's discrimination fades from 1 to judge_slope_above (0: at once)",
        source="a modelling choice (half an MT-bench point on the 0-1 quality scale); claim "
        "files draw it from a prior")

    @property
    def judge(self) -> GradedJudge | None:
        """The grader as ``world.work`` takes it: None for ``min``, else its judge."""
        if self.grader == "min":
            return None
        return GradedJudge(self.judge_slope_above, self.judge_softness)


@parameters("subnet")
class SubnetParams:
    """One subnet's hyperparameters (MODEL.md section 3 defaults)."""

    n_uids: int = param(256, 2, 4096, "UID slots (max allowed UIDs)",
                        source="subtensor DefaultMaxAllowedUids")
    yuma: YumaParams = section(YumaParams, "Yuma Consensus hyperparameters")
    activity_cutoff: int = param(5_000, 1, None, "blocks after which a silent validator "
                                 "is inactive", source="subtensor DefaultActivityCutoff")
    weights_rate_limit: int = param(100, 0, None, "blocks between two weight settings",
                                    source="subtensor DefaultWeightsSetRateLimit")
    commit_reveal: bool = param(True, doc="weights are committed and revealed later",
                                source="MODEL.md section 3")
    reveal_period: int = param(1, 0, None, "epochs between commit and reveal (at least 1 "
                               "with commit_reveal)", source="subtensor RevealPeriodEpochs")
    registration: RegistrationParams = section(RegistrationParams, "burn registration")
    work: WorkParams = section(WorkParams, "how validators query miners")
    emission_share: float | None = param(None, 0, 1, "fixed share of network emission with "
                                         "subnet_split fixed; null: an even split",
                                         source="MODEL.md section 4")
    bond_reset: Literal["column", "pair"] = param(
        "column", doc="column: a new registration resets its bond column (today); pair: "
        "bonds masked per (validator, miner) pair whose validator last set weights at or "
        "before the miner registered (2023)",
        source="subtensor@2023-12-20 epoch.rs epoch: vec_mask_sparse_matrix")
    owner_exempt: bool = param(
        True, doc="the subnet owner's UID (a participant that owns the subnet) keeps a permit "
        "and its self-weight, is exempt from the stake threshold and from pruning, and its "
        "incentive is burned (today); off: a UID like any other (2023)",
        source="subtensor@2026-06-30 epoch/run_epoch.rs epoch_mechanism, "
        "coinbase/run_coinbase.rs distribute_dividends_and_incentives")

    @model_validator(mode="after")
    def _consistent(self) -> SubnetParams:
        if self.commit_reveal and self.reveal_period < 1:
            raise ParameterError("reveal_period", "subnet.reveal_period must be an integer in "
                                 f"[1, inf] with commit_reveal, got {self.reveal_period!r}")
        if self.yuma.max_validators > self.n_uids:
            raise ParameterError(
                ("yuma", "max_validators"),
                f"subnet.yuma.max_validators must be at most n_uids ({self.n_uids}), "
                f"got {self.yuma.max_validators}")
        return self

    @property
    def effective_reveal_period(self) -> int:
        """Epochs between setting weights and the chain using them (0 without commit-reveal)."""
        return self.reveal_period if self.commit_reveal else 0


@parameters("price")
class PriceParams:
    """The TAO/USD price path (MODEL.md section 4).

    ``constant``: ``initial_usd`` forever; ``gbm``: geometric Brownian motion with annual
    ``drift`` and ``volatility``, one step per epoch; ``series``: ``series_usd`` gives the
    price per epoch (held at its last value after its end).
    """

    kind: Literal["constant", "gbm", "series"] = param("constant", doc="price path",
                                                       source="MODEL.md section 4")
    initial_usd: float = param(275.0, 0, None, "TAO price at the start, USD", low_open=True,
                               source="the report's setting, TAO at $235-$314 in Dec 2023")
    drift: float = param(0.0, -10, 10, "annual drift of the gbm path",
                         source="MODEL.md section 4")
    volatility: float = param(0.8, 0, 10, "annual volatility of the gbm path",
                              source="TAO's annualised volatility was roughly 80% in 2023")
    series_usd: tuple[float, ...] = param((), 0, None, "price per epoch in USD, for kind series",
                                          low_open=True, source="an observed price series")

    @model_validator(mode="after")
    def _series_given(self) -> PriceParams:
        if self.kind == "series" and not self.series_usd:
            raise ParameterError("series_usd", "price.series_usd must be a non-empty list "
                                 "when kind is 'series'")
        return self


@parameters("economy")
class EconomyParams:
    """Network emission and its split (MODEL.md section 4)."""

    initial_issuance_tao: float = param(5_600_000.0, 0, MAX_TAO, "TAO issued at the start",
                                        source="total issuance in December 2023")
    fixed_emission_per_block: float | None = param(
        None, 0, None, "TAO per block, overriding the halving schedule (null: halvings)",
        source="MODEL.md section 4")
    halving_base_per_block: float = param(1.0, 0, None, "TAO per block before the first "
                                          "halving", source="subtensor block emission")
    subnet_split: Literal["fixed", "stake", "root"] = param(
        "fixed", doc="how emission is split across subnets: fixed shares, by the stake in "
        "each, or by the root network's weights (root_epoch, 2023; the fixed shares until "
        "a root validator sets weights)", source="MODEL.md sections 4 and 9")
    owner_share: float = param(0.18, 0, 1, "subnet owner's share of a subnet's emission",
                               source="subtensor: 18% to the owner")
    miner_share: float = param(0.41, 0, 1, "miners' share of a subnet's emission",
                               source="subtensor: 41% to miners")
    validator_share: float = param(0.41, 0, 1, "validators' share of a subnet's emission",
                                   source="subtensor: 41% to validators and nominators")
    validator_take: float = param(0.18, 0, 1, "delegate take: validators' cut of their "
                                  "nominators' dividends", source="subtensor DefaultTake "
                                  "(also the maximum)")
    miner_pay: Literal["liquid", "stake"] = param(
        "liquid", doc="miners' incentive paid to their free balance (liquid) or added to "
        "their hotkey's stake (stake)", source="subtensor@2023-12-20 block_step.rs "
        "emit_inflation_through_hotkey_account")
    stake_scope: Literal["subnet", "global"] = param(
        "subnet", doc="subnet: a hotkey holds one UID; global: one hotkey may hold UIDs on "
        "several subnets (Network.link_hotkey) and counts its whole stake on each (2023)",
        source="subtensor@2023-12-20 uids.rs get_stake_for_uid_and_subnetwork = "
        "get_total_stake_for_hotkey")
    dereg_unstakes: bool = param(
        False, doc="a deregistered hotkey's stake, nominators' included, returns to free "
        "balances", source="subtensor@2023-12-20 uids.rs replace_neuron: "
        "unstake_all_coldkeys_from_hotkey_account")

    @model_validator(mode="after")
    def _shares(self) -> EconomyParams:
        total = self.owner_share + self.miner_share + self.validator_share
        if abs(total - 1.0) > 1e-9:
            raise ParameterError(
                "owner_share", "economy.owner_share + miner_share + validator_share must sum "
                f"to 1, got {total:.6g}")
        if abs(self.miner_share - self.validator_share) > 1e-12:
            # Yuma pays miners E*I/(sum I + sum D) and validators E*D/(...), i.e. equal
            # halves of what the owner leaves (MODEL.md section 3 step 10).
            raise ParameterError(
                "miner_share", "economy.miner_share must equal economy.validator_share (Yuma "
                f"splits the non-owner emission in halves), got {self.miner_share} and "
                f"{self.validator_share}")
        return self


@parameters("root")
class RootParams:
    """The root network of December 2023 (MODEL.md section 9; ``world.root``,
    ``world.rootnet``): the ``max_validators`` root validators with the most stake set
    weights over subnets; each subnet's share of emission is proportional to
    ``sigmoid(rho (trust - kappa)) * rank``. Used with ``economy.subnet_split = "root"``."""

    max_validators: int = param(64, 1, 4096, "root validators (seats by stake)",
                                source="subtensor@2023-12-20 root.rs get_max_root_validators")
    rho: float = param(10.0, 0, 1_000, "steepness of the root consensus sigmoid",
                       source="subtensor@2023-12-20 root.rs root_epoch: get_rho(0)")
    kappa: float = param(32_767 / 65_535, 0, 1, "midpoint of the root consensus sigmoid",
                         source="subtensor@2023-12-20 root.rs root_epoch: get_float_kappa(0)")


@parameters("network")
class NetworkParams:
    """The whole network: time, economy, prices and its subnets."""

    subnets: tuple[SubnetParams, ...] = section(lambda: (SubnetParams(),), "the subnets")
    tempo: int = param(360, 1, None, "blocks per epoch; one model step",
                       source="subtensor DefaultTempo")
    economy: EconomyParams = section(EconomyParams, "emission and its split")
    price: PriceParams = section(PriceParams, "the TAO/USD price path")
    root: RootParams = section(RootParams, "the root network (subnet_split root)")
    agent_record_interval: int = param(10, 0, None, "epochs between per-agent records "
                                       "(0: never)", source="a recording choice")
    era: Literal["dec2023", "dtao"] = param(
        "dtao", doc="the chain's rules: dec2023 (the report's chain) or dtao (today's); the "
        "era sets the defaults of the rules a file does not give (world.eras)",
        source="MODEL.md section 9")
    era_variant: Literal["sn1_legacy", "flow_shares"] | None = param(
        None, doc="a named switch of the era (dec2023: sn1_legacy)",
        source="world.eras era_variants")
    dtao: DtaoParams = section(DtaoParams, "today's subnet pools, staking as swaps and root "
                               "(off by default: dtao.pools)")

    @model_validator(mode="after")
    def _subnets(self) -> NetworkParams:
        if self.era not in ERA_NAMES:
            raise ParameterError("era", f"network.era must be one of "
                                 f"{', '.join(map(repr, ERA_NAMES))}, got {self.era!r}")
        if self.era_variant is not None and self.era_variant not in era_variants(self.era):
            names = ", ".join(map(repr, era_variants(self.era))) or "none"
            raise ParameterError("era_variant", f"network.era_variant of era {self.era!r} must "
                                 f"be one of {names}, got {self.era_variant!r}")
        if not self.subnets:
            raise ParameterError("subnets", "network.subnets must list at least one subnet")
        if self.economy.subnet_split in ("fixed", "root"):
            shares = [s.emission_share for s in self.subnets]
            if any(s is not None for s in shares) and not all(s is not None for s in shares):
                raise ParameterError("subnets", "subnets[*].emission_share must be given for "
                                     "every subnet or for none")
        if self.dtao.pools:
            if self.era != "dtao":
                raise ParameterError(("dtao", "pools"), "dtao.pools needs era 'dtao' (subnet "
                                     f"pools are today's chain), got era {self.era!r}")
            for name in ("pool_tao", "price"):
                self.dtao.per_subnet(name, len(self.subnets))
        return self

    @property
    def epoch_hours(self) -> float:
        """Length of one epoch in hours (1 block = 12 s, MODEL.md section 2)."""
        return self.tempo * BLOCK_SECONDS / 3600.0
