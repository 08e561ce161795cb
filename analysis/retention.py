"""The retention figure of ``tao-arena guarantees``, drawn from ``guarantees.json`` alone.

For each major (honest) stake S_H, the contour where the honest emission share E_H equals
S_H over honest utility W_H (x) and cabal self-weight W_C (y): the compound "retention
lines" plot of subtensor's ``docs/consensus.md`` ("Retention graphs"). Right of a line the
honest side keeps (or grows) its stake whatever weight the cabal gives itself below it; the
dotted vertical mark is the required honest utility (``required_honest_utility``).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from analysis.output import save_figure

DPI = 120


def retention_figure(guarantees_json: str | Path, out: str | Path) -> Path:
    """Draw the retention lines of every major stake in ``guarantees_json`` into ``out``."""
    data = json.loads(Path(guarantees_json).read_text())
    wh = np.asarray(data["honest_utility"])
    wc = np.asarray(data["cabal_self_weight"])
    stakes = data["major_stake"]
    fig = Figure(figsize=(6.4, 5.4))
    ax = fig.add_subplot()
    cmap = colormaps["viridis"]
    handles = []
    for k, (s, need) in enumerate(zip(stakes, data["required_honest_utility"], strict=True)):
        colour = cmap(k / max(1, len(stakes) - 1))
        emission = np.asarray(data["honest_emission"][k])  # [h][c]
        if emission.min() < s < emission.max():
            ax.contour(wh, wc, emission.T, levels=[s], colors=[colour], linewidths=1.4)
        if need is not None:
            ax.axvline(need, color=colour, linestyle=":", linewidth=0.8)
        label = f"$S_H$ = {s:g}: " + ("none" if need is None else f"$W_H \\geq$ {need:.2f}")
        handles.append(Line2D([], [], color=colour, label=label))
    p = data["params"]
    la = ", liquid alpha" if p.get("liquid_alpha") else ""
    ax.set_title(f"Retention lines ($E_H = S_H$): {p['version']}{la}, $\\sigma$ = {p['sigma']:g}, "
                 f"$\\kappa$ = {p['kappa']:.3g},\n$\\beta$ = {p['bonds_penalty']:g}, "
                 f"$\\xi$ = {p['validator_share']:g}, {p['epochs']} epoch(s)", fontsize=9)
    ax.set_xlabel("honest utility $W_H$ (honest self-weight)")
    ax.set_ylabel("cabal self-weight $W_C$")
    ax.set_xlim(wh[0], wh[-1])
    ax.set_ylim(wc[0], wc[-1])
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5),
              title="required utility", title_fontsize=7)
    return save_figure(fig, Path(out), dpi=DPI)
