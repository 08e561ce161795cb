"""Parameters of the dynamic-TAO economy (MODEL.md section 9, "Today"), scenario key ``dtao``.

The pool economy is opt-in: ``pools: false`` (the default) leaves the world as it was, so
every existing experiment file keeps its results bit for bit; ``pools: true`` gives every
subnet a TAO/alpha pool and pays the epoch by ``world.coinbase`` (docs/eras.md, "Wiring").
Defaults of the rules come from ``world.eras`` (the ``dtao`` table, subtensor at its commit
of 2026-06-30); the genesis state (pool depth, price, age) is a scenario choice.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from world.parameters import ParameterError, param, parameters
from world.pool import FEE
from world.rules_dtao import EMA_PRICE_HALVING_BLOCKS, MOVING_ALPHA

YEAR_BLOCKS = 365 * 7_200
_C26 = "subtensor@2026-06-30 "


@parameters("dtao")
class DtaoParams:
    """Subnet pools, staking as swaps, alpha emission and root (MODEL.md section 9).

    ``pool_tao`` and ``price`` give each subnet's pool at genesis (one value for all, or one
    per subnet); its moving price starts at ``min(price, 1)`` as if the subnet had run for
    ``age_blocks`` (the chain's moving price needs months to move, so a run of days starts
    from the state it describes). Genesis stake buys alpha through the pools.
    """

    pools: bool = param(False, doc="the dtao economy: a TAO/alpha pool per subnet, staking "
                        "as swaps, alpha emission and root (off: the world of the other eras)",
                        source="MODEL.md section 9; opt-in, docs/eras.md")
    tao_weight: float = param(0.18, 0, 1, "weight of root TAO in a validator's Yuma stake",
                              source="MODEL.md section 9: governance, about 0.18 on main")
    pool_tao: tuple[float, ...] = param(
        (10_000.0,), 0, None, "TAO reserve of each pool at genesis (one value, or one per "
        "subnet)", source="a scenario choice", low_open=True)
    price: tuple[float, ...] = param(
        (0.01,), 0, None, "TAO per alpha of each pool at genesis (one value, or one per "
        "subnet)", source="a scenario choice", low_open=True)
    age_blocks: int = param(YEAR_BLOCKS, 0, None, "blocks since each genesis subnet started "
                            "(sets the moving price's rate)", source="a scenario choice")
    flow_shares: bool = param(False, doc="split the TAO emission by net TAO inflow (the rule "
                              "of late 2025 to June 2026) instead of moving prices",
                              source=_C26 + "coinbase/subnet_emissions.rs get_shares_flow")
    flow_cutoff: float = param(0.0, None, None, "floor of the inflow EMA in the flow rule",
                               source=_C26 + "lib.rs DefaultFlowCutoff")
    flow_exponent: float = param(1.0, 0, None, "exponent p of the flow shares z^p / sum z^p",
                                 source=_C26 + "lib.rs DefaultFlowNormExponent",
                                 low_open=True)
    injection_cap: Literal["root_proportion", "alpha_emission"] = param(
        "root_proportion", doc="cap of the alpha injected with a subnet's TAO: root proportion "
        "x alpha emission (since 2026-06-22) or the alpha emission (before)",
        source=_C26 + "coinbase/run_coinbase.rs get_subnet_terms")
    moving_alpha: float = param(MOVING_ALPHA, 0, 1, "rate of the moving price per block",
                                source=_C26 + "lib.rs DefaultMovingAlpha")
    ema_price_halving_blocks: int = param(
        EMA_PRICE_HALVING_BLOCKS, 0, None, "blocks after a subnet's start at which the moving "
        "price's rate is half its full value", source=_C26 + "runtime "
        "InitialEmaPriceHalvingPeriod")
    pool_fee: float = param(FEE, 0, 1, "fee of a swap, a fraction of its input",
                            source="pallets/swap impls.rs FeeRate 33/65535", high_open=True)
    root_sell_requires_price_sum: bool = param(
        True, doc="root alpha is recycled when the subnets' moving prices sum to at most 1",
        source=_C26 + "coinbase/run_coinbase.rs get_network_root_sell_flag")
    subnet_lock_min_tao: float = param(
        1.0, 0, None, "the least TAO a subnet registration locks",
        source=_C26 + "migrations/migrate_rao.rs: NetworkMinLockCost 1 TAO", low_open=True)
    subnet_last_lock_tao: float = param(
        1_000.0, 0, None, "the lock of the last subnet registration before the run (the "
        "lock cost starts from twice it)",
        source=_C26 + "migrations/migrate_network_lock_reduction_interval.rs: "
        "set_network_last_lock 1,000 TAO (\"hold price at 2000 TAO\")")
    subnet_last_lock_age_blocks: int = param(
        0, 0, None, "blocks between that registration and the run's start (the lock's "
        "decay and the rate limit count from it)", source="a scenario choice")
    lock_reduction_blocks: int = param(
        57_600, 1, None, "stored blocks over which a doubled lock cost decays back, scaled "
        "by the TAO emitted per block (28,800 at 0.5 TAO)",
        source=_C26 + "migrations/migrate_network_lock_reduction_interval.rs (8 days); "
        "coinbase/root.rs get_lock_reduction_interval")
    subnet_rate_limit_blocks: int = param(
        28_800, 0, None, "blocks between two subnet registrations, network-wide",
        source=_C26 + "migrations/migrate_network_lock_reduction_interval.rs: "
        "NetworkRateLimit 4 days; utils/rate_limiting.rs RegisterNetwork")
    subnet_immunity_blocks: int = param(
        1_296_000, 0, None, "blocks a new subnet cannot be dissolved for",
        source=_C26 + "runtime: SubtensorInitialNetworkImmunity")
    miners_sell: bool = param(True, doc="miners sell their incentive alpha for TAO each "
                              "epoch (else it stays staked)", source="a behavioural choice: "
                              "today's miner strategies pay their costs in TAO")

    @model_validator(mode="after")
    def _lists(self) -> DtaoParams:
        for name in ("pool_tao", "price"):
            if not getattr(self, name):
                raise ParameterError(name, f"dtao.{name} must list one value or one per subnet")
        return self

    def per_subnet(self, name: str, k: int) -> tuple[float, ...]:
        """``pool_tao`` or ``price`` for ``k`` subnets (one value repeated, or one each)."""
        values = getattr(self, name)
        if len(values) == 1:
            return tuple(values) * k
        if len(values) != k:
            raise ParameterError(
                ("dtao", name), f"dtao.{name} must list one value or one per subnet ({k}), "
                f"got {len(values)}")
        return tuple(values)
