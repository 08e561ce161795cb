"""Claims 8 and 12: control of a subnet: a poison-pill validator, and cabals consolidating
as inflows fall (claim 7, a takeover by stake, is in ``analysis.claims.takeover``)."""

from __future__ import annotations

import math

import numpy as np

from analysis.claims.cells import (
    SweepCell,
    after,
    agents_of,
    config_value,
    judge,
    sweep_cells,
)
from analysis.claims.verdicts import (
    CellTest,
    Verdict,
    estimate,
)
from analysis.report import fmt_est
from analysis.results import ResultSet, RunData

DESIGNS = {
    12: "Predicts that as inflows fall, cabals consolidate. A copy cabal of 16 (one GPT-4 "
        "Turbo source, members relaying it) beside 90 honest GPU miners who leave after 20 "
        "losing epochs, with naive newcomers registering as honest miners; the inflow, the "
        "USD value of the subnet's emission (TAO price x emission share), swept jointly "
        "from $62k to $3.4k a day against the honest miners' break-even; the cabal's model "
        "paid by its source alone (who may leave on its own losses: the old design's "
        "driver) or shared by all members. 6 worlds, 15 days.",
    8: "Predicts that a poison-pill validator that gathered trust and delegation can turn "
       "and capture emission. The premise is created and measured: the pill validates "
       "honestly while 40 popularity-following delegators (5k TAO each) choose where to "
       "stake, its own stake swept (5k to 160k TAO) so that its share of the validator "
       "stake at the turn runs from 2% to 82%, across 50%; at epoch 150 it moves all its "
       "weight to its 8 lazy cabal miners. Control: the same world where it never turns. "
       "Effect: the cabal's income after the turn minus the control's, per world; the "
       "stake behind the pill at the end says whether delegators punish it. 6 worlds, "
       "30 days.",
}


def _pill_run(r: RunData, trig: int) -> dict[str, float]:
    """One run's poison-pill figures: its share of the validators' stake behind their
    hotkeys at the turn, the cabal's (pill and its miners) income per day after the turn
    (from trigger + 10 epochs, letting weights and bonds move), its miners' share of the
    miner income then, and the stake behind the pill at the end over at the turn."""
    a = agents_of(r)
    vals = a[a["role"] == "validator"]
    at = vals[vals["epoch"] == vals.loc[vals["epoch"] <= trig, "epoch"].max()]
    end = vals[vals["epoch"] == vals["epoch"].max()]
    pill_at = float(at.loc[at["strategy"] == "poison_pill", "hotkey_stake_tao"].sum())
    pill_end = float(end.loc[end["strategy"] == "poison_pill", "hotkey_stake_tao"].sum())
    post = after(a, trig + 10)
    n_ep = max(post["epoch"].nunique(), 1)
    cabal = (post["cabal"] >= 0) & post["role"].isin(["miner", "validator"])
    m = post[post["role"] == "miner"]
    total = m["income_tao"].sum()
    return {
        "share": pill_at / max(float(at["hotkey_stake_tao"].sum()), 1e-9),
        "cabal_usd": float(post.loc[cabal, "income_usd"].sum()) / n_ep * r.epochs_per_day,
        "capture": float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / total) if total else 0.0,
        "kept": pill_end / pill_at if pill_at else float("nan"),
    }


def _claim8(sets: list[ResultSet]) -> Verdict:
    """Claim 8: what a poison pill captures after it turns, against the same world where it
    never turns (turn 0), as its stake share at the turn runs across 50%.

    Per world: the cabal's (the pill's and its miners') income per day after the turn
    minus the control's. Holds in a cell when that interval lies above 0 (turning captures
    emission), fails when below. The premise (trust and delegation gathered first) is
    measured: the pill's share of the validators' stake at the turn, and whether its
    delegators punish it (the stake behind it at the end over at the turn).
    """
    rs = sets[0]
    cells = sweep_cells(rs)

    def level(c: SweepCell) -> str:
        return repr({p: v for p, v in c.overrides.items() if not p.endswith(".turn")})

    control = {level(c): c for c in cells if c.param("poison_pill", "turn") == 0}
    figs = {c.index: {r.seed_index: _pill_run(r, int(c.param("poison_pill", "trigger_epoch")))
                      for r in c.runs} for c in cells}
    tests = []
    for c in cells:
        base = control.get(level(c))
        f = figs[c.index]
        share = estimate([x["share"] for x in f.values()])
        if c.param("poison_pill", "turn") == 0 or base is None:
            tests.append(c.test(None, f"the control (never turns): stake share at epoch "
                                      f"{c.param('poison_pill', 'trigger_epoch')} "
                                      f"{fmt_est(share)}", tested=False))
            continue
        g = figs[base.index]
        seeds = sorted(set(f) & set(g))
        gain = {s: f[s]["cabal_usd"] - g[s]["cabal_usd"] for s in seeds}
        cap = estimate([f[s]["capture"] - g[s]["capture"] for s in seeds])
        kept = estimate([f[s]["kept"] for s in seeds])
        tests.append(c.compare(gain, 0.0, (
            f"stake share at the turn {fmt_est(share)}; cabal income after the turn against "
            f"the control {fmt_est(estimate(list(gain.values())), '$')}/day; its miners' "
            f"share of miner income {fmt_est(cap)} higher; stake behind the pill at the end "
            f"over at the turn {fmt_est(kept)}")))
    return judge(8, rs, tests, notes=[
        "Each turning cell is compared with the same stake in the same world without the "
        "turn. Delegators' punishment is read from the stake behind the pill after it "
        "turned (popularity followers leave only if another validator grows larger)."])


def _claim12(sets: list[ResultSet]) -> Verdict:
    """Claim 12: the copy cabal's share of the miners, at the end minus at the start, as the
    USD value of the subnet's emission (the inflow: TAO price x emission per block x 7,200
    blocks a day) falls.

    Holds in a cell when the change's interval lies above 2 percentage points (the cabal
    consolidates), fails when it lies below; the region says at which inflows. Per way
    of paying the cabal's model (its source alone, or shared), the inflow at which honest
    GPU miners break even (an established one's income less its GPU rent crosses 0, linear
    in log inflow between the swept values) is reported beside the consolidation.
    """
    rs = sets[0]
    rows: dict[int, list[tuple[float, float, float]]] = {}

    def test(c: SweepCell) -> CellTest:
        ch, endp, pop_end, pop_start, honest = {}, {}, {}, {}, {}
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
            # an established honest miner's running margin: its emission valued at the
            # epoch's price, less its GPU (newcomers' registration burns left out)
            w = after(m, r.warmup)
            income = (w["emission_tao:honest_miner"] * w["price_usd"]
                      / w["population:honest_miner"].clip(lower=1)).mean() * r.epochs_per_day
            gpu = float(r.extra.get("drawn", {}).get(
                "population.1.params.gpu_usd_per_hour",
                c.param("honest_miner", "gpu_usd_per_hour", 1.6)))
            honest[r.seed_index] = float(income) - 24.0 * gpu
        e, el, ep, es = (estimate(list(d.values())) for d in (ch, endp, pop_end, pop_start))
        eco = config_value(c.config, "scenario.economy")
        price = float(config_value(c.config, "scenario.price.initial_usd"))
        inflow = price * float(eco["fixed_emission_per_block"]) * 7200.0
        shares = int(c.param("copy_cabal", "share_costs"))
        rows.setdefault(shares, []).append((inflow, float(np.mean(list(honest.values()))),
                                            e.mean))
        return c.compare(ch, 0.02, f"inflow ${inflow:,.0f} a day: cabal share of miners "
                         f"{fmt_est(es)} at the start, {fmt_est(ep)} at the end (change "
                         f"{fmt_est(e)}); its share of miner emission at the end "
                         f"{fmt_est(el)}; an honest GPU miner's margin (income less GPU) "
                         f"{fmt_est(estimate(list(honest.values())), '$')}/day")

    tests = list(map(test, sweep_cells(rs)))
    nums = []
    for shares, pts in sorted(rows.items()):
        pts.sort()
        be = next((math.exp(math.log(x0) + (math.log(x1) - math.log(x0)) * (0 - p0) / (p1 - p0))
                   for (x0, p0, _), (x1, p1, _) in zip(pts, pts[1:], strict=False)
                   if p0 < 0 <= p1), None)
        who = "shared by every member" if shares else "paid by its source alone"
        nums.append(f"cabal's model {who}: honest GPU miners break even at an inflow of "
                    + (f"${be:,.0f} a day" if be is not None else "none within the swept "
                       "range") + "; change in the cabal's share of miners by inflow: "
                    + ", ".join(f"${x:,.0f}: {d * 100:+.1f} pp" for x, _, d in pts) + ".")
    return judge(12, rs, tests, numbers=nums, notes=[
        "Whether the cabal consolidates depends on who pays its model: a source that pays "
        "alone leaves on its own losses and the cabal dissolves (the previous design's "
        "result, a modelling choice); a cabal sharing the cost gains ground once the "
        "inflow falls below the honest miners' break-even."])
