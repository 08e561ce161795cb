"""Parameters of the dynamic-TAO economy (MODEL.md section 9, "Today"), scenario key ``dtao``.

The pool economy is opt-in: ``pools: false`` (the default) leaves the world as it was, so
every existing experiment file keeps its results bit for bit; ``pools: true`` gives every
subnet a TAO/alpha pool and pays the epoch by ``world.coinbase`` (docs/eras.md, "Wiring").
Defaults of the rules come from ``world.eras`` (the ``dtao`` table, subtensor at its commit
of 2026-06-30); the genesis state (pool depth, price, age) is a scenario choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from world.pool import FEE
from world.rules_dtao import EMA_PRICE_HALVING_BLOCKS, MOVING_ALPHA

YEAR_BLOCKS = 365 * 7_200


@dataclass(frozen=True)
class DtaoParams:
    """Subnet pools, staking as swaps, alpha emission and root (MODEL.md section 9).

    ``pool_tao`` and ``price`` give each subnet's pool at genesis (one value for all, or one
    per subnet); its moving price starts at ``min(price, 1)`` as if the subnet had run for
    ``age_blocks`` (the chain's moving price needs months to move, so a run of days starts
    from the state it describes). Genesis stake buys alpha through the pools.
    """

    pools: bool = False  # the dtao economy on (off: the world of the other eras)
    tao_weight: float = 0.18  # weight of root TAO in Yuma stake (governance, about 0.18)
    pool_tao: tuple[float, ...] = (10_000.0,)  # TAO reserve at genesis, per subnet or one
    price: tuple[float, ...] = (0.01,)  # TAO per alpha at genesis, per subnet or one
    age_blocks: int = YEAR_BLOCKS  # blocks since each genesis subnet's start
    flow_shares: bool = False  # split TAO emission by net TAO inflow (late 2025 - Jun 2026)
    flow_cutoff: float = 0.0  # lib.rs DefaultFlowCutoff
    flow_exponent: float = 1.0  # lib.rs DefaultFlowNormExponent
    injection_cap: Literal["root_proportion", "alpha_emission"] = "root_proportion"
    moving_alpha: float = MOVING_ALPHA  # lib.rs DefaultMovingAlpha
    ema_price_halving_blocks: int = EMA_PRICE_HALVING_BLOCKS
    pool_fee: float = FEE  # 33/65535 of the input
    root_sell_requires_price_sum: bool = True  # root alpha recycled when sum(prices) <= 1
    miners_sell: bool = True  # miners sell their incentive alpha each epoch (else stake it)

    def __post_init__(self) -> None:
        from world.params import check_choice, check_int, check_range  # params imports us

        check_range("dtao.tao_weight", self.tao_weight, 0, 1)
        for name in ("pool_tao", "price"):
            values = getattr(self, name)
            if not values:
                raise ValueError(f"dtao.{name} must list one value or one per subnet")
            for i, v in enumerate(values):
                check_range(f"dtao.{name}[{i}]", v, 0, low_open=True)
        check_int("dtao.age_blocks", self.age_blocks, 0)
        check_range("dtao.flow_cutoff", self.flow_cutoff)
        check_range("dtao.flow_exponent", self.flow_exponent, 0, low_open=True)
        check_choice("dtao.injection_cap", self.injection_cap,
                     ("root_proportion", "alpha_emission"))
        check_range("dtao.moving_alpha", self.moving_alpha, 0, 1)
        check_int("dtao.ema_price_halving_blocks", self.ema_price_halving_blocks, 0)
        check_range("dtao.pool_fee", self.pool_fee, 0, 1, high_open=True)

    def per_subnet(self, name: str, k: int) -> tuple[float, ...]:
        """``pool_tao`` or ``price`` for ``k`` subnets (one value repeated, or one each)."""
        values = getattr(self, name)
        if len(values) == 1:
            return tuple(values) * k
        if len(values) != k:
            raise ValueError(
                f"dtao.{name} must list one value or one per subnet ({k}), got {len(values)}"
            )
        return tuple(values)
