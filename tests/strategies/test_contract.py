"""What every registered strategy owes, in the manner of Axelrod's ``TestPlayer``.

Parametrised over the whole registry, so a new strategy is held to the contract the
moment it registers: a docstring that says which claim of MODEL.md section 7 it tests
and quotes the report's words it renders, a complete classifier, valid defaults,
parameters that reject out-of-range values with a ``ValueError`` naming them, and a
small network in which it plays for a few dozen epochs with the ledger exact.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from base import accounts, build, run

from agents.base import CLASSIFIER_KEYS, ROLES
from agents.catalog import REGISTRY, strategies_markdown, strategies_table
from agents.owners import SubnetOwner
from world.interfaces import SubnetContext

NAMES = sorted(REGISTRY)
REPORT = Path(__file__).resolve().parents[3] / "shared" / "seed" / "tao-report.txt"
BOOL_KEYS = ("colludes", "stochastic", "needs_gpu", "grades", "copies", "adapts")
# parameters that make a strategy act within a short test run
ACTIVE = {
    "poison_pill": {"trigger_epoch": 8},
    "stake_attacker": {"entry_epoch": 4, "outside_stake_tao": 20_000.0, "n_miners": 2},
}


def _plain(text: str) -> str:
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return " ".join(text.split())


def test_the_registry_has_every_family():
    roles = {REGISTRY[n].role for n in NAMES}
    assert roles == set(ROLES)
    assert len(NAMES) >= 13


@pytest.mark.parametrize("name", NAMES)
def test_docstring_names_a_claim_and_quotes_the_report(name):
    doc = _plain(REGISTRY[name].__doc__ or "")
    assert re.search(r"[Cc]laims? \d+", doc), f"{name}: no claim of MODEL.md section 7"
    quotes = [q.strip() for q in doc.split('"')[1::2] if len(q.split()) >= 6]
    assert quotes, f"{name}: quotes none of the report's words"
    if REPORT.exists():  # beside the project in every checkout (../shared)
        report = _plain(REPORT.read_text(encoding="utf-8"))
        for q in quotes:
            assert q in report, f"{name}: {q!r} is not in the report"


@pytest.mark.parametrize("name", NAMES)
def test_classifier_is_complete(name):
    cls = REGISTRY[name]
    assert set(CLASSIFIER_KEYS) <= set(cls.classifier)
    assert cls.classifier["role"] == cls.role
    assert isinstance(cls.classifier["cost_model"], str) and cls.classifier["cost_model"]
    for key in BOOL_KEYS:
        assert isinstance(cls.classifier[key], bool), f"{name}.classifier[{key!r}]"
    assert cls.classifier["grades"] == (cls.classifier["grades"] and cls.role == "validator")


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_valid_and_documented(name):
    cls = REGISTRY[name]
    values = cls.resolve_params({})
    for key, p in cls.all_params().items():
        assert p.doc, f"{name}.{key} has no doc"
        assert p.validate(name, key, p.default) == values[key]


@pytest.mark.parametrize("name", NAMES)
def test_out_of_range_parameters_raise_naming_them(name):
    cls = REGISTRY[name]
    for key, p in cls.all_params().items():
        bad = []
        if p.choices:
            bad = ["no-such-option", len(p.choices)]
        else:
            bad = [float("nan"), "1"]
            bad += [] if p.low is None else [p.low - 1]
            bad += [] if p.high is None else [p.high + 1]
            bad += [p.default + 0.5] if p.integer else []
        for value in bad:
            with pytest.raises(ValueError, match=rf"{re.escape(name)}\.{key}\b"):
                cls.resolve_params({key: value})
    with pytest.raises(ValueError, match="no parameter"):
        cls.resolve_params({"no_such_parameter": 1})


@pytest.mark.parametrize("name", NAMES)
def test_plays_in_a_small_network_with_an_exact_ledger(name):
    cls = REGISTRY[name]
    count = 1 if name == "stake_attacker" or issubclass(cls, SubnetOwner) else 3  # one owner
    m = build([
        ("honest_validator", 3),
        ("honest_miner", 8),
        ("copy_cabal", 3),
        ("yield_chaser", 4),
        (name, count, ACTIVE.get(name, {})),
    ], seed=11)
    run(m, 30)  # the model checks the ledger every epoch and raises LedgerError
    m.ledger.check(m.epoch)
    mine = accounts(m, name)
    assert len(mine) >= count
    profit = m.columns.get("profit_usd_total", mine)
    assert np.all(np.isfinite(profit))
    df = m.datacollector.get_model_vars_dataframe()
    assert (df[f"population:{name}"] >= count).all()
    if cls.role not in ("delegator", "root"):
        assert np.all(m.uids_of(mine, 0) >= 0)
    if cls.role == "validator":
        rows = m.subnets[0].weights[m.uids_of(mine, 0)]
        assert np.all(np.isfinite(rows)) and np.all(rows >= 0)
        assert np.allclose(rows.sum(axis=1)[rows.sum(axis=1) > 0], 1.0)


SPANS = [(n, {}) for n in NAMES if REGISTRY[n].role in ("miner", "validator")] + [
    ("weight_copier", {"mode": 1}), ("poison_pill", {"trigger": 1, "trigger_stake_tao": 1.0}),
    ("model_arbitrage", {"dwell": 2, "settle": 1, "explore": 0.5})]


@pytest.mark.parametrize(("name", "params"), SPANS)
def test_one_call_for_all_subnets_is_each_subnets_own(name, params):
    """The world calls a miner's ``produce`` and a validator's ``set_weights`` once for
    the strategy's members on a run of subnets of one shape (``Membership.spans``: one group
    across the subnets, ``Group.rows``); each member's answers or weights, its state
    and the draws from ``ctx.rng`` must be those of one call per subnet (two copies of
    one network, one called each way)."""
    cls = REGISTRY[name]
    count = 1 if name == "stake_attacker" or issubclass(cls, SubnetOwner) else 4
    out = {}
    for way in ("together", "apart"):
        m = build([spec for k in range(3) for spec in (
            ("honest_miner", 3 + 2 * k, {}, k), ("honest_validator", 2, {}, k),
            ("copy_cabal", 3, {}, k), (name, count, {**ACTIVE.get(name, {}), **params}, k))],
            seed=5, sample_size=4)  # a miner's chance to be sampled differs by subnet
        run(m, 24)
        [span] = m.membership.spans(cls.role)
        group = dict(span.groups)[cls]
        assert sorted(set(group.rows.tolist())) == [0, 1, 2]
        call = cls.produce if cls.role == "miner" else cls.set_weights
        rng = np.random.default_rng(7)
        if way == "together":
            got = [call(group, SubnetContext(m, span.subnets, m.epoch, 1.2, rng))]
        else:
            got = [call(m.groups(s.netuid)[cls], SubnetContext(m, [s], m.epoch, 1.2, rng))
                   for s in m.subnets]
        state = [m.columns.get(c, group.accts) for c in sorted(
            c for c in m.columns._data if c.startswith(f"{cls.__name__}."))]
        out[way] = (got, state, rng.random())
    (together, s1, r1), (apart, s2, r2) = out["together"], out["apart"]
    if cls.role == "miner":
        for field in ("quality", "answer_key", "fixed_cost_usd", "query_cost_usd", "computes"):
            assert np.array_equal(getattr(together[0], field),
                                  np.concatenate([getattr(p, field) for p in apart])), field
    else:
        assert together[0].shape == (sum(len(a) for a in apart), m.subnets[0].n)
        assert np.array_equal(together[0], np.concatenate(apart))
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(s1, s2, strict=True))
    assert r1 == r2  # the same draws


def test_catalogue_lists_every_strategy():
    table, doc = strategies_table(), strategies_markdown()
    for name in NAMES:
        assert name in table and f"`{name}`" in doc
    assert "one of 'consensus', 'largest'" in doc  # a named choice shows its options
    assert "### `Imitation`" in doc


def test_generated_docs_are_up_to_date():
    docs = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"
    assert docs.read_text(encoding="utf-8") == strategies_markdown(), (
        "regenerate: python -m agents.catalog > docs/strategies.md"
    )
