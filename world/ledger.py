"""The TAO ledger: every account's liquid balance and stake, kept exactly in RAO.

MODEL.md section 4 ("Accounting is exact"): every TAO minted is paid to someone or burned,
every epoch, and a failed check stops the run. The chain keeps balances as integer RAO
(1 TAO = 1e9 RAO, subtensor ``Balance`` is a u64); so does this ledger, in ``int64``
arrays, which makes conservation an exact integer identity rather than a float tolerance:

    sum(liquid) + sum(staked) == initial supply + minted - burned

Amounts are converted from TAO floats once, at the edge (``to_rao``), by flooring; the
split of an amount among several recipients gives the rounding dust to a named account,
so nothing is created or lost.

Stake follows the simple nomination model of MODEL.md section 4: an account stakes all
of its stake to one hotkey (``staked_to``; a validator stakes to itself), and a hotkey's
stake is the sum of the stake pointed at it.
"""

from __future__ import annotations

import numpy as np

from world.params import RAO_PER_TAO

NO_HOTKEY = -1


def to_rao(tao: float | np.ndarray) -> np.ndarray:
    """TAO (float) to RAO (int64), flooring; negative or non-finite input is an error."""
    arr = np.asarray(tao, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"TAO amounts must be finite and non-negative, got {tao!r}")
    return np.floor(arr * RAO_PER_TAO).astype(np.int64)


def to_tao(rao: int | np.ndarray) -> np.ndarray:
    """RAO (int) to TAO (float64), for reporting."""
    return np.asarray(rao, dtype=np.float64) / RAO_PER_TAO


class LedgerError(RuntimeError):
    """The ledger's invariants failed: TAO was created or lost, or a balance went negative."""


class Ledger:
    """Accounts with liquid TAO and stake, growing as participants join."""

    def __init__(self, capacity: int = 64) -> None:
        self.n = 0
        self.liquid = np.zeros(capacity, dtype=np.int64)
        self.staked = np.zeros(capacity, dtype=np.int64)
        self.staked_to = np.full(capacity, NO_HOTKEY, dtype=np.int64)
        self.names: list[str] = []
        self.initial_supply = 0
        self.minted = 0
        self.burned = 0
        self.stake_version = 0  # bumped whenever any stake changes
        self._stake_cache: tuple[int, int, np.ndarray] | None = None
        self._stake_tao_cache: tuple[int, int, np.ndarray] | None = None

    # -- accounts ---------------------------------------------------------------------
    def open(self, name: str, liquid_rao: int = 0) -> int:
        """Open an account with an initial endowment (counted as initial supply)."""
        if liquid_rao < 0:
            raise ValueError(f"initial balance of {name!r} must be non-negative")
        if self.n == len(self.liquid):
            self._grow()
        acct = self.n
        self.n += 1
        self.names.append(name)
        self.liquid[acct] = liquid_rao
        self.initial_supply += int(liquid_rao)
        return acct

    def _grow(self) -> None:
        cap = 2 * len(self.liquid)
        for attr, fill in (("liquid", 0), ("staked", 0), ("staked_to", NO_HOTKEY)):
            old = getattr(self, attr)
            new = np.full(cap, fill, dtype=np.int64)
            new[: len(old)] = old
            setattr(self, attr, new)

    # -- operations -------------------------------------------------------------------
    def transfer(self, src: int, dst: int, rao: int) -> None:
        """Move liquid TAO between two accounts."""
        self._need(src, rao, "transfer")
        self.liquid[src] -= rao
        self.liquid[dst] += rao

    def burn(self, acct: int, rao: int) -> None:
        """Burn (recycle) liquid TAO, e.g. a registration burn; it lowers issuance."""
        self._need(acct, rao, "burn")
        self.liquid[acct] -= rao
        self.burned += int(rao)

    def stake(self, acct: int, hotkey: int, rao: int) -> None:
        """Stake liquid TAO to ``hotkey``; an account stakes to one hotkey at a time."""
        self._need(acct, rao, "stake")
        current = int(self.staked_to[acct])
        if current not in (NO_HOTKEY, hotkey) and self.staked[acct] > 0:
            raise ValueError(
                f"account {self.names[acct]!r} already stakes to {self.names[current]!r}; "
                "move its stake with redelegate()"
            )
        self.liquid[acct] -= rao
        self.staked[acct] += rao
        self.staked_to[acct] = hotkey
        self.stake_version += 1

    def unstake(self, acct: int, rao: int) -> None:
        """Return staked TAO to the account's liquid balance."""
        if rao < 0 or rao > self.staked[acct]:
            raise LedgerError(
                f"unstake of {rao} RAO from {self.names[acct]!r} exceeds its stake "
                f"{int(self.staked[acct])}"
            )
        self.staked[acct] -= rao
        self.liquid[acct] += rao
        self.stake_version += 1

    def withdraw(self, accts: np.ndarray) -> np.ndarray:
        """Unstake the whole stake of each account in ``accts`` to its liquid balance; it
        then stakes to no hotkey (a staker leaving; MODEL.md section 6). Returns the RAO
        each received."""
        accts = np.unique(np.asarray(accts, dtype=np.int64))
        got = self.staked[accts].copy()
        self.liquid[accts] += got
        self.staked[accts] = 0
        self.staked_to[accts] = NO_HOTKEY
        self.stake_version += 1
        return got

    def redelegate(self, accts: np.ndarray, hotkeys: np.ndarray) -> None:
        """Point the whole stake of each account in ``accts`` at the matching hotkey."""
        self.staked_to[accts] = hotkeys
        self.stake_version += 1

    def mint_liquid(self, accts: np.ndarray, rao: np.ndarray) -> None:
        """Mint emission into liquid balances (miners' incentive, owners' cut)."""
        rao = np.asarray(rao, dtype=np.int64)
        self._check_nonneg_amounts(rao, "mint")
        np.add.at(self.liquid, accts, rao)
        self.minted += int(rao.sum())

    def mint_stake(self, accts: np.ndarray, rao: np.ndarray) -> None:
        """Mint emission onto each hotkey's own stake (miners' incentive in an era that
        stakes it: subtensor@2023-12-20 block_step.rs ``emit_inflation_through_hotkey_account``
        adds the server emission to the stake of the hotkey's owner on that hotkey).

        An account stakes to one hotkey: one whose stake points at another hotkey cannot
        also hold stake on its own (``LedgerError`` names it)."""
        accts = np.asarray(accts, dtype=np.int64)
        rao = np.asarray(rao, dtype=np.int64)
        self._check_nonneg_amounts(rao, "mint")
        to = self.staked_to[accts]
        clash = (rao > 0) & (to != NO_HOTKEY) & (to != accts) & (self.staked[accts] > 0)
        if clash.any():
            raise LedgerError(
                "stake minted to a hotkey whose account stakes elsewhere: "
                + ", ".join(self.names[i] for i in accts[clash][:5]))
        np.add.at(self.staked, accts, rao)
        paid = rao > 0
        self.staked_to[accts[paid]] = accts[paid]
        self.minted += int(rao.sum())
        self.stake_version += 1

    def unstake_behind(self, hotkey: int) -> np.ndarray:
        """Return every stake pointed at ``hotkey`` (its own and its nominators') to the
        stakers' free balances; the accounts unstaked (subtensor@2023-12-20 staking.rs
        ``unstake_all_coldkeys_from_hotkey_account``, called by uids.rs ``replace_neuron``
        when the hotkey holds no other registration)."""
        n = self.n
        behind = np.flatnonzero((self.staked_to[:n] == hotkey) & (self.staked[:n] > 0))
        self.liquid[behind] += self.staked[behind]
        self.staked[behind] = 0
        self.staked_to[behind] = NO_HOTKEY
        self.stake_version += 1
        return behind

    def mint_dividends(
        self, hotkeys: np.ndarray, dividends: np.ndarray, take: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mint validator dividends and share them with the hotkeys' nominators.

        MODEL.md section 4: the validator keeps its take and the rest is added to the
        stake pool pro rata to each staker's share (the validator's own stake included).
        Each nominator gets ``floor(rest * stake / pool)`` RAO; the validator gets its take
        plus whatever the floors leave, so the sum is the dividend to the RAO. Everything
        is auto-staked, as on chain.

        Returns (received, to_nominators): per account, what it received this call, and
        per hotkey in ``hotkeys`` the part paid to other stakers.
        """
        dividends = np.asarray(dividends, dtype=np.int64)
        self._check_nonneg_amounts(dividends, "dividends")
        received = np.zeros(self.n, dtype=np.int64)
        if dividends.sum() == 0:
            return received, np.zeros(len(hotkeys), dtype=np.int64)
        div_of = np.zeros(self.n, dtype=np.int64)
        np.add.at(div_of, hotkeys, dividends)
        take_rao = np.floor(div_of * take).astype(np.int64)
        pool_rest = div_of - take_rao
        n = self.n
        to = self.staked_to[:n]
        pool = np.bincount(to[to >= 0], weights=self.staked[:n][to >= 0], minlength=n)
        nominators = np.flatnonzero((to >= 0) & (to != np.arange(n)) & (self.staked[:n] > 0))
        targets = to[nominators]
        share = self.staked[nominators] / np.maximum(pool[targets], 1)
        nom_pay = np.floor(pool_rest[targets] * share).astype(np.int64)
        paid_out = np.bincount(targets, weights=nom_pay, minlength=n).astype(np.int64)
        if np.any(paid_out > pool_rest):
            bad = np.flatnonzero(paid_out > pool_rest)
            raise LedgerError(
                "nominator payouts exceed the dividend pool for "
                + ", ".join(self.names[i] for i in bad)
            )
        own = div_of - paid_out  # take + own pro-rata share + rounding dust
        received[nominators] += nom_pay
        received += own
        self.staked[:n] += received
        self.staked_to[:n] = np.where((own > 0) & (to == NO_HOTKEY), np.arange(n), to)
        self.minted += int(dividends.sum())
        self.stake_version += 1
        return received, paid_out[hotkeys]

    # -- queries ----------------------------------------------------------------------
    def hotkey_stake(self) -> np.ndarray:
        """Total stake pointed at each account (RAO), indexed by account (read-only; cached
        until a stake changes)."""
        n = self.n
        cache = self._stake_cache
        if cache is not None and cache[0] == self.stake_version and cache[1] == n:
            return cache[2]
        to = self.staked_to[:n]
        mask = to >= 0
        out = np.bincount(to[mask], weights=self.staked[:n][mask], minlength=n).astype(np.int64)
        out.flags.writeable = False
        self._stake_cache = (self.stake_version, n, out)
        return out

    def hotkey_stake_tao(self) -> np.ndarray:
        """``hotkey_stake()`` in TAO (read-only; cached like it: every subnet of an epoch
        reads it, and converting all accounts once per subnet added up)."""
        n = self.n
        cache = self._stake_tao_cache
        if cache is not None and cache[0] == self.stake_version and cache[1] == n:
            return cache[2]
        out = to_tao(self.hotkey_stake())
        out.flags.writeable = False
        self._stake_tao_cache = (self.stake_version, n, out)
        return out

    def hotkey_value_tao(self, accts: np.ndarray | None = None) -> np.ndarray:
        """What the stake behind each hotkey is worth in TAO (here the stake itself; a
        ledger of subnet tokens marks them to their prices), of ``accts`` (None: every
        account)."""
        out = self.hotkey_stake_tao()
        return out if accts is None else out[accts]

    @property
    def supply(self) -> int:
        """What the accounts should hold: initial supply + minted - burned."""
        return self.initial_supply + self.minted - self.burned

    def held_rao(self) -> int:
        """All TAO held, in RAO: the accounts' liquid and staked balances (a subclass adds
        what it holds elsewhere, e.g. subnet pools)."""
        n = self.n
        return int(self.liquid[:n].sum()) + int(self.staked[:n].sum())

    def check(self, epoch: int) -> None:
        """Conservation and non-negativity, exactly; raises ``LedgerError`` naming accounts."""
        n = self.n
        held = self.held_rao()
        if held != self.supply:
            raise LedgerError(
                f"epoch {epoch}: accounts hold {held} RAO but initial supply + minted - burned "
                f"= {self.initial_supply} + {self.minted} - {self.burned} = {self.supply} "
                f"(difference {held - self.supply} RAO)"
            )
        neg = np.flatnonzero((self.liquid[:n] < 0) | (self.staked[:n] < 0))
        if len(neg):
            raise LedgerError(
                f"epoch {epoch}: negative balance or stake in accounts "
                + ", ".join(
                    f"{self.names[i]} (liquid {self.liquid[i]}, staked {self.staked[i]})"
                    for i in neg[:10]
                )
            )

    def _need(self, acct: int, rao: int, what: str) -> None:
        if rao < 0:
            raise ValueError(f"{what} amount must be non-negative, got {rao}")
        if self.liquid[acct] < rao:
            raise LedgerError(
                f"{what} of {rao} RAO from {self.names[acct]!r} exceeds its liquid balance "
                f"{int(self.liquid[acct])}"
            )

    @staticmethod
    def _check_nonneg_amounts(rao: np.ndarray, what: str) -> None:
        if np.any(rao < 0):
            raise LedgerError(f"{what}: negative amounts {rao[rao < 0][:5]}")
