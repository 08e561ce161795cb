"""Compiled loops behind the economy's exact shares and sums and its metrics (numba; imported
on first use by ``world.kernels.compiled``).

Nothing here is a rule. Each function makes, in one or two passes, the numbers of the numpy
form it names, in the same order (tests/test_econ_jit.py checks them bit for bit):

* float sums accumulate row after row, as ``np.bincount(.., weights=..)`` does;
* each float product is evaluated in the numpy form's order, without fused multiply-adds
  (numba's default: no fast-math);
* integer sums are exact in any order.

Arrays a compiled function returns carry a dtype object of numba's, equal to numpy's but
not numpy's own, on which ``np.add.at`` leaves its fast path (25 times slower): callers view
them as numpy's dtype (``view(np.int64)``) before handing them on.

Inputs the numpy form treats specially (negative or non-finite weights and stakes, indices
out of range, a float floor that overpays) make a function decline: it returns ``False``
and the caller runs the numpy form, which raises or returns what it always did.
"""

from __future__ import annotations

import math

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True)

_MARGIN = 1.0 - 2.0**-40  # split_segments' relative margin (world.payout)


@jit
def _count_at_least(x: np.ndarray, bound: int) -> int:
    """How many of ``x`` are >= ``bound``: a loop without a branch or an early return
    (a check loop that returns early compiles several times slower)."""
    count = 0
    for i in range(len(x)):
        count += x[i] >= bound
    return count


@jit
def _count_below(x: np.ndarray, bound: int) -> int:
    """How many of ``x`` are < ``bound`` (as :func:`_count_at_least`)."""
    count = 0
    for i in range(len(x)):
        count += x[i] < bound
    return count


@jit
def split_segments(
    pots: np.ndarray, seg: np.ndarray, w: np.ndarray
) -> tuple[bool, np.ndarray, np.ndarray]:
    """``world.payout.split_segments`` for weights that are finite and >= 0 and
    segments in ``[0, len(pots))``; returns (done, per row its units, per segment what is
    left). Each row gets ``floor(pot * (w / sum w) * (1 - 2^-40))``, the first row of
    largest weight of a segment with weight gets what the floors leave.

    Rows of weight 0 are skipped (they add 0.0 to a sum that starts at +0.0 and are paid
    0); a run of rows of one segment keeps its sum and largest weight in registers rather
    than in memory, and the inputs are checked first in a loop without an early return
    (speed only: the same additions in the same order; such a loop compiles faster)."""
    k, n = len(pots), len(seg)
    pay = np.zeros(n, dtype=np.int64)
    left = np.zeros(k, dtype=np.int64)
    wsum = np.zeros(k)
    top = np.full(k, -1, dtype=np.int64)  # the first row of largest weight (> 0)
    bad = 0  # weights and segments numpy treats apart, counted without a branch
    for i in range(n):
        x, s = w[i], seg[i]
        bad += (x < 0.0) + (x >= math.inf) + (x != x) + (s < 0) + (s >= k)
    if bad:
        return False, pay, left
    cur, acc, best, best_w = np.int64(-1), 0.0, np.int64(-1), 0.0
    for i in range(n):
        x, s = w[i], seg[i]
        if x == 0.0:
            continue
        if s != cur:
            if cur >= 0:
                wsum[cur], top[cur] = acc, best
            cur, acc, best = s, wsum[s], top[s]
            best_w = w[best] if best >= 0 else 0.0
        acc += x
        if x > best_w:
            best, best_w = i, x
    if cur >= 0:
        wsum[cur], top[cur] = acc, best
    paid = np.zeros(k, dtype=np.int64)
    for i in range(n):
        x, s = w[i], seg[i]
        if x != 0.0:  # then the segment's sum is > 0
            part = float(pots[s])
            part *= x / wsum[s]
            part *= _MARGIN
            units = np.int64(math.floor(part))
            pay[i] = units
            paid[s] += units
    for s in range(k):
        rest = pots[s] - paid[s]
        if rest < 0:  # cannot happen with the margin; the numpy form raises
            return False, pay, left
        if top[s] >= 0:
            pay[top[s]] += rest
        else:
            left[s] = rest
    return True, pay, left


@jit
def share_pro_rata(
    amt: np.ndarray, to: np.ndarray, stake: np.ndarray, owner: np.ndarray, rates: np.ndarray
) -> tuple[bool, np.ndarray]:
    """``world.payout.share_pro_rata`` (``rates``: one per hotkey, or one for all) for
    inputs it accepts without raising, stakes finite, hotkeys in range and no float floor
    over a hotkey's rest; returns (done, per account its units).

    The checks come first, in loops without a branch (which compile to vector code), then
    each hotkey's rest after its take, then one pass over the accounts gathers those that
    pay (stake > 0 behind a hotkey) with their hotkeys' totals in account order, and the
    loops after it visit only them (speed only: the same operations on the same numbers
    in the same order as the numpy form)."""
    h, m = len(amt), len(to)
    size = m
    if len(owner) < h:
        return False, np.zeros(0, dtype=np.int64)
    for j in range(len(owner)):
        size = max(size, owner[j] + 1)
    out = np.zeros(size, dtype=np.int64)
    one_rate = len(rates) != h
    bad = 0  # inputs the numpy form raises on or treats apart, counted without a branch
    if one_rate:
        r = rates[0]
        bad += (r < 0.0) + (r > 1.0) + (r != r)
        for j in range(h):
            bad += amt[j] < 0
    else:
        for j in range(h):
            r = rates[j]
            bad += (amt[j] < 0) + (r < 0.0) + (r > 1.0) + (r != r)
    for i in range(m):
        x, t = stake[i], to[i]
        bad += (x < 0.0) + (x == math.inf) + (t >= h)
    if bad:
        return False, out
    rest = np.empty(h, dtype=np.int64)  # floor(0 * r) is 0: the hotkeys paying nothing keep 0
    if one_rate:
        r = rates[0]
        for j in range(h):
            rest[j] = amt[j] - np.int64(math.floor(amt[j] * r))
    else:
        for j in range(h):
            rest[j] = amt[j] - np.int64(math.floor(amt[j] * rates[j]))
    total = np.zeros(h)
    payers = np.empty(m, dtype=np.int64)  # the accounts with stake behind a hotkey
    c = 0
    for i in range(m):
        x, t = stake[i], to[i]
        if t >= 0 and x > 0.0:
            total[t] += x
            payers[c] = i
            c += 1
    paid_f = np.zeros(h)
    for p in range(c):
        i = payers[p]
        t = to[i]
        units = np.int64(math.floor(rest[t] * (stake[i] / total[t])))
        out[i] = units
        paid_f[t] += units
    for j in range(h):  # a float floor one unit over: the numpy form takes it back
        paid = np.int64(paid_f[j])
        bad += (paid > rest[j]) + ((amt[j] != paid) & (owner[j] < 0))
    if bad:
        return False, out
    for j in range(h):  # the dust to the hotkey's owner
        dust = amt[j] - np.int64(paid_f[j])
        if dust != 0:
            out[owner[j]] += dust
    return True, out


@jit
def hotkey_parts(
    to: np.ndarray, alpha_net: np.ndarray, table: np.ndarray, alpha: np.ndarray,
    staked: np.ndarray,
) -> tuple[bool, np.ndarray, np.ndarray]:
    """``DtaoLedger.hotkey_parts``' two ``np.bincount`` sums over accounts for hotkeys that
    are accounts, the subnet of each account's hotkey read from ``table`` (per account as
    a hotkey its subnet; a hotkey past its end on none, -1, as
    ``world.coinbase._net_of`` reads it): (done, per hotkey the alpha staked behind it on
    its subnet, the root stake behind it), as floats."""
    n, m = len(to), len(table)
    alpha_sum, root_sum = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = to[i]
        if t >= n:
            return False, alpha_sum, root_sum
        if t >= 0:
            j = alpha_net[i]
            if j >= 0 and j == (table[t] if t < m else -1):
                alpha_sum[t] += float(alpha[i])
            root_sum[t] += float(staked[i])
    return True, alpha_sum, root_sum


@jit
def held_per_net(alpha_net: np.ndarray, alpha: np.ndarray, k: int) -> tuple[bool, np.ndarray]:
    """Alpha units held per subnet (``DtaoLedger.alpha_outstanding`` without the
    protocol's), an exact integer sum: (done, units per subnet); declines a subnet out of
    range."""
    held = np.zeros(k, dtype=np.int64)
    if _count_at_least(alpha_net, k):  # checked first (speed only)
        return False, held
    for i in range(len(alpha_net)):
        j = alpha_net[i]
        if j >= 0:
            held[j] += alpha[i]
    return True, held


@jit
def sort_nonnegative(v: np.ndarray) -> tuple[bool, np.ndarray]:
    """``np.sort(v)`` for values that are all >= +0.0 (no NaN, no -0.0): (done, sorted).

    The bits of such floats, read as unsigned integers, order as the values do, so a
    least-significant-digit radix sort on them (six passes of 11 bits, a pass skipped
    where every value has the same digit) gives numpy's sorted values; declines otherwise.
    """
    n = len(v)
    keys = v.view(np.uint64)
    counts = np.zeros((6, 2048), dtype=np.int64)
    for i in range(n):
        if not (v[i] >= 0.0) or keys[i] >> np.uint64(63):  # NaN, negative or -0.0
            return False, v
        k = keys[i]
        for d in range(6):
            counts[d, (k >> np.uint64(11 * d)) & np.uint64(2047)] += 1
    src = keys.copy()
    dst = np.empty_like(src)
    place = np.empty(2048, dtype=np.int64)
    for d in range(6):
        if counts[d].max() == n:
            continue
        total = 0
        for b in range(2048):
            place[b] = total
            total += counts[d, b]
        shift = np.uint64(11 * d)
        for i in range(n):
            b = (src[i] >> shift) & np.uint64(2047)
            dst[place[b]] = src[i]
            place[b] += 1
        src, dst = dst, src
    return True, src.view(np.float64)


@jit
def ranks_in_rows(table: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Average ranks (``scipy.stats.rankdata``'s, from 1) within each row of ``table``,
    given ``order``, each row's sorting permutation: the values at sorted places p..q
    that are equal share the rank ``p + (q - p + 2) / 2`` (``world.metrics._segment_ranks``,
    whose numpy form reads the same ties; exact multiples of 1/2)."""
    k, width = table.shape
    ranks = np.empty((k, width))
    for r in range(k):
        p = 0
        while p < width:
            value = table[r, order[r, p]]
            q = p
            while q + 1 < width and table[r, order[r, q + 1]] == value:
                q += 1
            rank = float(p) + (q - p + 2) / 2.0
            for j in range(p, q + 1):
                ranks[r, order[r, j]] = rank
            p = q + 1
    return ranks


@jit
def credit_alpha(
    alpha: np.ndarray, alpha_net: np.ndarray, alpha_issued: np.ndarray,
    staked_to: np.ndarray, accts: np.ndarray, units: np.ndarray, nets: np.ndarray,
) -> int:
    """``DtaoLedger.credit_alpha``'s changes, in place: each positive credit's account
    takes its subnet, its alpha and the subnet's issued alpha grow, an account staking to
    no hotkey (-1) stakes to itself. Returns the credits made, or -1 and changes nothing
    for an account or a subnet out of range or an account holding alpha of another subnet
    (where the numpy form raises)."""
    n, k = len(alpha), len(alpha_issued)
    made = 0
    for i in range(len(accts)):
        if units[i] > 0:
            a, j = accts[i], nets[i]
            if a < 0 or a >= n or j < 0 or j >= k:
                return -1
            if alpha_net[a] != -1 and alpha_net[a] != j and alpha[a] > 0:
                return -1
            made += 1
    for i in range(len(accts)):
        if units[i] > 0:
            a, j = accts[i], nets[i]
            alpha_net[a] = j
            alpha[a] += units[i]
            alpha_issued[j] += units[i]
            if staked_to[a] == -1:
                staked_to[a] = a
    return made


@jit
def sell_totals(
    alpha: np.ndarray, alpha_net: np.ndarray, accts: np.ndarray, units: np.ndarray, k: int
) -> tuple[bool, np.ndarray, np.ndarray]:
    """``DtaoLedger.sell``'s check and sums: (done, each sale's subnet, units sold per
    subnet); declines an account out of range, a negative sale, a sale of more than an
    account holds (where the numpy form raises) and alpha on no subnet."""
    n = len(alpha)
    nets = np.empty(len(accts), dtype=np.int64)
    total = np.zeros(k, dtype=np.int64)
    held = np.zeros(n, dtype=np.int64)
    for i in range(len(accts)):
        a = accts[i]
        if a < 0 or a >= n or units[i] < 0:
            return False, nets, total
        held[a] += units[i]
    for i in range(len(accts)):
        a = accts[i]
        j = alpha_net[a]
        if held[a] > alpha[a] or j < 0 or j >= k:
            return False, nets, total
        nets[i] = j
        total[j] += units[i]
    return True, nets, total


@jit
def sell_settle(
    alpha: np.ndarray, alpha_net: np.ndarray, balance: np.ndarray, accts: np.ndarray,
    units: np.ndarray, got: np.ndarray,
) -> None:
    """``DtaoLedger.sell``'s changes after the swaps, in place: the alpha sold leaves each
    account, the TAO it got joins ``balance``; an account left without alpha is on no
    subnet (-1). For the accounts ``sell_totals`` checked."""
    for i in range(len(accts)):
        alpha[accts[i]] -= units[i]
        balance[accts[i]] += got[i]
    for i in range(len(accts)):
        if alpha[accts[i]] == 0:
            alpha_net[accts[i]] = -1


@jit
def stakers_behind(
    to: np.ndarray, alpha_net: np.ndarray, alpha: np.ndarray, acct_net: np.ndarray
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
    """``world.coinbase.stakers_behind_numpy`` in one pass: (done, each account's hotkey if
    its alpha is on that hotkey's subnet else -1, that alpha as a float else 0.0, the
    subnet its alpha pay goes to); declines a hotkey out of range (where numpy raises)."""
    n = len(to)
    to_b = np.empty(n, dtype=np.int64)
    stake_b = np.empty(n)
    recv = np.empty(n, dtype=np.int64)
    for i in range(n):
        t, j = to[i], alpha_net[i]
        if t >= n:
            return False, to_b, stake_b, recv
        if t >= 0 and j >= 0 and j == acct_net[t]:
            to_b[i], stake_b[i], recv[i] = t, float(alpha[i]), j
        else:
            to_b[i], stake_b[i], recv[i] = -1, 0.0, acct_net[i]
    return True, to_b, stake_b, recv


@jit
def dividend_parts_at(
    dividends: np.ndarray, occupant: np.ndarray, alpha_hk: np.ndarray, root_hk: np.ndarray,
    tao_weight: float,
) -> tuple[bool, np.ndarray, np.ndarray]:
    """``rules_dtao.dividend_parts`` of every UID (``occupant``: its hotkey, -1: empty,
    whose dividend and stakes count as 0.0), its hotkey's stakes read from ``alpha_hk`` and
    ``root_hk``, in one pass: (done, alpha parts, root parts); declines a hotkey out of
    range (where numpy raises). The same float operations in the same order."""
    m = len(occupant)
    a_part, r_part = np.empty(m), np.empty(m)
    for i in range(m):
        h = occupant[i]
        if h >= len(alpha_hk) or h >= len(root_hk) or h < -1:
            return False, a_part, r_part
        if h == -1:
            d, a, r = 0.0, 0.0, 0.0
        else:
            d, a, r = dividends[i], alpha_hk[h], root_hk[h]
        root_alpha = tao_weight * r
        total = a + root_alpha
        prop = root_alpha / total if total > 0.0 else 0.0
        root_divs = d * prop
        a_part[i], r_part[i] = d - root_divs, root_divs
    return True, a_part, r_part


@jit
def yield_rates(
    occupant: np.ndarray, uid_price: np.ndarray, alpha_pay: np.ndarray, per_hk: np.ndarray,
    alpha_hk: np.ndarray, root_hk: np.ndarray, keep: float,
) -> tuple[bool, np.ndarray]:
    """``world.coinbase.yield_rates_numpy`` in one pass: per occupied UID, in order, the
    value its hotkey's stakers receive (``keep``: 1 - take) per unit of stake value
    behind it; declines a hotkey out of range (where numpy raises)."""
    m = len(occupant)
    if _count_at_least(occupant, min(len(alpha_hk), len(root_hk))) or _count_below(occupant, -1):
        return False, np.zeros(0)  # checked first (speed only)
    count = m - _count_below(occupant, 0)
    rate = np.zeros(count)
    c = 0
    for i in range(m):
        h = occupant[i]
        if h == -1:
            continue
        p = uid_price[i]
        stake_value = alpha_hk[h] * p + root_hk[h]
        if stake_value > 0.0:
            to_stakers = (float(alpha_pay[i]) * p + float(per_hk[i])) * keep
            rate[c] = to_stakers / stake_value
        c += 1
    return True, rate


@jit
def add_at(target: np.ndarray, idx: np.ndarray, values: np.ndarray) -> bool:
    """``np.add.at(target, idx, values.astype(target.dtype))`` in place, for a float64
    target (int64 or float64 values) or an int64 target (int64 values): each value added
    in index order, as ``np.add.at`` adds repeated indices one after another (integers
    exact in any order), an int64 value made a float64 first as ``astype`` makes it.
    Declines and changes nothing for an index out of ``[0, len(target))`` (numpy wraps a
    negative one, raises past the end) or lengths that differ."""
    n = len(target)
    if len(idx) != len(values) or _count_below(idx, 0) or _count_at_least(idx, n):
        return False
    for i in range(len(idx)):
        target[idx[i]] += values[i]
    return True


@jit
def pack_rows(table: np.ndarray, bits: int) -> np.ndarray:
    """Sort keys for :func:`ranks_of_packed`: each value of ``table`` (all >= +0.0 and
    not NaN, whose bits as unsigned integers order as the values do) with its lowest
    ``bits`` bits replaced by its column (``bits``: enough for the width)."""
    k, width = table.shape
    keys = table.view(np.uint64)
    mask = np.uint64((1 << bits) - 1)
    out = np.empty((k, width), dtype=np.uint64)
    for r in range(k):
        for j in range(width):
            out[r, j] = (keys[r, j] & ~mask) | np.uint64(j)
    return out


@jit
def ranks_of_packed(table: np.ndarray, packed: np.ndarray, bits: int) -> np.ndarray:
    """:func:`ranks_in_rows` of ``table`` (values >= +0.0, not NaN) from its rows' keys of
    :func:`pack_rows`, each row sorted (``np.sort``, faster than ``np.argsort`` here): a
    key alone in its high bits is its value's sorted place (rank place + 1); keys sharing
    their high bits (values equal, or apart in the low ``bits`` bits only) are put in the
    order of their values (an insertion sort, ``np.argsort`` for a long run), equal
    values sharing the rank ``p + (q - p + 2) / 2`` as there (the same exact halves)."""
    k, width = table.shape
    mask = np.uint64((1 << bits) - 1)
    ranks = np.empty((k, width))
    order = np.empty(width, dtype=np.int64)
    for r in range(k):
        row = packed[r]
        p = 0
        while p < width:
            high = row[p] & ~mask
            q = p
            while q + 1 < width and (row[q + 1] & ~mask) == high:
                q += 1
            if q == p:
                ranks[r, np.int64(row[p] & mask)] = float(p) + 1.0
                p += 1
                continue
            if q - p < 32:
                for a in range(p, q + 1):
                    col = np.int64(row[a] & mask)
                    value = table[r, col]
                    b = a - 1
                    while b >= p and table[r, order[b]] > value:
                        order[b + 1] = order[b]
                        b -= 1
                    order[b + 1] = col
            else:
                cols = np.empty(q - p + 1, dtype=np.int64)
                for a in range(p, q + 1):
                    cols[a - p] = np.int64(row[a] & mask)
                by_value = np.argsort(table[r][cols])
                for a in range(p, q + 1):
                    order[a] = cols[by_value[a - p]]
            s = p
            while s <= q:
                value = table[r, order[s]]
                e = s
                while e < q and table[r, order[e + 1]] == value:
                    e += 1
                rank = float(s) + (e - s + 2) / 2.0
                for j in range(s, e + 1):
                    ranks[r, order[j]] = rank
                s = e + 1
            p = q + 1
    return ranks
