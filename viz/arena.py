"""The model the page steps: one world model built from the experiment file and the
sidebar's values (``ArenaModel``), with its kept figures and drawings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa
import pandas as pd

from viz.settings import AS_IN_FILE, configure, experiment_path, file_values, load_base

if TYPE_CHECKING:
    from world.model import Network

# ---------------------------------------------------------------------------------------
# The model the page steps
# ---------------------------------------------------------------------------------------


class ArenaModel(mesa.Model):
    """One world model (``network``) built from an experiment file with the page's overrides.

    SolaraViz rebuilds the model on Reset by calling this class with the sidebar's values
    as keyword arguments, so each slider is a parameter here. One step is one epoch of the
    network. ``datacollector`` is the network's (model variables per epoch).
    """

    def __init__(
        self,
        experiment: str | None = None,
        seed_index: int | str = 0,
        kappa: float | None = None,
        bonds_penalty: float | None = None,
        reveal_period: int | None = None,
        liquid_alpha: bool | None = None,
        tao_price_usd: float | None = None,
        miner_mix: str = AS_IN_FILE,
        miner_mix_share: int = 0,
        validator_mix: str = AS_IN_FILE,
        validator_mix_share: int = 0,
    ) -> None:
        from experiments.schema import Experiment
        from experiments.wiring import build_model, run_seed

        self.experiment = str(experiment or experiment_path())
        self.plan = load_base(self.experiment)
        # typed into a text box: anything but a non-negative integer means run 0
        text = str(seed_index).strip()
        self.seed_index = int(text) if text.isdigit() and len(text) < 10 else 0
        self.seed = run_seed(self.plan.master_seed, self.seed_index)
        super().__init__(rng=self.seed)
        # a value left at the sidebar's default (subnet 0's value in the file) keeps every
        # subnet's own value from the file
        file = file_values(self.plan.config)
        kappa, bonds_penalty, reveal_period, liquid_alpha, tao_price_usd = (
            None if given is None or given == file[key] else given
            for key, given in (("kappa", kappa), ("bonds_penalty", bonds_penalty),
                               ("reveal_period", reveal_period),
                               ("liquid_alpha", liquid_alpha),
                               ("tao_price_usd", tao_price_usd)))
        self.config = configure(
            self.plan.config, kappa=kappa, bonds_penalty=bonds_penalty,
            reveal_period=reveal_period, liquid_alpha=liquid_alpha,
            tao_price_usd=tao_price_usd, miner_mix=miner_mix,
            miner_mix_share=float(miner_mix_share) / 100.0, validator_mix=validator_mix,
            validator_mix_share=float(validator_mix_share) / 100.0,
        )
        self.spec = Experiment.model_validate(self.config)
        self.network: Network = build_model(self.spec, self.seed)
        self.datacollector = self.network.datacollector
        self.mix = {"miner": (miner_mix, int(miner_mix_share)),
                    "validator": (validator_mix, int(validator_mix_share))}
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._figures: dict[str, Any] = {}
        self._pictures: dict[str, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def step(self) -> None:
        """One epoch of the network."""
        self.network.step()

    @property
    def epoch(self) -> int:
        """Epochs run so far."""
        return int(self.network.epoch)

    def metrics(self) -> pd.DataFrame:
        """The per-epoch model variables (one DataFrame per epoch, cached)."""
        if self._frame is None or self._frame[0] != self.epoch:
            self._frame = (self.epoch, self.datacollector.get_model_vars_dataframe())
        return self._frame[1]

    def figure(self, name: str, make: Callable[[], Any]) -> Any:
        """This model's kept figure ``name`` (made on first use)."""
        with self._lock:
            if name not in self._figures:
                self._figures[name] = make()
            return self._figures[name]

    def picture(self, name: str, render: Callable[[], bytes]) -> bytes:
        """Drawing ``name`` of the current epoch, rendered once per epoch."""
        epoch = self.epoch
        cached = self._pictures.get(name)
        if cached is not None and cached[0] == epoch:
            return cached[1]
        png = render()
        self._pictures[name] = (epoch, png)
        return png

    def describe(self) -> str:
        """What the model in view was built with (the overrides as applied), one line."""
        subnets = self.config["scenario"]["subnets"]
        sn = subnets[0]
        yuma = sn["yuma"]
        rp = f"{sn['reveal_period']} epoch(s)" if sn["commit_reveal"] else "off"
        mix = ", ".join(f"{share}% of {role}s {name}" for role, (name, share)
                        in self.mix.items() if name and name != AS_IN_FILE) or "as in the file"
        return (f"kappa {yuma['kappa']:.2f} · bonds penalty {yuma['bonds_penalty']:.2f} · "
                f"commit-reveal {rp} · liquid alpha {'on' if yuma['liquid_alpha'] else 'off'}"
                f" · TAO ${self.config['scenario']['price']['initial_usd']:,.0f} at start · "
                f"mix: {mix} · seed index {self.seed_index}"
                + (" (subnet 0's values shown)" if len(subnets) > 1 else ""))



