"""The root network of December 2023: who sits on it and how it splits emission.

MODEL.md section 9 (``dec2023``): the network's emission was split across subnets by the
root network. The top 64 root validators by stake set weights over subnets; each subnet's
share is proportional to ``sigmoid(rho (trust_j - kappa)) * rank_j`` where ``rank_j`` is
their stake-weighted weight on subnet j and ``trust_j`` the stake fraction of those setting
a weight > 0 on it (rho = 10, kappa = 0.5).

Source: opentensor/subtensor at the commit of 2023-12-20 (ed39ff34, spec 141),
``pallets/subtensor/src/root.rs`` (``root_epoch``, ``get_root_weights``,
``do_root_register``) and ``weights.rs`` (``do_set_weights``: a row of weights is stored
max-upscaled, its largest entry 65535, ``vec_u16_max_upscale_to_u16``). The chain computes
in I64F64 fixed point and stores u16 weights; this module uses float64 and does not
reproduce that quantisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["RootEpoch", "root_epoch", "root_register_slot"]

FloatArray = NDArray[np.float64]

ROOT_RHO = 10.0  # runtime SubtensorInitialRho (root.rs root_epoch: get_rho(0))
ROOT_KAPPA = 32_767 / 65_535  # runtime SubtensorInitialKappa (get_float_kappa(0))
MAX_ROOT_VALIDATORS = 64  # root.rs get_max_root_validators (the senate size)


@dataclass(frozen=True)
class RootEpoch:
    """One root epoch over k subnets (root.rs ``root_epoch``, steps 9-12).

    ``shares`` sum to 1 unless every ``consensus * rank`` is 0 (then all are 0 and, as on
    chain, no subnet receives emission); ``emission = shares * block_emission``.
    """

    shares: FloatArray
    rank: FloatArray
    trust: FloatArray
    consensus: FloatArray


def root_epoch(
    weights: ArrayLike,
    stake: ArrayLike,
    *,
    rho: float = ROOT_RHO,
    kappa: float = ROOT_KAPPA,
    max_upscale: bool = True,
) -> RootEpoch | None:
    """Each subnet's share of the block emission, as ``root_epoch`` in root.rs computes it.

    Args:
        weights: n x k, row i = the weights root validator i set over the k subnets (any
            non-negative scale; with ``max_upscale`` each row is divided by its maximum, as
            ``do_set_weights`` stores it; the chain uses these stored values unnormalised).
        stake: length n, each root validator's total hotkey stake (own plus nominators').
        rho, kappa: the sigmoid's steepness and midpoint (the root subnet's Rho and Kappa).

    Returns ``None`` where the chain returns an error and keeps the previous emission
    values: no root validators, no subnets, or no stake. Otherwise, with S = stake / sum:
    ``rank_j = sum_i W_ij S_i`` (``matmul_64``), ``trust_j = sum_{i: W_ij > 0} S_i``,
    ``consensus_j = 1 / (1 + exp(-rho (trust_j - kappa)))`` and
    ``shares = normalise(consensus * rank)`` (``inplace_normalize_64``).
    """
    w = np.array(weights, dtype=np.float64, ndmin=2)
    s = np.asarray(stake, dtype=np.float64)
    n, k = w.shape
    if s.shape != (n,):
        raise ValueError(f"stake must have shape ({n},) to match weights {w.shape}, got {s.shape}")
    for name, x in (("weights", w), ("stake", s)):
        if x.size and not (np.isfinite(x).all() and x.min() >= 0.0):
            raise ValueError(f"{name} must be finite and non-negative")
    if n == 0 or k == 0 or s.sum() == 0.0:
        return None
    if max_upscale:
        top = w.max(axis=1, keepdims=True)
        np.divide(w, top, out=w, where=top > 0)
    s = s / s.sum()
    rank = s @ w
    trust = s @ (w > 0)
    consensus = 1.0 / (1.0 + np.exp(-rho * (trust - kappa)))
    weighted = consensus * rank
    total = weighted.sum()
    shares = weighted / total if total > 0 else np.zeros(k)
    return RootEpoch(shares=shares, rank=rank, trust=trust, consensus=consensus)


def root_register_slot(
    member_stake: ArrayLike, candidate_stake: float, max_validators: int = MAX_ROOT_VALIDATORS
) -> int | None:
    """Where a hotkey registering on root goes (root.rs ``do_root_register``, steps 8-13).

    Below ``max_validators`` members it is appended (returns ``len(member_stake)``);
    otherwise it replaces the member with the lowest stake (on ties the first one the
    chain's strict ``stake_i < lowest_stake`` scan meets; here the lowest index) if its
    own stake is strictly
    higher, else it is refused (``StakeTooLowForRoot``, returns ``None``). Repeated over
    every candidate this keeps the top ``max_validators`` hotkeys by stake on root.
    """
    m = np.asarray(member_stake, dtype=np.float64)
    if len(m) < max_validators:
        return len(m)
    lowest = int(np.argmin(m))
    return lowest if m[lowest] < candidate_stake else None
