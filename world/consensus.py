"""Consensus: Yuma Consensus of every subnet on the weights on chain (MODEL.md section 3).

Each epoch, once the subnets have set their weights, ``world.yuma`` runs on each
subnet's weights on chain with the stake behind each UID, last epoch's validator
permits, the activity mask (``last_update`` within ``activity_cutoff`` blocks), the mask
of weights set before a miner registered, the bond reset of new registrations and the
owner's UID where the era exempts it (``Subnet.exempt_uid``, MODEL.md section 9); bonds
and new permits carry to the next epoch, the rest goes to emission, the metrics and the
strategies' context (``Subnet.last``, ``Subnet.shares``). By default the subnets that
share a size and hyperparameters run in batched calls (``yuma.epoch_batch``), with the
same numbers as subnet by subnet (``Consensus.run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from world.rules_2023 import mask_outdated_bonds
from world.subnet import EMPTY, LastEpoch, Subnet, stack_views
from world.yuma import epoch as yuma_epoch
from world.yuma import epoch_batch as yuma_epoch_batch

if TYPE_CHECKING:
    from world.model import Network

# at most this many bytes of bonds per batched Yuma call (32 subnets of 256 UIDs): below
# glibc's largest mmap threshold (32 MB) the kernel's new bonds come from reused heap
# memory instead of fresh pages faulted in every epoch (4 ms of system time per epoch
# at 64 x 256 in one batch)
BATCH_BYTES = 16 * 2**20


class Consensus:
    """Runs Yuma for the model's subnets; keeps their batches and stacked arrays."""

    def __init__(self, model: Network) -> None:
        self.model = model
        self._stacks: dict[tuple[Any, ...], tuple[np.ndarray, list[np.ndarray]]] = {}
        self._batches: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], list[Subnet]]]] = {}

    def forget(self) -> None:
        """Drop the kept stacks (a cold start; results are the same)."""
        self._stacks.clear()

    def run(self, s: Subnet) -> None:
        """Yuma Consensus on the weights on chain (MODEL.md section 3, ``world.yuma``)."""
        active = self._inputs(s)
        res = yuma_epoch(
            s.weights, s.stake_tao, s.bonds, s.params.yuma,
            permits=s.permits, active=active,
            new_registrations=_reset_columns(s.bonds, [s]),
            last_update=s.last_update, block_at_registration=s.registered_block,
            out=s.bonds, permitted_bonds_only=True,  # see run_all
            owner_uid=s.exempt_uid if s.exempt_uid != EMPTY else None,
        )
        self._outputs(
            s, res.bonds, res.new_permits, res.consensus, res.incentive, res.dividends,
            res.validator_trust, res.miner_emission_share, res.validator_emission_share,
        )

    def _inputs(self, s: Subnet) -> np.ndarray:
        """The stake behind each UID (into ``s.stake_tao``) and the activity mask."""
        occupied = self.model.membership.members(s).occupied
        s.stake_tao = np.where(
            occupied, self.model.ledger.hotkey_stake_tao()[self._hotkeys(s.occupant)], 0.0
        )
        return s.active(self.model.block) & occupied

    def _outputs(
        self, s: Subnet, bonds: np.ndarray, new_permits: np.ndarray, consensus: np.ndarray,
        incentive: np.ndarray, dividends: np.ndarray, trust: np.ndarray,
        miner_share: np.ndarray, validator_share: np.ndarray,
    ) -> None:
        """Carry one subnet's Yuma results: bonds and permits to the next epoch, the rest
        to emission, metrics and the strategies' context."""
        s.bonds = bonds
        s.permits = new_permits & self.model.membership.members(s).occupied
        s.new_registrations[:] = False
        s.last = LastEpoch(consensus, incentive, dividends, trust)
        s.shares = (miner_share, validator_share)

    def run_all(self, subnets: Sequence[Subnet] | None = None) -> None:
        """Yuma Consensus of ``subnets`` (all), batched (``world.yuma.epoch_batch``) over
        the subnets that share a size and hyperparameters (up to ``BATCH_BYTES`` of bonds
        per call); the same numbers as ``run`` subnet by subnet. Their weights and
        bonds live in one stacked array per batch (each subnet's are views into it), so a
        batch is passed without copying."""
        subnets = self.model.subnets if subnets is None else subnets
        first = tuple(s.permits is None for s in subnets)  # before a subnet's first epoch
        key = (tuple(s.netuid for s in subnets), first)
        batches = self._batches.get(key)
        if batches is None:  # subnets' sizes and hyperparameters are fixed: group them once
            grouped: dict[tuple[Any, ...], list[Subnet]] = {}
            for s, new in zip(subnets, first, strict=True):
                grouped.setdefault((s.n, s.params.yuma, s.params.bond_reset, new),
                                   []).append(s)
            batches = []
            for (n, params, reset, new), group in grouped.items():
                size = max(1, BATCH_BYTES // (8 * n * n))
                batches += [((n, params, reset, new), group[i : i + size])
                            for i in range(0, len(group), size)]
            self._batches[key] = batches
        for (_, params, _, no_permits), batch in batches:
            if len(batch) == 1:
                self.run(batch[0])
                continue
            # _consensus_inputs for the whole batch: the stake behind each UID, activity
            occupant = np.stack([s.occupant for s in batch])
            occupied = occupant != EMPTY
            stake = np.where(
                occupied, self.model.ledger.hotkey_stake_tao()[self._hotkeys(occupant)], 0.0
            )
            last_update = np.stack([s.last_update for s in batch])
            cutoff = np.array([s.params.activity_cutoff for s in batch], dtype=np.int64)
            active = (last_update + cutoff[:, None] >= self.model.block) & occupied
            permits = None if no_permits else np.stack([s.permits for s in batch])
            registered = np.stack([s.registered_block for s in batch])
            # weights are outdated where a validator last set them before the miner
            # registered (the kernel zeroes them); when no UID that may vote has such a
            # weight (``_none_outdated``), the mask is not passed: it would zero nothing
            owners = np.array([s.exempt_uid for s in batch], dtype=np.int64)
            voters = stake > 0
            if permits is not None:
                voters |= permits
            has_owner = owners != EMPTY
            voters[has_owner, owners[has_owner]] = True  # the owner's UID always votes
            newest = np.where(voters, last_update, np.iinfo(np.int64).max).min(axis=1)
            outdated = not (newest > registered.max(axis=1)).all()
            # Bonds are updated in place in their stack, and only rows of UIDs with a permit
            # are read: the rest are zero, as on chain (the kernel stores rows for new
            # permits only, and registration and deregistration clear a UID's row and permit)
            bonds = self._stacked(batch, "bonds")
            res = yuma_epoch_batch(
                self._stacked(batch, "weights"), stake, bonds, params,
                permits=permits, active=active,
                new_registrations=_reset_columns(bonds, batch),
                last_update=last_update if outdated else None,
                block_at_registration=registered if outdated else None,
                out=bonds, permitted_bonds_only=True,
                owner_uid=owners if has_owner.any() else None,
            )
            bonds = list(res.bonds)
            self._stacks[(*(s.netuid for s in batch), "bonds")] = (res.bonds, bonds)
            new_permits = res.new_permits & occupied
            for s, stake_tao, b, permit, *outputs in zip(
                batch, stake, bonds, new_permits, res.consensus, res.incentive, res.dividends,
                res.validator_trust, res.miner_emission_share, res.validator_emission_share,
                strict=True,
            ):
                s.stake_tao = stake_tao
                s.bonds = b
                s.permits = permit
                s.new_registrations[:] = False
                s.last = LastEpoch(*outputs[:4])
                s.shares = (outputs[4], outputs[5])

    def _hotkeys(self, occupant: np.ndarray) -> np.ndarray:
        """The hotkey whose stake each UID counts (empty UIDs: account 0, masked by the
        caller): the occupant, or with global stake the hotkey it is linked to (2023:
        subtensor@2023-12-20 uids.rs ``get_stake_for_uid_and_subnetwork``)."""
        accts = np.maximum(occupant, 0)
        if self.model.params.economy.stake_scope == "global":
            return self.model.hotkey_of[accts]
        return accts

    def _stacked(self, subnets: list[Subnet], name: str) -> np.ndarray:
        """The subnets' ``weights`` or ``bonds`` as one b x n x n array whose views they
        are (``world.subnet.stack_views``)."""
        return stack_views(self._stacks, subnets, name)


def _reset_columns(bonds: np.ndarray, subnets: Sequence[Subnet]) -> np.ndarray | None:
    """The bond columns the kernel resets (``new_registrations``), after the 2023 per-pair
    mask where the subnets use it.

    ``bond_reset = "column"`` (today, subtensor@2026-06-30 epoch/run_epoch.rs
    ``inplace_mask_cols(recently_registered, bonds)``): the columns of UIDs registered since
    the last epoch. ``"pair"`` (subtensor@2023-12-20 epoch.rs ``epoch``:
    ``vec_mask_sparse_matrix(bonds, last_update, block_at_registration, updated <=
    registered)``): no column reset; the bonds (``bonds``: one subnet's n x n, or the
    batch's b x n x n stack) are masked in place per (validator, miner) pair whose
    validator last set weights at or before the miner registered
    (``world.rules_2023.mask_outdated_bonds``, restricted to the newly registered columns,
    which is exact under this rule). A batch shares one ``bond_reset``.
    """
    new = np.stack([s.new_registrations for s in subnets])
    if subnets[0].params.bond_reset == "column":
        return new if bonds.ndim == 3 else new[0]
    if new.any():
        mask_outdated_bonds(
            bonds, np.stack([s.last_update for s in subnets]),
            np.stack([s.registered_block for s in subnets]), columns=new)
    return None
