"""The subnets' turns run phase by phase across subnets (``Network._subnet_turns``) and
give what one turn after another gives: cabals formed in the same epoch on different
subnets are numbered in subnet order, whichever strategy on a subnet colludes; each
strategy's one call covers its members on every subnet of one shape (``Span``); the
weights of all subnets are cleaned together and a bad one still names its subnet."""

from __future__ import annotations

import numpy as np
import pytest

from agents.catalog import get
from agents.validators import HonestValidator
from world.model import Cohort, Network
from world.params import NetworkParams, SubnetParams


def test_cabals_form_in_subnet_order_whoever_colludes():
    """Subnet 0's cabal forms from its validators (no colluding miner there), subnet 1's
    from its copy-cabal miners: one turn after another numbers subnet 0's first, and so
    must the phases (its validators act in the last phase, after subnet 1's miners)."""
    pop = [Cohort(get("cabal_validator"), 2, 0, {"cabal_tag": 0}),
           Cohort(get("honest_miner"), 4, 0, {"cabal_tag": 0}),
           Cohort(get("honest_miner"), 4, 0),
           Cohort(get("honest_validator"), 2, 1),
           Cohort(get("copy_cabal"), 4, 1, {"cabal_tag": 0}),
           Cohort(get("honest_miner"), 4, 1)]
    model = Network(NetworkParams(subnets=(SubnetParams(n_uids=64),) * 2), pop, rng=3)
    model.step()
    assert [c["name"] for _, c in sorted(model.cabals.items())] == [
        "subnet0/tag0", "subnet1/tag0"]


def test_validators_of_each_shape_are_one_span_covering_every_setter():
    """Subnets of two sizes: two spans, each one group per validator strategy across its
    subnets; each subnet's layout points at its own setters, in its plan's order."""
    sizes = (64, 128, 64)
    pop = [Cohort(get(name), count, k, {}) for k in range(3)
           for name, count in (("honest_miner", 5 + k), ("weight_copier", 1 + k),
                               ("honest_validator", 2))]
    model = Network(NetworkParams(subnets=tuple(SubnetParams(n_uids=n) for n in sizes)),
                    pop, rng=1)
    model.step()
    spans = model.membership.spans()
    assert [[s.netuid for s in span.subnets] for span in spans] == [[0, 2], [1]]
    for span in spans:
        groups = dict(span.groups)
        for row, (s, layout) in enumerate(zip(span.subnets, span.layout, strict=True)):
            plan = model.membership.plan(s.netuid)
            assert [cls for cls, _, _ in layout] == [cls for cls, _ in plan.setters]
            for (cls, a, b), (_, g) in zip(layout, plan.setters, strict=True):
                assert (groups[cls].accts[a:b] == g.accts).all()
                assert (groups[cls].uids[a:b] == g.uids).all()
                assert (groups[cls].rows[a:b] == row).all()
    assert model.membership.spans() is spans  # kept while no plan changes


class InfiniteValidator(HonestValidator):
    """A test strategy with a bug: an infinite weight on its first member's row."""

    name = "test_infinite_validator"

    @classmethod
    def set_weights(cls, group, ctx):  # type: ignore[no-untyped-def]
        rows = super().set_weights(group, ctx)
        rows[0, 0] = np.inf
        return rows


def test_an_infinite_weight_names_its_subnet_and_setter():
    """The rows of all subnets are cleaned together; the error still names the subnet
    and the participants whose rows hold an infinite weight."""
    pop = [Cohort(get(name), 3, k, {}) for k in range(3)
           for name in ("honest_miner", "honest_validator")]
    pop.append(Cohort(InfiniteValidator, 1, 2, {}))
    model = Network(NetworkParams(subnets=(SubnetParams(n_uids=64),) * 3), pop, rng=1,
                    strategies=[InfiniteValidator])
    with pytest.raises(ValueError, match="^subnet 2: infinite weights set by "
                                         "test_infinite_validator$"):
        model.step()
