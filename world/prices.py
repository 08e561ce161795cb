"""The TAO/USD price path (MODEL.md section 4: constant, geometric Brownian motion, or a
series from a file).

The path is drawn from its own random stream so that every cell of a sweep sees the same
prices for the same seed index (common random numbers); ``experiments`` reads series
files and passes the numbers in.
"""

from __future__ import annotations

import numpy as np

from world.params import PriceParams

HOURS_PER_YEAR = 24 * 365.25


class PricePath:
    """Price per epoch, extended lazily one epoch at a time."""

    def __init__(self, params: PriceParams, epoch_hours: float, rng: np.random.Generator):
        self.params = params
        self.dt = epoch_hours / HOURS_PER_YEAR
        self.rng = rng
        self.path: list[float] = [
            params.series_usd[0] if params.kind == "series" else params.initial_usd
        ]

    def at(self, epoch: int) -> float:
        """The TAO price in USD during ``epoch`` (0-based)."""
        while len(self.path) <= epoch:
            self.path.append(self._next(len(self.path)))
        return self.path[epoch]

    def _next(self, epoch: int) -> float:
        p = self.params
        if p.kind == "constant":
            return p.initial_usd
        if p.kind == "series":
            return p.series_usd[min(epoch, len(p.series_usd) - 1)]
        # GBM, exact discretisation: S' = S exp((mu - sigma^2/2) dt + sigma sqrt(dt) Z)
        z = self.rng.standard_normal()
        drift = (p.drift - 0.5 * p.volatility**2) * self.dt
        return float(self.path[-1] * np.exp(drift + p.volatility * np.sqrt(self.dt) * z))
