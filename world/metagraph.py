"""Real metagraph snapshots: one subnet's UIDs, stakes and weights, read safely.

A snapshot is what Yuma Consensus needs of a subnet at one block (MODEL.md section 3:
weights W, stakes s, last epoch's permits P, the activity mask, stored bonds B0). Two
file forms, read by :func:`load_metagraph`:

* NumPy ``.npz`` (read with ``numpy.load(path, allow_pickle=False)``: an object array or
  a pickle is refused, never unpickled);
* JSON: an object with the same keys, arrays as (nested) lists.

Keys (n = the number of UIDs, the length of ``stake_tao``; UID i is index i):

=================== ============= ===========================================================
key                 shape, type   meaning
=================== ============= ===========================================================
``stake_tao``       (n,) float    each UID's hotkey stake in TAO; finite, >= 0 (required)
``weights``         (n, n) float  row i = the weights UID i set; finite, >= 0; any scale per
                                  row (Yuma normalises rows, MODEL.md section 3 step 4)
                                  (required)
``hotkeys``         (n,) str      the UIDs' hotkey addresses (optional)
``bonds``           (n, n) float  stored bonds B0; finite, >= 0 (optional: empty, zeros)
``validator_permit`` (n,) bool    last epoch's permits P (optional: from the stake, the top
                                  ``max_validators`` UIDs with non-zero stake, ties to the
                                  higher UID: MODEL.md section 3 step 2)
``last_update``     (n,) int      the block each UID last set weights; >= 0 (optional: with
                                  ``block``, UIDs whose ``last_update + activity_cutoff <
                                  block`` are inactive, as ``inactive`` in subtensor's
                                  ``epoch/run_epoch.rs``; without, everyone is active)
``netuid``          int           the subnet (optional)
``block``           int           the block of the snapshot (optional)
=================== ============= ===========================================================

Any other key, a wrong shape or type, a negative or non-finite number, or a file that
is neither an ``.npz`` archive nor a JSON object is refused with a ``ValueError`` naming
the key. Missing optional fields start as MODEL.md says: empty bonds, permits from the
stake, everyone active (``Metagraph.filled`` lists which were filled in).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REQUIRED = ("stake_tao", "weights")
OPTIONAL = ("hotkeys", "bonds", "validator_permit", "last_update", "netuid", "block")
MAX_UIDS = 4096  # the chain's subnets have 256 (MODEL.md section 3); a bound on memory
DEFAULT_MAX_VALIDATORS = 64  # MODEL.md section 3 (get_max_allowed_validators)
DEFAULT_ACTIVITY_CUTOFF = 5000  # blocks, MODEL.md section 3
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = (b"\x80",)


@dataclass(frozen=True)
class Metagraph:
    """One subnet's snapshot, validated, every field filled.

    Attributes:
        stake_tao: (n,) each UID's hotkey stake, TAO.
        weights: (n, n) row i = the weights UID i set.
        bonds: (n, n) stored bonds (zeros when the file had none).
        validator_permit: (n,) last epoch's permits (from the stake when the file had none).
        active: (n,) the activity mask (everyone when the file gave no ``last_update``).
        hotkeys: the UIDs' hotkeys, or None.
        last_update: (n,) blocks, or None.
        netuid, block: as in the file, or None.
        source: where it was read from.
        filled: the optional fields the file did not have and that were filled in.
    """

    stake_tao: NDArray[np.float64]
    weights: NDArray[np.float64]
    bonds: NDArray[np.float64]
    validator_permit: NDArray[np.bool_]
    active: NDArray[np.bool_]
    hotkeys: tuple[str, ...] | None = None
    last_update: NDArray[np.int64] | None = None
    netuid: int | None = None
    block: int | None = None
    source: str = ""
    filled: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """The number of UIDs."""
        return int(self.stake_tao.shape[0])

    @property
    def setting_weights(self) -> NDArray[np.bool_]:
        """(n,) the UIDs whose weight row is not all zero."""
        return np.asarray(self.weights.sum(axis=1) > 0)

    def describe(self) -> str:
        """One line: UIDs, stake, weight setters, permits, where from."""
        where = f"subnet {self.netuid} at block {self.block}" if self.netuid is not None \
            else self.source
        return (f"{where}: {self.n} UIDs, {int((self.stake_tao > 0).sum())} with stake "
                f"({self.stake_tao.sum():,.1f} TAO), {int(self.setting_weights.sum())} set "
                f"weights, {int(self.validator_permit.sum())} validator permits, "
                f"{int(self.active.sum())} active")


def permits_from_stake(stake: NDArray[np.float64], max_validators: int) -> NDArray[np.bool_]:
    """The top ``max_validators`` UIDs by stake among those with non-zero stake; ties
    favour the higher UID (MODEL.md section 3 step 2; ``is_topk_nonzero`` in subtensor's
    ``epoch/math.rs``: an ascending stable sort drops the lowest first)."""
    n = stake.shape[0]
    top = np.zeros(n, dtype=bool)
    order = np.argsort(stake, kind="stable")
    top[order[max(0, n - max_validators):]] = True
    return top & (stake > 0)


def _refuse(source: str, key: str, problem: str) -> ValueError:
    return ValueError(f"{source}: metagraph field {key!r} {problem}")


def _float_array(source: str, key: str, value: Any, shape: tuple[int, ...]) -> NDArray[Any]:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise _refuse(source, key, "is not a rectangular array of numbers") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise _refuse(source, key, f"must hold numbers, got {arr.dtype.kind!r} values")
    if arr.shape != shape:
        raise _refuse(source, key, f"must have shape {shape} (one entry per UID of "
                                   f"stake_tao), got {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise _refuse(source, key, "holds NaN or infinite values")
    if (arr < 0).any():
        raise _refuse(source, key, f"must be >= 0, got {arr.min()!r} at index "
                                   f"{np.unravel_index(int(arr.argmin()), arr.shape)}")
    return arr


def _int_scalar(source: str, key: str, value: Any) -> int:
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype.kind not in "iu" or int(arr) < 0:
        raise _refuse(source, key, f"must be a non-negative integer, got {value!r}")
    return int(arr)


def from_arrays(
    data: dict[str, Any], *, source: str = "<arrays>",
    max_validators: int = DEFAULT_MAX_VALIDATORS,
    activity_cutoff: int = DEFAULT_ACTIVITY_CUTOFF,
) -> Metagraph:
    """Validate a snapshot's fields (see the module docstring) and fill in the missing.

    Raises:
        ValueError: a field is missing, unknown, of the wrong shape or type, negative or
            not finite; the message names it.
    """
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise _refuse(source, unknown[0], f"is not a metagraph field; allowed: "
                                          f"{', '.join(REQUIRED + OPTIONAL)}")
    for key in REQUIRED:
        if key not in data:
            raise _refuse(source, key, "is missing (required: stake_tao and weights)")
    try:
        raw_stake = np.asarray(data["stake_tao"])
    except (ValueError, TypeError):
        raw_stake = np.asarray(None)
    if raw_stake.ndim != 1 or raw_stake.shape[0] < 1:
        raise _refuse(source, "stake_tao", f"must be a list of one stake per UID, got shape "
                                           f"{raw_stake.shape}")
    n = raw_stake.shape[0]
    if n > MAX_UIDS:
        raise _refuse(source, "stake_tao", f"has {n} UIDs, at most {MAX_UIDS} allowed")
    stake = _float_array(source, "stake_tao", data["stake_tao"], (n,))
    weights = _float_array(source, "weights", data["weights"], (n, n))
    filled = []
    if data.get("bonds") is None:
        bonds = np.zeros((n, n))
        filled.append("bonds")
    else:
        bonds = _float_array(source, "bonds", data["bonds"], (n, n))
    if data.get("validator_permit") is None:
        permits = permits_from_stake(stake, max_validators)
        filled.append("validator_permit")
    else:
        p = np.asarray(data["validator_permit"])
        if p.shape != (n,) or not (p.dtype == bool or (p.dtype.kind in "iu"
                                                        and np.isin(p, (0, 1)).all())):
            raise _refuse(source, "validator_permit", f"must be {n} booleans (one per UID), "
                                                      f"got shape {p.shape} of {p.dtype}")
        permits = p.astype(bool)
    netuid = None if data.get("netuid") is None else _int_scalar(source, "netuid",
                                                                 data["netuid"])
    block = None if data.get("block") is None else _int_scalar(source, "block", data["block"])
    last_update = None
    active = np.ones(n, dtype=bool)
    if data.get("last_update") is None:
        filled.append("last_update")
    else:
        lu = np.asarray(data["last_update"])
        if lu.shape != (n,) or lu.dtype.kind not in "iu" or (lu < 0).any():
            raise _refuse(source, "last_update", f"must be {n} non-negative integers (blocks, "
                                                 f"one per UID), got shape {lu.shape} of "
                                                 f"{lu.dtype}")
        last_update = lu.astype(np.int64)
        if block is not None:  # run_epoch.rs: inactive = last_update + cutoff < block
            active = ~(last_update + activity_cutoff < block)
    hotkeys = None
    if data.get("hotkeys") is None:
        filled.append("hotkeys")
    else:
        hk = np.asarray(data["hotkeys"])
        if hk.shape != (n,) or hk.dtype.kind != "U":
            raise _refuse(source, "hotkeys", f"must be {n} strings (one per UID), got shape "
                                             f"{hk.shape} of {hk.dtype}")
        hotkeys = tuple(str(h) for h in hk)
    for arr in (stake, weights, bonds, permits, active):
        arr.setflags(write=False)
    return Metagraph(stake, weights, bonds, permits, active, hotkeys, last_update, netuid,
                     block, source, tuple(filled))


def _read_npz(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as err:  # numpy: "Cannot load file containing pickled data ..."
        raise ValueError(f"{source}: not a metagraph (.npz archive or JSON): {err}") from None
    except (OSError, zipfile.BadZipFile) as err:
        raise ValueError(f"{source}: not a readable .npz archive ({err})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{source}: a single .npy array, not a metagraph .npz archive with "
                         f"stake_tao and weights")
    out: dict[str, Any] = {}
    with archive:
        for key in archive.files:
            try:
                out[key] = archive[key]
            except ValueError:  # an object array: it would need unpickling
                raise _refuse(source, key, "holds Python objects (a pickle); refused: nothing "
                                           "from a file is ever unpickled") from None
            except (OSError, zipfile.BadZipFile, EOFError) as err:
                raise _refuse(source, key, f"is unreadable ({err})") from None
    return out


def load_metagraph(
    path: str | Path, *, max_validators: int = DEFAULT_MAX_VALIDATORS,
    activity_cutoff: int = DEFAULT_ACTIVITY_CUTOFF,
) -> Metagraph:
    """Read and validate a snapshot (``.npz`` or JSON, told apart by content).

    Args:
        path: the file.
        max_validators: permits to derive from the stake when the file has none.
        activity_cutoff: blocks after which a UID that has not set weights is inactive
            (used when the file has ``last_update`` and ``block``).

    Raises:
        ValueError: the file is missing, neither an ``.npz`` archive nor a JSON object
            (a pickle is refused, never read), or a field is malformed (named).
    """
    path = Path(path)
    source = str(path)
    try:
        head = path.open("rb").read(4)
    except OSError as err:
        raise ValueError(f"{source}: cannot read the metagraph ({err.strerror})") from None
    if head.startswith(_PICKLE_MAGIC):
        raise ValueError(f"{source}: a Python pickle; refused (nothing from a file is ever "
                         f"unpickled): convert it to .npz or JSON")
    if head == _ZIP_MAGIC:
        data = _read_npz(path)
    else:
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ValueError(f"{source}: not a metagraph: neither an .npz archive nor a JSON "
                             f"object") from None
        if not isinstance(data, dict):
            raise ValueError(f"{source}: a JSON metagraph must be an object with stake_tao and "
                             f"weights, got {type(data).__name__}")
        for key in ("hotkeys",):
            if isinstance(data.get(key), list) and not all(isinstance(h, str)
                                                           for h in data[key]):
                raise _refuse(source, key, "must be a list of strings")
        for key in ("stake_tao", "weights", "bonds"):
            if isinstance(data.get(key), list) and _has_non_number(data[key]):
                raise _refuse(source, key, "must hold numbers only")
    return from_arrays(data, source=source, max_validators=max_validators,
                       activity_cutoff=activity_cutoff)


def _has_non_number(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_non_number(v) for v in value)
    return isinstance(value, bool) or not isinstance(value, int | float)


def to_json(mg: Metagraph) -> dict[str, Any]:
    """The JSON form of a snapshot (the fields the file had, and the filled-in ones)."""
    out: dict[str, Any] = {"stake_tao": mg.stake_tao.tolist(), "weights": mg.weights.tolist(),
                           "bonds": mg.bonds.tolist(),
                           "validator_permit": mg.validator_permit.tolist()}
    if mg.hotkeys is not None:
        out["hotkeys"] = list(mg.hotkeys)
    if mg.last_update is not None:
        out["last_update"] = mg.last_update.tolist()
    for key in ("netuid", "block"):
        if getattr(mg, key) is not None:
            out[key] = getattr(mg, key)
    return out
