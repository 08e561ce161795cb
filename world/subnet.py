"""One subnet's chain state, carried from epoch to epoch.

UIDs, who holds them, when they registered and last set weights, the weights on chain,
the bonds and permits that Yuma Consensus carries (MODEL.md section 3), the commit-reveal
queue, validators' moving averages of perceived scores (MODEL.md section 5), the
registration burn and pruning (MODEL.md section 4; subtensor ``get_neuron_to_prune``,
``adjust_burn``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from world import kernels, rules_2023, rules_dtao
from world.params import RAO_PER_TAO, SubnetParams

EMPTY = -1


@dataclass
class LastEpoch:
    """The previous epoch's Yuma outputs over UIDs (zeros before the first epoch)."""

    consensus: np.ndarray
    incentive: np.ndarray
    dividends: np.ndarray
    validator_trust: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> LastEpoch:
        return cls(*(np.zeros(n) for _ in range(4)))


@dataclass
class Commit:
    """Weights committed by validators, to be revealed at ``reveal_epoch``."""

    reveal_epoch: int
    uids: np.ndarray
    accts: np.ndarray
    rows: np.ndarray
    version: int = -1  # the subnet's ``version`` at the commit (-1: unknown)


class Subnet:
    """State of subnet ``netuid`` over its ``n`` UIDs."""

    def __init__(self, netuid: int, params: SubnetParams, owner_acct: int) -> None:
        n = params.n_uids
        self.netuid = netuid
        self.params = params
        self.owner_acct = owner_acct  # gets the owner's cut (a participant that owns it, or
        self.owner_uid = EMPTY        # a special account); the UID it holds here, if any
        self.n = n
        self.occupant = np.full(n, EMPTY, dtype=np.int64)
        self.is_miner = np.zeros(n, dtype=bool)
        self.is_validator = np.zeros(n, dtype=bool)
        self.registered_block = np.zeros(n, dtype=np.int64)
        self.last_update = np.zeros(n, dtype=np.int64)
        # the block each UID last set weights at, and the latest of them: written by the
        # subnet only (``commit``, ``seat``, ``reset``), read-only to others
        self._last_set = np.full(n, -(10**12), dtype=np.int64)
        self._newest_set = -(10**12)  # at least the latest: seat and reset only lower it
        self.last_set_block = self._last_set.view()
        self.last_set_block.flags.writeable = False
        self.weights = np.zeros((n, n))
        self.bonds = np.zeros((n, n))
        self.permits: np.ndarray | None = None  # None before the first epoch
        self.new_registrations = np.zeros(n, dtype=bool)
        self.score_ema = np.zeros((n, n))
        self.commits: deque[Commit] = deque()
        self.stake_tao = np.zeros(n)
        self.emission_tao = np.zeros(n)
        self.quality = np.zeros(n)
        self.last = LastEpoch.zeros(n)
        self.shares = (np.zeros(n), np.zeros(n))  # last Yuma miner/validator emission shares
        self.queries_received = np.zeros(n)
        reg = params.registration
        self.burn_rao = int(round(reg.initial_burn_tao * RAO_PER_TAO))
        self.regs_this_interval = 0
        self.blocks_since_adjustment = 0
        self.version = 0  # bumped whenever a UID changes hands (caches of membership key on it)

    # -- membership -------------------------------------------------------------------
    def free_uid(self) -> int:
        """The lowest empty UID, or -1 when the subnet is full."""
        empty = np.flatnonzero(self.occupant == EMPTY)
        return int(empty[0]) if len(empty) else EMPTY

    def uid_to_prune(self, block: int) -> int:
        """The UID a registration replaces when the subnet is full.

        ``registration.pruning``: ``emission`` (this world's rule before the eras): the
        lowest last emission among UIDs out of immunity, ties to the earliest registration,
        then the lowest UID; if every UID is immune, the same rule among the immune ones.
        ``score`` (2023, subtensor@2023-12-20 registration.rs ``get_neuron_to_prune`` over
        epoch.rs pruning scores stored as u16): ``world.rules_2023.neuron_to_prune`` on
        last epoch's normalised incentive plus dividends (the active stake, or the stake,
        when those are all 0), ties to the highest UID.
        """
        reg = self.params.registration
        if reg.pruning == "score":
            active = self.active(block) & (self.occupant != EMPTY)
            scores = rules_2023.pruning_scores(
                self.last.incentive, self.last.dividends,
                np.where(active, self.stake_tao, 0.0), self.stake_tao)
            u16 = rules_2023.max_upscale_u16(scores)
            uids = np.arange(self.n)
            if self.exempt_uid != EMPTY:  # the owner's UID is no candidate
                uids = np.delete(uids, self.exempt_uid)
            return int(uids[rules_2023.neuron_to_prune(
                u16[uids], self.registered_block[uids], block, reg.immunity_period)])
        occupied = self.occupant != EMPTY
        if self.exempt_uid != EMPTY:  # the owner's UID is never pruned (get_neuron_to_prune)
            occupied = occupied.copy()
            occupied[self.exempt_uid] = False  # a full subnet (n >= 2) has others
        immune = block - self.registered_block < self.params.registration.immunity_period
        pool = occupied & ~immune
        if not pool.any():
            pool = occupied
        cand = np.flatnonzero(pool)
        order = np.lexsort((cand, self.registered_block[cand], self.emission_tao[cand]))
        return int(cand[order[0]])

    def seat(self, uid: int, acct: int, role: str, block: int) -> None:
        """Put ``acct`` on ``uid``: a clean start for its weights, bonds and scores.

        MODEL.md section 3: the newcomer's column counts as recently registered (its bond
        column is reset in the next epoch) and weights set on it before its registration
        block are outdated; its own row of weights and bonds starts empty.
        """
        self.version += 1
        if self.owner_uid == uid:
            self.owner_uid = EMPTY
        if acct == self.owner_acct:
            self.owner_uid = uid
        self.occupant[uid] = acct
        self.is_miner[uid] = role == "miner"
        self.is_validator[uid] = role == "validator"
        self.registered_block[uid] = block
        self.last_update[uid] = block
        self._last_set[uid] = -(10**12)
        self.weights[uid, :] = 0.0
        self.bonds[uid, :] = 0.0
        self.score_ema[uid, :] = 0.0
        self.score_ema[:, uid] = 0.0
        self.new_registrations[uid] = True
        self.emission_tao[uid] = 0.0
        self.quality[uid] = 0.0
        if self.permits is not None:
            self.permits[uid] = False

    def vacate(self, uid: int) -> None:
        """Empty ``uid`` (deregistration); its weights and bonds are cleared.

        With ``bond_reset = "pair"`` (2023) the validators' bonds to the UID stay: the
        chain's ``replace_neuron`` (subtensor@2023-12-20 uids.rs) leaves ``Bonds`` as they
        are, and the next epoch masks only the pairs whose validator last set weights at
        or before the newcomer's registration (``Consensus``, ``rules_2023``)."""
        self.version += 1
        if self.owner_uid == uid:
            self.owner_uid = EMPTY
        self.occupant[uid] = EMPTY
        self.is_miner[uid] = False
        self.is_validator[uid] = False
        self.weights[uid, :] = 0.0
        self.weights[:, uid] = 0.0
        self.bonds[uid, :] = 0.0
        if self.params.bond_reset == "column":
            self.bonds[:, uid] = 0.0
        self.emission_tao[uid] = 0.0
        if self.permits is not None:
            self.permits[uid] = False

    def set_owner(self, acct: int) -> None:
        """Make account ``acct`` the subnet's owner: it gets the owner's cut, and the UID it
        holds here (if any) is the owner's UID (MODEL.md section 9)."""
        self.owner_acct = acct
        held = np.flatnonzero(self.occupant == acct)
        self.owner_uid = int(held[0]) if len(held) else EMPTY

    @property
    def exempt_uid(self) -> int:
        """The owner's UID where the era exempts it (``owner_exempt``; subtensor@2026-06-30
        epoch/run_epoch.rs ``epoch_mechanism``: permit, self-weight, no stake threshold,
        never pruned, incentive burned), else -1."""
        return self.owner_uid if self.params.owner_exempt else EMPTY

    # -- weights ------------------------------------------------------------------------
    def commit(
        self, epoch: int, block: int, uids: np.ndarray, rows: np.ndarray, *, copy: bool = True
    ) -> None:
        """Validators at ``uids`` set ``rows``; the chain uses them after the reveal period.

        Without commit-reveal the weights go on chain at once; with it they are revealed
        ``reveal_period`` epochs later (MODEL.md section 3, "Commit-reveal"). ``copy=False``:
        the caller hands over ``rows`` (a fresh array it will not touch again), which the
        queue keeps without copying.
        """
        if len(uids) == 0:
            return
        self._last_set[uids] = block
        self._newest_set = max(self._newest_set, block)
        period = self.params.effective_reveal_period
        if period == 0:
            self._put_on_chain(uids, rows, block)
        else:
            accts = self.occupant[uids]  # fancy indexing: already a copy
            self.commits.append(Commit(epoch + period, uids.copy(), accts,
                                       rows.copy() if copy else rows, self.version))

    def reveal_due(self, epoch: int, block: int) -> None:
        """Reveal the commits due by ``epoch`` whose validators still hold their UIDs (all
        of them where no UID has changed hands since the commit: ``version``)."""
        while self.commits and self.commits[0].reveal_epoch <= epoch:
            c = self.commits.popleft()
            if c.version == self.version:
                self._put_on_chain(c.uids, c.rows, block)
                continue
            still = self.occupant[c.uids] == c.accts
            if still.all():
                self._put_on_chain(c.uids, c.rows, block)
            else:
                self._put_on_chain(c.uids[still], c.rows[still], block)

    def _put_on_chain(self, uids: np.ndarray, rows: np.ndarray, block: int) -> None:
        jit = kernels.compiled("weights_jit")
        if not (jit is not None and rows.dtype == np.float64 and uids.dtype == np.int64
                and rows.shape == (len(uids), self.n)
                and not np.may_share_memory(rows, self.weights)  # numpy copies those first
                and jit.put_rows(self.weights, uids, rows)):  # speed only: the same copy
            self.weights[uids] = rows
        self.last_update[uids] = block

    def can_set_weights(self, uids: np.ndarray, block: int) -> np.ndarray:
        """Rate limit: at most once per ``weights_rate_limit`` blocks."""
        return block - self._last_set[uids] >= self.params.weights_rate_limit

    def all_can_set_weights(self, block: int) -> bool:
        """True only if no UID set weights within the rate limit of ``block``, so that
        ``can_set_weights`` is true for every UID (speed only: one comparison against the
        latest block any UID set weights at, which a later ``seat`` does not lower; False
        sends the caller to ``can_set_weights``)."""
        return block - self._newest_set >= self.params.weights_rate_limit

    def active(self, block: int) -> np.ndarray:
        """Active UIDs: set weights (or registered) within the activity cutoff."""
        return self.last_update + self.params.activity_cutoff >= block

    def reset(self, owner_acct: int) -> None:
        """A new subnet on this netuid (its predecessor dissolved, every UID vacated):
        empty weights, bonds, scores, commits and permits, the initial burn, owned by
        ``owner_acct`` (subnets/subnet.rs ``init_new_network``, ``do_register_network``).
        Arrays are cleared in place (consensus keeps views of them)."""
        if (self.occupant != EMPTY).any():
            raise ValueError(f"subnet {self.netuid}: vacate every UID before a reset")
        self.version += 1
        for arr in (self.weights, self.bonds, self.score_ema, self.stake_tao,
                    self.emission_tao, self.quality, self.queries_received):
            arr[...] = 0
        self.registered_block[:] = 0
        self.last_update[:] = 0
        self._last_set[:] = -(10**12)
        self._newest_set = -(10**12)
        self.new_registrations[:] = False
        self.permits = np.zeros(self.n, dtype=bool)
        self.commits.clear()
        self.last = LastEpoch.zeros(self.n)
        self.shares = (np.zeros(self.n), np.zeros(self.n))
        self.burn_rao = int(round(self.params.registration.initial_burn_tao * RAO_PER_TAO))
        self.regs_this_interval = 0
        self.blocks_since_adjustment = 0
        self.set_owner(owner_acct)

    # -- burn ---------------------------------------------------------------------------
    def can_register(self) -> bool:
        """At most 3x the target registrations per interval (subtensor registration.rs)."""
        return self.regs_this_interval < 3 * self.params.registration.target_per_interval

    def note_registration(self) -> None:
        """A registration was accepted: counted for the interval; with ``burn_rule: price``
        the burn rises at once by ``burn_increase_mult``
        (``rules_dtao.neuron_burn_after_registration``, subnets/registration.rs
        ``bump_registration_price_after_registration``)."""
        self.regs_this_interval += 1
        reg = self.params.registration
        if reg.burn_rule == "price":
            lo, hi = self._burn_bounds()
            self.burn_rao = int(rules_dtao.neuron_burn_after_registration(
                self.burn_rao, lo, hi, reg.burn_increase_mult))

    def _burn_bounds(self) -> tuple[int, int]:
        reg = self.params.registration
        return (int(round(reg.min_burn_tao * RAO_PER_TAO)),
                int(round(reg.max_burn_tao * RAO_PER_TAO)))

    def end_epoch_burn(self, blocks: int) -> None:
        """An epoch of ``blocks`` blocks has passed: the burn adjusts at each interval's end
        that fell inside it (``registration.adjustment_interval`` blocks, the chain's check
        ``current_block - last_adjustment_block >= interval`` of subtensor@2023-12-20
        block_step.rs ``adjust_registration_terms_for_networks``; 0: once per epoch). With
        an interval longer than an epoch (2023's 360 blocks against a tempo of 99),
        registrations count over several epochs; with ``burn_rule: price`` the burn decays
        with the blocks themselves (``adjust_burn``)."""
        interval = self.params.registration.adjustment_interval
        if interval <= 0 or self.params.registration.burn_rule == "price":
            self.adjust_burn(blocks)
            return
        self.blocks_since_adjustment += blocks
        while self.blocks_since_adjustment >= interval:
            self.blocks_since_adjustment -= interval
            self.adjust_burn(interval)

    def adjust_burn(self, blocks: int = 0) -> None:
        """End of interval (one epoch of ``blocks`` blocks): the burn moves with this
        interval's registrations, or with time (``price``).

        ``registration.burn_rule``: ``proportional`` (this world's rule before the eras):
        ``burn *= (regs + target) / (2 target)``, clamped, rounded to the RAO (MODEL.md
        section 4); ``interval`` (2023): the chain's six cases with burn registrations
        only, ``world.rules_2023.adjust_burn`` (subtensor@2023-12-20 block_step.rs
        ``adjust_registration_terms_for_networks``, ``adjust_burn``): none, the burn
        halves; ``0 < regs <= target``, it stays; more, times ``(regs + target) /
        (2 target)``; clamped and floored to the RAO; ``price`` (today): the burn decays
        by half every ``burn_half_life`` blocks (``rules_dtao.neuron_burn_after_blocks``,
        the chain's Q32 factor; registrations raised it as they came,
        ``note_registration``).
        """
        reg = self.params.registration
        target = reg.target_per_interval
        if reg.burn_rule == "price":
            lo, hi = self._burn_bounds()
            self.burn_rao = int(rules_dtao.neuron_burn_after_blocks(
                self.burn_rao, blocks, lo, hi, reg.burn_half_life))
            self.regs_this_interval = 0
            return
        if reg.burn_rule == "interval":
            self.burn_rao = int(rules_2023.adjust_burn(
                self.burn_rao, self.regs_this_interval, target,
                int(round(reg.min_burn_tao * RAO_PER_TAO)),
                int(round(reg.max_burn_tao * RAO_PER_TAO))))
            self.regs_this_interval = 0
            return
        new = self.burn_rao * (self.regs_this_interval + target) / (2 * target)
        lo, hi = reg.min_burn_tao * RAO_PER_TAO, reg.max_burn_tao * RAO_PER_TAO
        self.burn_rao = int(round(min(max(new, lo), hi)))
        self.regs_this_interval = 0


def stack_views(cache: dict[tuple[Any, ...], tuple[np.ndarray, list[np.ndarray]]],
                subnets: Sequence[Subnet], name: str) -> np.ndarray:
    """The subnets' n x n matrices ``name`` (``weights``, ``bonds``, ``score_ema``) as one
    b x n x n array: the array whose views they are (kept in ``cache``), or (the first
    time, or after one was replaced) a stack of them, whose views they then become.
    Speed only: a batch is read without copying; a subnet sees the same numbers."""
    key = (*(s.netuid for s in subnets), name)
    hit = cache.get(key)
    if hit is not None and all(getattr(s, name) is v for s, v in zip(subnets, hit[1],
                                                                       strict=True)):
        return hit[0]
    stack = np.stack([getattr(s, name) for s in subnets])
    views = list(stack)
    for s, v in zip(subnets, views, strict=True):
        setattr(s, name, v)
    cache[key] = (stack, views)
    return stack
