"""The root network in a running Network: its seats, its weights and the subnets' shares.

MODEL.md section 9 (``dec2023``), with ``economy.subnet_split = "root"``. Each epoch the
root validators (participants of role ``root``) with the most stake hold the
``root.max_validators`` seats (subtensor@2023-12-20 root.rs ``do_root_register``: a
newcomer replaces the member with the lowest stake only if its own is higher, which
repeated keeps the top holders; ``world.root.root_register_slot``); each seated
validator's strategy sets a row of weights over the subnets (``root_weights``, stored
max-upscaled as weights.rs ``do_set_weights`` does), and each subnet's share of the
epoch's emission is ``world.root.root_epoch`` over those rows and the seats' total hotkey
stake (own plus nominators', as root.rs ``get_total_stake_for_hotkey``). Where the chain's
``root_epoch`` returns an error (no seat, no stake, all shares 0), the chain keeps the
previous emission values: here, the previous shares, or the scenario's fixed shares
before the first root epoch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world.interfaces import RootContext
from world.root import RootEpoch, root_epoch

if TYPE_CHECKING:
    from world.model import Network


def context(model: Network) -> RootContext:
    """What root validators see: each subnet's stake behind its UIDs this epoch and what
    it was paid last epoch."""
    return RootContext(
        model, model.epoch, model.streams["decisions"],
        np.array([float(s.stake_tao.sum()) for s in model.subnets]),
        np.array([float(s.emission_tao.sum()) for s in model.subnets]),
    )


def seats(model: Network, accts: np.ndarray, stake: np.ndarray) -> np.ndarray:
    """The positions (into ``accts``) of the seated root validators: the
    ``root.max_validators`` with the most stake and any stake at all, ties to the lower
    account (the one that registered first)."""
    order = np.lexsort((accts, -stake))
    order = order[stake[order] > 0]
    return np.sort(order[: model.params.root.max_validators])


def epoch(model: Network) -> RootEpoch | None:
    """This epoch's root epoch (None where the chain's ``root_epoch`` errs: no seated
    root validator with stake, no subnet)."""
    groups = model.membership.root_groups()
    if not groups:
        return None
    ctx = context(model)
    accts = np.concatenate([g.accts for g in groups.values()]).astype(np.int64)
    rows = np.concatenate([_rows(cls, g, ctx) for cls, g in groups.items()])
    stake = model.ledger.hotkey_stake()[accts].astype(np.float64)
    seated = seats(model, accts, stake)
    if len(seated) == 0:
        return None
    root = model.params.root
    res = root_epoch(rows[seated], stake[seated], rho=root.rho, kappa=root.kappa)
    if res is None or res.shares.sum() <= 0:
        return None
    model.root_seats = accts[seated]
    return res


def _rows(cls: type, group: object, ctx: RootContext) -> np.ndarray:
    rows = np.asarray(cls.root_weights(group, ctx), dtype=np.float64)  # type: ignore[attr-defined]
    n = len(group)  # type: ignore[arg-type]
    if rows.shape != (n, ctx.n_subnets):
        raise ValueError(f"{cls.__name__}.root_weights returned shape {rows.shape}, expected "
                         f"{(n, ctx.n_subnets)}")
    if not np.isfinite(rows).all():
        raise ValueError(f"{cls.__name__}.root_weights returned a non-finite weight")
    return np.fmax(rows, 0.0)
