"""The experiment file format: defaults, round trips, seeds, sweeps, profiles, hashing."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest

from agents.catalog import get as get_strategy
from agents.population import Exit
from experiments.cli import main
from experiments.loader import ConfigError, format_loc
from experiments.plan import expand_profiles, load_plan
from experiments.schema import (
    Experiment,
    ScenarioSpec,
    SeedSpec,
    SweepSpec,
    json_schema,
    parse_path,
)
from experiments.sections import PriceSpec, SubnetSpec, to_world
from experiments.wiring import build_model, run_seed
from world.parameters import Param, declarations, sections
from world.params import (
    NetworkParams,
    PriceParams,
    SubnetParams,
)
from world.yuma import YumaParams

CONFIGS = Path(__file__).resolve().parent.parent / "experiments" / "configs"

MINIMAL = """\
name: tiny
epochs: 4
population:
  - {strategy: honest_miner, count: 6, subnet: 0}
  - {strategy: honest_validator, count: 2, subnet: 0}
  - {strategy: yield_chaser, count: 2}
scenario:
  subnets:
    - {n_uids: 16, yuma: {max_validators: 8}}
"""


def write(tmp_path: Path, text: str, extra: str = "", name: str = "exp.yaml") -> Path:
    """Write an experiment file: ``text`` then ``extra`` (each dedented)."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text) + textwrap.dedent(extra))
    return path


def test_defaults_are_the_worlds(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, "name: d\npopulation:\n"
                                     "  - {strategy: honest_miner, count: 3, subnet: 0}\n"
                                     "  - {strategy: honest_validator, count: 1, subnet: 0}\n"))
    exp = plan.experiment
    assert exp.scenario.to_world() == NetworkParams()
    assert exp.epochs == 100 and exp.seeds.seed_indices() == [0]
    assert exp.resolved_warmup == 20
    from agents.catalog import get

    full = {k: p.default for k, p in get("honest_miner").all_params().items()}
    assert plan.config["population"][0]["params"] == pytest.approx(full)


@pytest.mark.parametrize(("spec", "world"), [(ScenarioSpec, NetworkParams),
                                             (SubnetSpec, SubnetParams), (PriceSpec, PriceParams)])
def test_sections_are_the_worlds_parameter_sets(spec: type, world: type) -> None:
    """A file's sections are the world's parameter sets (plus file-only keys)."""
    assert issubclass(spec, world)
    assert {f.name for f in dataclasses.fields(world)} <= {f.name for f in dataclasses.fields(spec)}
    assert to_world(spec()) == world()
    assert type(to_world(spec())) is world


def test_round_trip(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, MINIMAL))
    again = Experiment.model_validate(plan.config)
    assert again.model_dump(mode="json") == plan.config
    assert again.scenario.to_world() == plan.experiment.scenario.to_world()
    # a dumped config is itself a valid experiment file
    path = tmp_path / "again.yaml"
    import yaml

    path.write_text(yaml.safe_dump(plan.config))
    assert load_plan(path).config == plan.config


def _exit_params() -> type:
    from agents.population import ExitParams

    return ExitParams


@pytest.mark.parametrize(("python_api", "declared", "yaml_extra", "key"), [
    (lambda: YumaParams(kappa=2.0), lambda: (declarations(YumaParams)["kappa"], "yuma", 2.0),
     None, "scenario.subnets[0].yuma.kappa"),
    (lambda: get_strategy("honest_miner").resolve_params({"quality": 2.0}),
     lambda: (get_strategy("honest_miner").all_params()["quality"], "honest_miner", 2.0),
     None, "population[0].params.quality"),
    (lambda: Exit(patience=0), lambda: (declarations(_exit_params())["patience"], "Exit", 0),
     "dynamics:\n  - {process: exit, params: {patience: 0}}\n", "dynamics[0].params.patience"),
])
def test_out_of_range_refused_in_the_declarations_words(
    python_api, declared, yaml_extra, key, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The Python API and an experiment file refuse a value with the same message, the
    one its declaration writes; the CLI prints it on one line under the key, exit 2."""
    param, owner, value = declared()
    name = key.rsplit(".", 1)[-1]
    message = param.message(owner, name, value)
    assert f"must be {param.allowed()} ({param.doc}), got {value!r}" in message
    with pytest.raises(ValueError) as info:
        python_api()
    assert message in str(info.value)
    text = MINIMAL.replace("max_validators: 8}", "max_validators: 8, kappa: 2.0}") \
        if "kappa" in key else MINIMAL
    if "quality" in key:
        text = text.replace("{strategy: honest_miner, count: 6, subnet: 0}",
                            "{strategy: honest_miner, count: 6, subnet: 0, "
                            "params: {quality: 2.0}}")
    path = write(tmp_path, text, yaml_extra or "")
    with pytest.raises(ConfigError) as err:
        load_plan(path)
    assert str(err.value) == f"{path}: {key}: {message}"
    assert main(["validate", str(path)]) == 2
    assert f"\n{path}: {key}: {message}\n" in capsys.readouterr().err


def _sections(cls: type, seen: dict[str, type]) -> dict[str, type]:
    seen[cls.__name__] = cls
    for inner in sections(cls).values():
        _sections(inner, seen)
    return seen


def _check_property(prop: dict, p: Param, where: str) -> None:
    """``prop`` (a JSON Schema property) carries ``p``'s meaning, source and range."""
    jsonschema = pytest.importorskip("jsonschema")
    assert prop["description"] == p.doc and p.doc, where
    assert prop.get("x-source", "") == p.source, where
    rng = prop["items"] if p.resolved_kind == "numbers" else prop
    if p.resolved_kind in ("number", "integer", "numbers"):
        low_key = "exclusiveMinimum" if p.low_open else "minimum"
        high_key = "exclusiveMaximum" if p.high_open else "maximum"
        assert rng.get(low_key) == p.low and rng.get(high_key) == p.high, where
        check = jsonschema.Draft202012Validator(rng if rng is not prop else
                                                {k: v for k, v in prop.items() if k != "$ref"})
        if p.low is not None:
            assert not check.is_valid(p.low - 1), where
        if p.high is not None:
            assert not check.is_valid(p.high + 1), where
    if p.choices and p.resolved_kind == "choice" and p.kind is not None:
        assert prop["enum"] == list(p.choices), where
    if p.resolved_kind == "subset":
        assert prop["items"]["enum"] == list(p.choices), where


def test_every_declared_parameter_round_trips_through_the_json_schema() -> None:
    """World, strategy and population-dynamics declarations all reach the editors' schema
    with their range, description and source."""
    from agents.catalog import REGISTRY
    from experiments.wiring import dynamics_registry

    schema = json_schema()
    defs = schema["$defs"]
    checked = 0
    for name, cls in _sections(ScenarioSpec, {}).items():
        for key, p in declarations(cls).items():
            _check_property(defs[name]["properties"][key], p, f"{name}.{key}")
            checked += 1
    for strategy, cls in REGISTRY.items():
        rule = next(r for r in defs["CohortSpec"]["allOf"]
                    if r["if"]["properties"]["strategy"]["const"] == strategy)
        props = rule["then"]["properties"]["params"]["properties"]
        assert set(props) == set(cls.all_params())
        for key, p in cls.all_params().items():
            _check_property(props[key], p, f"{strategy}.{key}")
            checked += 1
    for process, cls in dynamics_registry().items():
        rule = next(r for r in defs["DynamicsSpec"]["allOf"]
                    if r["if"]["properties"]["process"]["const"] == process)
        for params in _sections(cls.Params, {}).values():
            props = (rule["then"]["properties"]["params"] if params is cls.Params
                     else defs[params.__name__])["properties"]
            for key, p in declarations(params).items():
                _check_property(props[key], p, f"{process}.{key}")
                checked += 1
    from experiments.schema import CohortSpec, ProfilesSpec

    for cls in (Experiment, SeedSpec, CohortSpec, ProfilesSpec):
        props = (schema if cls is Experiment else defs[cls.__name__])["properties"]
        for key, p in declarations(cls).items():
            _check_property(props[key], p, f"{cls.__name__}.{key}")
            checked += 1
    assert checked > 100


def test_strict_types() -> None:
    base = {"name": "s", "population": [{"strategy": "honest_miner", "count": 1, "subnet": 0}]}
    Experiment.model_validate({**base, "epochs": 3})
    for bad in ("3", 3.5, True):
        with pytest.raises(Exception, match="epochs"):
            Experiment.model_validate({**base, "epochs": bad})
    # an integer is a valid float
    exp = Experiment.model_validate({**base, "scenario": {"tempo": 360, "price":
                                                          {"initial_usd": 300}}})
    assert exp.scenario.price.initial_usd == 300.0


def test_yaml_anchors_and_merges_are_allowed(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, """\
        name: anchors
        epochs: 3
        scenario: {subnets: [{n_uids: 16, yuma: {max_validators: 8}}]}
        population:
          - &v {strategy: honest_validator, count: 2, subnet: 0, params: {stake_tao: 5000}}
          - {strategy: honest_miner, count: 6, subnet: 0}
          - {<<: *v, count: 1, label: extra}
        """))
    assert plan.experiment.population[2].params["stake_tao"] == 5000
    assert plan.experiment.population[2].count == 1


def test_format_loc() -> None:
    assert format_loc(("population", 2, "strategy")) == "population[2].strategy"
    assert format_loc(("sweep", "grid", "subnets.0.x", 1)) == 'sweep.grid["subnets.0.x"][1]'


def test_parse_path() -> None:
    assert parse_path("subnets.0.yuma.bonds_penalty") == (
        "scenario", "subnets", 0, "yuma", "bonds_penalty")
    assert parse_path("population[2].params.boost") == ("population", 2, "params", "boost")
    assert parse_path("scenario.tempo") == ("scenario", "tempo")
    for bad in ("seeds.count", "nonsense.x", "population..x", "population.-1"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_seed_shorthands_and_independence() -> None:
    assert SeedSpec.model_validate(5).seed_indices() == [0, 1, 2, 3, 4]
    assert SeedSpec.model_validate([7, 3]).seed_indices() == [7, 3]
    s10 = [run_seed(42, k) for k in range(10)]
    s5 = [run_seed(42, k) for k in range(5)]
    assert s10[:5] == s5  # adding seeds never changes earlier runs
    assert len(set(s10)) == 10
    assert run_seed(43, 0) != run_seed(42, 0)


def test_sweep_cells_cartesian_and_zip() -> None:
    sweep = SweepSpec.model_validate({
        "grid": {"subnets.0.yuma.bonds_penalty": [0, 1]},
        "zip": [{"subnets.0.commit_reveal": [False, True, True],
                 "subnets.0.reveal_period": [0, 1, 3]}],
    })
    cells = sweep.cells()
    assert len(cells) == 6 == sweep.n_cells()
    assert [c["subnets.0.yuma.bonds_penalty"][1] for c in cells] == [0, 0, 0, 1, 1, 1]
    assert [c["subnets.0.reveal_period"][1] for c in cells] == [0, 1, 3, 0, 1, 3]
    assert all(c["subnets.0.commit_reveal"][1] == (c["subnets.0.reveal_period"][1] > 0)
               for c in cells)


def test_plan_cells_share_seeds(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, MINIMAL, "seeds: {master: 9, count: 2}\n"
                           "sweep:\n  grid:\n    population.0.params.quality: [0.3, 0.9]\n"))
    runs = plan.runs()
    assert [r.run_id for r in runs] == ["c0000-s0000", "c0000-s0001", "c0001-s0000",
                                        "c0001-s0001"]
    assert runs[0].seed == runs[2].seed == run_seed(9, 0)  # common random numbers
    assert plan.cells[1].config["population"][0]["params"]["quality"] == 0.9
    assert plan.cells[0].overrides == {"population.0.params.quality": 0.3}


def test_config_hash(tmp_path: Path) -> None:
    h = load_plan(write(tmp_path, MINIMAL)).config_hash
    assert load_plan(write(tmp_path, MINIMAL, "description: words\n")).config_hash == h
    assert load_plan(write(tmp_path, MINIMAL, "seeds: 3\n")).config_hash == h
    assert load_plan(write(tmp_path, MINIMAL, "seeds: {master: 1}\n")).config_hash != h
    assert load_plan(write(tmp_path, MINIMAL.replace("epochs: 4", "epochs: 5"))
                     ).config_hash != h


def test_profiles(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, MINIMAL, """\
        profiles:
          miner: [honest_miner, gpt_passthrough, lazy_miner]
          validator: [honest_validator, weight_copier]
          monomorphic: true
        """))
    ids = [c.profile["id"] for c in plan.cells]
    assert ids[:4] == ["baseline", "deviation:miner:gpt_passthrough",
                       "deviation:miner:lazy_miner", "deviation:validator:weight_copier"]
    assert len(ids) == 4 + 3 * 2
    assert "mono:miner=lazy_miner,validator=weight_copier" in ids
    dev = plan.cells[3].config["population"]
    assert dev[1]["count"] == 1 and dev[-1]["strategy"] == "weight_copier"
    assert dev[-1]["count"] == 1
    # the deviator keeps its stake (the same declaration in both strategies) ...
    assert dev[-1]["params"]["stake_tao"] == dev[1]["params"]["stake_tao"]
    # ... but not a parameter its new strategy declares differently
    mono = plan.cells[ids.index("mono:miner=gpt_passthrough,validator=honest_validator")]
    from agents.catalog import get

    q = mono.config["population"][0]["params"]["quality"]
    assert q == get("gpt_passthrough").all_params()["quality"].default


def test_expand_profiles_needs_a_cohort() -> None:
    from experiments.schema import ProfilesSpec

    spec = ProfilesSpec.model_validate({"validator": ["honest_validator", "weight_copier"]})
    with pytest.raises(ValueError, match="no validator cohort"):
        expand_profiles([{"strategy": "honest_miner", "count": 2, "subnet": 0,
                          "params": {}}], spec)


def test_price_series_file(tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_text("epoch,price_usd\n0,250\n1,260.5\n2,270\n")
    price = "scenario:\n  price: {kind: series, series_file: %s}\n"
    plan = load_plan(write(tmp_path, MINIMAL.replace("scenario:\n", price % "prices.csv")))
    assert plan.experiment.scenario.price.series_usd == (250.0, 260.5, 270.0)
    assert "prices.csv" in plan.inputs
    model = build_model(plan.experiment, seed=1)
    model.step()
    model.step()
    assert model.price_usd == 260.5
    (tmp_path / "bad.csv").write_text("price_usd\n250\nabc\n")
    with pytest.raises(ConfigError, match=r"series_file.*line 3"):
        load_plan(write(tmp_path, MINIMAL.replace("scenario:\n", price % "bad.csv")))


def test_dynamics_section(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, MINIMAL, """\
        dynamics:
          - {process: exit, params: {patience: 5}}
          - {process: imitation, params: {every: 2, beta: 0.05}}
          - process: entry
            params:
              rate: 0.5
              options: [{strategy: lazy_miner}]
        """))
    model = build_model(plan.experiment, seed=3)
    kinds = [type(d).__name__ for d in model.dynamics]
    assert kinds == ["Exit", "Imitation", "Entry"]
    assert plan.experiment.dynamics[0].params == {"patience": 5, "roles": ["miner"]}
    for _ in range(3):
        model.step()


def test_json_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = json_schema()
    cohort = schema["$defs"]["CohortSpec"]
    assert "honest_miner" in cohort["properties"]["strategy"]["enum"]
    rule = next(r for r in cohort["allOf"]
                if r["if"]["properties"]["strategy"]["const"] == "honest_miner")
    quality = rule["then"]["properties"]["params"]["properties"]["quality"]
    assert quality["minimum"] == 0 and quality["maximum"] == 1
    assert schema["additionalProperties"] is False
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "tao-arena experiment"
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == schema


@pytest.mark.parametrize("name", ["quickstart.yaml", "baseline.yaml", "main.yaml"])
def test_shipped_configs_validate(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(CONFIGS / name)]) == 0
    assert ": ok:" in capsys.readouterr().out


def test_claims_configs_validate() -> None:
    files = sorted((CONFIGS / "claims").glob("*.yaml"))
    for f in files:
        load_plan(f)


def test_json_schema_accepts_the_shipped_configs() -> None:
    """Editors validating with the JSON Schema agree with the loader on shipped files."""
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for f in sorted(CONFIGS.glob("*.yaml")) + sorted(CONFIGS.glob("claims/*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(f.read_text()))]
        assert errors == [], f
    bad = {"name": "x", "population": [{"strategy": "honest_miner", "count": 1, "subnet": 0,
                                        "params": {"quality": 2}}]}
    assert not validator.is_valid(bad)


def test_named_option_by_name_or_index(tmp_path: Path) -> None:
    """A strategy's named option is given by name (or index) and stored as its index."""
    jsonschema = pytest.importorskip("jsonschema")
    scenario = "scenario:\n  subnets:\n    - {n_uids: 16, yuma: {max_validators: 8}}\n"
    cohort = "  - {strategy: weight_copier, count: 1, subnet: 0, params: {mode: %s}}\n"
    text = MINIMAL.replace(scenario, "") + cohort + scenario
    for given in ("largest", 1):
        plan = load_plan(write(tmp_path, text % given))
        assert plan.config["population"][-1]["params"]["mode"] == 1.0
        import yaml

        validator = jsonschema.Draft202012Validator(json_schema())
        assert validator.is_valid(yaml.safe_load(text % given))
    with pytest.raises(ConfigError, match=r"population\[3\]\.params\.mode: weight_copier\.mode "
                                          r"must be one of 'consensus', 'largest'"):
        load_plan(write(tmp_path, text % "loudest"))
