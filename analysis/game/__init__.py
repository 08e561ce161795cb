"""Empirical game-theoretic analysis of payoff tables (numpy and scipy only).

The simulator turns strategy profiles into payoffs; this module treats those payoffs as
an *empirical game* (Wellman 2006, "Methods for empirical game-theoretic analysis",
AAAI; Tuyls et al. 2020, "Bounds and dynamics for empirical game theoretic analysis",
AAMAS J. 34:7) and asks what a game theorist asks. Miners and validators are the roles
of a role-symmetric game; a "two-role table" has one row per miner strategy and one
column per validator strategy, each cell the mean payoff to each role when every miner
plays the row strategy and every validator the column strategy.

Contents:

1. Regret of a profile: :func:`deviation_regret` (per-seed samples, with intervals) and
   :func:`regret_from_means`.
2. Equilibria and dynamics: :func:`find_equilibria` (two roles) and
   :func:`find_symmetric_equilibria` (one population), by replicator dynamics from many
   random starts plus support enumeration; :func:`replicator_trajectory` and
   :func:`replicator_trajectory_two_pop`; :func:`mixed_regret`, :func:`symmetric_regret`.
3. alpha-Rank (Omidshafiei et al. 2019, "alpha-Rank: Multi-Agent Evaluation by
   Evolution", Sci. Rep. 9:9937): :func:`alpharank`, :func:`alpharank_sweep`.

Conventions: a two-role game is a pair ``(payoff_row, payoff_col)`` of arrays of shape
``(n_row, n_col)``: ``payoff_row[i, j]`` is the row role's (miners') payoff and
``payoff_col[i, j]`` the column role's (validators') payoff when row plays ``i`` and
column plays ``j``. A symmetric one-population game is one square array ``M`` with
``M[i, j]`` = payoff of strategy ``i`` against strategy ``j``. Mixed strategies are
probability vectors. Randomness comes only from the ``rng`` argument.
"""

from analysis.game.alpharank import AlphaRankResult, AlphaSweep, alpharank, alpharank_sweep
from analysis.game.equilibria import Equilibrium, find_equilibria, find_symmetric_equilibria
from analysis.game.regret import (
    DeviationRegret,
    deviation_regret,
    mixed_regret,
    regret_from_means,
    symmetric_regret,
)
from analysis.game.replicator import (
    Trajectory,
    replicator_trajectory,
    replicator_trajectory_two_pop,
)

__all__ = [
    "AlphaRankResult",
    "AlphaSweep",
    "DeviationRegret",
    "Equilibrium",
    "Trajectory",
    "alpharank",
    "alpharank_sweep",
    "deviation_regret",
    "find_equilibria",
    "find_symmetric_equilibria",
    "mixed_regret",
    "regret_from_means",
    "replicator_trajectory",
    "replicator_trajectory_two_pop",
    "symmetric_regret",
]

