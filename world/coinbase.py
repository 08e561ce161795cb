"""The coinbase of dynamic TAO: each epoch's TAO and alpha emission, injected and paid.

MODEL.md section 9 ("Today"); the era's rules are the pure functions of
``world.rules_dtao`` (each citing subtensor@2026-06-30), applied here once per epoch to
every subnet at once, through the exact ledger ``world.alpha_ledger.DtaoLedger``:

1. the moving price of each pool (``moving_price``, the chain's EMA of ``min(price, 1)``
   over the epoch's blocks) and the subnets' shares of the TAO emission
   (``emission_shares_price``, times ``1 - miner_burned``; switch ``dtao.flow_shares``:
   ``flow_ema`` of the net TAO staked in, ``emission_shares_flow``);
2. per subnet (``subnet_terms``): its TAO and ``tao / price`` alpha injected, capped, the
   TAO the cap leaves buying alpha for the protocol (``DtaoLedger.inject``); the alpha
   issued outside the pool (1 per block, halving by the subnet's own issuance) split by
   ``split_alpha_out``: 18% to the owner, half of the rest to miners by Yuma incentive,
   half to validators by dividends, of which the root proportion is the root stakers';
   incentive to an exempt owner's UID is burned and its share of the subnet's miner
   emission lowers the subnet's next share (``rules_dtao.owner_incentive_burn``);
3. validators' dividends split into alpha and root parts (``dividend_parts``); the alpha
   part paid as staked alpha to each hotkey's stakers after its take
   (``world.payout.share_pro_rata``); the root part sold for TAO in the pool and staked on
   root for the hotkey's root stakers, after take (root claim of type Swap); miners'
   incentive paid as alpha and, with ``dtao.miners_sell`` (the default), sold for TAO.

Differences from the chain, at epoch granularity: the chain injects and accumulates
pending alpha block by block and pays at the subnet's epoch; here the epoch's emission is
injected in one step at the epoch's price (the injection does not move the price, so
only the protocol's buy with capped TAO differs, by its own price impact within an
epoch). Units left over by a pro-rata share with nobody to take them (no incentive, no
root stake) are not issued (the chain's recycling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world import delegation
from world.accounts import uid_layout
from world.alpha_ledger import DtaoLedger
from world.emission import epoch_emission
from world.kernels import compiled
from world.ledger import to_rao
from world.payout import add_at, share_pro_rata, split_segments
from world.pool import ALPHA_UNITS
from world.rules_dtao import (
    dividend_parts,
    emission_shares_flow,
    emission_shares_price,
    flow_ema,
    moving_price,
    root_proportion,
    split_alpha_out,
    subnet_alpha_emission,
    subnet_terms,
)
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network

__all__ = ["Coinbase"]

RAO = 1_000_000_000


class Coinbase:
    """The dtao economy of one ``Network``: its pools' state between epochs and the
    epoch's payment (see the module docstring).

    Attributes:
        moving: each subnet's moving price (TAO per alpha, at most 1).
        flow: each subnet's EMA of net TAO staked in (TAO per block).
        miner_burned: each subnet's share of miner emission its owner burned last epoch.
        start_block: the block each subnet started (for the moving price's rate, and its
            immunity from dissolution).
        last_lock_rao, last_lock_block: the last subnet registration's lock and block, on
            the chain's clock (``lock_clock``; ``rules_dtao.lock_cost``, whose block 0
            means "never"): before any in the run ``dtao.subnet_last_lock_tao``,
            ``dtao.subnet_last_lock_age_blocks`` before the run's start.
        legacy: per subnet, registered before the run (a genesis subnet): the chain's
            older subnets, dissolved by the legacy rule (``DtaoLedger.dissolve``).
        trend: each subnet's trailing relative change of its pool price per epoch (what
            a momentum trader reads; ``delegation.YIELD_EMA_RATE``, like yields).
        last: this epoch's per-subnet figures for measurement.
    """

    def __init__(self, model: Network) -> None:
        self.model = model
        k = len(model.subnets)
        dp = model.params.dtao
        self.moving = np.minimum(np.array(dp.per_subnet("price", k), dtype=np.float64), 1.0)
        self.flow = np.zeros(k)
        self.miner_burned = np.zeros(k)
        self.start_block = np.full(k, -dp.age_blocks, dtype=np.int64)
        self.trend = np.zeros(k)
        self.last_lock_rao = int(to_rao(dp.subnet_last_lock_tao))
        self.last_lock_block = 1  # the registration before the run, at chain block 1
        self._lock_offset = dp.subnet_last_lock_age_blocks + 1
        self.legacy = np.ones(k, dtype=bool)  # registered before the run (see restart)
        self._seen: np.ndarray | None = None  # the pool prices at the last payment
        self.last: dict[str, np.ndarray] = {}

    @property
    def ledger(self) -> DtaoLedger:
        ledger = self.model.ledger
        assert isinstance(ledger, DtaoLedger)
        return ledger

    def net_of(self, accts: np.ndarray) -> np.ndarray:
        """The subnet of each account's UID (-1: none, or not an account): the ledger's
        ``net_of``."""
        return _net_of(self.model, accts)

    def net_table(self) -> np.ndarray:
        """What ``net_of`` reads, per account its subnet (the ledger's ``net_table``; speed
        only)."""
        return self.model.acct_netuid

    def open(self) -> None:
        """Genesis: each subnet's pool, seeded from the market's TAO at ``dtao.price``,
        then every staked endowment buys its alpha (root stakers' stay TAO on root)."""
        model, ledger = self.model, self.ledger
        dp = model.params.dtao
        k = len(model.subnets)
        # bound methods, not closures: a copy of the network (``copy.deepcopy``) then reads
        # its own table, not the original's
        ledger.net_of = self.net_of
        ledger.net_table = self.net_table
        need = int(sum(to_rao(t) for t in dp.per_subnet("pool_tao", k)))
        if need > ledger.liquid[model.market]:
            raise ValueError(
                f"dtao.pool_tao: the pools need {need / RAO:,.0f} TAO at genesis, more than "
                f"the {ledger.liquid[model.market] / RAO:,.0f} TAO the population leaves of "
                "economy.initial_issuance_tao")
        for tao, price in zip(dp.per_subnet("pool_tao", k), dp.per_subnet("price", k),
                              strict=True):
            rao = int(to_rao(tao))
            ledger.add_pool(model.market, rao, max(1, int(rao / price)))
        root = [a for a in range(ledger.n)
                if (agent := model.agent_of[a]) is not None and agent.stakes_root()]
        ledger.start_pools(np.array(root, dtype=np.int64))

    def restart(self, net: int, block: int) -> None:
        """Subnet ``net`` registered anew at ``block``: its moving price, inflow EMA, burned
        share and trend start from zero (subnets/subnet.rs ``do_register_network``; the
        dissolved subnet's storage was removed), its age from ``block``."""
        self.moving[net] = self.flow[net] = self.miner_burned[net] = self.trend[net] = 0.0
        self.start_block[net] = block
        self.legacy[net] = False
        if self._seen is not None:
            self._seen[net] = self.ledger.pools[net].price

    def lock_clock(self) -> int:
        """The block on the clock of ``last_lock_block``: the run's block, counted from
        the last registration before the run (chain block 1)."""
        return self.model.block + self._lock_offset

    def block_emission(self) -> float:
        """TAO emitted per block now (``economy.fixed_emission_per_block``, else the
        halving schedule at today's issuance; coinbase/block_emission.rs)."""
        eco = self.model.params.economy
        if eco.fixed_emission_per_block is not None:
            return float(eco.fixed_emission_per_block)
        return float(epoch_emission(self.ledger.supply / RAO, 1, eco.halving_base_per_block))

    def _follow_trend(self, price: np.ndarray) -> None:
        """Fold the pools' relative price change since the last payment into ``trend``
        (an exponential moving average; a trader's view, not a rule of the chain)."""
        if self._seen is not None:
            change = price / np.maximum(self._seen, 1e-300) - 1.0
            rate = delegation.YIELD_EMA_RATE
            self.trend = (1.0 - rate) * self.trend + rate * change
        self._seen = price.copy()

    def pay(self) -> None:
        """Mint and pay this epoch's emission (the module docstring's steps 1-3)."""
        model, ledger = self.model, self.ledger
        dp, eco = model.params.dtao, model.params.economy
        books = model.books
        books.grow(ledger.n)
        subnets = model.subnets
        k, n, blocks = len(subnets), ledger.n, model.params.tempo
        if eco.fixed_emission_per_block is not None:
            total = eco.fixed_emission_per_block * blocks
        else:
            total = epoch_emission(ledger.supply / RAO, blocks, eco.halving_base_per_block)
        price = ledger.prices()
        self._follow_trend(price)
        # 1. moving prices and the subnets' shares
        self.moving = moving_price(
            self.moving, price, model.block - self.start_block, blocks,
            moving_alpha=dp.moving_alpha, halving_blocks=dp.ema_price_halving_blocks)
        inflow = ledger.flow_rao / RAO
        self.flow = flow_ema(self.flow, inflow / blocks, blocks)
        ledger.flow_rao[:] = 0
        if dp.flow_shares:
            shares = emission_shares_flow(self.flow, dp.flow_cutoff, dp.flow_exponent)
        else:
            shares = emission_shares_price(self.moving, self.miner_burned)
        # 2. injection and the alpha issued outside the pools
        tao_sub = total * shares
        tao_res, alpha_res = ledger.reserves()
        alpha_issuance = (alpha_res + ledger.alpha_outstanding()) / ALPHA_UNITS
        root_tao = float(ledger.staked[:n].sum()) / RAO
        rp = root_proportion(alpha_issuance, root_tao, dp.tao_weight)
        alpha_em = subnet_alpha_emission(alpha_issuance) * blocks
        tao_in, _, alpha_out, _ = subnet_terms(
            tao_sub, price, alpha_em, rp, cap=dp.injection_cap, tao_block_emission=total)
        tao_rao = to_rao(tao_sub)
        in_rao = np.minimum(to_rao(tao_in), tao_rao)
        ledger.inject(in_rao, tao_rao - in_rao)
        root_sell = not dp.root_sell_requires_price_sum or float(self.moving.sum()) > 1.0
        owner_u, miners_u, vals_u, root_u, recycled_u = split_alpha_out(
            np.floor(alpha_out * ALPHA_UNITS).astype(np.int64), rp,
            owner_cut=eco.owner_share, root_sell=root_sell)
        owners = np.array([s.owner_acct for s in subnets], dtype=np.int64)
        ledger.credit_alpha(owners, owner_u, np.arange(k))
        # 3. miners and validators, every UID of every subnet at once
        layout = uid_layout(model)
        sizes, net, occupant = layout.sizes, layout.net, layout.occupant
        occ = occupant != EMPTY
        full = bool(occ.all())  # every UID occupied: nothing to mask (speed only)

        def occupied(x: np.ndarray, empty: float) -> np.ndarray:
            return x if full else np.where(occ, x, empty)

        def of_occupied(x: np.ndarray) -> np.ndarray:
            """``x[occ]``: the values of the occupied UIDs (read only)."""
            return x if full else x[occ]

        vh = of_occupied(occupant)  # the hotkeys of the occupied UIDs

        incentive = occupied(np.concatenate([s.last.incentive for s in subnets]), 0.0)
        dividends = np.concatenate([s.last.dividends for s in subnets])
        miner_pay, miner_left = split_segments(miners_u, net, incentive)
        burned = self._burn_owner_incentive(miner_pay, sizes)
        alpha_hk, root_hk = ledger.hotkey_parts()
        a_part, r_part = dividend_parts_at(dividends, occupant, alpha_hk, root_hk,
                                           dp.tao_weight)
        alpha_pay, alpha_left = split_segments(vals_u, net, a_part)
        root_pay, root_left = split_segments(root_u, net, r_part)
        # miners: staked alpha, sold for TAO by default
        paid = occ & (miner_pay > 0)
        m_accts, m_units = occupant[paid], miner_pay[paid]
        ledger.credit_alpha(m_accts, m_units, net[paid])
        income = np.zeros(ledger.n, dtype=np.float64)  # value received (RAO), per account
        if dp.miners_sell:
            add_at(income, m_accts, ledger.sell(m_accts, m_units))  # RAO made floats
        else:
            np.add.at(income, m_accts, m_units * price[net[paid]])
        # validators: the alpha part to each hotkey's alpha stakers, after take
        take = eco.validator_take
        amount = np.zeros(n, dtype=np.int64)
        add_at(amount, vh, of_occupied(alpha_pay))
        table = model.acct_netuid  # each account's subnet (-1: none)
        acct_net = table[:n] if n <= len(table) else _net_of(model, np.arange(n))
        to = ledger.staked_to[:n]
        to_b, stake_b, recv_all = stakers_behind(to, ledger.alpha_net[:n], ledger.alpha[:n],
                                                 acct_net)
        got = share_pro_rata(amount, to_b, stake_b, np.arange(n), take)[:n]
        gets = np.flatnonzero(got != 0)
        recv_net = recv_all[gets]
        ledger.credit_alpha(gets, got[gets], recv_net)
        # root stakers: the root part sold for TAO and staked on root, after take
        # each subnet's root units paid: split_segments is exact, so its pot less what is
        # left, which a float sum of the units gives too while no sum reaches 2^53 (speed
        # only: no pass over the UIDs)
        root_units = root_u - root_left
        if root_units.max(initial=0) >= 2**53 or root_pay.min(initial=0) < 0:
            root_units = np.bincount(net, weights=root_pay, minlength=k).astype(np.int64)
        root_rao = ledger.sell_root_alpha(root_units)
        per_hk, _ = split_segments(root_rao, net, root_pay.astype(np.float64))
        amount_r = np.zeros(n, dtype=np.int64)
        add_at(amount_r, vh, of_occupied(per_hk))
        # every account behind a hotkey with root stake takes a share (share_pro_rata
        # itself passes over those with none)
        got_r = share_pro_rata(amount_r, to, ledger.staked[:n], np.arange(n), take)[:n]
        gets_r = np.flatnonzero(got_r != 0)
        ledger.credit_root(gets_r, got_r[gets_r])
        # books: income valued in RAO at this epoch's prices
        alpha_value = np.zeros(n)
        alpha_value[gets] = got[gets] * price[recv_net]
        staker_value = alpha_value + got_r
        income[:n] += staker_value
        owner_value = owner_u * price
        income[owners] += owner_value
        books.income[:n] += np.floor(income)
        nominators = np.ones(n, dtype=bool)
        nominators[vh] = False
        books.nominator_payout = float(staker_value[nominators].sum()) / RAO
        uid_price = price[net]
        uid_value = (miner_pay + alpha_pay) * uid_price + occupied(per_hk, 0)
        uid_tao = uid_value / RAO
        for s, a in zip(subnets, layout.starts.tolist(), strict=True):
            s.emission_tao = uid_tao[a : a + s.n]  # each subnet's view (as payments.py)
        books.role_emission = np.array([
            owner_value.sum(), float((miner_pay * uid_price).sum()),
            float((alpha_pay * uid_price).sum() + root_rao.sum())]) / RAO
        # delegators' trailing yield: value to stakers per TAO of stake value behind a hotkey
        rate = yield_rates(occupant, uid_price, alpha_pay, per_hk, alpha_hk, root_hk, take)
        delegation.update_yield(model, vh, rate)
        self.last = {
            "share": shares, "moving": self.moving.copy(), "inflow": inflow,
            "recycled": (recycled_u + miner_left + alpha_left + root_left) / ALPHA_UNITS,
            "burned": burned / ALPHA_UNITS,
        }

    def _burn_owner_incentive(self, miner_pay: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """Withhold the incentive paid to each exempt owner's UID (burned: never issued)
        and keep each subnet's withheld share in ``miner_burned`` for the next epoch's
        shares (``burn_owner_incentive``). Returns the units burned per subnet."""
        owner = np.array([s.exempt_uid for s in self.model.subnets], dtype=np.int64)
        burned, self.miner_burned = burn_owner_incentive(miner_pay, sizes, owner)
        return burned


def _net_of(model: Network, accts: np.ndarray) -> np.ndarray:
    """The subnet of each account's UID (-1: none, or not an account)."""
    accts = np.asarray(accts, dtype=np.int64)
    table = model.acct_netuid
    if len(accts) and accts.min() >= 0 and accts.max() < len(table):
        return table[accts]  # every one an account (the common case; speed only)
    ok = (accts >= 0) & (accts < len(table))
    return np.where(ok, table[np.where(ok, accts, 0)], -1)


def stakers_behind(
    to: np.ndarray, alpha_net: np.ndarray, alpha: np.ndarray, acct_net: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who takes a share of the validators' alpha dividends (step 3): per account (``to``
    its hotkey, -1: none; ``alpha`` on subnet ``alpha_net``; ``acct_net`` the subnet of
    each account's own UID), its hotkey if its alpha is on that hotkey's subnet (the
    chain's ``increase_stake_for_hotkey_on_subnet`` pays the hotkey's alpha stakers on the
    subnet) else -1, that alpha (else 0) and the subnet of the alpha paid to it (its
    stake's, else its own UID's, where a hotkey's take and dust go).

    With numba the loop of ``world.econ_jit.stakers_behind`` (the same values, alpha as
    floats; tests/test_econ_jit.py), else and for the inputs it declines
    :func:`stakers_behind_numpy`."""
    jit = compiled()
    if jit is not None and len(to) == len(alpha_net) == len(alpha) == len(acct_net):
        c = np.ascontiguousarray
        done, to_b, stake_b, recv = jit.stakers_behind(
            c(to, dtype=np.int64), c(alpha_net, dtype=np.int64), c(alpha, dtype=np.int64),
            c(acct_net, dtype=np.int64))
        if done:  # numpy's own dtypes (see world.econ_jit)
            return to_b.view(np.int64), stake_b.view(np.float64), recv.view(np.int64)
    return stakers_behind_numpy(to, alpha_net, alpha, acct_net)


def stakers_behind_numpy(
    to: np.ndarray, alpha_net: np.ndarray, alpha: np.ndarray, acct_net: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`stakers_behind` in numpy."""
    behind = (to >= 0) & (alpha_net >= 0) & (alpha_net == acct_net[np.maximum(to, 0)])
    return (np.where(behind, to, -1), np.where(behind, alpha, 0),
            np.where(behind, alpha_net, acct_net))


def dividend_parts_at(
    dividends: np.ndarray, occupant: np.ndarray, alpha_hk: np.ndarray, root_hk: np.ndarray,
    tao_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``rules_dtao.dividend_parts`` (run_coinbase.rs ``calculate_dividend_distribution``)
    of every UID of every subnet, stacked: ``occupant`` its hotkey (``EMPTY``: none, whose
    dividend and stakes count as 0), whose alpha and root stake are read from ``alpha_hk``
    and ``root_hk``. Returns (alpha parts, root parts).

    With numba the loop of ``world.econ_jit.dividend_parts_at`` (the same float operations
    in one pass; tests/test_econ_jit.py), else and for the inputs it declines
    :func:`dividend_parts_at_numpy`."""
    jit = compiled()
    if jit is not None and len(dividends) == len(occupant):
        c = np.ascontiguousarray
        done, a_part, r_part = jit.dividend_parts_at(
            c(dividends, dtype=np.float64), c(occupant, dtype=np.int64),
            c(alpha_hk, dtype=np.float64), c(root_hk, dtype=np.float64), float(tao_weight))
        if done:
            return a_part.view(np.float64), r_part.view(np.float64)
    return dividend_parts_at_numpy(dividends, occupant, alpha_hk, root_hk, tao_weight)


def dividend_parts_at_numpy(
    dividends: np.ndarray, occupant: np.ndarray, alpha_hk: np.ndarray, root_hk: np.ndarray,
    tao_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`dividend_parts_at` in numpy."""
    occ = occupant != EMPTY
    hk = np.maximum(occupant, 0)
    return dividend_parts(np.where(occ, dividends, 0.0), np.where(occ, alpha_hk[hk], 0.0),
                          np.where(occ, root_hk[hk], 0.0), tao_weight)


def yield_rates(
    occupant: np.ndarray, uid_price: np.ndarray, alpha_pay: np.ndarray, per_hk: np.ndarray,
    alpha_hk: np.ndarray, root_hk: np.ndarray, take: float,
) -> np.ndarray:
    """Delegators' yield this epoch (step 3; ``delegation.update_yield``), per occupied UID
    in order (``occupant`` its hotkey, ``EMPTY``: none): the value its hotkey's stakers
    receive after ``take`` (alpha units ``alpha_pay`` at ``uid_price``, plus RAO
    ``per_hk``) per unit of value staked behind the hotkey (its alpha ``alpha_hk`` at the
    price plus its root stake ``root_hk``); 0 where nothing is staked. A model's figure,
    not a rule of the chain.

    With numba the loop of ``world.econ_jit.yield_rates`` (the same float operations in
    one pass; tests/test_econ_jit.py), else and for the inputs it declines
    :func:`yield_rates_numpy`."""
    jit = compiled()
    if jit is not None and len(occupant) == len(uid_price) == len(alpha_pay) == len(per_hk):
        c = np.ascontiguousarray
        done, rate = jit.yield_rates(
            c(occupant, dtype=np.int64), c(uid_price, dtype=np.float64),
            c(alpha_pay, dtype=np.int64), c(per_hk, dtype=np.int64),
            c(alpha_hk, dtype=np.float64), c(root_hk, dtype=np.float64), 1.0 - take)
        if done:
            return rate.view(np.float64)
    return yield_rates_numpy(occupant, uid_price, alpha_pay, per_hk, alpha_hk, root_hk, take)


def yield_rates_numpy(
    occupant: np.ndarray, uid_price: np.ndarray, alpha_pay: np.ndarray, per_hk: np.ndarray,
    alpha_hk: np.ndarray, root_hk: np.ndarray, take: float,
) -> np.ndarray:
    """:func:`yield_rates` in numpy."""
    occ = occupant != EMPTY
    vh, vh_price = occupant[occ], uid_price[occ]
    stake_value = alpha_hk[vh] * vh_price + root_hk[vh]
    to_stakers = (alpha_pay[occ] * vh_price + per_hk[occ]) * (1.0 - take)
    return np.divide(to_stakers, stake_value, out=np.zeros(len(vh)), where=stake_value > 0)


def burn_owner_incentive(
    miner_pay: np.ndarray, sizes: np.ndarray, owner_uid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``rules_dtao.owner_incentive_burn`` on every subnet at once (its speed form; a test
    checks them equal): ``miner_pay`` holds alpha units per UID of every subnet, stacked
    (``sizes`` UIDs each), and is changed in place, the pay of each subnet's owner UID
    (``owner_uid``, -1: none) set to 0. Returns (units burned per subnet, each subnet's
    burned share of its miner emission). subtensor@2026-06-30 coinbase/run_coinbase.rs
    ``distribute_dividends_and_incentives``."""
    k = len(sizes)
    burned, share = np.zeros(k, dtype=np.int64), np.zeros(k)
    has = owner_uid != EMPTY
    if has.any():
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        total = np.add.reduceat(miner_pay, starts)
        flat = starts[has] + owner_uid[has]
        burned[has] = miner_pay[flat]
        miner_pay[flat] = 0
        share[has] = np.divide(burned[has], total[has], out=np.zeros(int(has.sum())),
                               where=total[has] > 0)
    return burned, share
