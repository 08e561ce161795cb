"""The interactive page without a browser: the module imports, the model factory honours
the sidebar's overrides, the drawings update and are cached, and ``tao-arena viz``
refuses bad input before starting a server (issue 7)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from agents.catalog import REGISTRY

SUBNET_256 = """\
name: viz-test
description: a full 256-UID subnet with honest players, copiers and a cabal
epochs: 20
seeds: {{master: 7, count: 1}}
scenario:
  subnets:
    - n_uids: 256
population:
{population}
"""

# (strategy, count, on subnet 0?) of a 250-UID mixed population, filtered to the registry
MIX = [("honest_miner", 150, True), ("gpt_passthrough", 20, True), ("copy_cabal", 16, True),
       ("honest_validator", 50, True), ("weight_copier", 10, True),
       ("cabal_validator", 4, True), ("yield_chaser", 40, False)]


def write_experiment(path: Path) -> Path:
    """A 256-UID experiment file with the strategies of ``MIX`` that are registered."""
    lines = []
    for name, count, on_subnet in MIX:
        if name in REGISTRY:
            subnet = ", subnet: 0" if on_subnet else ""
            lines.append(f"  - {{strategy: {name}, count: {count}{subnet}}}")
    path.write_text(SUBNET_256.format(population="\n".join(lines)))
    return path


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_experiment(tmp_path_factory.mktemp("viz") / "subnet256.yaml")


@pytest.fixture(scope="module")
def app(experiment: Path, monkeypatch_module: pytest.MonkeyPatch):  # noqa: ANN201
    """The page (``viz.app``, imported for ``experiment`` as ``tao-arena viz`` serves it)
    and the names of the ``viz`` modules it is made of, in one namespace."""
    monkeypatch_module.setenv("TAO_ARENA_VIZ_FILE", str(experiment))
    if "viz.app" in sys.modules:
        page = importlib.reload(sys.modules["viz.app"])
    else:
        page = importlib.import_module("viz.app")
    names: dict[str, object] = {}
    for part in ("style", "settings", "arena", "network_view", "plots"):
        names.update(vars(importlib.import_module(f"viz.{part}")))
    return SimpleNamespace(**{**names, **vars(page)})


@pytest.fixture(scope="module")
def monkeypatch_module():  # noqa: ANN201
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_page_module_imports(app, experiment: Path) -> None:
    assert app.Page is not None
    model = app.new_model()
    assert isinstance(model, app.ArenaModel)
    assert model.experiment == str(experiment)
    assert model.network.subnets[0].n == 256
    for key in ("experiment", "kappa", "bonds_penalty", "reveal_period", "liquid_alpha",
                "tao_price_usd", "miner_mix", "miner_mix_share", "validator_mix",
                "validator_mix_share", "seed_index"):
        assert key in app.model_params
    assert len(app.COMPONENTS) == 6


def test_model_factory_honours_overrides(app, experiment: Path) -> None:
    m = app.ArenaModel(
        experiment=str(experiment), seed_index="2", kappa=0.3, bonds_penalty=0.4,
        reveal_period=0, liquid_alpha=True, tao_price_usd=123.0,
        miner_mix="gpt_passthrough", miner_mix_share=50,
        validator_mix="honest_validator", validator_mix_share=100,
    )
    sn = m.network.subnets[0].params
    assert sn.yuma.kappa == pytest.approx(0.3)
    assert sn.yuma.bonds_penalty == pytest.approx(0.4)
    assert sn.yuma.liquid_alpha is True
    assert sn.commit_reveal is False and sn.effective_reveal_period == 0
    assert m.network.price_usd == pytest.approx(123.0)
    from experiments.wiring import run_seed

    assert m.seed == run_seed(7, 2)
    counts: dict[str, int] = {}
    for c in m.config["population"]:
        counts[c["strategy"]] = counts.get(c["strategy"], 0) + c["count"]
    miners = sum(n for s, n in counts.items() if REGISTRY[s].role == "miner")
    validators = sum(n for s, n in counts.items() if REGISTRY[s].role == "validator")
    assert counts["gpt_passthrough"] == round(miners / 2)
    assert counts["honest_validator"] == validators  # 100%: every validator is honest
    net = m.network
    occupants = net.subnets[0].occupant[net.subnets[0].occupant >= 0]
    assert len(occupants) == miners + validators
    playing = [net.strategy_names[int(c)] for c in net.columns.get("strategy_code", occupants)]
    assert playing.count("gpt_passthrough") == counts["gpt_passthrough"]
    assert playing.count("honest_validator") == validators
    assert "kappa 0.30" in m.describe() and "TAO $123" in m.describe()
    m.step()
    assert m.epoch == 1 and len(m.metrics()) == 1


def test_defaults_are_the_files(app, experiment: Path) -> None:
    m = app.ArenaModel(experiment=str(experiment))
    base = app.load_base(experiment).config
    assert m.config["population"] == base["population"]
    assert m.network.subnets[0].params.yuma.kappa == base["scenario"]["subnets"][0]["yuma"][
        "kappa"]
    assert m.seed == app.load_base(experiment).runs()[0].seed  # run c0000-s0000
    assert app.ArenaModel(experiment=str(experiment), seed_index="abc").seed_index == 0


def test_remix_keeps_counts_and_adds_cohorts(app) -> None:
    pop = [
        {"strategy": "honest_miner", "count": 30, "subnet": 0, "params": {}},
        {"strategy": "honest_miner", "count": 10, "subnet": 1, "params": {}},
        {"strategy": "honest_validator", "count": 5, "subnet": 0,
         "params": {"stake_tao": 500.0, "capability": 0.5}},
    ]
    out = app.remix(pop, "miner", "lazy_miner", 0.25)
    by = {(c["strategy"], c["subnet"]): c["count"] for c in out}
    assert by[("honest_miner", 0)] + by[("lazy_miner", 0)] == 30
    assert by[("lazy_miner", 0)] == 8 and by[("lazy_miner", 1)] == 2
    assert pop[0]["count"] == 30  # the input is not modified
    out = app.remix(pop, "validator", "weight_copier", 0.4)
    wc = next(c for c in out if c["strategy"] == "weight_copier")
    assert wc["count"] == 2 and wc["params"] == {"stake_tao": 500.0}  # the shared stake only
    pop[0]["params"] = {"quality": 0.69, "endowment_tao": 7.0}
    lazy = next(c for c in app.remix(pop, "miner", "lazy_miner", 0.5)
                if c["strategy"] == "lazy_miner")
    assert "quality" not in lazy["params"]  # a lazy miner keeps its own quality (0)
    assert lazy["params"].get("endowment_tao") == 7.0
    with pytest.raises(ValueError, match="not a validator strategy"):
        app.remix(pop, "validator", "lazy_miner", 0.5)


def test_network_drawing_is_cached_and_reads_the_weights(app, experiment: Path) -> None:
    m = app.ArenaModel(experiment=str(experiment))
    for _ in range(3):
        m.step()
    net = m.network
    pic = app.subnet_picture(net, 0)
    assert len(pic.uids) == int((net.subnets[0].occupant >= 0).sum())
    g = app.subnet_graph(pic)
    assert g.number_of_nodes() == len(pic.uids)
    for v in g.nodes:
        assert g.out_degree(v) <= app.EDGES_PER_VALIDATOR
        if g.nodes[v]["role"] == "miner":
            assert g.out_degree(v) == 0
    assert g.number_of_edges() > 0  # validators have weights on chain after 3 epochs
    before = app.NETWORK_PNGS.hits
    png = app.network_png(net, 0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert app.network_png(net, 0) == png  # nothing changed: the cached drawing
    assert app.NETWORK_PNGS.hits >= before + 1
    pos, _ = app.ring_layout(pic)
    pos2, _ = app.ring_layout(app.subnet_picture(net, 0, "stake"))
    assert all(np.allclose(pos[u], pos2[u]) for u in pos)  # the layout ignores sizes
    assert app.network_png(net, 0, "stake") != png


def test_plots_change_each_epoch_and_table_ranks_earners(app, experiment: Path) -> None:
    m = app.ArenaModel(experiment=str(experiment))
    empty = app.strategy_lines_png(m, "emission_tao", "Emission", "TAO")
    m.step()
    first = app.strategy_lines_png(m, "emission_tao", "Emission", "TAO")
    assert first != empty and app.strategy_lines_png(m, "emission_tao", "E", "T") is first
    m.step()
    assert app.strategy_lines_png(m, "emission_tao", "Emission", "TAO") != first
    h1 = app.health_png(m)
    m.step()
    assert app.health_png(m) != h1
    top = app.top_earners(m)
    assert len(top) == app.TOP_EARNERS
    assert list(top["profit_usd_per_day"]) == sorted(top["profit_usd_per_day"], reverse=True)
    html = app.status_html(m)
    assert 'id="tao-epoch">Epoch 3<' in html and "tao-top-earners" in html


def test_viz_cli_defaults_to_loopback() -> None:
    from experiments import viz
    from experiments.cli import build_parser

    args = build_parser().parse_args(["viz"])
    assert args.host == "127.0.0.1" and args.port == viz.DEFAULT_PORT and args.file is None
    cmd = viz.solara_command(args.host, 9999)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "viz.app" in cmd
    assert viz.is_loopback("127.0.0.1") and viz.is_loopback("::1")
    assert not viz.is_loopback("0.0.0.0")
    assert viz.url_of("0.0.0.0", 8765) == "http://127.0.0.1:8765/"
    assert viz.default_file().exists()
    names = {s.rsplit("@", 1)[0] for s in viz.required_assets()}
    assert {"requirejs", "@widgetti/vue-grid-layout"} <= names


@pytest.mark.parametrize("content", [None, "name: [unclosed", "name: x\npopulation: []\n",
                                     "name: x\npopulation:\n  - {strategy: nobody, count: 1}\n"])
def test_viz_cli_refuses_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    content: str | None) -> None:
    from experiments.cli import main

    bad = tmp_path / "bad.yaml"
    if content is not None:
        bad.write_text(content)
    assert main(["viz", str(bad), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "tao-arena: error:" in err and str(bad) in err


def test_viz_cli_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from experiments.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["viz", "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_untouched_sliders_keep_each_subnets_values(app, tmp_path: Path) -> None:
    two = tmp_path / "two.yaml"
    two.write_text("""\
name: two-subnets
scenario:
  subnets:
    - {n_uids: 16, yuma: {kappa: 0.5, bonds_penalty: 1.0, max_validators: 8}, reveal_period: 2}
    - {n_uids: 16, yuma: {kappa: 0.3, bonds_penalty: 0.5, max_validators: 8},
       commit_reveal: false,
       reveal_period: 0}
population:
  - {strategy: honest_validator, count: 2, subnet: 0}
  - {strategy: honest_miner, count: 6, subnet: 0}
  - {strategy: honest_validator, count: 2, subnet: 1}
  - {strategy: honest_miner, count: 6, subnet: 1}
""")
    defaults = {k: (v.value if hasattr(v, "value") else v.get("value"))
                for k, v in app.model_params_for(app.load_base(two), str(two)).items()
                if k != "experiment"}
    m = app.ArenaModel(experiment=str(two), **defaults)  # what Reset passes, untouched
    first, second = (s.params for s in m.network.subnets)
    assert (first.yuma.kappa, second.yuma.kappa) == (0.5, 0.3)
    assert (first.yuma.bonds_penalty, second.yuma.bonds_penalty) == (1.0, 0.5)
    assert (first.effective_reveal_period, second.effective_reveal_period) == (2, 0)
    m = app.ArenaModel(experiment=str(two), **{**defaults, "kappa": 0.7, "reveal_period": 1})
    assert [s.params.yuma.kappa for s in m.network.subnets] == [0.7, 0.7]
    assert [s.params.effective_reveal_period for s in m.network.subnets] == [1, 1]
    assert [s.params.yuma.bonds_penalty for s in m.network.subnets] == [1.0, 0.5]
    assert "subnet 0's values shown" in m.describe()
