"""The subnets' turns run phase by phase across subnets (``Network._subnet_turns``) and
give what one turn after another gives: cabals formed in the same epoch on different
subnets are numbered in subnet order, whichever strategy on a subnet colludes; each
strategy's one call covers its members on a run of subnets of one shape (``Span``); the
weights of all subnets are cleaned together and a bad one still names its subnet;
scheduled events run in the order of the turns."""

from __future__ import annotations

import numpy as np
import pytest

from agents.catalog import get
from agents.population import schedule
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


def test_spans_are_runs_of_subnets_of_one_shape_covering_every_setter():
    """Subnets of two sizes: a span per run of consecutive subnets of one size (so that
    spans come in subnet order), each one group per validator strategy across its
    subnets; each subnet's layout points at its own setters, in its plan's order."""
    sizes = (64, 64, 128, 64)
    pop = [Cohort(get(name), count, k, {}) for k in range(4)
           for name, count in (("honest_miner", 5 + k), ("weight_copier", 1 + k),
                               ("honest_validator", 2))]
    model = Network(NetworkParams(subnets=tuple(SubnetParams(n_uids=n) for n in sizes)),
                    pop, rng=1)
    model.step()
    spans = model.membership.spans()
    assert [[s.netuid for s in span.subnets] for span in spans] == [[0, 1], [2], [3]]
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


def test_scheduled_events_run_in_the_order_of_the_turns():
    """A strategy is called once for all subnets, so its events are scheduled strategy
    by strategy; they run as the turns one after another would have them: participants
    without a UID first, then subnet after subnet, miners' before validators' (each
    subnet's plan order), by UID."""
    pop = [Cohort(get(name), 2, k, {}) for k in range(2)
           for name in ("honest_miner", "honest_validator")]
    pop.append(Cohort(get("yield_chaser"), 1, None, {}))
    model = Network(NetworkParams(subnets=(SubnetParams(n_uids=64),) * 2), pop, rng=1)

    def who(role: str, netuid: int) -> list[int]:
        return sorted((a.acct for a in model.agents if a.role == role and a.netuid == netuid),
                      key=model.uid_of)

    ran: list[str] = []
    v1, m0, v0 = who("validator", 1), who("miner", 0), who("validator", 0)
    order = [("subnet 1 validator", v1[0]), ("subnet 0 second validator", v0[1]),
             ("subnet 0 miner", m0[0]), ("subnet 0 first validator", v0[0]),
             ("a delegator", who("delegator", -1)[0]), ("nobody", None)]
    for label, acct in order:
        schedule(model, lambda m, x=label: ran.append(x), acct)
    model.step()
    assert ran == ["a delegator", "nobody", "subnet 0 miner", "subnet 0 first validator",
                   "subnet 0 second validator", "subnet 1 validator"]
