"""Tests of analysis.game on textbook games with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.game import (
    alpharank,
    alpharank_sweep,
    deviation_regret,
    find_equilibria,
    find_symmetric_equilibria,
    mixed_regret,
    regret_from_means,
    replicator_trajectory,
    replicator_trajectory_two_pop,
    symmetric_regret,
)

# Prisoner's dilemma, strategies (C, D): row payoff; the column payoff is its transpose.
PD = np.array([[3.0, 0.0], [5.0, 1.0]])
# Hawk-dove with V = 2, C = 4, strategies (H, D): ESS = V / C = 1/2 hawks.
HAWK_DOVE = np.array([[(2 - 4) / 2, 2.0], [0.0, 2 / 2]])
# Zero-sum rock-paper-scissors.
RPS = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
# Coordination game (both prefer (0, 0)) and battle of the sexes (row prefers 0, col 1).
COORD = np.array([[2.0, 0.0], [0.0, 1.0]])
BOS_ROW = np.array([[2.0, 0.0], [0.0, 1.0]])
BOS_COL = np.array([[1.0, 0.0], [0.0, 2.0]])
# Matching pennies: row wants to match, column to mismatch.
MP = np.array([[1.0, -1.0], [-1.0, 1.0]])


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# -------------------------------------------------------------------------------- regret


def test_regret_zero_at_pure_equilibrium_positive_elsewhere() -> None:
    # (D, D): a defector deviating to C gets 0 instead of 1.
    gains, regret = regret_from_means(PD[1, 1], [PD[0, 1]])
    assert regret == 0.0 and gains[0] == -1.0
    # (C, C): deviating to D gets 5 instead of 3.
    gains, regret = regret_from_means(PD[0, 0], [PD[1, 0]])
    assert regret == 2.0
    # mixed-strategy version
    assert mixed_regret(PD, PD.T, [0, 1], [0, 1]) == (0.0, 0.0)
    assert mixed_regret(PD, PD.T, [1, 0], [1, 0]) == (2.0, 2.0)
    assert symmetric_regret(PD, [0.0, 1.0]) == 0.0
    assert symmetric_regret(PD, [1.0, 0.0]) == 2.0
    assert symmetric_regret(HAWK_DOVE, [0.5, 0.5]) == pytest.approx(0.0, abs=1e-12)


def test_deviation_regret_with_seed_samples() -> None:
    rng = np.random.default_rng(10)
    n = 12
    honest = rng.normal(10, 2, size=n)  # per-seed payoff in the all-honest profile
    # Equilibrium: both deviations lose about 1 and 0.5 (common random numbers).
    dev = np.stack([honest - 1 + rng.normal(0, 0.1, n), honest - 0.5 + rng.normal(0, 0.1, n)])
    res = deviation_regret(honest, dev, rng=0)
    assert res.regret == 0.0
    assert res.best_deviation == 1
    assert res.max_gain.high < 0  # confidently no profitable deviation
    assert all(g.high < 0 for g in res.gains)
    # Not an equilibrium: deviation 1 gains 2.
    dev[1] = honest + 2 + rng.normal(0, 0.1, n)
    res = deviation_regret(honest, dev, rng=0)
    assert res.best_deviation == 1
    assert res.regret == pytest.approx(2.0, abs=0.15)
    assert res.max_gain.low > 1.5 and res.gains[1].excludes(0.0)
    # one baseline row per deviation (two roles stacked) works too
    res2 = deviation_regret(np.stack([honest, honest]), dev, rng=0)
    assert res2.max_gain == res.max_gain


def test_regret_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="deviations"):
        deviation_regret([1.0, 2.0], [1.0, 2.0])  # deviations must be 2-D
    with pytest.raises(ValueError, match="seeds"):
        deviation_regret([1.0, 2.0, 3.0], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        deviation_regret([1.0], [[2.0]])
    with pytest.raises(ValueError, match="NaN"):
        regret_from_means(1.0, [np.nan])
    with pytest.raises(ValueError, match="probability"):
        mixed_regret(PD, PD.T, [0.5, 0.6], [1, 0])
    with pytest.raises(ValueError, match="shapes differ"):
        mixed_regret(PD, np.ones((3, 2)), [1, 0], [1, 0])


# ---------------------------------------------------------------------------- replicator


@pytest.mark.parametrize("method", ["ode", "discrete"])
@pytest.mark.parametrize("start", [0.05, 0.3, 0.9])
def test_hawk_dove_converges_to_half_hawks(method: str, start: float) -> None:
    traj = replicator_trajectory(
        HAWK_DOVE,
        [start, 1 - start],
        t_max=40.0,
        method=method,
        dt=0.01,  # type: ignore[arg-type]
    )
    assert traj.x.shape == (201, 2) and traj.y is None
    np.testing.assert_allclose(traj.x[-1], [0.5, 0.5], atol=1e-4)
    np.testing.assert_allclose(traj.x.sum(axis=1), 1.0)


def test_rock_paper_scissors_orbits_stay_interior() -> None:
    # For zero-sum RPS, x1 x2 x3 is a constant of motion (Hofbauer & Sigmund 1998,
    # sec. 7.7): orbits are closed curves around (1/3, 1/3, 1/3), never reaching a face.
    x0 = np.array([0.5, 0.3, 0.2])
    traj = replicator_trajectory(RPS, x0, t_max=60.0, n_points=601)
    prod = traj.x.prod(axis=1)
    np.testing.assert_allclose(prod, x0.prod(), rtol=1e-6)
    assert traj.x.min() > 0.1
    # the orbit keeps moving (it does not converge to the centre)
    assert np.abs(traj.x[-100:] - 1 / 3).max() > 0.1


def test_matching_pennies_two_populations_cycles_around_the_mixed_equilibrium() -> None:
    # Zero-sum bimatrix game with interior equilibrium (1/2, 1/2), (1/2, 1/2):
    # H = sum_i log x_i + sum_j log y_j is conserved (Hofbauer & Sigmund 1998, sec. 11.2)
    # and the time average of the orbit converges to the equilibrium.
    traj = replicator_trajectory_two_pop(
        MP, -MP, [0.8, 0.2], [0.4, 0.6], t_max=200.0, n_points=4001
    )
    assert traj.y is not None
    h = np.log(traj.x).sum(axis=1) + np.log(traj.y).sum(axis=1)
    np.testing.assert_allclose(h, h[0], rtol=1e-6)
    np.testing.assert_allclose(traj.x.mean(axis=0), [0.5, 0.5], atol=0.02)
    np.testing.assert_allclose(traj.y.mean(axis=0), [0.5, 0.5], atol=0.02)
    assert np.abs(traj.x[:, 0] - 0.5).max() > 0.25  # it does not spiral in


def test_two_population_discrete_replicator_prisoners_dilemma() -> None:
    traj = replicator_trajectory_two_pop(
        PD, PD.T, [0.9, 0.1], [0.5, 0.5], t_max=30.0, method="discrete", dt=0.05
    )
    assert traj.y is not None
    assert traj.x[-1, 1] > 0.999 and traj.y[-1, 1] > 0.999  # everybody defects


def test_absent_strategies_stay_absent() -> None:
    traj = replicator_trajectory(RPS, [0.5, 0.5, 0.0], t_max=5.0)
    assert np.all(traj.x[:, 2] == 0.0)


def test_replicator_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        replicator_trajectory(np.ones((2, 3)), [0.5, 0.5])
    with pytest.raises(ValueError, match="x0"):
        replicator_trajectory(PD, [0.5, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        replicator_trajectory(np.array([[1.0, np.nan], [0.0, 1.0]]), [0.5, 0.5])
    with pytest.raises(ValueError, match="method"):
        replicator_trajectory(PD, [0.5, 0.5], method="euler")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="t_max"):
        replicator_trajectory(PD, [0.5, 0.5], t_max=-1.0)


# ---------------------------------------------------------------------------- Nash finder


def _has(eqs: list, x: list[float], y: list[float] | None = None, tol: float = 1e-6) -> bool:
    for e in eqs:
        if np.allclose(e.x, x, atol=tol) and (y is None or np.allclose(e.y, y, atol=tol)):
            return True
    return False


def test_prisoners_dilemma_has_only_defect_defect() -> None:
    eqs = find_equilibria(PD, PD.T, rng=0, n_starts=16)
    assert len(eqs) == 1
    assert _has(eqs, [0, 1], [0, 1])
    assert eqs[0].regret == 0.0 and eqs[0].basin == 1.0 and eqs[0].is_pure


def test_coordination_game_both_pure_and_the_mixed() -> None:
    eqs = find_equilibria(COORD, COORD, rng=np.random.default_rng(1), n_starts=32)
    assert len(eqs) == 3
    assert _has(eqs, [1, 0], [1, 0]) and _has(eqs, [0, 1], [0, 1])
    assert _has(eqs, [1 / 3, 2 / 3], [1 / 3, 2 / 3])  # indifference: 2 y0 = 1 - y0
    for e in eqs:
        assert e.regret <= 1e-6
        assert max(mixed_regret(COORD, COORD, e.x, e.y)) == pytest.approx(e.regret)
    pure = [e for e in eqs if e.is_pure]
    mixed = [e for e in eqs if not e.is_pure]
    # both pure equilibria attract replicator starts; the mixed one is a saddle
    assert all(e.basin > 0 for e in pure) and sum(e.basin for e in pure) == 1.0
    assert mixed[0].basin == 0.0 and mixed[0].found_by == "support"


def test_battle_of_the_sexes_mixed_equilibrium() -> None:
    eqs = find_equilibria(BOS_ROW, BOS_COL, rng=2, n_starts=32)
    assert len(eqs) == 3
    # row mixes to make the column indifferent: x0 * 1 = x1 * 2 -> x = (2/3, 1/3);
    # column makes the row indifferent: 2 y0 = y1 -> y = (1/3, 2/3).
    assert _has(eqs, [2 / 3, 1 / 3], [1 / 3, 2 / 3])
    assert _has(eqs, [1, 0], [1, 0]) and _has(eqs, [0, 1], [0, 1])


def test_matching_pennies_nash_is_found_although_replicator_cycles() -> None:
    eqs = find_equilibria(MP, -MP, rng=3, n_starts=8)
    assert len(eqs) == 1 and _has(eqs, [0.5, 0.5], [0.5, 0.5])
    assert eqs[0].basin == 0.0  # no start converges: orbits are closed


def test_nash_finder_is_reproducible_and_finds_rectangular_games() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    e1 = find_equilibria(a, b, rng=5, n_starts=16)
    e2 = find_equilibria(a, b, rng=5, n_starts=16)
    assert len(e1) >= 1 and len(e1) == len(e2)
    for u, v in zip(e1, e2, strict=True):
        np.testing.assert_array_equal(u.x, v.x)
        assert u.basin == v.basin
    for e in e1:
        assert e.x.shape == (3,) and e.y.shape == (4,) and e.regret <= 1e-6 * np.ptp([a, b])
    # replicator-only search finds a subset of the full search
    rep_only = find_equilibria(a, b, rng=5, n_starts=16, support_enumeration=False)
    assert all(_has(e1, e.x, e.y, tol=1e-6) for e in rep_only)


def test_symmetric_equilibria_hawk_dove_and_rps() -> None:
    eqs = find_symmetric_equilibria(HAWK_DOVE, rng=0, n_starts=16)
    assert len(eqs) == 1
    np.testing.assert_allclose(eqs[0].x, [0.5, 0.5], atol=1e-9)
    assert eqs[0].basin == 1.0 and eqs[0].found_by == "replicator+support"
    with pytest.raises(AttributeError):
        _ = eqs[0].y
    rps = find_symmetric_equilibria(RPS, rng=0, n_starts=4)
    assert len(rps) == 1
    np.testing.assert_allclose(rps[0].x, [1 / 3] * 3, atol=1e-9)


def test_continuum_of_equilibria_is_reported_once() -> None:
    # Row strategies 0 and 1 are duplicates (identical payoffs for both roles), so with
    # the column at 0 every mix of rows 0 and 1 is an equilibrium: one component, found
    # at many points by the replicator starts, reported once with its extent. Row 2 with
    # column 1 is a separate strict equilibrium.
    a = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 2.0]])
    b = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    eqs = find_equilibria(a, b, rng=0, n_starts=32)
    continuum = [e for e in eqs if e.n_points > 1 and e.basin > 0]
    assert len(continuum) == 1
    c = continuum[0]
    np.testing.assert_allclose(c.y, [1.0, 0.0])
    assert c.x[2] == 0.0 and c.is_pure and c.spread == pytest.approx(1.0)
    assert _has(eqs, [0, 0, 1], [0, 1])
    assert sum(e.basin for e in eqs) == pytest.approx(1.0)


def test_nash_finder_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="payoff_col"):
        find_equilibria(PD, [[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match="n_starts"):
        find_equilibria(PD, PD.T, n_starts=-1)
    with pytest.raises(ValueError, match="square"):
        find_symmetric_equilibria(np.ones((2, 3)))


# ----------------------------------------------------------------------------- alpha-Rank


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5])
def test_alpharank_two_strategy_game_matches_hand_computation_m2(alpha: float) -> None:
    # Single population, strategies A and B, M = [[a, b], [c, d]] (row's payoff).
    # With population size m = 2 a single mutant is half the population; the Fermi
    # fixation probability of A invading B is rho_{B->A} = (1 + exp(-alpha (f_A - f_B)))^-1
    # with f_A = M[A, B] = b (the A mutant meets the other agent, a B) and f_B = M[B, A] = c.
    # Two states, eta = 1/(2-1) = 1: the chain is
    #   P(B -> A) = sigmoid(alpha (b - c)),  P(A -> B) = sigmoid(alpha (c - b)),
    # and balance pi_A P(A->B) = pi_B P(B->A) gives
    #   pi_A = sigmoid(alpha (b - c)) / (sigmoid(alpha (b - c)) + sigmoid(alpha (c - b)))
    #        = sigmoid(alpha (b - c))   (since sigmoid(z) + sigmoid(-z) = 1).
    a, b, c, d = 3.0, 0.5, 1.5, 2.0
    res = alpharank(np.array([[a, b], [c, d]]), alpha=alpha, m=2)
    expected = _sigmoid(alpha * (b - c))
    np.testing.assert_allclose(res.pi, [expected, 1 - expected], rtol=1e-12)
    np.testing.assert_allclose(
        res.transition, [[1 - (1 - expected), 1 - expected], [expected, 1 - expected]], rtol=1e-12
    )
    np.testing.assert_allclose(res.fixation[1, 0], expected)
    assert res.profiles.tolist() == [[0], [1]]


def test_alpharank_two_strategy_game_matches_hand_computation_m3() -> None:
    # Same 2x2 game, m = 3. p = number of A players in a population of B:
    #   p = 1: f_A = b (meets two B's),          f_B = (c + d) / 2 (meets one A, one B)
    #   p = 2: f_A = (a + b) / 2 (one A, one B), f_B = c          (meets two A's)
    # rho_{B->A} = 1 / (1 + e^{-alpha (b - (c+d)/2)} + e^{-alpha (b - (c+d)/2)}
    #                                               * e^{-alpha ((a+b)/2 - c)}).
    # For B invading A, swap roles: (a, b, c, d) -> (d, c, b, a).
    a, b, c, d = 3.0, 0.5, 1.5, 2.0
    alpha = 0.7

    def rho(a: float, b: float, c: float, d: float) -> float:
        t1 = math.exp(-alpha * (b - (c + d) / 2))
        t2 = t1 * math.exp(-alpha * ((a + b) / 2 - c))
        return 1.0 / (1.0 + t1 + t2)

    r_ba, r_ab = rho(a, b, c, d), rho(d, c, b, a)
    pi_a = r_ba / (r_ba + r_ab)
    res = alpharank(np.array([[a, b], [c, d]]), alpha=alpha, m=3)
    np.testing.assert_allclose(res.pi, [pi_a, 1 - pi_a], rtol=1e-12)


def test_alpharank_local_selection_closed_form() -> None:
    # With local selection the fitness difference is constant, u = alpha (M[r,s] - M[s,r]),
    # and rho = (1 - e^{-u}) / (1 - e^{-m u}).
    a, b, c, d = 3.0, 0.5, 1.5, 2.0
    alpha, m = 0.4, 10
    u = alpha * (b - c)
    r_ba = (1 - math.exp(-u)) / (1 - math.exp(-m * u))
    r_ab = (1 - math.exp(u)) / (1 - math.exp(m * u))
    res = alpharank(np.array([[a, b], [c, d]]), alpha=alpha, m=m, local_selection=True)
    np.testing.assert_allclose(res.pi[0], r_ba / (r_ba + r_ab), rtol=1e-12)


def test_alpharank_alpha_zero_is_uniform_and_rows_sum_to_one() -> None:
    rng = np.random.default_rng(12)
    tables = [rng.normal(size=(3, 2)), rng.normal(size=(3, 2))]
    res = alpharank(tables, alpha=0.0, m=20)
    np.testing.assert_allclose(res.pi, np.full(6, 1 / 6))
    res = alpharank(tables, alpha=1.0, m=20)
    np.testing.assert_allclose(res.transition.sum(axis=1), 1.0)
    assert res.profiles.shape == (6, 2)
    assert res.profiles[1].tolist() == [0, 1]  # C order: last population fastest
    np.testing.assert_allclose([mg.sum() for mg in res.marginals], [1.0, 1.0])
    np.testing.assert_allclose(res.marginals[0], res.pi.reshape(3, 2).sum(axis=1))


def test_alpharank_ranks_strictly_dominant_strategy_first() -> None:
    rng = np.random.default_rng(13)
    mat = rng.normal(size=(4, 4))
    mat[2] = mat.max(axis=0) + 0.5  # strategy 2 strictly dominates every other
    res = alpharank(mat, alpha=50.0, m=50)
    assert res.ranking[0] == 2 and res.pi[2] > 0.99
    # multi-population: the prisoner's dilemma (D, D) profile, id 3, takes all the mass
    res2 = alpharank([PD, PD.T], alpha=100.0, m=50)
    assert res2.ranking[0] == 3 and res2.pi[3] == pytest.approx(1.0)
    np.testing.assert_allclose(res2.marginals[0], [0.0, 1.0], atol=1e-12)


def test_alpharank_large_alpha_sweep_converges() -> None:
    sweep = alpharank_sweep([PD, PD.T], m=50)
    assert sweep.pi.shape == (sweep.alphas.size, 4)
    assert sweep.converged_alpha is not None
    assert np.argmax(sweep.pi[-1]) == 3
    # Rock-paper-scissors: every strategy is beaten by another, the chain is a cycle
    # and the ranking stays uniform at every alpha.
    rps = alpharank_sweep(RPS, alphas=[0.1, 1.0, 10.0, 1e3, 1e6], m=10)
    np.testing.assert_allclose(rps.pi, 1 / 3, atol=1e-12)
    assert rps.converged_alpha == 0.1


def test_alpharank_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        alpharank(np.ones((2, 3)))
    with pytest.raises(ValueError, match="one axis per population"):
        alpharank([np.ones((2, 2)), np.ones(2)])
    with pytest.raises(ValueError, match="shape"):
        alpharank([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="m must"):
        alpharank(PD, m=1)
    with pytest.raises(ValueError, match="alpha"):
        alpharank(PD, alpha=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        alpharank([PD, np.full((2, 2), np.nan)])
    with pytest.raises(ValueError, match="increasing"):
        alpharank_sweep(PD, alphas=[1.0, 0.5])


def test_alpharank_matches_openspiel() -> None:
    pytest.importorskip("open_spiel")
    open_spiel_alpharank = pytest.importorskip("open_spiel.python.egt.alpharank")
    rng = np.random.default_rng(14)
    # moderate alpha and m keep OpenSpiel's eigenvector solver well-conditioned
    for _ in range(5):
        mat = rng.normal(size=(3, 3))
        for local in (False, True):
            _, _, pi_os, _, _ = open_spiel_alpharank.compute(
                [mat], m=8, alpha=0.5, use_local_selection_model=local
            )
            ours = alpharank(mat, alpha=0.5, m=8, local_selection=local).pi
            np.testing.assert_allclose(ours, pi_os, atol=1e-8)
        tables = [rng.normal(size=(3, 2)), rng.normal(size=(3, 2))]
        _, _, pi_os, _, _ = open_spiel_alpharank.compute(tables, m=8, alpha=0.5)
        np.testing.assert_allclose(alpharank(tables, alpha=0.5, m=8).pi, pi_os, atol=1e-8)


def test_replicator_follows_a_slow_direction_to_its_equilibrium() -> None:
    """Row strategy 0 beats 1 by exactly 1 whatever the column plays, beside payoffs of
    3,000: the dynamics run until the starts come to rest, so every start reaches the
    equilibrium (basin 1); a fixed horizon of 1,000 payoff units leaves most short."""
    a = np.array([[3001.0, 1.0], [3000.0, 0.0]])
    b = np.array([[1.0, 0.0], [1.0, 0.0]])  # the column role's own range is 1
    eqs = find_equilibria(a, b, rng=0, n_starts=16)
    assert eqs[0].is_pure and eqs[0].basin == 1.0
    np.testing.assert_array_equal(eqs[0].x, [1.0, 0.0])
    np.testing.assert_array_equal(eqs[0].y, [1.0, 0.0])
    short = find_equilibria(a, b, rng=0, n_starts=16, t_max=1000.0)
    assert short[0].basin < 0.2  # only starts that began next to it arrive
