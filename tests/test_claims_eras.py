"""Claims judged per era and over sampled worlds (issue 18): an experiment that sweeps the
era is judged in each era apart; P(holds) is the share of worlds (seed indices) in which
the claim holds in every tested cell, with its exact interval and deciding parameters;
claims.json has one entry per claim and era; a verdict that follows from the rules says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from test_report import metrics_frame, write_results

from analysis.claims import (
    FAILS,
    HOLDS,
    CellTest,
    Claim,
    Verdict,
    claims_json,
    evaluate_eras,
    latest_results,
)
from analysis.claims.cells import judge, sweep_cells
from analysis.claims.markdown import claims_markdown
from analysis.claims.worlds import summarise
from analysis.results import ResultSet, RunData


def _gap_claim(sets: list[ResultSet]) -> Verdict:
    """A claim "a earns more than b", per cell, with its per-world effects."""
    rs = sets[0]
    tests = []
    for c in sweep_cells(rs):
        eff = {r.seed_index: float(r.metrics["profit_usd_per_agent:a"].mean()
                                   - r.metrics["profit_usd_per_agent:b"].mean())
               for r in c.runs}
        tests.append(c.compare(eff, 0.0, f"a - b = {np.mean(list(eff.values())):.2f}"))
    return judge(99, rs, tests)


CLAIM = Claim(99, "a earns more than b", ("gap",), _gap_claim, design="a against b")


def _results(root: Path, gaps: dict[tuple[str, float], float]) -> None:
    """Cells (era, price) with a - b = gap (+ seed noise); manifest names each cell's era."""
    config = {"name": "gap", "epochs": 20, "warmup_epochs": 5, "scenario": {"era": "dtao"},
              "population": [{"strategy": "a", "count": 1}]}
    grid = {"paths": ["price.initial_usd"], "zip": [["era"]]}
    cells, runs, eras = [], [], {}
    for k, ((era, price), gap) in enumerate(gaps.items()):
        cells.append({"cell": k, "profile": None,
                      "overrides": {"era": era, "price.initial_usd": price}})
        eras.setdefault(era, []).append(k)
        for seed in range(5):
            noise = 0.3 * (seed - 2)
            runs.append((k, seed, metrics_frame(20, {"a": {"profit": 10 + gap + noise},
                                                     "b": {"profit": 10.0}}), None))
    path = write_results(root / "gap" / "h", config, cells, runs, grid)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["eras"] = [{"era": e, "cells": c} for e, c in eras.items()]
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_each_era_is_judged_apart(tmp_path: Path) -> None:
    _results(tmp_path, {("dec2023", 100.0): 5.0, ("dec2023", 300.0): 4.0,
                        ("dtao", 100.0): -5.0, ("dtao", 300.0): -4.0})
    vs = evaluate_eras(CLAIM, latest_results(tmp_path))
    assert [(v.era, v.status) for v in vs] == [("dec2023", HOLDS), ("dtao", FAILS)]
    # the era is no longer an axis within an era; the price still is
    assert all(set(c.coords) == {"price (USD)"} or len(c.coords) == 1 for c in vs[0].cells)
    assert all("era" not in a for c in vs[0].cells for a in c.coords)
    assert len(vs[0].cells) == 2
    # every world holds in dec2023, none in dtao
    assert vs[0].worlds["p_holds"] == 1.0 and vs[1].worlds["p_holds"] == 0.0
    doc = claims_json(vs)
    assert [(e["claim"], e["era"]) for e in doc["claims"]] == [(99, "dec2023"), (99, "dtao")]
    for key in ("status", "p_holds", "p_low", "p_high", "where", "deciding_parameters",
                "follows_from_rules"):
        assert key in doc["claims"][0]


def _rs_with_worlds(prices: list[float]) -> ResultSet:
    runs = [RunData(f"c0000-s{k:04d}", 0, k, {}, pd.DataFrame({"epoch": [0]}),
                    extra={"drawn": {"param:price.initial_usd": p}})
            for k, p in enumerate(prices)]
    return ResultSet(Path("."), {}, {}, {0: {"cell": 0, "overrides": {}}}, runs)


def test_share_of_worlds_where_it_holds_and_what_decides_it() -> None:
    prices = [200.0, 210.0, 220.0, 240.0, 260.0, 280.0, 300.0, 320.0]
    # the effect is positive exactly where the drawn price is above 250
    effects = {k: p - 250.0 for k, p in enumerate(prices)}
    cells = [CellTest({"x": "1"}, None, "", True, effects, 0.0),
             # a second cell that holds everywhere does not change which worlds hold
             CellTest({"x": "2"}, True, "", True, {k: 1.0 for k in effects}, 0.0),
             # an untested cell is ignored even where it would fail
             CellTest({"x": "3"}, None, "", False, {k: -1.0 for k in effects}, 0.0)]
    w = summarise(cells, _rs_with_worlds(prices))
    assert w["worlds"] == 8 and w["holding"] == 4 and w["p_holds"] == 0.5
    ci = binomtest(4, 8).proportion_ci(method="exact")
    assert np.isclose(w["p_low"], ci.low) and np.isclose(w["p_high"], ci.high)
    top = w["deciding_parameters"][0]
    assert top["parameter"] == "price.initial_usd" and 240 < top["threshold"] < 260
    assert top["p_holds_below"] == 0.0 and top["p_holds_above"] == 1.0
    assert [c["p_holds"] for c in w["cells"]] == [0.5, 1.0]


def test_a_claim_below_its_threshold_holds_where_the_effect_is_below() -> None:
    cells = [CellTest({}, None, "", True, {0: -2.0, 1: 3.0}, 1.0, above=False)]
    w = summarise(cells, _rs_with_worlds([1.0, 2.0]))
    assert w["holding"] == 1 and w["p_holds"] == 0.5


def test_a_verdict_that_follows_from_the_rules_says_so(tmp_path: Path) -> None:
    _results(tmp_path, {("dec2023", 100.0): 5.0, ("dec2023", 300.0): 4.0})
    rs = next(iter(latest_results(tmp_path).values()))
    from analysis.results import load_results
    v = judge(99, load_results(rs), [CellTest({}, True, "")],
              follows_from_rules="income ratio = 960/64 by the equal split")
    v.era = "dec2023"
    md = claims_markdown([(CLAIM, [v])], {})
    assert "**Follows from the rules:** income ratio = 960/64" in md
    assert "(follows from the rules)" in md  # in the summary table too
    assert claims_json([v])["claims"][0]["follows_from_rules"] is True


def test_seed_noise_and_parameter_uncertainty_are_reported_apart() -> None:
    prices = [200.0, 210.0, 220.0, 240.0, 260.0, 280.0, 300.0, 320.0]
    noise = [0.4, -0.3, 0.1, -0.5, 0.2, 0.3, -0.1, -0.2]
    # cell 1: the effect follows the drawn price (parameter uncertainty);
    # cell 2: the same spread but unrelated to the price (seed noise)
    by_price = {k: (p - 250.0) / 10 + noise[k] for k, p in enumerate(prices)}
    by_noise = {k: 5.0 * noise[k] for k in range(len(prices))}
    rs = _rs_with_worlds(prices)
    a = summarise([CellTest({"x": "1"}, None, "", True, by_price, -100.0)], rs)
    b = summarise([CellTest({"x": "2"}, None, "", True, by_noise, -100.0)], rs)
    assert a["cells"][0]["explained_by_parameters"] > 0.9
    assert b["cells"][0]["explained_by_parameters"] < 0.2
    assert a["parameter_share"] == a["cells"][0]["explained_by_parameters"]
    # without priors there is nothing to attribute to parameters
    plain = ResultSet(Path("."), {}, {}, {0: {"cell": 0, "overrides": {}}},
                      [RunData(f"c0000-s{k:04d}", 0, k, {}, pd.DataFrame({"epoch": [0]}))
                       for k in range(8)])
    c = summarise([CellTest({"x": "1"}, None, "", True, by_price, -100.0)], plain)
    assert c["parameter_share"] is None and c["cells"][0]["explained_by_parameters"] is None


def test_the_figure_shows_each_world_against_its_deciding_parameter(tmp_path: Path) -> None:
    from analysis.claims.figure import worlds_figure

    prices = [200.0, 210.0, 220.0, 240.0, 260.0, 280.0, 300.0, 320.0]
    effects = {k: p - 250.0 for k, p in enumerate(prices)}
    w = summarise([CellTest({"x": "1"}, None, "", True, effects, 0.0)],
                  _rs_with_worlds(prices))
    # each world's outcome sits beside its drawn value
    assert [(r["price.initial_usd"], r["holds"]) for r in w["per_world"]] == [
        (p, p > 250) for p in prices]
    v = Verdict(99, "a earns more than b", HOLDS, "", [], ["gap"], era="dtao", worlds=w)
    path = worlds_figure([v], tmp_path / "fig.png")
    assert path is not None and path.stat().st_size > 0
    # no priors: no figure rather than an empty one
    v0 = Verdict(99, "t", HOLDS, "", [], ["gap"], worlds={})
    assert worlds_figure([v0], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
