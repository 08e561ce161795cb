"""Claims 7, 8 and 12: control of a subnet: takeover by stake, a poison-pill validator, and
cabals consolidating as inflows fall."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

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
    combine,
    estimate,
    interval_test,
)
from analysis.report import fmt, fmt_est
from analysis.results import ResultSet, RunData

DESIGNS = {
    7: "Predicts that small subnets are cheap to take over: the stake needed scales with "
       "the subnet's own stake, not the network's. A stake attacker enters a small subnet "
       "at epoch 20 with outside stake and weights only its 8 lazy miners; its stake is "
       "swept finely around the subnet's honest stake (0.5 to 4x; two subnet sizes, 40k "
       "and 400k TAO), with the rest of the network small or large (80k or 1.6M TAO) and "
       "either absent from the subnet or defending it: in December 2023 a hotkey's stake "
       "counted on every subnet it registered on, so a 100k-TAO validator of the network "
       "registers on the small subnet with its whole stake. The price: the capital at the "
       "threshold and the emission it captures as a yearly return. 3 worlds, 6 days. "
       "Today (dtao; its own file, claim07_takeover_dtao) stake is alpha bought through "
       "the subnet's pool, and a hotkey's stake counts on its own subnet only (plus "
       "tao_weight x root): the same attacker buys alpha after the honest validators' "
       "genesis purchases, its TAO swept from 0.5 to 16x their stake, with subnet 0's "
       "pool 50k or 500k TAO deep (0.03 TAO per alpha), each depth judged apart; the "
       "network cannot bring its stake, so there are no defended cells.",
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


def _pool_of(cell: SweepCell) -> float:
    """The TAO subnet 0's pool held at genesis (0: no pools, the 2023 chain)."""
    dtao = (cell.config.get("scenario") or {}).get("dtao") or {}
    if not dtao.get("pools"):
        return 0.0
    pool = dtao.get("pool_tao") or [0.0]
    return float(pool[0] if isinstance(pool, list) else pool)


def _claim7(sets: list[ResultSet]) -> Verdict:
    """Claim 7: share of the small subnet's miner income taken by the attacker's miners.

    For each (subnet stake, network stake, defence, subnet 0's pool) the stake needed is
    the smallest swept attacker stake whose capture interval lies above 50%, as a multiple
    of the subnet's honest stake (the grid is fine around 1x). Undefended: holds when that
    multiple is the same for both subnet stakes and both network stakes (the stake needed
    scales with the subnet's own stake), fails when it differs. Defended (a large validator
    of the rest of the network registering on the subnet with its global 2023 stake):
    holds when the multiple is what the same subnet needs undefended, fails when the
    network's stake raises it. In ``dtao`` (stake is alpha bought through the subnet's
    pool; MODEL.md section 9) each pool depth is judged apart: whether the multiple
    depends on the subnet's stake once the pool is given.
    The price: the capital at the threshold (USD at the run's price) and the miner
    emission the attacker's miners capture, as a yearly return on it.
    """
    rs = sets[0]
    rows = []
    for cell in sweep_cells(rs):
        pop = cell.population
        honest = sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                     if c["strategy"] == "honest_validator" and c.get("subnet") == 0)
        network = sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                      if c["strategy"] == "honest_validator" and c.get("subnet") != 0)
        defence = sum(c["count"] for c in pop if c["strategy"] == "subnet_hopper")
        attacker = next(c["params"].get("outside_stake_tao") for c in pop
                        if c["strategy"] == "stake_attacker")
        caps, usd, moved = [], [], []
        entry = int(next(c["params"].get("entry_epoch", 0) for c in pop
                         if c["strategy"] == "stake_attacker"))
        for r in cell.runs:
            if "dtao_price:0" in r.metrics:
                price0 = r.metrics["dtao_price:0"].to_numpy()
                moved.append((float(price0[max(entry - 1, 0)]), float(price0[-1])))
            a = after(agents_of(r), r.warmup)
            m = a[(a["role"] == "miner") & (a["netuid"] == 0)]
            total = m["income_tao"].sum()
            caps.append(float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / total)
                        if total > 0 else math.nan)
            n_ep = max(m["epoch"].nunique(), 1)
            usd.append(float(m.loc[m["cabal"] >= 0, "income_usd"].sum()) / n_ep
                       * r.epochs_per_day)
        rows.append({"honest": honest, "network": network, "defence": defence,
                     "pool": _pool_of(cell), "attacker": attacker,
                     "ratio": attacker / honest if honest else math.nan,
                     "capture": estimate(caps), "usd": float(np.nanmean(usd)), "cell": cell,
                     "moved": tuple(np.mean(moved, axis=0)) if moved else None})
    detail_cells, thresholds = [], {}
    nums = []
    price = _price(rs)
    keys = ["honest", "network", "defence", "pool"]
    for (h, n, d, pool), grp in pd.DataFrame(rows).groupby(keys):
        grp = grp.sort_values("ratio")
        need = next((r for r in grp.itertuples() if r.capture.low > 0.5), None)
        thresholds[(h, n, d, pool)] = need.ratio if need is not None else math.inf
        in_pool = f", subnet pool {fmt(pool)} TAO" if pool else ""
        for r in grp.itertuples():
            detail_cells.append(r.cell.test(interval_test(r.capture, 0.5), (
                f"attacker {fmt(r.attacker)} TAO = {fmt(r.ratio)} x the subnet's {fmt(h)} TAO "
                f"(network {fmt(n)} TAO{', defended' if d else ''}{in_pool}): captures "
                f"{fmt_est(r.capture)} of its miner income"), tested=False))
        where = f"subnet {fmt(h)} TAO{in_pool}, network {fmt(n)} TAO, " + (
            "a 100k network validator defending" if d else "undefended")
        if need is None:
            nums.append(f"{where}: no swept stake takes over (up to "
                        f"{fmt(grp['ratio'].max())}x).")
        elif need.moved is not None:  # today: the purchase moves the price it is valued at
            capital = need.attacker * price
            nums.append(f"{where}: takeover (capture > 50%) from {fmt(need.ratio)} x the "
                        f"subnet's stake = {fmt(need.attacker)} TAO (${fmt(capital)}), which "
                        f"moves its price from {need.moved[0]:.3g} to {need.moved[1]:.3g} TAO "
                        f"per alpha; its miners then take ${fmt(need.usd)} a day at that "
                        "price (selling would move it back).")
        else:
            capital = need.attacker * price
            nums.append(f"{where}: takeover (capture > 50%) from {fmt(need.ratio)} x the "
                        f"subnet's stake = {fmt(need.attacker)} TAO (${fmt(capital)}); its "
                        f"miners then take ${fmt(need.usd)} a day, "
                        f"{need.usd * 365 / capital * 100:.0f}% a year on that capital.")
    if any(k[3] for k in thresholds):
        tests = _pool_tests(thresholds)
        status, where = combine(tests, ["question"])
        return Verdict(7, "", status, where, nums, [rs.name], tests + detail_cells, notes=[
            "Today (dtao) stake is alpha bought through the subnet's pool: the attacker buys "
            "at the price the honest validators' purchases left, and its TAO buys less "
            "stake the more of the pool they already took. A hotkey's stake counts on its "
            "own subnet only (plus tao_weight x its root stake), so the rest of the network "
            "cannot sit on the subnet with its stake (no defended cells): that the "
            "network's stake does not matter follows from the rules (there is no root stake "
            "in this design); the multiple the subnet needs is the finding."])
    tests = []
    for d, pool in sorted({(k[2], k[3]) for k in thresholds}):
        ts = {k: t for k, t in thresholds.items() if k[2] == d and k[3] == pool}
        # undefended: one multiple whatever the sizes; defended: the multiple the same
        # subnet needs undefended (the network's stake sitting on it changes nothing)
        same = (len(set(ts.values())) == 1 if d == 0 else
                all(t == thresholds.get((k[0], k[1], 0, pool), t) for k, t in ts.items())) \
            and all(np.isfinite(t) for t in ts.values())
        out: bool | None = True if same else (
            None if all(not np.isfinite(t) for t in ts.values()) else False)
        label = "a large network validator defends" if d else "no defence"
        if pool:
            label += f", subnet pool {fmt(pool)} TAO"
        tests.append(CellTest({"defence": label}, out, "takeover multiples: " + "; ".join(
            f"subnet {fmt(k[0])}, network {fmt(k[1])}: {fmt(t)}x" for k, t in
            sorted(ts.items()))))
    status, where = combine(tests, ["defence"])
    return Verdict(7, "", status, where, nums, [rs.name], tests + detail_cells, notes=[
        "In December 2023 a hotkey's stake counted on every subnet it registered on: a "
        "large validator of the rest of the network can sit on a small subnet with its "
        "whole stake, so whether the network's stake matters depends on whether one does."])


def _pool_tests(thresholds: dict[tuple, float]) -> list[CellTest]:
    """Today's two halves of claim 7, per depth of the subnet's pool: "not the network's"
    (at each subnet stake, the same multiple whatever the rest of the network holds) and
    "scales with the subnet's own stake" (the same multiple for both subnet stakes).
    Differing multiples (a takeover within the sweep against none) fail; no takeover at
    all decides nothing."""
    tests = []
    for pool in sorted({k[3] for k in thresholds}):
        ts = {k: t for k, t in thresholds.items() if k[3] == pool}
        desc = "; ".join(f"subnet {fmt(k[0])}, network {fmt(k[1])}: "
                         + (f"{fmt(t)}x" if np.isfinite(t) else "none in the sweep")
                         for k, t in sorted(ts.items()))
        for question, groups in (
                ("not the network's", [[t for k, t in ts.items() if k[0] == h]
                                       for h in sorted({k[0] for k in ts})]),
                ("scales with the subnet's own stake", [[t for k, t in ts.items()
                                                         if k[1] == n]
                                                        for n in sorted({k[1] for k in ts})])):
            groups = [g for g in groups if len(g) > 1]
            if not groups:
                continue  # one size only: nothing to compare
            decided = [g for g in groups if any(np.isfinite(t) for t in g)]
            out = (None if not decided else
                   all(len(set(g)) == 1 for g in decided))
            tests.append(CellTest({"question": f"{question}, subnet pool {fmt(pool)} TAO"},
                                  out, "takeover multiples: " + desc))
    return tests


def _price(rs: ResultSet) -> float:
    return float(((rs.config.get("scenario") or {}).get("price") or {}).get("initial_usd", 0.0))


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
