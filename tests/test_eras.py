"""world.eras: the rule tables of dec2023 and dtao (issues 15 and 16, MODEL.md section 9)."""

from __future__ import annotations

import json

import pytest

from world.eras import ERA_NAMES, ERAS, effective, era_variants, manifest
from world.params import RegistrationParams, SubnetParams
from world.yuma import YumaParams


def test_the_two_eras():
    assert ERA_NAMES == ("dec2023", "dtao")


@pytest.mark.parametrize("era", ERA_NAMES)
def test_every_rule_names_its_source(era):
    for key, rule in ERAS[era].items():
        assert "." in key
        assert rule.source.startswith(("subtensor@2023-12-20 ", "subtensor@2026-06-30 ",
                                       "MODEL.md", "pallets/swap", "10.5M")), key
        assert len(rule.source) > 25, key


def test_dec2023_is_the_rules_issue_15_lists():
    e = effective("dec2023")
    assert (e["yuma.version"], e["yuma.bonds_penalty"], e["yuma.liquid_alpha"]) == (
        "yuma2", 1.0, False)
    assert e["subnet.commit_reveal"] is False and e["subnet.reveal_period"] == 0
    assert e["subnet.bond_reset"] == "pair"
    assert e["economy.fixed_emission_per_block"] == 1.0  # no halving yet
    assert e["economy.subnet_split"] == "root"
    assert (e["root.max_validators"], e["root.rho"], e["root.kappa"]) == (
        64, 10.0, pytest.approx(0.5, abs=1e-4))
    assert e["economy.stake_scope"] == "global" and e["economy.dereg_unstakes"] is True
    assert e["economy.miner_pay"] == "stake"
    assert (e["registration.adjustment_interval"], e["registration.target_per_interval"],
            e["registration.min_burn_tao"], e["registration.immunity_period"]) == (
        360, 1, 1e-9, 5_000)
    assert e["economy.validator_take"] == 0.18


def test_dtao_is_the_rules_issue_16_lists():
    e = effective("dtao")
    assert (e["yuma.version"], e["subnet.commit_reveal"], e["subnet.reveal_period"]) == (
        "yuma3", True, 1)
    assert e["economy.subnet_split"] == "price_ema" and e["dtao.flow_shares"] is False
    assert e["economy.fixed_emission_per_block"] is None  # the halving schedule
    assert e["economy.initial_issuance_tao"] > 10_500_000  # after the first halving
    assert e["dtao.tao_weight"] == 0.18
    assert e["dtao.pool_fee"] == 33 / 65535
    assert (e["registration.burn_increase_mult"], e["registration.burn_half_life"]) == (1.26, 360)
    assert e["network.subnet_limit"] == 128
    assert e["dtao.injection_cap"] == "root_proportion"


@pytest.mark.parametrize("era", ERA_NAMES)
def test_era_values_are_valid_world_parameters(era):
    e = effective(era)
    yuma = YumaParams(
        version=e["yuma.version"], kappa=e["yuma.kappa"], bonds_penalty=e["yuma.bonds_penalty"],
        bonds_ema_rate=e["yuma.bonds_ema_rate"], liquid_alpha=e["yuma.liquid_alpha"],
        max_validators=e["yuma.max_validators"])
    reg = RegistrationParams(
        initial_burn_tao=e["registration.initial_burn_tao"],
        min_burn_tao=e["registration.min_burn_tao"], max_burn_tao=e["registration.max_burn_tao"],
        immunity_period=e["registration.immunity_period"])
    SubnetParams(n_uids=e["subnet.n_uids"], yuma=yuma, registration=reg,
                 activity_cutoff=e["subnet.activity_cutoff"],
                 weights_rate_limit=e["subnet.weights_rate_limit"],
                 commit_reveal=e["subnet.commit_reveal"], reveal_period=e["subnet.reveal_period"])


def test_overrides_win_and_the_manifest_says_so():
    e = effective("dec2023", {"yuma.version": "yuma3", "network.tempo": 99})
    assert e["yuma.version"] == "yuma3" and e["network.tempo"] == 99
    assert effective("dec2023")["yuma.version"] == "yuma2"  # the table is untouched
    rows = {r["key"]: r for r in manifest("dec2023", {"network.tempo": 99})}
    assert set(rows) == set(ERAS["dec2023"])
    assert rows["network.tempo"] == {"key": "network.tempo", "value": 99, "default": 360,
                                     "overridden": True, "source": "scenario override"}
    assert rows["yuma.version"]["overridden"] is False
    assert "epoch.rs" in rows["yuma.version"]["source"]
    json.dumps(manifest("dtao"))  # the manifest is plain JSON


def test_sn1_legacy_switch():
    assert set(era_variants("dec2023")) == {"sn1_legacy"}
    e = effective("dec2023", variant="sn1_legacy")
    assert (e["network.tempo"], e["yuma.max_validators"], e["registration.immunity_period"]) == (
        99, 128, 4_096)
    rows = {r["key"]: r for r in manifest("dec2023", variant="sn1_legacy")}
    assert rows["network.tempo"]["source"].startswith("variant sn1_legacy")
    # a scenario override beats the variant
    assert effective("dec2023", {"network.tempo": 360}, variant="sn1_legacy")[
        "network.tempo"] == 360
    assert effective("dtao", variant="flow_shares")["dtao.flow_shares"] is True


def test_bad_names_are_refused_naming_them():
    with pytest.raises(ValueError, match="era must be one of 'dec2023', 'dtao', got 'jan2024'"):
        effective("jan2024")
    with pytest.raises(ValueError, match="'dtao.tao_weight' is not a rule of era 'dec2023'"):
        effective("dec2023", {"dtao.tao_weight": 0.1})
    with pytest.raises(ValueError, match="variant of era 'dtao' must be one of 'flow_shares'"):
        manifest("dtao", variant="sn1_legacy")


def test_docs_hold_the_table_of_both_eras():
    from pathlib import Path

    from world.eras import markdown_table

    text = (Path(__file__).resolve().parents[1] / "docs" / "world.md").read_text()
    assert markdown_table() in text, "regenerate the table in docs/world.md from markdown_table()"


# -- scenario.era: the era in the experiment schema and the world's parameters -----------


def test_scenario_era_sets_defaults_and_a_given_value_wins() -> None:
    from experiments.sections import scenario

    params = scenario(
        {"era": "dec2023", "subnets": [{"n_uids": 64, "yuma": {"kappa": 0.6}}, {}]}
    ).to_world()
    for sub in params.subnets:
        assert sub.yuma.version == "yuma2" and not sub.commit_reveal
        assert sub.registration.target_per_interval == 1
    assert params.economy.fixed_emission_per_block == 1.0
    assert params.subnets[0].n_uids == 64 and params.subnets[0].yuma.kappa == 0.6
    assert params.subnets[1].n_uids == 256 and params.subnets[1].yuma.kappa == 32_767 / 65_535
    legacy = scenario({"era": "dec2023", "era_variant": "sn1_legacy"})
    assert legacy.to_world().tempo == 99
    assert legacy.to_world().subnets[0].registration.immunity_period == 4_096


def test_dtao_era_is_todays_world_and_the_default() -> None:
    from experiments.sections import scenario
    from world.params import NetworkParams

    assert scenario({}).to_world() == NetworkParams()
    assert scenario({"era": "dtao"}).to_world() == NetworkParams()


def test_bad_era_or_variant_is_named() -> None:
    import pytest
    from pydantic import ValidationError

    from experiments.sections import scenario

    with pytest.raises(ValidationError, match="era"):
        scenario({"era": "dec2024"})
    with pytest.raises(ValidationError, match="era_variant of era 'dtao'"):
        scenario({"era": "dtao", "era_variant": "sn1_legacy"})


def test_world_manifest_records_every_effective_value() -> None:
    from experiments.sections import scenario
    from world.eras import DEC2023, world_manifest

    params = scenario(
        {"era": "dec2023", "subnets": [{"n_uids": 64}, {}]}).to_world()
    m = world_manifest(params)
    rows = {r["key"]: r for r in m["rules"]}
    assert m["era"] == "dec2023" and set(rows) == set(DEC2023)
    assert rows["subnet.n_uids"]["value"] == [64, 256] and rows["subnet.n_uids"]["overridden"]
    assert rows["yuma.version"]["value"] == "yuma2" and not rows["yuma.version"]["overridden"]
