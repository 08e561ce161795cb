"""Claim 7: small subnets are cheap to take over; the stake needed scales with the subnet's
own stake, not the network's. One design per era (``claim07_takeover.yaml``, December 2023;
``claim07_takeover_dtao.yaml``, today), judged by the same comparisons of takeover
multiples: the smallest swept attacker stake, as a multiple of the subnet's honest stake,
whose share of the subnet's miner income lies above 50%."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.claims.cells import SweepCell, after, agents_of, sweep_cells
from analysis.claims.verdicts import CellTest, Verdict, combine, estimate, interval_test
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
       "pool 50k or 500k TAO deep (0.03 TAO per alpha); a subnet ten times larger with a "
       "pool ten times deeper is compared (the others against the pool arithmetic); the "
       "network cannot bring its stake, so there are no defended cells.",
}

Key = tuple[float, float, float, float]  # (subnet stake, network stake, defence, pool TAO)
# multiples compared are equal when their ratio is 1 (grid values are exact)
SAME = 1.0 + 1e-9
NO_TAKEOVER = 1e9  # the per-world effect of a takeover within the sweep against none


def _pool_of(cell: SweepCell) -> float:
    """The TAO subnet 0's pool held at genesis (0: no pools, the 2023 chain)."""
    dtao = (cell.config.get("scenario") or {}).get("dtao") or {}
    if not dtao.get("pools"):
        return 0.0
    pool = dtao.get("pool_tao") or [0.0]
    return float(pool[0] if isinstance(pool, list) else pool)


def _price(rs: ResultSet) -> float:
    return float(((rs.config.get("scenario") or {}).get("price") or {}).get("initial_usd", 0.0))


def _run(r: RunData, entry: int) -> dict[str, float]:
    """One run: the attacker's miners' share of subnet 0's miner income after the warm-up,
    their USD a day, and (today) subnet 0's price before the attacker entered and at the
    end."""
    a = after(agents_of(r), r.warmup)
    m = a[(a["role"] == "miner") & (a["netuid"] == 0)]
    total = m["income_tao"].sum()
    n_ep = max(m["epoch"].nunique(), 1)
    out = {"capture": float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / total)
           if total > 0 else math.nan,
           "usd": float(m.loc[m["cabal"] >= 0, "income_usd"].sum()) / n_ep * r.epochs_per_day}
    if "dtao_price:0" in r.metrics:
        price = r.metrics["dtao_price:0"].to_numpy()
        out |= {"price_before": float(price[max(entry - 1, 0)]), "price_end": float(price[-1])}
    return out


def _rows(rs: ResultSet) -> pd.DataFrame:
    rows = []
    for cell in sweep_cells(rs):
        pop = cell.population

        def stake(on_subnet_0: bool, pop: list = pop) -> float:
            return sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                       if c["strategy"] == "honest_validator"
                       and (c.get("subnet") == 0) == on_subnet_0)

        attacker = next(c["params"] for c in pop if c["strategy"] == "stake_attacker")
        runs = {r.seed_index: _run(r, int(attacker.get("entry_epoch", 0))) for r in cell.runs}
        honest = stake(True)
        rows.append({
            "honest": honest, "network": stake(False),
            "defence": sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                           if c["strategy"] == "subnet_hopper"),  # the stake it brings
            "pool": _pool_of(cell), "attacker": attacker.get("outside_stake_tao"),
            "ratio": attacker.get("outside_stake_tao") / honest if honest else math.nan,
            "capture": estimate([x["capture"] for x in runs.values()]),
            "by_world": {w: x["capture"] for w, x in runs.items()},
            "usd": float(np.nanmean([x["usd"] for x in runs.values()])), "cell": cell,
            "moved": (float(np.mean([x["price_before"] for x in runs.values()])),
                      float(np.mean([x["price_end"] for x in runs.values()])))
            if all("price_before" in x for x in runs.values()) else None})
    return pd.DataFrame(rows)


def _spread(groups: Iterable[list[float]]) -> float:
    """The largest ratio between multiples that should be equal (1: all equal; inf: a
    takeover within the sweep against none); nan when no group has a takeover at all."""
    out = math.nan
    for g in groups:
        if not any(np.isfinite(t) for t in g):
            continue  # no takeover anywhere in this group: decides nothing
        r = max(g) / min(g)
        out = r if math.isnan(out) else max(out, r)
    return out


def _compare(label: dict[str, str], groups_of: list[list[Key]],
             need: dict[Key, float], need_w: dict[int, dict[Key, float]]) -> CellTest:
    """One comparison: the claim holds when the multiples in each group are equal; per
    world, the effect is their largest ratio (holds below ``SAME``)."""
    spread = _spread([[need[k] for k in g] for g in groups_of])
    out = None if math.isnan(spread) else spread < SAME
    keys = sorted({k for g in groups_of for k in g})
    detail = "takeover multiples: " + "; ".join(
        f"subnet {fmt(k[0])}, network {fmt(k[1])}"
        + (", defended" if k[2] else "") + (f", pool {fmt(k[3])}" if k[3] else "") + ": "
        + (f"{fmt(need[k])}x" if np.isfinite(need[k]) else "none in the sweep")
        for k in keys)
    effects = {w: _spread([[m[k] for k in g] for g in groups_of]) for w, m in need_w.items()
               if all(k in m for k in keys)}  # worlds with a run in every cell compared
    # a takeover within the sweep against none is the largest failure (inf), recorded as
    # NO_TAKEOVER so that the world counts as failing (an infinite effect reads as none)
    return CellTest(label, out, detail, effects={w: min(e, NO_TAKEOVER)
                                                  for w, e in effects.items()
                                                  if not math.isnan(e)},
                    threshold=SAME, above=False)


def _claim7(sets: list[ResultSet]) -> Verdict:
    """Claim 7: share of the small subnet's miner income taken by the attacker's miners.

    For each (subnet stake, network stake, defence, subnet 0's pool) the stake needed is
    the smallest swept attacker stake whose capture interval lies above 50%, as a multiple
    of the subnet's honest stake (the grid is fine around 1x); per world, the smallest
    whose capture there is above 50%. December 2023: undefended, holds when that multiple
    is the same for both subnet stakes and both network stakes, fails when it differs;
    defended (a large validator of the rest of the network registering on the subnet with
    its global 2023 stake), holds when the multiple is what the same subnet needs
    undefended. Today (dtao; stake is alpha bought through the subnet's pool, MODEL.md
    section 9) the two halves apart, per pool depth (:func:`_today`).
    The price: the capital at the threshold (USD at the run's price) and the miner
    emission the attacker's miners capture, as a yearly return on it (today: at the spot
    price the purchase set).
    """
    rs = sets[0]
    frame = _rows(rs)
    need: dict[Key, float] = {}
    need_w: dict[int, dict[Key, float]] = {}
    detail_cells, nums = [], []
    price = _price(rs)
    for key, grp in frame.groupby(["honest", "network", "defence", "pool"]):
        h, n, d, pool = key
        grp = grp.sort_values("ratio")
        row = next((r._asdict() for r in grp.itertuples() if r.capture.low > 0.5), None)
        need[key] = row["ratio"] if row is not None else math.inf
        worlds = set.intersection(*(set(b) for b in grp["by_world"]))  # a run in every cell
        for w in worlds:
            need_w.setdefault(w, {})[key] = next(
                (r.ratio for r in grp.itertuples() if r.by_world[w] > 0.5), math.inf)
        in_pool = f", subnet pool {fmt(pool)} TAO" if pool else ""
        for r in grp.itertuples():
            detail_cells.append(r.cell.test(interval_test(r.capture, 0.5), (
                f"attacker {fmt(r.attacker)} TAO = {fmt(r.ratio)} x the subnet's {fmt(h)} TAO "
                f"(network {fmt(n)} TAO{', defended' if d else ''}{in_pool}): captures "
                f"{fmt_est(r.capture)} of its miner income"), tested=False))
        nums.append(_price_line(f"subnet {fmt(h)} TAO{in_pool}, network {fmt(n)} TAO, " + (
            f"a network validator of {fmt(d)} TAO defending" if d else "undefended"), row, grp,
            price))
    if any(k[3] for k in need):
        tests = _today(need, need_w)
        status, where = combine(tests, ["question"])
        nums += _today_numbers(need)
        return Verdict(7, "", status, where, nums, [rs.name], tests + detail_cells, notes=[
            "Today (dtao) stake is alpha bought through the subnet's pool: the honest "
            "validators' genesis purchase of H TAO leaves a pool of P TAO with P/(P+H) of "
            "its alpha, and an attacker's X TAO buys more alpha than they hold only when "
            "X > H (P+H)/(P-H); never when H >= P. A hotkey's stake counts on its own "
            "subnet only (plus tao_weight x its root stake; no root stake in this design), "
            "so the rest of the network cannot sit on the subnet with its stake: no "
            "defended cells."],
            follows_from_rules=True,
            derivation=("the takeover multiple follows from the pool's constant product: "
                        "more than (P+H)/(P-H) times the subnet's stake H in a pool of P "
                        "TAO (dividends paid meanwhile move it a little), so it scales with "
                        "the subnet when its pool scales with it, and the network's stake "
                        "plays no part (stake counts on its own subnet only)"))
    tests = []
    for d in sorted({k[2] for k in need}):
        mine = [k for k in need if k[2] == d]
        # undefended: one multiple whatever the sizes; defended: the multiple the same
        # subnet needs undefended (the network's stake sitting on it changes nothing)
        groups = [mine] if d == 0 else [[k, (k[0], k[1], 0, k[3])] for k in mine
                                        if (k[0], k[1], 0, k[3]) in need]
        label = "a large network validator defends" if d else "no defence"
        tests.append(_compare({"defence": label}, groups, need, need_w))
    status, where = combine(tests, ["defence"])
    nums += [f"subnet {fmt(k[0])} TAO, network {fmt(k[1])} TAO"
             + (f", defended by {fmt(k[2])} TAO" if k[2] else "") + ": needs "
             + (f"{fmt(need[k])}x" if np.isfinite(need[k]) else "more than the sweep")
             + f" (the stake majority: more than {(k[0] + k[2]) / k[0]:.2f}x)"
             for k in sorted(need)]
    return Verdict(7, "", status, where, nums, [rs.name], tests + detail_cells,
                   follows_from_rules=True, derivation=(
        "Yuma's consensus follows the stake majority (kappa 1/2): the attacker's miners "
        "take the subnet's miner emission once its stake exceeds all the stake weighting "
        "the others, more than (H+D)/H times the subnet's stake H, D the stake a network "
        "validator brings onto the subnet (0 undefended); the network's stake elsewhere "
        "plays no part"), notes=[
        "In December 2023 a hotkey's stake counted on every subnet it registered on: a "
        "large validator of the rest of the network can sit on a small subnet with its "
        "whole stake, so whether the network's stake matters depends on whether one does."])


def _price_line(where: str, row: dict | None, grp: pd.DataFrame, price: float) -> str:
    """What a takeover costs and pays, in words."""
    if row is None:
        return f"{where}: no swept stake takes over (up to {fmt(grp['ratio'].max())}x)."
    capital = row["attacker"] * price
    head = (f"{where}: takeover (capture > 50%) from {fmt(row['ratio'])} x the subnet's "
            f"stake = {fmt(row['attacker'])} TAO (${fmt(capital)})")
    if row["moved"] is not None:  # today: its purchase moved the price it is valued at
        before, end = row["moved"]
        return (f"{head}, which moves its price from {before:.3g} to {end:.3g} TAO per "
                f"alpha; its miners then take ${fmt(row['usd'])} a day at that price "
                "(selling would move it back).")
    return (f"{head}; its miners then take ${fmt(row['usd'])} a day, "
            f"{row['usd'] * 365 / capital * 100:.0f}% a year on that capital.")


def _predicted(h: float, pool: float) -> float:
    """The pool arithmetic's takeover multiple (module docstring of the dtao note):
    ``(P + H) / (P - H)``, infinite when ``H >= P``."""
    return (pool + h) / (pool - h) if pool > h else math.inf


def _today(need: dict[Key, float], need_w: dict[int, dict[Key, float]]) -> list[CellTest]:
    """Today's test of "the stake needed scales with the subnet's own stake": a subnet ten
    times larger whose pool is ten times deeper needs the same multiple (cells grouped by
    the subnet's stake relative to its pool, H / P, across subnet and network sizes). Cells
    whose ratio no other subnet size shares are shown in the numbers, not judged."""
    tests = []
    ratio = {k: round(k[0] / k[3], 9) for k in need}
    for r in sorted(set(ratio.values())):
        keys = sorted(k for k in need if ratio[k] == r)
        if len({k[0] for k in keys}) < 2:
            continue  # one subnet size at this ratio: nothing to compare
        tests.append(_compare(
            {"question": f"scales with the subnet's own stake (its stake {fmt(r)} of its "
                         "pool's TAO)"}, [keys], need, need_w))
    return tests


def _today_numbers(need: dict[Key, float]) -> list[str]:
    """Each cell's multiple against the pool arithmetic's, and whether the network's stake
    changed any (it cannot today)."""
    out = []
    for h, pool in sorted({(k[0], k[3]) for k in need}):
        found = sorted({need[k] for k in need if (k[0], k[3]) == (h, pool)})
        pred = _predicted(h, pool)
        out.append(
            f"subnet {fmt(h)} TAO in a {fmt(pool)}-TAO pool: needs "
            + " / ".join(f"{fmt(t)}x" if np.isfinite(t) else "more than the sweep"
                         for t in found)
            + " (the pool arithmetic: "
            + (f"more than {pred:.2f}x)" if np.isfinite(pred) else
               "never, the subnet's stake exceeds its pool's TAO)")
            + ("; the same whatever the network holds" if len(found) == 1 else
               "; it differs with the network's stake"))
    return out
