"""The ledger of dynamic TAO: subnet pools, alpha stake and root stake, exact in units.

MODEL.md section 9 ("Today"): each subnet has its own token, alpha, and a pool of TAO and
alpha; staking TAO to a validator on a subnet buys alpha in that subnet's pool and
credits it to the (hotkey, coldkey) pair, unstaking sells it back; root (netuid 0 on
chain) holds TAO 1:1. Sources: subtensor@2026-06-30 ``staking/stake_utils.rs``
(``stake_into_subnet``, ``unstake_from_subnet``, ``get_alpha_issuance``), ``staking/
move_stake.rs`` (moving stake to a hotkey on another subnet is an unstake and a stake),
``coinbase/run_coinbase.rs`` (``inject_and_maybe_swap``).

:class:`DtaoLedger` extends :class:`world.ledger.Ledger` (accounts, liquid TAO, burns):

* ``staked`` is each account's **root** stake (TAO, RAO) behind ``staked_to``;
* ``alpha`` is its **alpha** stake (alpha units, 10^9 per alpha) on subnet ``alpha_net``,
  behind the same hotkey (an account holds one position, as a nominator stakes to one
  validator in this model);
* ``pools[j]`` is subnet j's :class:`world.pool.ExactPool`; ``protocol_alpha[j]`` the
  alpha the protocol bought with emission the injection cap left over.

Its identities, checked every epoch to the unit (``check``):

    liquid + root stake + sum of pools' TAO == initial supply + minted - burned   (RAO)
    for every subnet j: alpha held on j + pool j's alpha + protocol alpha of j
        == alpha issued on j                                                   (units)

Trades by many accounts on one subnet in one epoch are batched: one swap per subnet for
their total, its output shared pro rata to what each put in (exact:
``world.payout.split_segments``), so no account's order in a list changes its price.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from world.kernels import compiled
from world.ledger import NO_HOTKEY, Ledger, LedgerError
from world.payout import split_segments
from world.pool import FEE_FRACTION, ExactPool
from world.rules_dtao import dissolve_payout, inject_and_maybe_swap

__all__ = ["DtaoLedger"]

NO_NET = -1


class DtaoLedger(Ledger):
    """Accounts with liquid TAO, root stake and alpha stake; subnet pools (see module)."""

    def __init__(self, capacity: int = 64, tao_weight: float = 0.18,
                 fee: float = float(FEE_FRACTION)) -> None:
        super().__init__(capacity)
        self.alpha = np.zeros(capacity, dtype=np.int64)
        self.alpha_net = np.full(capacity, NO_NET, dtype=np.int64)
        self.pools: list[ExactPool] = []
        self.alpha_issued = np.zeros(0, dtype=np.int64)
        self.protocol_alpha = np.zeros(0, dtype=np.int64)
        self.alpha_recycled = np.zeros(0, dtype=np.int64)  # never issued (recycled, burned)
        self.flow_rao = np.zeros(0, dtype=np.int64)  # net TAO staked in, this epoch
        self.transit = 0  # RAO between a pool and its recipients within one payment
        self.tao_weight = float(tao_weight)
        self.fee = fee
        self.opened = False  # before: stake is TAO waiting to buy its alpha (genesis)
        self.net_of: Callable[[np.ndarray], np.ndarray] = lambda a: np.full(len(a), NO_NET)
        # where net_of is a lookup: the table it reads (per account its subnet; past its
        # end, none), for the compiled loops (speed only)
        self.net_table: Callable[[], np.ndarray] | None = None
        self._parts_cache: tuple[int, int, tuple[np.ndarray, np.ndarray]] | None = None

    def _grow(self) -> None:
        super()._grow()
        cap = len(self.liquid)
        for attr, fill in (("alpha", 0), ("alpha_net", NO_NET)):
            old = getattr(self, attr)
            new = np.full(cap, fill, dtype=np.int64)
            new[: len(old)] = old
            setattr(self, attr, new)

    # -- pools --------------------------------------------------------------------------
    def add_pool(self, source: int, tao_rao: int, alpha_units: int) -> int:
        """A new subnet's pool: ``tao_rao`` of ``source``'s liquid TAO and ``alpha_units``
        newly issued alpha (subnets/subnet.rs ``do_register_network``: the lock seeds the
        pool). Returns its index."""
        self._need(source, tao_rao, "pool reserve")
        self.liquid[source] -= tao_rao
        self.pools.append(ExactPool(int(tao_rao), int(alpha_units), _fraction(self.fee)))
        for attr in ("alpha_issued", "protocol_alpha", "alpha_recycled", "flow_rao"):
            setattr(self, attr, np.append(getattr(self, attr), 0).astype(np.int64))
        self.alpha_issued[-1] = alpha_units
        return len(self.pools) - 1

    def dissolve(self, net: int, *, legacy: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
        """Dissolve subnet ``net``'s pool and alpha (staking/remove_stake.rs
        ``destroy_alpha_in_out_stakes``): the pool's TAO is shared pro rata to alpha held
        (``rules_dtao.dissolve_payout``) over every holder, in account order, and the
        protocol, last: the protocol's alpha and, for a subnet registered after the TAO-in
        refund deployment, the pool's alpha reserve too (``legacy``: a subnet registered
        before it, whose pool's alpha does not count). Holders' shares go to their liquid
        balances, the protocol's is recycled (burned); every alpha of the subnet is
        destroyed. An account left with no stake stakes to no hotkey. Returns (holders,
        their RAO, the RAO recycled). The pool stays empty until ``reopen_pool``."""
        n = self.n
        holders = np.flatnonzero((self.alpha_net[:n] == net) & (self.alpha[:n] > 0))
        pool = self.pools[net]
        protocol = int(self.protocol_alpha[net]) + (0 if legacy else pool.alpha_units)
        shares = dissolve_payout(pool.tao_rao, [*self.alpha[holders].tolist(), protocol])
        paid = np.array(shares[:-1], dtype=np.int64)
        recycled = pool.tao_rao - int(paid.sum())  # all of it when nobody holds any alpha
        self.liquid[holders] += paid
        self.burned += recycled
        self.alpha[holders] = 0
        self.alpha_net[holders] = NO_NET
        idle = holders[self.staked[holders] == 0]
        self.staked_to[idle] = NO_HOTKEY
        pool.tao_rao = pool.alpha_units = 0
        self.alpha_issued[net] = self.protocol_alpha[net] = self.alpha_recycled[net] = 0
        self.flow_rao[net] = 0
        self.stake_version += 1
        return holders, paid, recycled

    def reopen_pool(self, net: int, source: int, tao_rao: int, alpha_units: int) -> None:
        """A subnet registered on dissolved netuid ``net``: its pool seeded with
        ``tao_rao`` of ``source``'s liquid TAO (the lock) and ``alpha_units`` newly issued
        alpha (subnets/subnet.rs ``do_register_network``: the whole lock stays in the
        pool, its alpha reserve at the median subnet price)."""
        if self.pools[net].tao_rao or self.alpha_issued[net]:
            raise LedgerError(f"subnet {net}'s pool is open; dissolve it first")
        self._need(source, tao_rao, "subnet lock")
        self.pools[net] = ExactPool(int(tao_rao), int(alpha_units), _fraction(self.fee))
        self.liquid[source] -= tao_rao
        self.alpha_issued[net] = alpha_units

    def prices(self) -> np.ndarray:
        """Each pool's price, TAO per alpha (= RAO per alpha unit)."""
        return np.array([p.price for p in self.pools], dtype=np.float64)

    def reserves(self) -> tuple[np.ndarray, np.ndarray]:
        """Each pool's (TAO reserve RAO, alpha reserve units)."""
        return (np.array([p.tao_rao for p in self.pools], dtype=np.int64),
                np.array([p.alpha_units for p in self.pools], dtype=np.int64))

    def alpha_outstanding(self) -> np.ndarray:
        """Alpha units held outside each pool (stakers' and the protocol's)."""
        k = len(self.pools)
        n = self.n
        jit = compiled()
        if jit is not None:  # the same integer sum in one pass (speed only)
            done, held = jit.held_per_net(self.alpha_net[:n], self.alpha[:n], k)
            if done:
                return held.view(np.int64) + self.protocol_alpha
        held = np.zeros(k, dtype=np.int64)
        on = self.alpha_net[:n] >= 0
        np.add.at(held, self.alpha_net[:n][on], self.alpha[:n][on])
        return held + self.protocol_alpha

    def inject(self, tao_in_rao: np.ndarray, excess_rao: np.ndarray) -> None:
        """Mint each subnet's TAO emission into its pool (``inject_and_maybe_swap``), in
        subnet order: the injection issues alpha at the price, the excess buys alpha for
        the protocol."""
        tao_in = np.asarray(tao_in_rao, dtype=np.int64).tolist()
        excess = np.asarray(excess_rao, dtype=np.int64).tolist()
        parts = []
        for pool, t, e in zip(self.pools, tao_in, excess, strict=True):
            y, x = pool.tao_rao, pool.alpha_units
            if t >= 0 and y > 0 and 0 <= e <= y + t:
                # inject_and_maybe_swap's arithmetic inline for an excess within the TAO
                # reserve (speed only: the same integers, without the calls and checks):
                # ExactPool.inject, then one buy_alpha without fee
                issued = (t * x) // y
                y, x = y + t, x + issued
                pool.tao_injected += t
                pool.alpha_issued += issued
                bought = (x * e) // (y + e)
                pool.tao_rao, pool.alpha_units = y + e, x - bought
                parts.append((issued, bought))
            else:
                parts.append(inject_and_maybe_swap(pool, t, e))
        self.minted += sum(tao_in) + sum(excess)
        if parts:
            issued, bought = (np.array(x, dtype=np.int64) for x in zip(*parts, strict=True))
            self.alpha_issued += issued
            self.protocol_alpha += bought

    def sell_root_alpha(self, units: np.ndarray) -> np.ndarray:
        """Issue each subnet's root dividends (``units``) and sell them into its pool
        without fee (claim_root.rs ``root_claim_on_subnet``, claim type Swap:
        ``swap_alpha_for_tao(.., drop_fees = true)``). The TAO is held in transit until
        ``credit_root`` stakes it on root; returns the RAO per subnet."""
        units = np.asarray(units, dtype=np.int64)
        self.alpha_issued += units
        out = self._sell_each(units, drop_fee=True)
        self.transit += int(out.sum())
        return out

    def credit_root(self, accts: np.ndarray, rao: np.ndarray) -> None:
        """Stake TAO in transit (``sell_root_alpha``) on root for ``accts``; an account
        without stake stakes to itself."""
        accts, rao = np.asarray(accts, dtype=np.int64), np.asarray(rao, dtype=np.int64)
        total = int(rao.sum())
        if np.any(rao < 0) or total > self.transit:
            raise LedgerError(f"root credit of {total} RAO exceeds {self.transit} in transit")
        np.add.at(self.staked, accts, rao)
        idle = (self.staked_to[accts] == NO_HOTKEY) & (rao > 0)
        self.staked_to[accts[idle]] = accts[idle]
        self.transit -= total
        self.stake_version += 1

    # -- stake ----------------------------------------------------------------------------
    def credit_alpha(self, accts: np.ndarray, units: np.ndarray, nets: np.ndarray) -> None:
        """Issue ``units`` alpha of subnet ``nets`` to ``accts`` as stake (emission paid as
        staked alpha: run_coinbase.rs ``increase_stake_for_hotkey_and_coldkey_on_subnet``);
        an account without stake stakes to itself."""
        accts, units, nets = (np.asarray(x, dtype=np.int64) for x in (accts, units, nets))
        jit = compiled()
        if jit is not None and accts.ndim == 1 and len(accts) == len(units) == len(nets):
            c = np.ascontiguousarray
            made = jit.credit_alpha(self.alpha, self.alpha_net, self.alpha_issued,
                                    self.staked_to, c(accts), c(units), c(nets))
            if made >= 0:  # the same changes in one pass (speed only)
                if made:
                    self.stake_version += 1
                return
        keep = units > 0
        accts, units, nets = accts[keep], units[keep], nets[keep]
        if len(accts) == 0:
            return
        self._claim(accts, nets)
        np.add.at(self.alpha, accts, units)
        np.add.at(self.alpha_issued, nets, units)
        idle = self.staked_to[accts] == NO_HOTKEY
        self.staked_to[accts[idle]] = accts[idle]
        self.stake_version += 1

    def buy(self, accts: np.ndarray, tao_rao: np.ndarray, nets: np.ndarray,
            *, flow: bool = True) -> np.ndarray:
        """Accounts spend liquid TAO on alpha of subnet ``nets`` (one swap per subnet, pro
        rata); the alpha is added to their stake. Returns the units each received."""
        accts, tao, nets = (np.asarray(x, dtype=np.int64) for x in (accts, tao_rao, nets))
        if (accts.shape == tao.shape == nets.shape == (1,) and 0 <= accts[0] < len(self.liquid)
                and 0 <= nets[0] < len(self.pools)):
            return self._buy_one(int(accts[0]), int(tao[0]), int(nets[0]), flow=flow)
        return self._buy_batch(accts, tao, nets, flow=flow)

    def _buy_batch(self, accts: np.ndarray, tao: np.ndarray, nets: np.ndarray,
                   *, flow: bool) -> np.ndarray:
        """``buy`` of int64 arrays, any number of accounts (the reference form of
        ``_buy_one``)."""
        # what each buying account spends in all (summed over the accounts that buy, not
        # over every account: the same integers)
        buyers, at = np.unique(accts, return_inverse=True)
        spent = np.zeros(len(buyers), dtype=np.int64)
        np.add.at(spent, at, tao)
        over = spent > self.liquid[buyers]
        if np.any(tao < 0) or over.any():
            bad = accts[over[at]]
            raise LedgerError(f"stake exceeds the liquid balance of {self._names(bad)}")
        self._claim(accts, nets)
        k = len(self.pools)
        total = np.zeros(k, dtype=np.int64)
        np.add.at(total, nets, tao)
        out = np.zeros(k, dtype=np.int64)
        for j in np.flatnonzero(total).tolist():
            out[j] = self._swap(j, int(total[j]), buy=True)
        got, _ = split_segments(out, nets, tao.astype(np.float64))
        self.liquid[buyers] -= spent
        np.add.at(self.alpha, accts, got)
        if flow:
            self.flow_rao += total
        self.stake_version += 1
        return got

    def _buy_one(self, acct: int, tao: int, net: int, *, flow: bool) -> np.ndarray:
        """``buy`` by one account on one subnet in range (a stake: alpha_ledger.py
        ``stake``, staking/stake_utils.rs ``stake_into_subnet``), the same checks in the
        same order and the same changes; speed only: no ``np.unique``, ``np.add.at`` or
        ``split_segments`` over one row (whose single row of weight > 0 takes the whole
        pot, and of weight 0 a pot of 0)."""
        accts, nets = np.array([acct], dtype=np.int64), np.array([net], dtype=np.int64)
        over = tao > self.liquid[acct]
        if tao < 0 or over:
            bad = accts if over else accts[:0]
            raise LedgerError(f"stake exceeds the liquid balance of {self._names(bad)}")
        self._claim(accts, nets)
        got = self._swap(net, tao, buy=True) if tao else 0
        # one-element slices: array arithmetic, which wraps as the batched form's does,
        # where numpy's scalars would warn
        self.liquid[acct : acct + 1] -= tao
        self.alpha[acct : acct + 1] += got
        if flow:
            self.flow_rao[net : net + 1] += tao
        self.stake_version += 1
        return np.array([got], dtype=np.int64)

    def sell(self, accts: np.ndarray, units: np.ndarray, *, flow: bool = True,
             drop_fee: bool = False, to_root: bool = False) -> np.ndarray:
        """Accounts sell ``units`` of their alpha stake into its pool (one swap per subnet,
        pro rata); the TAO goes to their liquid balance (``to_root``: to their root stake,
        as a root claim of type Swap). Returns the RAO each received."""
        accts, units = np.asarray(accts, dtype=np.int64), np.asarray(units, dtype=np.int64)
        k = len(self.pools)
        jit = compiled()
        done = False
        if jit is not None and accts.ndim == 1 and len(accts) == len(units):
            accts, units = np.ascontiguousarray(accts), np.ascontiguousarray(units)
            done, nets, total = jit.sell_totals(self.alpha[: self.n], self.alpha_net, accts,
                                                units, k)
            nets, total = nets.view(np.int64), total.view(np.int64)  # see world.econ_jit
        if not done:
            held = np.zeros(self.n, dtype=np.int64)
            np.add.at(held, accts, units)
            if np.any((units < 0) | (held[accts] > self.alpha[accts])):
                bad = accts[held[accts] > self.alpha[accts]]
                raise LedgerError(f"unstake exceeds the alpha stake of {self._names(bad)}")
            nets = self.alpha_net[accts]
            total = np.zeros(k, dtype=np.int64)
            np.add.at(total, nets, units)
        out = self._sell_each(total, drop_fee=drop_fee)
        got, _ = split_segments(out, nets, units.astype(np.float64))
        balance = self.staked if to_root else self.liquid
        if done:  # the same changes in one pass (speed only)
            jit.sell_settle(self.alpha, self.alpha_net, balance, accts, units, got)
        else:
            np.subtract.at(self.alpha, accts, units)
            np.add.at(balance, accts, got)
            self.alpha_net[accts[self.alpha[accts] == 0]] = NO_NET
        if flow:
            self.flow_rao -= out
        self.stake_version += 1
        return got

    def withdraw(self, accts: np.ndarray) -> np.ndarray:
        """Unstake everything: each account's alpha sold through its pool (one swap per
        subnet, pro rata) and its root stake returned 1:1, all to its liquid balance; it
        then stakes to no hotkey. Returns the RAO each received."""
        accts = np.unique(np.asarray(accts, dtype=np.int64))
        held = accts[self.alpha[accts] > 0]
        got = np.zeros(len(accts), dtype=np.int64)
        if len(held):
            got[np.searchsorted(accts, held)] = self.sell(held, self.alpha[held].copy())
        return got + super().withdraw(accts)

    def stake(self, acct: int, hotkey: int, rao: int) -> None:
        """Stake liquid TAO to ``hotkey``: alpha bought on the hotkey's subnet; before the
        pools open (genesis), held as TAO until ``start_pools`` buys it."""
        if not self.opened:
            super().stake(acct, hotkey, rao)
            return
        current = int(self.staked_to[acct])
        if current not in (NO_HOTKEY, hotkey) and (self.staked[acct] or self.alpha[acct]):
            raise ValueError(
                f"account {self.names[acct]!r} already stakes to {self.names[current]!r}; "
                "move its stake with redelegate()")
        net = self.net_of(np.array([hotkey]))
        if net[0] < 0:  # a hotkey on no subnet (a root validator): TAO on root
            super().stake(acct, hotkey, rao)
            return
        self.staked_to[acct] = hotkey
        self.buy(np.array([acct]), np.array([rao]), net)

    def stake_root(self, acct: int, hotkey: int, rao: int) -> None:
        """Stake liquid TAO on root behind ``hotkey``: TAO 1:1 (netuid 0 on chain)."""
        super().stake(acct, hotkey, rao)

    def start_pools(self, root_accts: np.ndarray) -> None:
        """Genesis: every account's staked TAO buys alpha on its hotkey's subnet, except
        the root stakers' (``root_accts``) and stake behind a hotkey on no subnet (a root
        validator's), whose TAO stays on root."""
        n = self.n
        pending = np.flatnonzero(self.staked[:n] > 0)
        pending = pending[~np.isin(pending, root_accts)]
        pending = pending[self.net_of(self.staked_to[pending]) >= 0]  # else root (netuid 0)
        tao = self.staked[pending].copy()
        self.staked[pending] = 0
        self.liquid[pending] += tao
        self.opened = True
        self.buy(pending, tao, self.net_of(self.staked_to[pending]))

    def redelegate(self, accts: np.ndarray, hotkeys: np.ndarray) -> None:
        """Point each account's stake at a new hotkey; alpha on another subnet than the new
        hotkey's is sold and the TAO buys alpha there (move_stake.rs: a move across
        subnets is an unstake and a stake). Root stake follows the hotkey 1:1."""
        accts, hotkeys = np.asarray(accts, dtype=np.int64), np.asarray(hotkeys, dtype=np.int64)
        if not self.opened:
            super().redelegate(accts, hotkeys)
            return
        new_net = self.net_of(hotkeys)
        move = (self.alpha[accts] > 0) & (self.alpha_net[accts] != new_net) & (new_net >= 0)
        self.staked_to[accts] = hotkeys
        if move.any():
            m = accts[move]
            tao = self.sell(m, self.alpha[m].copy())
            self.buy(m, tao, new_net[move])
        self.stake_version += 1

    def _claim(self, accts: np.ndarray, nets: np.ndarray) -> None:
        """Accounts take positions on ``nets``: one subnet per account."""
        cur = self.alpha_net[accts]
        clash = (cur != NO_NET) & (cur != nets) & (self.alpha[accts] > 0)
        if clash.any():
            raise LedgerError(
                f"alpha of another subnet already held by {self._names(accts[clash])}")
        self.alpha_net[accts] = nets

    def _swap(self, net: int, amount: int, *, buy: bool, drop_fee: bool = False) -> int:
        """One swap on pool ``net``, in parts no larger than the input reserve (the pool
        refuses more; the chain accepts up to 1,000 times it)."""
        pool, out, left = self.pools[net], 0, amount
        while left > 0:
            part = min(left, pool.tao_rao if buy else pool.alpha_units)
            out += (pool.buy_alpha(part, drop_fee=drop_fee) if buy
                    else pool.sell_alpha(part, drop_fee=drop_fee))
            left -= part
        return out

    def _sell_each(self, units: np.ndarray, *, drop_fee: bool) -> np.ndarray:
        """One sale of ``units[j]`` alpha units into each pool j (``_swap``); returns the
        RAO each pool paid out.

        A sale no larger than the pool's alpha reserve, the common case, is
        ``ExactPool.sell_alpha``'s arithmetic inline (speed only: the same integers, without
        a call and an argument check per pool); any other goes through ``_swap``."""
        out = np.zeros(len(self.pools), dtype=np.int64)
        pools = self.pools
        for j, a in zip(np.flatnonzero(units).tolist(), units[units != 0].tolist(),
                        strict=True):
            pool = pools[j]
            x = pool.alpha_units
            if 0 < a <= x:  # ExactPool.quote_sell, then sell_alpha's reserves
                fee = pool.fee
                d = a if drop_fee else a - (a * fee.numerator) // fee.denominator
                y = pool.tao_rao
                paid = (y * d) // (x + d)
                pool.alpha_units = x + a
                pool.tao_rao = y - paid
                out[j] = paid
            else:
                out[j] = self._swap(j, a, buy=False, drop_fee=drop_fee)
        return out

    # -- queries --------------------------------------------------------------------------
    def hotkey_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per account as a hotkey: (alpha stake behind it on its subnet, units; root stake
        behind it, RAO), floats (cached until a stake changes)."""
        n = self.n
        cache = self._parts_cache
        if cache is not None and cache[0] == self.stake_version and cache[1] == n:
            return cache[2]
        to = self.staked_to[:n]
        jit = compiled()
        done = False
        if jit is not None:  # the same float sums in one pass (speed only)
            table = (self.net_table() if self.net_table is not None  # each account's subnet
                     else self.net_of(np.arange(n, dtype=np.int64)))
            done, alpha, root = jit.hotkey_parts(
                to, self.alpha_net[:n], np.ascontiguousarray(table, dtype=np.int64),
                self.alpha[:n], self.staked[:n])
        if done:
            alpha, root = alpha.view(np.float64), root.view(np.float64)  # see world.econ_jit
        else:
            hotkey_net = self.net_of(np.maximum(to, 0))
            has = to >= 0
            on_net = has & (self.alpha_net[:n] >= 0) & (self.alpha_net[:n] == hotkey_net)
            alpha = np.bincount(to[on_net], weights=self.alpha[:n][on_net], minlength=n)
            root = np.bincount(to[has], weights=self.staked[:n][has], minlength=n)
        self._parts_cache = (self.stake_version, n, (alpha, root))
        return alpha, root

    def hotkey_stake(self) -> np.ndarray:
        """Each hotkey's stake weight in its subnet's Yuma, ``alpha + tao_weight * root``
        (stake_utils.rs ``get_stake_weights_for_network``), in units (alpha units and RAO,
        10^9 per alpha or TAO); read-only, cached until a stake changes."""
        n = self.n
        cache = self._stake_cache
        if cache is not None and cache[0] == self.stake_version and cache[1] == n:
            return cache[2]
        alpha, root = self.hotkey_parts()
        out = np.floor(alpha + self.tao_weight * root).astype(np.int64)
        out.flags.writeable = False
        self._stake_cache = (self.stake_version, n, out)
        return out

    def hotkey_value_tao(self, accts: np.ndarray | None = None) -> np.ndarray:
        """The stake behind each hotkey in TAO: its alpha at its pool's price plus its root
        stake (what delegators compare across subnets, whose alpha differ in price), of
        ``accts`` (None: every account; each value is its own, so a subset costs less)."""
        alpha, root = self.hotkey_parts()
        if accts is None:
            accts = np.arange(self.n)
        else:
            accts = np.asarray(accts, dtype=np.int64)
            alpha, root = alpha[accts], root[accts]
        net = self.net_of(accts)
        price = np.append(self.prices(), 0.0)[np.where(net >= 0, net, len(self.pools))]
        return (alpha * price + root) / 1e9

    def held_rao(self) -> int:
        """TAO held by accounts and pools (and in transit within a payment)."""
        return super().held_rao() + sum(p.tao_rao for p in self.pools) + self.transit

    def check(self, epoch: int) -> None:
        """The TAO identity with the pools, and each subnet's alpha identity, exactly."""
        super().check(epoch)
        if self.transit:
            raise LedgerError(f"epoch {epoch}: {self.transit} RAO left in transit")
        n = self.n
        pool_alpha = np.array([p.alpha_units for p in self.pools], dtype=np.int64)
        held = self.alpha_outstanding() + pool_alpha
        bad = np.flatnonzero(held != self.alpha_issued)
        if len(bad):
            j = int(bad[0])
            raise LedgerError(
                f"epoch {epoch}: subnet {j} holds {int(held[j])} alpha units (stakers, pool "
                f"{int(pool_alpha[j])}, protocol {int(self.protocol_alpha[j])}) but issued "
                f"{int(self.alpha_issued[j])} (difference {int(held[j] - self.alpha_issued[j])})")
        neg = np.flatnonzero((self.alpha[:n] < 0) | ((self.alpha[:n] > 0)
                                                    & (self.alpha_net[:n] == NO_NET)))
        if len(neg):
            raise LedgerError(f"epoch {epoch}: negative or unplaced alpha in {self._names(neg)}")

    def _names(self, accts: np.ndarray) -> str:
        return ", ".join(self.names[int(i)] for i in np.asarray(accts)[:10])


def _fraction(fee: float) -> Fraction:
    """The pool fee as an exact fraction (33/65535 for the chain's default FeeRate 33)."""
    return Fraction(fee).limit_denominator(65_535)
