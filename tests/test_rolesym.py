"""The role-symmetric game (players are agents): its equilibria, its completion and its
alpha-Rank, on games whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.game.rolesym import role_symmetric_game, rolesym_alpharank_sweep

ROLES = ("miner", "validator")
SETS = (("honest", "lazy"), ("honest", "copier"))


def _gains(table: dict[tuple[str, str], tuple[float, float]]) -> dict:
    """Gains of a 2x2 role-symmetric game from (miner gain, validator gain) of switching
    away at each profile."""
    out = {}
    for (m, v), (gm, gv) in table.items():
        out[((m, v), 0, "lazy" if m == "honest" else "honest")] = gm
        out[((m, v), 1, "copier" if v == "honest" else "honest")] = gv
    return out


def test_a_profile_no_agent_leaves_is_the_equilibrium_and_takes_alpharank_mass() -> None:
    # (honest, honest): both single deviations lose; every other profile has a profitable
    # deviation leading, step by step, to it
    gains = _gains({("honest", "honest"): (-50.0, -10.0), ("honest", "copier"): (-5.0, 20.0),
                    ("lazy", "honest"): (40.0, -3.0), ("lazy", "copier"): (30.0, 8.0)})
    game = role_symmetric_game(ROLES, SETS, gains)
    assert game.missing() == []
    assert game.equilibria() == [("honest", "honest")]
    sweep = rolesym_alpharank_sweep(game)
    fin = sweep.final
    top = fin.profiles[fin.ranking[0]]
    assert tuple(game.strategies[k][i] for k, i in enumerate(top)) == ("honest", "honest")
    assert fin.pi[fin.ranking[0]] > 0.99
    assert sweep.converged_alpha is not None
    assert np.isclose(fin.pi.sum(), 1.0)


def test_a_bound_establishes_an_equilibrium_only_when_every_upper_bound_is_below_epsilon() -> None:
    gains = _gains({("honest", "honest"): (-50.0, -10.0), ("honest", "copier"): (-5.0, 20.0),
                    ("lazy", "honest"): (40.0, -3.0), ("lazy", "copier"): (30.0, 8.0)})
    upper = {k: v + 15.0 for k, v in gains.items()}  # the validator's -10 has upper bound +5
    game = role_symmetric_game(ROLES, SETS, gains, upper)
    assert game.equilibria(0.0, bound=True) == []
    assert game.equilibria(6.0, bound=True) == [("honest", "honest")]


def test_complete_drops_the_strategy_whose_profiles_were_not_run() -> None:
    # only (honest, honest) was run with its deviations: the game of one profile remains
    gains = {(("honest", "honest"), 0, "lazy"): -50.0, (("honest", "honest"), 1, "copier"): 2.0}
    game = role_symmetric_game(ROLES, SETS, gains).complete()
    assert game.missing() == []
    assert game.profiles() == [("honest", "honest")]
    assert set(game.dropped) == {"miner: lazy", "validator: copier"}
    # the dropped copier is still a move a validator can make, and it gains $2/day
    assert game.equilibria() == []
    assert game.equilibria(3.0) == [("honest", "honest")]


def test_bad_gains_are_refused_with_the_key_named() -> None:
    with pytest.raises(ValueError, match="outside the sets"):
        role_symmetric_game(ROLES, SETS, {(("honest", "honest"), 0, "gpt"): 1.0})
    with pytest.raises(ValueError, match="not finite"):
        role_symmetric_game(ROLES, SETS, {(("honest", "honest"), 0, "lazy"): float("nan")})


def test_alpharank_over_the_profiles_run_follows_the_chain_of_better_responses() -> None:
    # run: all-honest, pass-through miners, and pass-through miners with copying validators
    # (the chain a psro loop follows); the 3 other profiles of the 2 x 2 x ... game were not
    sets = (("honest", "gpt"), ("honest", "copier"))
    gains = {
        (("honest", "honest"), 0, "gpt"): 130.0, (("honest", "honest"), 1, "copier"): -5.0,
        (("gpt", "honest"), 0, "honest"): -120.0, (("gpt", "honest"), 1, "copier"): 50.0,
        (("gpt", "copier"), 0, "honest"): -100.0, (("gpt", "copier"), 1, "honest"): -40.0,
    }
    lower = {k: v - 3.0 for k, v in gains.items()}
    game = role_symmetric_game(ROLES, sets, gains, lower=lower)
    run = game.measured()
    assert sorted(run) == [("gpt", "copier"), ("gpt", "honest"), ("honest", "honest")]
    fin = rolesym_alpharank_sweep(game, profiles=run).final
    top = fin.profiles[fin.ranking[0]]
    assert tuple(sets[k][i] for k, i in enumerate(top)) == ("gpt", "copier")
    assert fin.pi[fin.ranking[0]] > 0.99
    # the restricted product game (complete()) cannot see the last step
    assert ("gpt", "copier") not in game.complete().profiles()
    assert game.better_responses(("gpt", "honest")) == [(50.0, 1, "copier")]
