"""Subnet pools of dynamic TAO: TAO/alpha reserves priced by constant product.

MODEL.md section 9 ("Today"): since 2025 every subnet has its own token, alpha, and a pool
of TAO and alpha reserves; staking to a validator is a swap of TAO into the subnet's alpha
and unstaking swaps back. The pool is a weighted (Balancer) pool, 50/50 by default, which
is constant product.

Source: opentensor/subtensor at the commit of 2026-06-30 (14bc6f9f), the swap pallet:
``pallets/swap/src/pallet/swap_step.rs`` (``BasicSwapStep::new``, which takes the fee off
the input with ``calculate_fee_amount``; ``convert_deltas``, which pays
``reserve_out * (1 - e)`` with ``e = (reserve_in / (reserve_in + delta_in)) ^ (w_in/w_out)``
from ``balancer.rs`` ``exp_quote_base`` / ``exp_base_quote``, i.e. ``reserve_in /
(reserve_in + delta_in)`` at 50/50), ``impls.rs`` (``current_price``: TAO reserve over
alpha reserve at 50/50; ``calculate_fee_amount``: ``floor(amount * FeeRate / 65535)``, fee
rate 33 by default), and ``pallets/subtensor/src/coinbase/run_coinbase.rs``
(``get_subnet_terms``: emission injects ``tao`` and ``tao / price`` alpha).

Two classes, one rule:

* :class:`Pool`, the public contract of issue 16 that outside checks call: reserves and
  amounts in float64 TAO and alpha.
* :class:`ExactPool`, the ledger's side: reserves in integer RAO and integer alpha units
  (10^9 per alpha, as the chain's ``AlphaBalance``), every result floored, so a trade
  moves exact integers between a trader and the pool and the pool never creates or loses
  either token (the chain's ``saturating_to_num::<u64>`` floors the same way).
  The fee's floor leaves the trader a fraction of a unit, so an exact result may differ
  from the float formula by up to the price of one unit.

Where this model differs from the chain, on purpose (issue 16's contract): the fee stays
in the pool (the full input is added to the input reserve), while on today's chain the fee
is paid to the block author (``swap_step.rs`` ``process_swap``: ``fee_to_block_author``;
``stake_utils.rs`` ``stake_into_subnet`` transfers it out of the subnet account). And an
input may not exceed the reserve of its own token (the chain accepts up to 1,000 times the
reserve, ``MAX_SWAP_INPUT_RESERVE_MULTIPLIER``): a larger order must be split by the caller.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

__all__ = ["ALPHA_UNITS", "FEE", "FEE_FRACTION", "ExactPool", "Pool"]

FEE_FRACTION = Fraction(33, 65535)  # subtensor swap pallet: default FeeRate 33 of u16::MAX
FEE = float(FEE_FRACTION)
ALPHA_UNITS = 1_000_000_000  # alpha units per alpha (AlphaBalance is u64, 9 decimals like RAO)


def _amount(name: str, value: object, limit: float | None = None, what: str = "") -> float:
    """``value`` as a float if it is a finite, non-negative real (at most ``limit``).

    Issue 16: amounts must be finite and non-negative and not exceed what the pool holds;
    otherwise a ``ValueError`` naming the argument.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (ok and math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if limit is not None and x > limit:
        raise ValueError(f"{name} must not exceed the pool's {what} {limit!r}, got {value!r}")
    return x


def _units(name: str, value: object, limit: int | None = None, what: str = "") -> int:
    """``value`` if it is a non-negative integer (at most ``limit``): RAO or alpha units."""
    if type(value) is int and value >= 0 and (limit is None or value <= limit):
        return value  # speed only: a plain int in range, the common case
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if limit is not None and value > limit:
        raise ValueError(f"{name} must not exceed the pool's {what} {limit}, got {value}")
    return int(value)


def _fee(value: object) -> float:
    """A fee rate in [0, 1) (the chain's ``FeeRate`` is a u16 fraction of 65535)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (ok and 0.0 <= x < 1.0):
        raise ValueError(f"fee must be a number in [0, 1), got {value!r}")
    return x


class Pool:
    """A subnet's TAO/alpha pool in float64: constant product with a fee on the input.

    Attributes:
        tao_reserve: TAO in the pool (``SubnetTAO`` on chain).
        alpha_reserve: alpha in the pool (``SubnetAlphaIn`` on chain).
        fee: fraction of every input kept by the pool (default 33/65535).

    Swaps follow ``convert_deltas`` in swap_step.rs at 50/50 weights: with TAO reserve y
    and alpha reserve x, ``tao_in`` pays ``x (1 - y / (y + tao_in (1 - fee)))`` alpha and
    ``alpha_in`` pays ``y (1 - x / (x + alpha_in (1 - fee)))`` TAO. The formula is
    evaluated as ``x d / (y + d)`` with ``d = tao_in (1 - fee)``, equal in exact arithmetic
    and accurate for trades far smaller than the reserve (where ``1 - y / (y + d)`` loses
    digits). The full input joins the input reserve (issue 16), so the product of the
    reserves never falls.
    """

    __slots__ = ("alpha_reserve", "fee", "tao_reserve")

    def __init__(self, tao_reserve: float, alpha_reserve: float, fee: float = FEE) -> None:
        self.tao_reserve = _amount("tao_reserve", tao_reserve)
        self.alpha_reserve = _amount("alpha_reserve", alpha_reserve)
        if self.tao_reserve <= 0.0 or self.alpha_reserve <= 0.0:
            raise ValueError(
                f"tao_reserve and alpha_reserve must be > 0 to price a pool, got "
                f"{tao_reserve!r} and {alpha_reserve!r}"
            )
        self.fee = _fee(fee)

    def __repr__(self) -> str:
        return (f"Pool(tao_reserve={self.tao_reserve!r}, alpha_reserve={self.alpha_reserve!r}, "
                f"fee={self.fee!r})")

    @property
    def price(self) -> float:
        """TAO per alpha, ``tao_reserve / alpha_reserve`` (impls.rs ``current_price``)."""
        return self.tao_reserve / self.alpha_reserve

    def quote_buy(self, tao_in: float, *, drop_fee: bool = False) -> float:
        """Alpha that ``buy_alpha(tao_in)`` would pay, without trading."""
        t = _amount("tao_in", tao_in, self.tao_reserve, "TAO reserve")
        d = t if drop_fee else t * (1.0 - self.fee)
        return self.alpha_reserve * d / (self.tao_reserve + d) if d > 0.0 else 0.0

    def quote_sell(self, alpha_in: float, *, drop_fee: bool = False) -> float:
        """TAO that ``sell_alpha(alpha_in)`` would pay, without trading."""
        a = _amount("alpha_in", alpha_in, self.alpha_reserve, "alpha reserve")
        d = a if drop_fee else a * (1.0 - self.fee)
        return self.tao_reserve * d / (self.alpha_reserve + d) if d > 0.0 else 0.0

    def buy_alpha(self, tao_in: float, *, drop_fee: bool = False) -> float:
        """Swap ``tao_in`` TAO for alpha; returns the alpha paid out (stake_utils.rs
        ``swap_tao_for_alpha``). The TAO reserve grows by all of ``tao_in``.
        ``drop_fee``: no fee, as the chain's own buys (``drop_fees = true``)."""
        out = self.quote_buy(tao_in, drop_fee=drop_fee)
        self.tao_reserve += float(tao_in)
        self.alpha_reserve -= out
        return out

    def sell_alpha(self, alpha_in: float, *, drop_fee: bool = False) -> float:
        """Swap ``alpha_in`` alpha for TAO; returns the TAO paid out (stake_utils.rs
        ``swap_alpha_for_tao``). The alpha reserve grows by all of ``alpha_in``."""
        out = self.quote_sell(alpha_in, drop_fee=drop_fee)
        self.alpha_reserve += float(alpha_in)
        self.tao_reserve -= out
        return out

    def inject(self, tao: float) -> float:
        """Add ``tao`` TAO and ``tao / price`` newly issued alpha; returns that alpha.

        The price is unchanged (run_coinbase.rs ``get_subnet_terms``: ``alpha_in = tao_in /
        price``, then ``inject_and_maybe_swap`` adds both to the reserves). The cap on the
        injected alpha is the caller's (``world.rules_dtao.subnet_terms``).
        """
        t = _amount("tao", tao)
        alpha = t * self.alpha_reserve / self.tao_reserve
        self.tao_reserve += t
        self.alpha_reserve += alpha
        return alpha


class ExactPool:
    """A subnet's pool on the ledger: reserves in integer RAO and alpha units.

    The same rule as :class:`Pool` with the chain's integer rounding: the fee is
    ``floor(amount * 33 / 65535)`` (impls.rs ``calculate_fee_amount``), the output is
    floored (swap_step.rs ``convert_deltas``, ``saturating_to_num::<u64>``), and the
    injected alpha is ``floor(tao * alpha_reserve / tao_reserve)`` (run_coinbase.rs
    ``get_subnet_terms`` then ``tou64!``). Python integers make every step exact, so what
    the trader gives is what the pool gains and what the pool pays is what the trader gets:
    the pool never creates or loses either token, and never pays more than the constant
    product allows on the net input (the product of the reserves never falls).

    Attributes:
        tao_rao, alpha_units: the reserves.
        fee: the fee rate as an exact fraction.
        alpha_issued: alpha units this pool has issued by :meth:`inject` (its share of the
            subnet's alpha issuance, ``SubnetAlphaInEmission`` summed).
        tao_injected: RAO added by :meth:`inject` (emission, not a trade).
    """

    __slots__ = ("alpha_issued", "alpha_units", "fee", "tao_injected", "tao_rao")

    def __init__(self, tao_rao: int, alpha_units: int, fee: Fraction = FEE_FRACTION) -> None:
        self.tao_rao = _units("tao_rao", tao_rao)
        self.alpha_units = _units("alpha_units", alpha_units)
        if self.tao_rao == 0 or self.alpha_units == 0:
            raise ValueError(
                f"tao_rao and alpha_units must be > 0 to price a pool, got {tao_rao} and "
                f"{alpha_units}"
            )
        fee = Fraction(fee)
        if not 0 <= fee < 1:
            raise ValueError(f"fee must be a fraction in [0, 1), got {fee}")
        self.fee = fee
        self.alpha_issued = 0
        self.tao_injected = 0

    def __repr__(self) -> str:
        return f"ExactPool(tao_rao={self.tao_rao}, alpha_units={self.alpha_units}, fee={self.fee})"

    @property
    def price(self) -> float:
        """TAO per alpha (RAO per alpha unit), as the float :class:`Pool` reports it."""
        return self.tao_rao / self.alpha_units

    def as_pool(self) -> Pool:
        """This pool's reserves in TAO and alpha as a float :class:`Pool` (for reports)."""
        return Pool(self.tao_rao / 1e9, self.alpha_units / ALPHA_UNITS, float(self.fee))

    def _net(self, amount: int) -> int:
        """``amount`` less the floored fee (impls.rs ``calculate_fee_amount``)."""
        return amount - (amount * self.fee.numerator) // self.fee.denominator

    def quote_buy(self, tao_rao: int, *, drop_fee: bool = False) -> int:
        """Alpha units ``buy_alpha(tao_rao)`` would pay: ``floor(x d / (y + d))``."""
        t = _units("tao_rao", tao_rao, self.tao_rao, "TAO reserve")
        d = t if drop_fee else self._net(t)
        return (self.alpha_units * d) // (self.tao_rao + d)

    def quote_sell(self, alpha_units: int, *, drop_fee: bool = False) -> int:
        """RAO ``sell_alpha(alpha_units)`` would pay: ``floor(y d / (x + d))``."""
        a = _units("alpha_units", alpha_units, self.alpha_units, "alpha reserve")
        d = a if drop_fee else self._net(a)
        return (self.tao_rao * d) // (self.alpha_units + d)

    def buy_alpha(self, tao_rao: int, *, drop_fee: bool = False) -> int:
        """Swap ``tao_rao`` RAO into the pool; returns the alpha units paid out."""
        out = self.quote_buy(tao_rao, drop_fee=drop_fee)
        self.tao_rao += tao_rao
        self.alpha_units -= out
        return out

    def sell_alpha(self, alpha_units: int, *, drop_fee: bool = False) -> int:
        """Swap ``alpha_units`` into the pool; returns the RAO paid out."""
        out = self.quote_sell(alpha_units, drop_fee=drop_fee)
        self.alpha_units += alpha_units
        self.tao_rao -= out
        return out

    def inject(self, tao_rao: int) -> int:
        """Add emitted ``tao_rao`` and ``floor(tao_rao * x / y)`` newly issued alpha units;
        returns them (the price can only rise, by the floor's fraction of a unit)."""
        t = _units("tao_rao", tao_rao)
        alpha = (t * self.alpha_units) // self.tao_rao
        self.tao_rao += t
        self.alpha_units += alpha
        self.tao_injected += t
        self.alpha_issued += alpha
        return alpha
