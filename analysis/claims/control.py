"""Claims 7, 8 and 12: control of a subnet: takeover by stake, a poison-pill validator, and
cabals consolidating as inflows fall."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.claims.cells import (
    SweepCell,
    after,
    agents_of,
    judge,
    sweep_cells,
)
from analysis.claims.verdicts import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    PART,
    CellTest,
    Verdict,
    estimate,
    interval_test,
)
from analysis.report import fmt, fmt_est
from analysis.results import ResultSet


def _claim7(sets: list[ResultSet]) -> Verdict:
    """Claim 7: share of the small subnet's miner income taken by the attacker's miners.

    For each (subnet stake, network stake) pair, the stake needed is the smallest swept
    attacker stake whose capture interval lies above 50%, as a multiple of the subnet's
    honest stake. Holds when that multiple is the same for both subnet stakes (the stake
    needed scales with the subnet's stake) and for both network stakes (not with the
    network's); fails when it differs.
    """
    rs = sets[0]
    rows = []
    for cell in sweep_cells(rs):
        pop = cell.population
        honest = sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                     if c["strategy"] == "honest_validator" and c.get("subnet") == 0)
        network = sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                      if c["strategy"] == "honest_validator" and c.get("subnet") != 0)
        attacker = next(c["params"].get("outside_stake_tao") for c in pop
                        if c["strategy"] == "stake_attacker")
        caps = []
        for r in cell.runs:
            a = after(agents_of(r), r.warmup)
            m = a[(a["role"] == "miner") & (a["netuid"] == 0)]
            total = m["income_tao"].sum()
            caps.append(float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / total)
                        if total > 0 else math.nan)
        rows.append({"honest": honest, "network": network, "attacker": attacker,
                     "ratio": attacker / honest if honest else math.nan,
                     "capture": estimate(caps), "cell": cell})
    cells, thresholds, below = [], {}, {}
    for (h, n), grp in pd.DataFrame(rows).groupby(["honest", "network"]):
        grp = grp.sort_values("ratio")
        need = next((r for r in grp.itertuples() if r.capture.low > 0.5), None)
        thresholds[(h, n)] = need.ratio if need is not None else math.inf
        fail = [r.ratio for r in grp.itertuples() if r.capture.high < 0.5
                and r.ratio < thresholds[(h, n)]]
        below[(h, n)] = max(fail) if fail else 0.0
        for r in grp.itertuples():
            cells.append(r.cell.test(interval_test(r.capture, 0.5),
                                  f"attacker {fmt(r.attacker)} TAO = {fmt(r.ratio)} x the "
                                  f"subnet's {fmt(h)} TAO (network {fmt(n)} TAO): captures "
                                  f"{fmt_est(r.capture)} of its miner income", tested=False))
    nums = [f"Subnet stake {fmt(h)} TAO, rest of network {fmt(n)} TAO: takeover (capture > 50%) "
            f"from {fmt(t)} x the subnet's stake = {fmt(t * h)} TAO (${fmt(t * h * _price(rs))} "
            "at the run's price)" if np.isfinite(t) else
            f"Subnet stake {fmt(h)} TAO, rest of network {fmt(n)} TAO: no swept stake takes over"
            for (h, n), t in sorted(thresholds.items())]
    mult = set(thresholds.values())
    finite = all(np.isfinite(t) for t in thresholds.values())
    if finite and len(mult) == 1:
        lo = max(below.values())
        status, where = HOLDS, (f"a takeover needs more than {fmt(lo)} and at most "
                                f"{fmt(next(iter(mult)))} times the subnet's own stake, "
                                "whatever the rest of the network holds")
    elif not finite and all(not np.isfinite(t) for t in thresholds.values()):
        status, where = INCONCLUSIVE, "no swept attacker stake took a subnet over"
    else:
        by_net = {}
        for (h, _n), t in thresholds.items():
            by_net.setdefault(h, set()).add(t)
        same_net = all(len(v) == 1 for v in by_net.values())
        status = PART if same_net else FAILS
        where = ("independent of the network's stake, but the multiple of the subnet's stake "
                 "differs between subnet sizes" if same_net else
                 "the stake needed depends on the rest of the network")
    return Verdict(7, "", status, where, nums, [rs.name], cells,
                   notes=["In the model a validator's stake counts only on the subnet it is "
                          "registered on, so the rest of the network cannot defend a subnet; "
                          "on the 2023 chain a large validator's stake counted on every subnet "
                          "it validated."])


def _price(rs: ResultSet) -> float:
    return float(((rs.config.get("scenario") or {}).get("price") or {}).get("initial_usd", 0.0))


def _claim8(sets: list[ResultSet]) -> Verdict:
    """Claim 8: what a poison pill captures after it turns, and whether it pays.

    Per seed, from the per-agent records: its cabal miners' share of the subnet's miner
    income before the turn (warm-up to trigger) and after it (trigger + 10 epochs to the
    end, the first 10 letting weights and bonds move); the cabal's income (the pill and its
    miners) per day before and after; the pill's own income before and after (delegators
    leaving would cut it). Holds in a cell when the capture rises by more than 5 percentage
    points (interval) and the cabal's income rises (interval above 0); fails when either
    interval lies entirely on the wrong side.
    """
    rs = sets[0]

    def test(c: SweepCell) -> CellTest:
        trig = int(c.param("poison_pill", "trigger_epoch"))
        dcap, dgain, dpill, late = {}, {}, {}, {}
        for r in c.runs:
            a = agents_of(r)
            pill = a["strategy"] == "poison_pill"
            miners = a["role"] == "miner"

            def share(fr: pd.DataFrame) -> float:
                m = fr[fr["role"] == "miner"]
                t = m["income_tao"].sum()
                return float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / t) if t > 0 else 0.0

            def per_day(fr: pd.DataFrame, mask: pd.Series, r: Any = r) -> float:
                sub = fr[mask.loc[fr.index]]
                n_ep = fr["epoch"].nunique()
                return float(sub["income_usd"].sum() / max(n_ep, 1) * r.epochs_per_day)

            pre, post = after(a, r.warmup, trig), after(a, trig + 10)
            tail = after(a, int(a["epoch"].max()) - 50)
            cabal = (a["cabal"] >= 0) & (pill | miners)
            dcap[r.seed_index] = share(post) - share(pre)
            late[r.seed_index] = share(tail)
            dgain[r.seed_index] = per_day(post, cabal) - per_day(pre, cabal)
            dpill[r.seed_index] = per_day(post, pill) - per_day(pre, pill)
        ec, eg, ep, el = (estimate(list(d.values())) for d in (dcap, dgain, dpill, late))
        t1, t2 = interval_test(ec, 0.05), interval_test(eg, 0.0)
        out = True if (t1 and t2) else (False if (t1 is False or t2 is False) else None)
        return c.test(out, f"capture +{fmt_est(ec)} of miner income (last 50 epochs: "
                      f"{fmt_est(el)}); cabal income {fmt_est(eg, '$')}/day; the pill's own "
                      f"income {fmt_est(ep, '$')}/day after turning")

    return judge(8, rs, map(test, sweep_cells(rs)),
                 notes=["Delegators' punishment is read from the pill's own income (its take "
                        "and stake share shrink when nominators leave); the stake behind its "
                        "hotkey is in the per-agent records (hotkey_stake_tao) for a direct "
                        "look."])


def _claim12(sets: list[ResultSet]) -> Verdict:
    """Claim 12: the copy cabal's share of the miners, at the end minus at the start.

    Shares of the miner population (``population:<strategy>``; the emission share at the
    end is shown too). Holds in a cell when the change's interval lies above 2 percentage
    points (the cabal consolidates), fails when it lies below; the region then says at
    which inflows (TAO price, newcomer rate) the cabal consolidates.
    """
    rs = sets[0]

    def test(c: SweepCell) -> CellTest:
        ch, endp, pop_end, pop_start = {}, {}, {}, {}
        for r in c.runs:
            m = r.metrics
            miner_cols = [k for k in m.columns if k.startswith("population:")
                          and k.split(":", 1)[1] in ("honest_miner", "copy_cabal")]
            miners = m[miner_cols].sum(axis=1).clip(lower=1)
            share_pop = m["population:copy_cabal"] / miners
            emis = m["emission_tao:copy_cabal"] / m["emission_miners_tao"]
            pop_start[r.seed_index] = float(share_pop.iloc[0])
            pop_end[r.seed_index] = float(share_pop.iloc[-20:].mean())
            ch[r.seed_index] = pop_end[r.seed_index] - pop_start[r.seed_index]
            endp[r.seed_index] = float(emis.iloc[-20:].mean())
        e, el, ep, es = (estimate(list(d.values())) for d in (ch, endp, pop_end, pop_start))
        return c.test(interval_test(e, 0.02),
                      f"cabal share of miners {fmt_est(es)} at the start, {fmt_est(ep)} at "
                      f"the end (change {fmt_est(e)}); its share of miner emission at the "
                      f"end {fmt_est(el)}")

    return judge(12, rs, map(test, sweep_cells(rs)))
