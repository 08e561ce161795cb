"""The interactive page: watch the game play out in a browser (Mesa's SolaraViz).

Start it with ``tao-arena viz [FILE]`` (``experiments.viz``), which serves this module
with ``solara run`` and passes the experiment file in the ``TAO_ARENA_VIZ_FILE``
environment variable (default: ``experiments/configs/quickstart.yaml``). The layout is the
one of Mesa's own examples, ``SolaraViz`` with a model, ``model_params`` (the sidebar's
sliders and selectors) and components, inside a ``Page`` component that gives each
browser session its own model.

What the page shows (see docs/visualisation.md):

- the subnet as a network: validators (squares, inner ring) and miners (circles, outer
  ring) coloured by strategy and sized by this epoch's emission or by stake, lines for
  the strongest weights each validator has on chain, cabals as shaded sectors;
- plots over epochs from ``model.datacollector``: emission and profit by strategy,
  population by strategy, alignment, Gini of emission and the Nakamoto coefficient;
- the epoch, what the model in view was built with, and a table of the top earners.

The sliders rebuild the model when Reset is pressed (Mesa's semantics): ``ArenaModel``
takes them as keyword arguments, applies them to the experiment file's resolved
configuration and builds the world model with ``experiments.wiring.build_model``, seeded
like run ``seed_index`` of ``tao-arena run``. Drawings are PNGs rendered once per epoch
from kept figures that redraw only their data over a cached background (matplotlib
blitting); the network drawing is reused outright while nothing visible in it changed.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from viz.arena import ArenaModel
from viz.network_view import network_png
from viz.plots import health_png, status_html, strategy_lines_png
from viz.settings import experiment_path, load_base, model_params_for
from viz.style import SIZE_BY

# ---------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------

_IMAGE_LAYOUT = {"max_width": "100%", "max_height": "370px", "object_fit": "contain"}


def _image(png: bytes, name: str) -> Any:
    """A PNG scaled into its card (classes ``tao-plot tao-<name>`` for tests)."""
    return ipywidgets.Image.element(value=png, format="png",
                                    layout=ipywidgets.Layout.element(**_IMAGE_LAYOUT),
                                    _dom_classes=["tao-plot", f"tao-{name}"])


@solara.component
def NetworkView(model: ArenaModel) -> Any:
    """The subnet as a network, with choices of subnet and of what sizes the nodes."""
    update_counter.get()
    netuid, set_netuid = solara.use_state(0)
    size_by, set_size_by = solara.use_state("emission")
    net = model.network
    netuid = min(netuid, len(net.subnets) - 1)
    png = network_png(net, netuid, size_by)
    with solara.Column(gap="2px") as main:
        with solara.Row(gap="12px", style={"align-items": "center"}):
            if len(net.subnets) > 1:
                solara.Select("subnet", value=str(netuid),
                              values=[str(i) for i in range(len(net.subnets))],
                              on_value=lambda v: set_netuid(int(v)), dense=True,
                              style={"max-width": "90px"})
            solara.Text("node size:", style={"font-size": "12px", "color": "#666"})
            solara.ToggleButtonsSingle(value=size_by, values=list(SIZE_BY),
                                       on_value=set_size_by, dense=True)
        _image(png, "network")
    return main


@solara.component
def StatusView(model: ArenaModel) -> Any:
    """The epoch counter, the model's settings and the top earners."""
    update_counter.get()
    return solara.HTML(tag="div", unsafe_innerHTML=status_html(model),
                       classes=["tao-status"])


@solara.component
def EmissionPlot(model: ArenaModel) -> Any:
    """Emission by strategy over epochs."""
    update_counter.get()
    scale = 24.0 / model.network.params.epoch_hours
    return _image(strategy_lines_png(model, "emission_tao", "Emission by strategy",
                                     "TAO per day (all members)", scale), "emission")


@solara.component
def ProfitPlot(model: ArenaModel) -> Any:
    """Profit per agent by strategy over epochs."""
    update_counter.get()
    scale = 24.0 / model.network.params.epoch_hours
    return _image(strategy_lines_png(model, "profit_usd_per_agent",
                                     "Profit per agent by strategy",
                                     "USD per day (emission − costs)", scale), "profit")


@solara.component
def PopulationPlot(model: ArenaModel) -> Any:
    """Population by strategy over epochs."""
    update_counter.get()
    return _image(strategy_lines_png(model, "population", "Population by strategy",
                                     "participants", step=True), "population")


@solara.component
def HealthPlot(model: ArenaModel) -> Any:
    """Alignment, Gini and Nakamoto coefficient over epochs."""
    update_counter.get()
    return _image(health_png(model), "health")


COMPONENTS = [NetworkView, StatusView, EmissionPlot, ProfitPlot, PopulationPlot, HealthPlot]

# ---------------------------------------------------------------------------------------
# The page (the layout of Mesa's examples)
# ---------------------------------------------------------------------------------------

EXPERIMENT = experiment_path()
_plan = load_base(EXPERIMENT)
model_params = model_params_for(_plan, EXPERIMENT)
NAME = f"tao-arena · {_plan.name}"


def new_model() -> ArenaModel:
    """A fresh model of the experiment file with the sidebar's defaults (epoch 0)."""
    return ArenaModel(experiment=EXPERIMENT)


@solara.component
def Page() -> Any:
    """The page of one browser session (issue 19).

    Solara imports this module once per server and renders ``Page`` once per session
    (each browser tab has its own virtual kernel), so the model is made here, kept for
    the session with ``use_memo``: two tabs stepping the same page each advance their own
    run, and a newcomer starts at epoch 0 whatever the others did.
    """
    model = solara.use_memo(new_model, dependencies=[])
    return SolaraViz(model, components=COMPONENTS, model_params=model_params, name=NAME,
                     play_interval=150)
