"""Yuma Consensus: one subnet epoch, as MODEL.md section 3 defines it.

This is the kernel that decides who gets paid. It mirrors subtensor's
``pallets/subtensor/src/epoch/run_epoch.rs`` (``epoch``, the sparse production path) and the
helpers in ``epoch/math.rs``, in float64 and without the chain's fixed-point rounding.

Two entry points share one implementation:

* :func:`epoch` runs one subnet (``weights`` is n x n, ``stake`` has length n, ...);
* :func:`epoch_batch` runs b subnets of the same size at once (a leading batch axis on every
  array argument and every result array), vectorised over the batch.

How it stays fast. Only validator rows carry weight (step 4 zeroes every other row), so the
kernel gathers the rows of the UIDs that hold a permit this epoch or get one for the next
(padded in a batch with rows of UIDs that hold neither, which behave exactly like the rest)
and works on that m x n block; the other bond rows enter only through their column sums (one
matrix-vector product). The consensus median sorts every column of the block at once
(``argsort`` along the last axis of a transposed copy) and finds where the cumulative stake
crosses 1 - kappa with two small matrix products instead of a cumulative sum. A batch is
processed in blocks of ``_CHUNK`` subnets, each block vectorised, so that its intermediates
stay in cache.

Backends. This numpy code is the reference. When numba is importable, :func:`epoch` and
:func:`epoch_batch` run the compiled kernel in :mod:`world.yuma_jit` instead (the same numbers
to 1e-12; about 2.3 times faster for one subnet, 1.6 times batched and 4 times
batched with ``out=bonds`` and ``permitted_bonds_only``), which hands inputs it
does not handle (negative or non-finite entries, overflowing or sub-1e-300 sums, uint64 block
numbers) back to this code.
``TAO_ARENA_YUMA=numpy`` or ``=numba`` in the environment (read at import), or setting
:data:`BACKEND`, forces one; ``numba`` raises ImportError when numba is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import model_validator

from world.parameters import ParameterError, param, parameters
from world.yuma_math import (
    BoolArray,
    FloatArray,
    _bonds_yuma2,
    _bonds_yuma3,
    _check_finite_nonnegative,
    _dividends_yuma3,
    _emission_shares,
    _masked_weights,
    _normalise,
    _Rows,
    _stake_weights,
    _top_k_nonzero,
    _weighted_median_cols,
)

__all__ = ["YumaParams", "YumaResult", "epoch", "epoch_batch"]


BACKENDS = ("auto", "numpy", "numba")
BACKEND = os.environ.get("TAO_ARENA_YUMA", "auto")  # auto: numba when importable
_CHUNK = 8  # subnets per vectorised block in epoch_batch (keeps the blocks in cache)


# ---------------------------------------------------------------------------------------------
# Parameters and result
# ---------------------------------------------------------------------------------------------


@parameters("yuma")
class YumaParams:
    """Hyperparameters of one subnet's Yuma Consensus (MODEL.md section 3).

    Defaults are the chain's (each declaration's ``source`` names the subtensor function).
    Fractions the chain stores as u16 parts of 65535 (``get_float_kappa`` and friends) are
    declared in [0, 1].
    """

    version: Literal["yuma2", "yuma3"] = param(
        "yuma3", doc="Yuma Consensus version", source="subtensor run_epoch.rs (Yuma 3 since 2025)")
    kappa: float = param(32767 / 65535, 0, 1, "stake share that sets the consensus weight",
                         source="subtensor get_float_kappa (32767/65535)")
    bonds_penalty: float = param(1.0, 0, 1, "how much weight above consensus is cut from bonds",
                                 source="subtensor get_float_bonds_penalty")
    bonds_ema_rate: float = param(
        0.1, 0, 1, "weight of the new bond in the bonds' moving average",
        source="subtensor compute_disabled_liquid_alpha: 1 - 900_000 / 1e6")
    liquid_alpha: bool = param(False, doc="bond rate per miner from consensus (Yuma 3 only)",
                               source="subtensor compute_liquid_alpha_values")
    alpha_low: float = param(0.7, 0, 1, "lowest liquid alpha", low_open=True,
                             source="subtensor DefaultAlphaValues (low)")
    alpha_high: float = param(0.9, 0, 1, "highest liquid alpha", low_open=True,
                              source="subtensor DefaultAlphaValues (high)")
    alpha_steepness: float = param(10.0, 0, None, "steepness of the liquid alpha sigmoid",
                                   source="subtensor alpha_sigmoid (stored x 100)")
    max_validators: int = param(64, 1, None, "validator permits",
                                source="subtensor get_max_allowed_validators")
    stake_threshold: float = param(0.0, 0, None, "stake below which no permit is given, TAO",
                                   source="subtensor get_stake_threshold (0)")

    @model_validator(mode="after")
    def _consistent(self) -> YumaParams:
        """Checks across fields; ParameterError names the field it blames."""
        if self.liquid_alpha and self.version != "yuma3":
            raise ParameterError(
                "liquid_alpha",
                "yuma.liquid_alpha must be false with version 'yuma2' (run_epoch.rs applies "
                "liquid alpha only in Yuma 3), got liquid_alpha=True with version "
                f"{self.version!r}")
        if self.alpha_low > self.alpha_high:
            raise ParameterError(
                "alpha_low", f"yuma.alpha_low must be <= alpha_high, got alpha_low="
                f"{self.alpha_low!r} > alpha_high={self.alpha_high!r}")
        return self


@dataclass
class YumaResult:
    """Outputs of one epoch (MODEL.md section 3); every field is a float64/bool numpy array.

    For :func:`epoch_batch` every array carries the leading batch axis.

    * ``consensus`` C (step 5), ``incentive`` I (step 7), ``dividends`` D (step 9),
      ``validator_trust`` VT (step 7), ``rank`` R before normalisation (step 7);
    * ``bonds``: the bond matrix to pass to the next epoch (step 9; rows of UIDs without a
      new permit are cleared, as run_epoch.rs does when it stores ``Bonds``);
    * ``new_permits``: validator permits for the next epoch (step 2);
    * ``miner_emission_share`` / ``validator_emission_share``: each UID's share of the epoch's
      emission E (step 10); together they sum to 1 whenever any stake exists;
    * ``stake`` S (step 1) and ``active_stake`` A (step 3).
    """

    consensus: FloatArray
    incentive: FloatArray
    dividends: FloatArray
    bonds: FloatArray
    validator_trust: FloatArray
    new_permits: BoolArray
    miner_emission_share: FloatArray
    validator_emission_share: FloatArray
    rank: FloatArray
    stake: FloatArray
    active_stake: FloatArray

    def __getitem__(self, index: Any) -> YumaResult:
        """Index every array along the leading axis (one subnet of an :func:`epoch_batch`)."""
        return YumaResult(*(getattr(self, name)[index] for name in _RESULT_FIELDS))


_RESULT_FIELDS = tuple(f.name for f in fields(YumaResult))


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


_compiled_module: ModuleType | None = None
_numba_missing = False  # auto: an import failed once, do not retry on every call


def _compiled() -> ModuleType | None:
    """:mod:`world.yuma_jit` when :data:`BACKEND` allows it and numba imports, else None.

    The compiled MODEL.md section 3 kernel; imported on first use (importing numba takes a
    few hundred milliseconds).
    """
    global _compiled_module, _numba_missing
    if BACKEND not in BACKENDS:
        raise ValueError(f"TAO_ARENA_YUMA must be one of {', '.join(BACKENDS)}, got {BACKEND!r}")
    if BACKEND == "numpy" or (_numba_missing and BACKEND == "auto"):
        return None
    if _compiled_module is None:
        try:
            from world import yuma_jit
        except ImportError:
            if BACKEND == "numba":
                raise
            _numba_missing = True
            return None
        _compiled_module = yuma_jit
    return _compiled_module


def _check_params(params: object) -> None:
    """Raise TypeError unless ``params`` is a :class:`YumaParams` (MODEL.md section 3)."""
    if not isinstance(params, YumaParams):
        raise TypeError(f"params must be YumaParams, got {type(params).__name__}")


def _as_float(name: str, x: ArrayLike, shape: tuple[int, ...]) -> FloatArray:
    """``x`` as a float64 array of the given shape, no copy when it already is one.

    MODEL.md section 3's W, s and B0 (float64 throughout, no fixed point).
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def _as_mask(name: str, x: ArrayLike | None, shape: tuple[int, ...]) -> BoolArray | None:
    """``x`` as a bool array of the given shape, or None (MODEL.md section 3's masks: permits,
    activity, new registrations)."""
    if x is None:
        return None
    arr = np.asarray(x, dtype=bool)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def _as_blocks(name: str, x: ArrayLike | None, shape: tuple[int, ...]) -> NDArray[Any] | None:
    """``x`` as an integer array of block numbers of the given shape, or None.

    ``last_update`` and ``block_at_registration`` of ``epoch`` in run_epoch.rs (step 4).
    """
    if x is None:
        return None
    arr = np.asarray(x)
    if arr.shape != shape or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be an integer array of shape {shape}, got {arr.dtype} {arr.shape}"
        )
    return arr


def _as_owner(x: ArrayLike | None, shape: tuple[int, ...], n: int) -> NDArray[Any] | None:
    """``owner_uid`` (one UID per subnet, -1: none) as int64, or None when no subnet has
    one (MODEL.md section 9: the owner's UID keeps a permit and its self-weight)."""
    if x is None:
        return None
    arr = np.asarray(x)
    if arr.shape != shape or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"owner_uid must be an integer array of shape {shape}, got {arr.dtype} {arr.shape}")
    if ((arr < -1) | (arr >= n)).any():
        raise ValueError(f"owner_uid must be -1 (no owner UID) or a UID in [0, {n - 1}]")
    return arr.astype(np.int64) if (arr >= 0).any() else None


def _as_out(out: Any, bonds: FloatArray) -> FloatArray | None:
    """Check the ``out`` argument of :func:`epoch` / :func:`epoch_batch`: None, or a writeable
    C-contiguous float64 array of the bonds' shape that either is the bonds array itself
    (updated in place) or shares no memory with it (MODEL.md section 3's B, stored)."""
    if out is None:
        return None
    if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != bonds.shape:
        raise ValueError(
            f"out must be a float64 numpy array of shape {bonds.shape}, got "
            f"{getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}".rstrip()
        )
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be C-contiguous and writeable")
    same = (out.__array_interface__["data"][0] == bonds.__array_interface__["data"][0]
            and out.strides == bonds.strides)
    if not same and np.shares_memory(out, bonds):
        raise ValueError("out must be the bonds array itself or share no memory with it")
    return out


def _stored(result: YumaResult, out: FloatArray | None) -> YumaResult:
    """``result`` with its bonds copied into ``out`` (the numpy path of ``out=``)."""
    if out is None:
        return result
    np.copyto(out, result.bonds)
    result.bonds = out
    return result


@dataclass(frozen=True)
class _Inputs:
    """The arguments of one epoch, checked, with a leading batch axis (b subnets of n UIDs)."""

    weights: FloatArray
    stake: FloatArray
    bonds: FloatArray
    permits: BoolArray | None
    active: BoolArray | None
    registered: BoolArray | None
    outdated_blocks: tuple[NDArray[Any], NDArray[Any]] | None
    owner: NDArray[Any] | None = None  # the owner's UID per subnet (-1: none)

    def owner_mask(self) -> BoolArray | None:
        """b x n: True at each subnet's owner UID (None: no owner UIDs)."""
        if self.owner is None:
            return None
        b, n = self.stake.shape
        return (np.arange(n)[None, :] == self.owner[:, None]) & (self.owner[:, None] >= 0)

    @classmethod
    def of(
        cls,
        weights: ArrayLike,
        stake: FloatArray,
        bonds: ArrayLike,
        permits: ArrayLike | None,
        active: ArrayLike | None,
        new_registrations: ArrayLike | None,
        last_update: ArrayLike | None,
        block_at_registration: ArrayLike | None,
        owner_uid: ArrayLike | None = None,
    ) -> _Inputs:
        """Convert and check shapes (and the stake's values; the rest are checked on use).

        The inputs of MODEL.md section 3 / ``epoch`` in run_epoch.rs.
        """
        b, n = stake.shape
        if n < 1:
            raise ValueError("a subnet needs at least one UID")
        _check_finite_nonnegative("stake", stake)
        lu = _as_blocks("last_update", last_update, (b, n))
        bar = _as_blocks("block_at_registration", block_at_registration, (b, n))
        return cls(
            weights=_as_float("weights", weights, (b, n, n)),
            stake=stake,
            bonds=_as_float("bonds", bonds, (b, n, n)),
            permits=_as_mask("permits", permits, (b, n)),
            active=_as_mask("active", active, (b, n)),
            registered=_as_mask("new_registrations", new_registrations, (b, n)),
            outdated_blocks=None if lu is None or bar is None else (lu, bar),
            owner=_as_owner(owner_uid, (b,), n),
        )

    def chunk(self, start: int, stop: int) -> _Inputs:
        """Subnets ``start:stop`` of the batch (views, no copies), for :func:`epoch_batch`'s
        blocks; every subnet's MODEL.md section 3 epoch is independent of the others."""
        part = slice(start, stop)
        blocks = self.outdated_blocks
        return _Inputs(
            weights=self.weights[part],
            stake=self.stake[part],
            bonds=self.bonds[part],
            permits=None if self.permits is None else self.permits[part],
            active=None if self.active is None else self.active[part],
            registered=None if self.registered is None else self.registered[part],
            outdated_blocks=None if blocks is None else (blocks[0][part], blocks[1][part]),
            owner=None if self.owner is None else self.owner[part],
        )


# ---------------------------------------------------------------------------------------------
# The kernel, stage by stage
# ---------------------------------------------------------------------------------------------


def _stake_stage(
    inputs: _Inputs, params: YumaParams
) -> tuple[FloatArray, BoolArray, BoolArray, FloatArray]:
    """Steps 1-3: stake S, this epoch's permits P, new permits, active stake A.

    The subnet owner's UID is exempt from the stake threshold and always holds a permit,
    this epoch's and the next (subtensor@2026-06-30 epoch/run_epoch.rs ``epoch_mechanism``).
    """
    owner = inputs.owner_mask()
    stake = _stake_weights(inputs.stake, params.stake_threshold, owner)
    permit = stake > 0 if inputs.permits is None else inputs.permits
    new_permits = _top_k_nonzero(stake, params.max_validators)
    if owner is not None:
        permit, new_permits = permit | owner, new_permits | owner
    voting = permit if inputs.active is None else permit & inputs.active
    return stake, permit, new_permits, _normalise(stake * voting)


def _weights_stage(inputs: _Inputs, rows: _Rows, permit: BoolArray) -> FloatArray:
    """Step 4 on the working rows: gathered, masked and row-normalised weights."""
    outdated = None
    if inputs.outdated_blocks is not None:
        last_update, registered_at = inputs.outdated_blocks
        outdated = rows.gather(last_update)[..., None] <= registered_at[:, None, :]
    return _masked_weights(rows.gather(inputs.weights), rows, rows.gather(permit), outdated,
                           inputs.owner)


def _previous_bonds(inputs: _Inputs, rows: _Rows) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Step 9's B0: the working rows' previous bonds and the other rows' column sums.

    Columns of miners registered since the last epoch are zeroed
    (``scalar_vec_mask_sparse_matrix``). Returns the working rows, the column sums of the
    other rows (one matrix-vector product) and the 0/1 indicator of those other rows.
    """
    b, n = inputs.stake.shape
    b0_rows = rows.gather(inputs.bonds)
    if not b0_rows.min(initial=0.0) >= 0.0:
        raise ValueError("bonds must be finite and non-negative")
    outside = np.ones(b * n)
    outside[rows.flat] = 0.0
    outside = outside.reshape(b, n)
    rest = np.zeros((b, n))
    if rows.uid.shape[1] < n:
        rest = np.matmul(outside[:, None, :], inputs.bonds)[:, 0, :]
    if inputs.registered is not None and inputs.registered.any():
        b0_rows *= ~inputs.registered[:, None, :]
        rest *= ~inputs.registered
    return b0_rows, rest, outside


def _stale_dividends_yuma2(
    inputs: _Inputs, outside: FloatArray, colsum0: FloatArray, colsum: FloatArray,
    incentive: FloatArray, rate: float,
) -> FloatArray:
    """Step 9, yuma2: dividends of bond rows outside the working set (``matmul_transpose``).

    Only when the caller passes bonds for UIDs that hold no permit: they keep
    (1 - a) colnorm(B0) / colsum and earn on it. Where colsum0 > 0 the EMA column sum is at
    least about 1 - a, so nothing overflows.
    """
    kept = inputs.bonds
    if inputs.registered is not None:
        kept = kept * ~inputs.registered[:, None, :]
    stale = np.divide(kept, colsum0[:, None, :], out=np.zeros_like(kept),
                      where=colsum0[:, None, :] > 0)
    per_bond = np.divide((1.0 - rate) * incentive, colsum, out=np.zeros_like(colsum),
                         where=(colsum0 > 0) & (colsum > 0))
    return np.matmul(stale, per_bond[..., None])[..., 0] * outside


def _run(inputs: _Inputs, params: YumaParams, bonds_out: FloatArray | None = None) -> YumaResult:
    """One epoch of b subnets at once: MODEL.md section 3 steps 1-10.

    In the order of ``epoch`` in run_epoch.rs, on the working rows (:class:`_Rows`). The new
    bonds are written into ``bonds_out`` (b x n x n zeros) when it is given.
    """
    b, n = inputs.stake.shape
    stake, permit, new_permits, active_stake = _stake_stage(inputs, params)
    rows = _Rows.of(permit | new_permits)
    a_rows = rows.gather(active_stake)

    # Steps 4-8: masked weights, consensus, clipping, trust, rank, incentive, Wb.
    w_rows = _weights_stage(inputs, rows, permit)
    consensus = _weighted_median_cols(w_rows, a_rows, params.kappa)
    clipped = np.minimum(w_rows, consensus[:, None, :])
    trust = rows.scatter(clipped.sum(axis=-1), n)
    rank = np.matmul(a_rows[:, None, :], clipped)[:, 0, :]
    incentive = _normalise(rank)
    beta = params.bonds_penalty
    if beta == 1.0:
        wb = clipped
    elif beta == 0.0:
        wb = w_rows
    else:
        wb = w_rows + beta * (clipped - w_rows)  # ``interpolate_sparse``

    # Step 9: bonds and dividends (wb and b0_rows are overwritten).
    b0_rows, rest, outside = _previous_bonds(inputs, rows)
    if params.version == "yuma3":
        bond_rows, colsum = _bonds_yuma3(wb, b0_rows, rest, consensus, params)
        if not np.isfinite(colsum).all():
            raise ValueError("bonds must be finite and non-negative")
        dividends = rows.scatter(_dividends_yuma3(bond_rows, colsum, incentive, a_rows), n)
    else:
        rate = params.bonds_ema_rate
        bond_rows, colsum0, colsum = _bonds_yuma2(wb, b0_rows, rest, a_rows, rate)
        if not np.isfinite(colsum0).all():
            raise ValueError("bonds must be finite and non-negative")
        dividends = np.zeros((b, n))
        if rest.any():
            dividends = _stale_dividends_yuma2(inputs, outside, colsum0, colsum, incentive, rate)
        dividends.ravel()[rows.flat] = np.matmul(bond_rows, incentive[..., None]).ravel()
    dividends = _normalise(dividends)
    keep_rows = rows.gather(new_permits)  # stored bonds: rows without a new permit cleared
    if not keep_rows.all():
        bond_rows *= keep_rows[..., None]

    # Step 10: emission split.
    miners, validators = _emission_shares(incentive, dividends, active_stake, stake)
    return YumaResult(
        consensus=consensus,
        incentive=incentive,
        dividends=dividends,
        bonds=rows.scatter(bond_rows, n, out=bonds_out),
        validator_trust=trust,
        new_permits=new_permits,
        miner_emission_share=miners,
        validator_emission_share=validators,
        rank=rank,
        stake=stake,
        active_stake=active_stake,
    )


def epoch(
    weights: ArrayLike,
    stake: ArrayLike,
    bonds: ArrayLike,
    params: YumaParams,
    *,
    permits: ArrayLike | None = None,
    active: ArrayLike | None = None,
    new_registrations: ArrayLike | None = None,
    last_update: ArrayLike | None = None,
    block_at_registration: ArrayLike | None = None,
    out: FloatArray | None = None,
    permitted_bonds_only: bool = False,
    owner_uid: ArrayLike | None = None,
) -> YumaResult:
    """Run one Yuma Consensus epoch of one subnet (MODEL.md section 3, steps 1-10).

    Mirrors ``epoch`` in subtensor's run_epoch.rs, in float64.

    Args:
        weights: n x n, row i = the weights UID i sets (any non-negative scale per row).
        stake: length n, the non-negative stake of every UID.
        bonds: n x n bonds from the previous epoch's result (zeros at the start).
        params: the subnet's :class:`YumaParams`.
        permits: last epoch's validator permits (None: every UID with non-zero stake).
        active: activity mask (None: all active).
        new_registrations: miner columns registered since the last epoch; their bonds reset.
        last_update, block_at_registration: integer block numbers; when both are given,
            W_ij is outdated (zeroed) when ``last_update[i] <= block_at_registration[j]``.
        out: an n x n float64 C-contiguous array to receive the new bonds (``result.bonds``
            is ``out``); it may be ``bonds`` itself, which is then updated in place.
        permitted_bonds_only: a promise that every bond row of a UID without a permit is
            zero, as the chain keeps them (``epoch`` stores bonds only for UIDs with a new
            permit, and ``permits`` is last epoch's new permits); those rows are then not
            read. If the promise is broken the result is unspecified.
        owner_uid: the subnet owner's UID (None or -1: none). It is exempt from the stake
            threshold, always holds a permit and keeps its self-weight (MODEL.md section 9;
            subtensor@2026-06-30 epoch/run_epoch.rs ``epoch_mechanism``).

    Returns:
        A :class:`YumaResult` of length-n vectors (``bonds`` n x n). Inputs other than
        ``out`` are not modified.
    """
    s = np.asarray(stake, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"stake must have shape (n,), got {s.shape}")

    def one(x: ArrayLike | None) -> NDArray[Any] | None:
        """A batch of one (MODEL.md section 3 for a single subnet)."""
        return None if x is None else np.asarray(x)[None]

    _check_params(params)
    inputs = _Inputs.of(
        one(weights), s[None], one(bonds), one(permits), one(active), one(new_registrations),
        one(last_update), one(block_at_registration),
        None if owner_uid is None else np.asarray([owner_uid]),
    )
    out = _as_out(out, inputs.bonds[0])
    compiled = _compiled()  # the numba kernel, unless it declines these inputs
    result = None if compiled is None else compiled.run(
        inputs, params, single=True, out=None if out is None else out[None],
        permitted_bonds=bool(permitted_bonds_only))
    if result is not None:
        if out is not None:
            result.bonds = out  # the caller's array, not a view of it
        return result
    return _stored(_run(inputs, params)[0], out)


def epoch_batch(
    weights: ArrayLike,
    stake: ArrayLike,
    bonds: ArrayLike,
    params: YumaParams,
    *,
    permits: ArrayLike | None = None,
    active: ArrayLike | None = None,
    new_registrations: ArrayLike | None = None,
    last_update: ArrayLike | None = None,
    block_at_registration: ArrayLike | None = None,
    out: FloatArray | None = None,
    permitted_bonds_only: bool = False,
    owner_uid: ArrayLike | None = None,
) -> YumaResult:
    """Run one epoch of b subnets of n UIDs each in one vectorised call.

    The arguments of :func:`epoch` with a leading batch axis (weights, bonds and ``out`` b x n x n,
    vectors b x n, ``owner_uid`` b) and one shared ``params``. The result's arrays carry the batch
    axis and equal a loop of :func:`epoch` over it (MODEL.md section 3). Blocks of ``_CHUNK``
    subnets are computed at once (cache blocking); the new bonds go straight into one
    b x n x n array (``out`` when given: updating ``bonds`` in place spares a model that
    keeps its subnets' bonds stacked the allocation and page faults of 512 KB per 256-UID
    subnet and epoch; with ``permitted_bonds_only`` the compiled kernel also skips the bond
    rows of UIDs without a permit, three quarters of a full subnet's).
    """
    s = np.asarray(stake, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"stake must have shape (b, n), got {s.shape}")
    _check_params(params)
    inputs = _Inputs.of(weights, s, bonds, permits, active, new_registrations, last_update,
                        block_at_registration, owner_uid)
    out = _as_out(out, inputs.bonds)
    compiled = _compiled()  # the numba kernel, unless it declines these inputs
    result = None if compiled is None else compiled.run(
        inputs, params, out=out, permitted_bonds=bool(permitted_bonds_only))
    if result is not None:
        return result
    b, n = s.shape
    if b <= _CHUNK:
        return _stored(_run(inputs, params), out)
    bonds_out = np.zeros((b, n, n))
    parts = [_run(inputs.chunk(i, i + _CHUNK), params, bonds_out[i : i + _CHUNK])
             for i in range(0, b, _CHUNK)]
    merged = {name: np.concatenate([getattr(p, name) for p in parts])
              for name in _RESULT_FIELDS if name != "bonds"}
    return _stored(YumaResult(bonds=bonds_out, **merged), out)
