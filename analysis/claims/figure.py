"""The claims' figure: in which sampled worlds each claim holds, against the parameter
that decides it (MODEL.md section 11; issue 14: "which uncertain parameters decide it, in
words and a figure").

One panel per claim and era with priors: each world (seed index) is a point at its drawn
value of the top deciding parameter (``analysis.claims.worlds``), at 1 where the claim
holds there and 0 where it fails; the dashed line is the split that best separates them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.claims.verdicts import Verdict  # noqa: E402
from analysis.output import save_figure  # noqa: E402


def _panels(verdicts: Sequence[Verdict]) -> list[tuple[Verdict, dict]]:
    """(verdict, its top deciding parameter) for verdicts whose worlds were drawn."""
    out = []
    for v in verdicts:
        deciding = v.worlds.get("deciding_parameters") or []
        if deciding and v.worlds.get("per_world"):
            out.append((v, deciding[0]))
    return out


def worlds_figure(verdicts: Sequence[Verdict], path: str | Path) -> Path | None:
    """Write the figure (module docstring) to ``path``; None when no claim drew worlds
    from priors with a parameter that separates them."""
    panels = _panels(verdicts)
    if not panels:
        return None
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.4 * cols, 2.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (v, top) in zip(axes.flat, panels, strict=False):
        name = top["parameter"]
        pts = [(w[name], 1.0 if w["holds"] else 0.0) for w in v.worlds["per_world"]
               if name in w]
        x = np.array([p[0] for p in pts], dtype=float)
        y = np.array([p[1] for p in pts], dtype=float)
        # a deterministic spread so that coincident worlds stay visible
        y = y + np.linspace(-0.06, 0.06, len(y)) if len(y) > 1 else y
        ax.scatter(x, y, s=14, c=np.where(y > 0.5, "tab:green", "tab:red"))
        ax.axvline(top["threshold"], ls="--", c="0.4", lw=1)
        ax.set_yticks([0, 1], ["fails", "holds"])
        ax.set_ylim(-0.3, 1.3)
        ax.set_xlabel(name, fontsize=8)
        p = v.worlds.get("p_holds")
        ax.set_title(f"claim {v.claim} ({v.era or 'as run'}): P {p:.2f}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("Where each claim holds among the sampled worlds, against its deciding "
                 "parameter", fontsize=10)
    return save_figure(fig, Path(path))
