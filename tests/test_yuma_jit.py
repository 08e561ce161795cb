"""The compiled Yuma kernel (world/yuma_jit.py) against the numpy reference (world/yuma.py).

Every output field, bonds included, must match the numpy kernel to 1e-12 (rtol 0) on
MODEL.md section 3's worked example, on hypothesis-drawn subnets (zeros, ties, one validator,
one UID, both bond versions, liquid alpha, extreme kappas that force the exact median path),
on chains of epochs that feed bonds and permits forward, and on a full 256-UID subnet; the
batched form must equal a loop of single epochs. Inputs the compiled kernel declines go to
the numpy kernel, so errors and odd values behave as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

pytest.importorskip("numba")

from world import yuma, yuma_jit  # noqa: E402
from world.yuma import YumaParams, YumaResult, epoch, epoch_batch  # noqa: E402

KAPPA = 32767 / 65535
FIELDS = tuple(f.name for f in fields(YumaResult))
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def backend(name: str) -> Iterator[None]:
    """Force world.yuma's backend inside the block."""
    was = yuma.BACKEND
    yuma.BACKEND = name
    try:
        yield
    finally:
        yuma.BACKEND = was


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the compiled kernel declines (and the numpy kernel would run instead)."""
    run = yuma_jit.run

    def checked(*args, **kwargs) -> YumaResult:
        result = run(*args, **kwargs)
        assert result is not None, "the compiled kernel declined inputs it should handle"
        return result

    monkeypatch.setattr(yuma_jit, "run", checked)


def assert_same(got: YumaResult, want: YumaResult) -> None:
    """Every field equal to 1e-12 (absolute), permits exactly."""
    for name in FIELDS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.shape == b.shape and a.dtype == b.dtype, name
        if a.dtype == bool:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=name)


def both(function, **kwargs) -> tuple[YumaResult, YumaResult]:
    """``function(**kwargs)`` with the compiled kernel, then with the numpy kernel."""
    with backend("numba"):
        compiled = function(**kwargs)
    with backend("numpy"):
        reference = function(**kwargs)
    return compiled, reference


# ---------------------------------------------------------------------------------------------
# Hypothesis strategies
# ---------------------------------------------------------------------------------------------

# Weights and stakes: zeros, a spread of magnitudes, and a few values that tie exactly.
values = st.one_of(st.just(0.0), st.floats(1e-6, 1e3), st.sampled_from([1.0, 0.5, 2.0, 3.0]))
# Bonds: the compiled kernel hands sums below 1e-300 to the reference, so none here.
bond_values = st.one_of(st.just(0.0), st.floats(1e-6, 1.0), st.sampled_from([0.1, 0.5, 1.0]))
kappas = st.one_of(st.just(KAPPA), st.sampled_from([0.0, 0.5, 1.0, 1 / 3]), st.floats(0.0, 1.0))


@st.composite
def params(draw) -> YumaParams:
    """Any valid hyperparameters, liquid alpha (yuma3 only) included."""
    version = draw(st.sampled_from(["yuma2", "yuma3"]))
    liquid = version == "yuma3" and draw(st.booleans())
    low = draw(st.floats(0.05, 1.0))
    return YumaParams(
        version=version,
        kappa=draw(kappas),
        bonds_penalty=draw(st.one_of(st.sampled_from([1.0, 0.0]), st.floats(0.0, 1.0))),
        bonds_ema_rate=draw(st.one_of(st.just(0.1), st.floats(0.0, 1.0))),
        liquid_alpha=liquid,
        alpha_low=low,
        alpha_high=draw(st.floats(low, 1.0)),
        alpha_steepness=draw(st.one_of(st.just(10.0), st.floats(0.0, 100.0))),
        max_validators=draw(st.integers(1, 8)),
        stake_threshold=draw(st.one_of(st.just(0.0), st.sampled_from([0.5, 1.0, 2.0]))),
    )


@st.composite
def subnets(draw, max_n: int = 9, elements=values, bonds=bond_values):
    """Inputs for ``epoch`` (a dict) and params: every optional mask sometimes given."""
    n = draw(st.integers(1, max_n))
    mask = hnp.arrays(bool, n)
    blocks = hnp.arrays(np.int64, n, elements=st.integers(0, 5))
    args = {
        "weights": draw(hnp.arrays(float, (n, n), elements=elements)),
        "stake": draw(hnp.arrays(float, n, elements=elements)),
        "bonds": draw(hnp.arrays(float, (n, n), elements=bonds)),
        "permits": draw(st.one_of(st.none(), mask)),
        "active": draw(st.one_of(st.none(), mask)),
        "new_registrations": draw(st.one_of(st.none(), mask)),
    }
    if draw(st.booleans()):
        args["last_update"] = draw(blocks)
        args["block_at_registration"] = draw(blocks)
    if draw(st.booleans()):  # a subnet owner's UID (MODEL.md section 9), or explicitly none
        args["owner_uid"] = draw(st.integers(-1, n - 1))
    return args, draw(params())


# ---------------------------------------------------------------------------------------------
# Equal to the numpy kernel
# ---------------------------------------------------------------------------------------------


def test_worked_example_from_model_md(no_fallback):
    w = np.zeros((4, 4))
    w[0, 2:], w[1, 2:] = [0.5, 0.5], [1.0, 0.0]
    with backend("numba"):
        res = epoch(w, np.array([0.5, 0.5, 0, 0]), np.zeros((4, 4)), YumaParams())
    np.testing.assert_allclose(res.consensus, [0, 0, 1.0, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.incentive, [0, 0, 0.75, 0.25], rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.dividends, [0.5, 0.5, 0, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.bonds[:2, 2:], [[0.05, 0.05], [0.1, 0.0]], atol=1e-15)
    with backend("numpy"):
        assert_same(res, epoch(w, np.array([0.5, 0.5, 0, 0]), np.zeros((4, 4)), YumaParams()))


@PROPS
@given(subnets())
def test_matches_numpy_on_random_subnets(case):
    args, p = case
    compiled, reference = both(epoch, params=p, **args)
    assert_same(compiled, reference)


@PROPS
@given(subnets())
def test_clean_inputs_never_fall_back_to_numpy(case):
    args, p = case
    assume(p.bonds_ema_rate == 0.0 or p.bonds_ema_rate > 1e-200)  # else bond sums < 1e-300
    with backend("numba"):
        res = yuma_jit.run(yuma._Inputs.of(
            *(None if args.get(k) is None else np.asarray(args[k])[None] for k in (
                "weights", "stake", "bonds", "permits", "active", "new_registrations",
                "last_update", "block_at_registration", "owner_uid"))), p)
    assert res is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subnets(max_n=7), st.integers(2, 5))
def test_matches_numpy_over_epochs_feeding_bonds_and_permits_forward(case, epochs):
    args, p = case
    rng = np.random.default_rng(len(args["stake"]))
    state = {"numba": (args["bonds"], args["permits"]), "numpy": (args["bonds"],
                                                                  args["permits"])}
    for _ in range(epochs):
        results = {}
        for name, (bonds, permits) in state.items():
            with backend(name):
                results[name] = epoch(params=p, **{**args, "bonds": bonds, "permits": permits})
        assert_same(results["numba"], results["numpy"])
        state = {name: (r.bonds, r.new_permits) for name, r in results.items()}
        noise = rng.random(args["weights"].shape) < 0.3
        args = {**args, "weights": np.where(noise, rng.random(noise.shape), args["weights"])}


@PROPS
@given(subnets(elements=st.sampled_from([0.0, 1.0, 2.0]), bonds=st.sampled_from([0.0, 0.5])))
def test_matches_numpy_when_everything_ties(case):
    # Equal stakes and weights put the median's cumulative stake exactly on the threshold
    # (kappa 0.5, 0, 1, 1/3): the compiled kernel must take its exact path.
    args, p = case
    compiled, reference = both(epoch, params=p, **args)
    assert_same(compiled, reference)


@pytest.mark.parametrize("version", ["yuma2", "yuma3"])
@pytest.mark.parametrize("kappa", [KAPPA, 0.0, 1.0])
def test_matches_numpy_on_a_full_subnet(version, kappa, no_fallback):
    # 256 UIDs, 64 staked validators on 192 miners, stale bond rows, several epochs.
    rng = np.random.default_rng(7)
    n, v = 256, 64
    stake = np.zeros(n)
    stake[:v] = rng.lognormal(0, 1, v)
    bonds, permits = rng.random((n, n)) * 0.1, None
    p = YumaParams(version=version, kappa=kappa, liquid_alpha=version == "yuma3")
    for _ in range(3):
        w = np.zeros((n, n))
        w[:v, v:] = rng.random((v, n - v)) ** 4
        w[:v, v + 5] = 0.25  # a column where every validator sets the same weight
        compiled, reference = both(epoch, weights=w, stake=stake, bonds=bonds, params=p,
                                   permits=permits)
        assert_same(compiled, reference)
        bonds, permits = reference.bonds, reference.new_permits


def test_matches_numpy_with_more_than_64_validators_and_top_k_ties(no_fallback):
    # 100 permitted validators (the exact median path's blocks of 128), every UID staked
    # with ties at the k-th largest stake (permits to the higher UID).
    rng = np.random.default_rng(3)
    n = 160
    stake = rng.integers(1, 6, n).astype(float)
    p = YumaParams(max_validators=100, kappa=0.5)
    w = rng.integers(0, 4, (n, n)).astype(float)
    compiled, reference = both(epoch, weights=w, stake=stake, bonds=rng.random((n, n)),
                               params=p, permits=np.arange(n) < 100)
    assert_same(compiled, reference)
    assert compiled.new_permits.sum() == 100


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 7), st.integers(1, 12), params(), st.integers(0, 2**32 - 1))
def test_batched_equals_looped_and_numpy(n, b, p, seed):
    rng = np.random.default_rng(seed)

    def sparse(shape):
        return rng.random(shape) * (rng.random(shape) < 0.7)

    args = {
        "weights": sparse((b, n, n)) * 10,
        "stake": sparse((b, n)),
        "bonds": sparse((b, n, n)),
        "permits": rng.random((b, n)) < 0.7,
        "active": rng.random((b, n)) < 0.9,
        "new_registrations": rng.random((b, n)) < 0.2,
        "last_update": rng.integers(0, 5, (b, n)),
        "block_at_registration": rng.integers(0, 5, (b, n)),
        "owner_uid": rng.integers(-1, n, b),  # some subnets with an owner UID, some without
    }
    compiled, reference = both(epoch_batch, params=p, **args)
    assert_same(compiled, reference)
    with backend("numba"):
        for k in range(b):
            looped = epoch(params=p, **{name: x[k] for name, x in args.items()})
            for name in FIELDS:  # the same code per subnet (declined ones too): bit for bit
                np.testing.assert_array_equal(getattr(compiled, name)[k],
                                              getattr(looped, name), err_msg=name)


def test_a_declined_subnet_of_a_batch_goes_to_numpy_alone():
    rng = np.random.default_rng(2)
    b, n = 5, 6
    args = {"weights": rng.random((b, n, n)), "stake": rng.random((b, n)),
            "bonds": rng.random((b, n, n))}
    args["bonds"][2, 0, 0] = 1e-310  # a subnormal bond: column sums below 1e-300
    args["bonds"][2, 1:, 0] = 0.0
    with backend("numba"):
        batched = epoch_batch(params=YumaParams(bonds_ema_rate=1e-300), **args)
        for k in range(b):
            looped = epoch(params=YumaParams(bonds_ema_rate=1e-300),
                           **{name: x[k] for name, x in args.items()})
            assert_same(batched[k], looped)
    args["weights"][3, 0, 1] = np.nan
    for which in ("numba", "numpy"):
        with backend(which), pytest.raises(ValueError, match="weights"):
            epoch_batch(params=YumaParams(), **args)


# ---------------------------------------------------------------------------------------------
# out= (bonds updated in place) and permitted_bonds_only (what the world passes)
# ---------------------------------------------------------------------------------------------


def chain_args(rng: np.random.Generator, b: int, n: int) -> dict[str, np.ndarray]:
    """One epoch's inputs for b subnets of n UIDs, about half of them validators."""
    validators = rng.random((b, n)) < 0.5
    return {"weights": rng.random((b, n, n)) * validators[..., None] * 3,
            "stake": rng.random((b, n)) * validators,
            "new_registrations": rng.random((b, n)) < 0.1}


@pytest.mark.parametrize("which", ["numba", "numpy"])
@pytest.mark.parametrize("p", [YumaParams(), YumaParams(version="yuma2"),
                               YumaParams(liquid_alpha=True, max_validators=3)])
def test_bonds_updated_in_place_over_epochs_equal_fresh_ones(which, p):
    rng = np.random.default_rng(11)
    b, n = 4, 9
    fresh = in_place = np.zeros((b, n, n))
    permits = None
    with backend(which):
        for _ in range(6):
            args = chain_args(rng, b, n)
            first = in_place[0].copy()  # a single epoch, in place too
            one = epoch(params=p, bonds=first, permits=None if permits is None else permits[0],
                        out=first, permitted_bonds_only=True,
                        **{k: v[0] for k, v in args.items()})
            want = epoch_batch(params=p, bonds=fresh, permits=permits, **args)
            got = epoch_batch(params=p, bonds=in_place, permits=permits, out=in_place,
                              permitted_bonds_only=True, **args)
            assert got.bonds is in_place and one.bonds is first
            for name in FIELDS:
                np.testing.assert_array_equal(getattr(got, name), getattr(want, name), name)
            assert_same(one, want[0])
            fresh, permits = want.bonds, want.new_permits


@pytest.mark.parametrize("which", ["numba", "numpy"])
def test_a_separate_out_buffer_is_overwritten_everywhere(which):
    rng = np.random.default_rng(12)
    b, n = 3, 8
    args = chain_args(rng, b, n)
    bonds = rng.random((b, n, n))  # rows outside permits too: they are read and cleared
    out = np.full((b, n, n), 7.0)
    with backend(which):
        want = epoch_batch(params=YumaParams(), bonds=bonds, **args)
        got = epoch_batch(params=YumaParams(), bonds=bonds, out=out, **args)
        one = epoch(params=YumaParams(), bonds=bonds[1], out=out[1].copy(),
                    **{k: v[1] for k, v in args.items()})
    assert got.bonds is out
    np.testing.assert_array_equal(out, want.bonds)
    np.testing.assert_array_equal(one.bonds, want.bonds[1])


def test_in_place_bonds_outside_permits_are_read_and_cleared_without_the_promise():
    rng = np.random.default_rng(13)
    b, n = 3, 8
    args = chain_args(rng, b, n)
    bonds = rng.random((b, n, n))
    want = epoch_batch(params=YumaParams(version="yuma2"), bonds=bonds, **args)
    with backend("numba"):
        got = epoch_batch(params=YumaParams(version="yuma2"), bonds=bonds, out=bonds, **args)
    assert_same(got, want)


def test_a_subnet_declined_late_is_computed_from_intact_bonds_in_place():
    rng = np.random.default_rng(2)
    b, n = 5, 6
    args = {"weights": rng.random((b, n, n)), "stake": rng.random((b, n))}
    bonds = rng.random((b, n, n))
    bonds[2, 0, 0] = 1e-310  # subnet 2's column sums fall below 1e-300 after its new bonds
    bonds[2, 1:, 0] = 0.0
    p = YumaParams(bonds_ema_rate=1e-300)
    want = epoch_batch(params=p, bonds=bonds.copy(), **args)
    with backend("numba"):
        got = epoch_batch(params=p, bonds=bonds, out=bonds, **args)
    assert_same(got, want)


@pytest.mark.parametrize(
    ("out", "match"),
    [(np.zeros((2, 4, 4), dtype=np.float32), "float64"), (np.zeros((2, 4, 5)), "shape"),
     ([[0.0]], "float64"), (np.zeros((2, 4, 8))[:, :, ::2], "C-contiguous")],
)
def test_a_bad_out_is_refused_naming_it(out, match):
    args = {"weights": np.ones((2, 4, 4)), "stake": np.ones((2, 4)), "bonds": np.zeros((2, 4, 4))}
    with pytest.raises(ValueError, match=f"out must .*{match}"):
        epoch_batch(params=YumaParams(), out=out, **args)


def test_out_overlapping_the_bonds_without_being_them_is_refused():
    bonds = np.zeros((3, 4, 4))
    with pytest.raises(ValueError, match="out must be the bonds array itself"):
        epoch_batch(np.ones((2, 4, 4)), np.ones((2, 4)), bonds[:2], YumaParams(), out=bonds[1:])


# ---------------------------------------------------------------------------------------------
# Inputs the compiled kernel hands back to numpy
# ---------------------------------------------------------------------------------------------

extreme = st.one_of(
    st.just(0.0),
    st.floats(0.0, 1e300, allow_subnormal=True),
    st.sampled_from([5e-324, 1e-310, 1e300, 1.0]),
)


@PROPS
@given(subnets(elements=extreme, bonds=extreme))
def test_extreme_values_give_the_numpy_results(case):
    args, p = case
    compiled, reference = both(epoch, params=p, **args)
    assert_same(compiled, reference)


@pytest.mark.parametrize(
    ("name", "value"),
    [("weights", np.nan), ("weights", -1.0), ("weights", np.inf), ("stake", -1.0),
     ("stake", np.nan), ("bonds", np.inf), ("bonds", np.nan), ("bonds", -0.5)],
)
def test_bad_values_raise_or_compute_exactly_as_numpy(name, value):
    n = 4
    args = {"weights": np.ones((n, n)), "stake": np.ones(n), "bonds": np.full((n, n), 0.1)}
    args[name] = args[name].copy()
    args[name].flat[1] = value
    outcome = {}
    for which in ("numba", "numpy"):
        with backend(which):
            try:
                outcome[which] = epoch(params=YumaParams(), **args)
            except ValueError as err:
                outcome[which] = str(err)
    if isinstance(outcome["numpy"], str):
        assert outcome["numba"] == outcome["numpy"]
    else:
        assert_same(outcome["numba"], outcome["numpy"])


def test_uint64_block_numbers_use_numpy():
    n = 3
    blocks = np.arange(n, dtype=np.uint64)
    compiled, reference = both(epoch, weights=np.ones((n, n)), stake=np.ones(n),
                               bonds=np.zeros((n, n)), params=YumaParams(),
                               last_update=blocks, block_at_registration=blocks)
    assert_same(compiled, reference)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(5)
    n = 6
    args = {"weights": rng.random((n, n)), "stake": rng.random(n), "bonds": rng.random((n, n)),
            "new_registrations": rng.random(n) < 0.5}
    copies = {k: v.copy() for k, v in args.items()}
    with backend("numba"):
        epoch(params=YumaParams(version="yuma2"), **args)
        epoch(params=YumaParams(liquid_alpha=True), **args)
    for k, v in args.items():
        np.testing.assert_array_equal(v, copies[k], err_msg=k)


# ---------------------------------------------------------------------------------------------
# Pieces and switches
# ---------------------------------------------------------------------------------------------


def test_pairwise_sum_is_numpys_to_the_bit():
    rng = np.random.default_rng(0)
    for n in [*range(0, 300), 511, 512, 1000, 1031, 4099]:
        x = rng.random(n) * 10.0 ** rng.integers(-8, 8, n)
        assert yuma_jit._pairwise_sum(x, n) == np.add.reduce(x), n


def test_backend_switch(monkeypatch):
    monkeypatch.setattr(yuma, "BACKEND", "numba")
    assert yuma._compiled() is yuma_jit
    monkeypatch.setattr(yuma, "BACKEND", "numpy")
    assert yuma._compiled() is None
    monkeypatch.setattr(yuma, "BACKEND", "fortran")
    with pytest.raises(ValueError, match="TAO_ARENA_YUMA must be one of"):
        epoch(np.zeros((2, 2)), np.ones(2), np.zeros((2, 2)), YumaParams())
