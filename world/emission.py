"""Network emission: TAO per block with halvings by total issuance, and its split.

MODEL.md section 4: 1 TAO per block at launch, halved each time total issuance crosses
10.5M, 15.75M, 18.375M, ... (the k-th threshold is 21M * (1 - 2**-(k+1))); burned and
recycled TAO lowers issuance; a scenario may fix the rate instead. The subnets share the
network's emission in fixed shares or in proportion to their stake; inside a subnet
18% goes to the owner, 41% to miners and 41% to validators.
"""

from __future__ import annotations

import numpy as np

SUPPLY_CAP = 21_000_000.0


def halvings(issuance: float) -> int:
    """How many halving thresholds ``issuance`` (TAO) has crossed."""
    k = 0
    while issuance >= SUPPLY_CAP * (1.0 - 0.5 ** (k + 1)) and k < 64:
        k += 1
    return k


def block_emission(issuance: float, base: float = 1.0) -> float:
    """TAO emitted per block at a given total issuance (MODEL.md section 4)."""
    return base * 0.5 ** halvings(issuance)


# the halving thresholds as ``halvings`` computes them, one per halving it counts
_THRESHOLDS = np.array([SUPPLY_CAP * (1.0 - 0.5 ** (k + 1)) for k in range(64)])


def block_emissions(issuance: np.ndarray, base: float = 1.0) -> np.ndarray:
    """:func:`block_emission` of each issuance: the thresholds never decrease, so the
    ones ``halvings`` counts are those at or below the issuance (a NaN crosses none),
    and a power of two is exact either way (speed only: the same values)."""
    x = np.asarray(issuance, dtype=np.float64)
    k = np.searchsorted(_THRESHOLDS, x, side="right")
    k[np.isnan(x)] = 0
    return base * 0.5 ** k


def epoch_emission(issuance: float, blocks: int, base: float = 1.0) -> float:
    """TAO emitted over ``blocks`` blocks starting at ``issuance``, halving mid-epoch exactly.

    Walks the epoch in segments: at the current rate until the next threshold is
    crossed (the block that crosses it still pays the old rate, as issuance is checked
    block by block on chain), then at the halved rate.
    """
    total, left, level = 0.0, blocks, issuance
    while left > 0:
        rate = block_emission(level, base)
        if rate == 0.0:
            break
        threshold = SUPPLY_CAP * (1.0 - 0.5 ** (halvings(level) + 1))
        to_cross = max(1, int(np.ceil((threshold - level) / rate)))
        step = min(left, to_cross)
        total += step * rate
        level += step * rate
        left -= step
    return total


def subnet_shares(
    mode: str, fixed: list[float | None], subnet_stake: np.ndarray
) -> np.ndarray:
    """Each subnet's share of the network emission (sums to 1).

    ``fixed``: the scenario's shares, normalised (equal shares when none are given);
    ``stake``: in proportion to the stake in each subnet (equal when there is none).
    """
    k = len(fixed)
    if mode == "fixed":
        if all(s is None for s in fixed):
            return np.full(k, 1.0 / k)
        raw = np.array(fixed, dtype=np.float64)
    else:
        raw = np.asarray(subnet_stake, dtype=np.float64)
    total = raw.sum()
    return raw / total if total > 0 else np.full(k, 1.0 / k)
