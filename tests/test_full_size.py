"""``full:``: an experiment's size for a cluster, run with ``--full`` (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cli import main
from experiments.loader import ConfigError
from experiments.plan import load_plan

FILE = """
name: sized
epochs: 20
seeds: {master: 7, count: 2}
full: {seeds: 5, epochs: 40, warmup_epochs: 10}
scenario:
  subnets: [{n_uids: 16, yuma: {max_validators: 4}}]
population:
  - {strategy: honest_validator, count: 2, subnet: 0}
  - {strategy: honest_miner, count: 8, subnet: 0}
"""


def test_full_size_replaces_seeds_and_epochs_and_keeps_the_master(tmp_path: Path) -> None:
    f = tmp_path / "sized.yaml"
    f.write_text(FILE)
    small, big = load_plan(f), load_plan(f, full=True)
    assert (small.config["epochs"], small.seed_indices) == (20, [0, 1])
    assert (big.config["epochs"], big.config["warmup_epochs"]) == (40, 10)
    assert big.seed_indices == [0, 1, 2, 3, 4] and big.master_seed == 7
    assert big.config_hash != small.config_hash  # its own results directory


def test_a_bad_full_size_is_refused_with_its_key(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(FILE.replace("full: {seeds: 5,", "full: {seeds: 0,"))
    with pytest.raises(ConfigError, match="full.seeds"):
        load_plan(f, full=True)
    assert main(["validate", str(f)]) == 2
    assert "full.seeds" in capsys.readouterr().err
