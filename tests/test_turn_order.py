"""The subnets' turns run phase by phase across subnets (``Network._subnet_turns``) and
give what one turn after another gives: cabals formed in the same epoch on different
subnets are numbered in subnet order, whichever strategy on a subnet colludes."""

from __future__ import annotations

from agents.catalog import get
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
