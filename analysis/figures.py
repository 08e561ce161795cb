"""Figures of the report (matplotlib, Agg, no pyplot state).

Every function draws one PNG from plain numbers (means with interval bounds, matrices,
trajectories) and returns the path it wrote. Figures are built on
``matplotlib.figure.Figure`` directly, so nothing depends on an interactive backend or
on pyplot's global figure list, and each is saved with ``bbox_inches="tight"`` so labels
are not clipped. Colours are stable per strategy name across every figure of a report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.colors import ListedColormap, TwoSlopeNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from analysis.output import save_figure

__all__ = [
    "Band",
    "Interval",
    "alpharank_figure",
    "bar_intervals",
    "coalition_figure",
    "color_of",
    "cumulative_figure",
    "forest_figure",
    "heatmap_figure",
    "metrics_figure",
    "phase_figure",
    "replicator_figure",
]

DPI = 120
_PALETTE = list(colormaps["tab10"].colors) + list(colormaps["Dark2"].colors)
_KNOWN: dict[str, tuple[float, ...]] = {}


def color_of(name: str) -> tuple[float, ...]:
    """A colour per strategy (or series) name, the same in every figure of a process."""
    if name not in _KNOWN:
        _KNOWN[name] = _PALETTE[len(_KNOWN) % len(_PALETTE)]
    return _KNOWN[name]


@dataclass(frozen=True)
class Interval:
    """A labelled estimate: ``mean`` with interval ``[low, high]`` (NaN: no interval)."""

    label: str
    mean: float
    low: float
    high: float
    group: str = ""  # colour key (e.g. the strategy); the label if empty


@dataclass(frozen=True)
class Band:
    """A series over time with a pointwise band: ``x``, ``mean``, ``low``, ``high``."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _save(fig: Figure, path: Path) -> Path:
    return save_figure(fig, path, dpi=DPI)


def _err(items: Sequence[Interval]) -> np.ndarray:
    means = np.array([i.mean for i in items], float)
    low = np.array([i.low for i in items], float)
    high = np.array([i.high for i in items], float)
    lo = np.where(np.isfinite(low), means - low, 0.0)
    hi = np.where(np.isfinite(high), high - means, 0.0)
    return np.vstack([np.maximum(lo, 0), np.maximum(hi, 0)])


def forest_figure(
    items: Sequence[Interval],
    path: Path,
    *,
    title: str,
    xlabel: str,
    zero_line: bool = True,
) -> Path:
    """A forest plot: one row per item, its mean as a dot and its interval as a bar."""
    n = max(len(items), 1)
    fig = Figure(figsize=(8.0, 1.0 + 0.32 * n))
    ax = fig.subplots()
    y = np.arange(len(items))[::-1]
    for yi, it in zip(y, items, strict=True):
        c = color_of(it.group or it.label)
        err = _err([it])
        ax.errorbar(it.mean, yi, xerr=err, fmt="o", color=c, ecolor=c, capsize=3, ms=5)
    ax.set_yticks(y, [it.label for it in items])
    if zero_line:
        ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.set_ylim(-0.7, len(items) - 0.3)
    return _save(fig, path)


def bar_intervals(
    items: Sequence[Interval],
    path: Path,
    *,
    title: str,
    ylabel: str,
    note: str = "",
) -> Path:
    """Vertical bars with interval whiskers (e.g. deviation gains from all-honest)."""
    fig = Figure(figsize=(max(5.0, 1.1 * len(items) + 2), 4.2))
    ax = fig.subplots()
    x = np.arange(len(items))
    colors = [color_of(it.group or it.label) for it in items]
    ax.bar(x, [it.mean for it in items], color=colors, alpha=0.8)
    ax.errorbar(x, [it.mean for it in items], yerr=_err(items), fmt="none", ecolor="k",
                capsize=4)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(x, [it.label for it in items], rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if note:
        ax.text(0.01, 0.98, note, transform=ax.transAxes, va="top", fontsize=8, color="0.3")
    return _save(fig, path)


def cumulative_figure(
    panels: Mapping[str, Sequence[Band]],
    path: Path,
    *,
    title: str,
    ylabel: str,
    xlabel: str = "epoch",
) -> Path:
    """Series over time with bands, one panel per key of ``panels`` (e.g. per cell)."""
    keys = list(panels)
    n = max(len(keys), 1)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(5.2 * cols, 3.6 * rows + 0.6))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, key in zip(axes, keys, strict=False):
        for b in panels[key]:
            c = color_of(b.label)
            ax.plot(b.x, b.mean, color=c, label=b.label, lw=1.6)
            ok = np.isfinite(b.low) & np.isfinite(b.high)
            if ok.any():
                ax.fill_between(b.x, b.low, b.high, where=ok, color=c, alpha=0.2, lw=0)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    for ax in axes[len(keys):]:
        ax.set_axis_off()
    handles, labels = _legend_entries(axes[: len(keys)])
    fig.suptitle(title)
    if len(axes) > len(keys):  # a spare panel holds the legend
        axes[len(keys)].legend(handles, labels, loc="center", fontsize=9, frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    else:
        ncol = min(len(labels), 4)
        fig.legend(handles, labels, loc="lower center", ncol=max(ncol, 1), fontsize=8,
                   bbox_to_anchor=(0.5, 0.0), frameon=False)
        rows_legend = int(np.ceil(len(labels) / max(ncol, 1)))
        fig.tight_layout(rect=(0, min(0.035 * rows_legend + 0.02, 0.3), 1, 0.97))
    return _save(fig, path)


def _legend_entries(axes: Sequence) -> tuple[list, list[str]]:
    seen: dict[str, object] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    return list(seen.values()), list(seen)


def heatmap_figure(
    matrices: Mapping[str, np.ndarray],
    path: Path,
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    row_title: str,
    col_title: str,
    title: str,
    cbar_label: str,
    annotations: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> Path:
    """Annotated heatmaps side by side (e.g. the miners' and the validators' payoffs).

    Each matrix gets its own diverging colour scale centred on 0 (profit vs loss); cells
    are annotated with ``annotations[key][i][j]`` (mean and interval), NaN cells grey.
    """
    keys = list(matrices)
    nr, nc = len(row_labels), len(col_labels)
    w = max(4.5, 1.6 * nc + 2.5)
    label_w = 0.075 * max((len(str(lab)) for lab in row_labels), default=0)  # inches of text
    fig = Figure(figsize=(w * len(keys) + label_w, max(3.2, 0.75 * nr + 1.8)),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys), squeeze=False)).ravel()
    for ax, key in zip(axes, keys, strict=True):
        m = np.asarray(matrices[key], float)
        finite = m[np.isfinite(m)]
        lim = float(np.max(np.abs(finite))) if finite.size else 1.0
        lim = lim if lim > 0 else 1.0
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)  # symmetric: white = 0
        cmap = colormaps["RdBu"].with_extremes(bad="0.85")
        im = ax.imshow(np.ma.masked_invalid(m), cmap=cmap, norm=norm, aspect="auto")
        ax.set_xticks(range(nc), col_labels, rotation=25, ha="right")
        ax.set_yticks(range(nr), row_labels if ax is axes[0] else [])
        ax.set_xlabel(col_title)
        if ax is axes[0]:
            ax.set_ylabel(row_title)
        ax.set_title(key, fontsize=10)
        ann = annotations.get(key) if annotations else None
        for i in range(nr):
            for j in range(nc):
                text = ann[i][j] if ann is not None else (
                    f"{m[i, j]:.3g}" if np.isfinite(m[i, j]) else "n/a")
                v = m[i, j]
                dark = np.isfinite(v) and abs(norm(v) - 0.5) > 0.3
                ax.text(j, i, text, ha="center", va="center", fontsize=7.5,
                        color="white" if dark else "black")
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        cb.set_label(cbar_label)
    fig.suptitle(title)
    return _save(fig, path)


def alpharank_figure(
    profile_labels: Sequence[str],
    pi: np.ndarray,
    marginals: Mapping[str, tuple[Sequence[str], np.ndarray]],
    path: Path,
    *,
    title: str,
    top: int = 12,
) -> Path:
    """alpha-Rank: stationary mass of the top profiles, and each role's marginal mass."""
    order = np.argsort(-np.asarray(pi), kind="stable")[:top]
    fig = Figure(figsize=(11.0, 0.9 + 0.35 * max(len(order), 4)))
    axes = fig.subplots(1, 1 + len(marginals), width_ratios=[2] + [1] * len(marginals),
                        squeeze=False)[0]
    ax = axes[0]
    y = np.arange(len(order))[::-1]
    ax.barh(y, np.asarray(pi)[order], color="tab:blue", alpha=0.8)
    ax.set_yticks(y, [profile_labels[i] for i in order], fontsize=8)
    ax.set_xlabel("stationary mass (alpha-Rank score)")
    ax.set_xlim(0, 1)
    ax.set_title("joint profiles (" + ", ".join(f"{r} strategy" for r in marginals) + ")",
                 fontsize=9)
    for yi, i in zip(y, order, strict=True):
        ax.text(min(pi[i] + 0.01, 0.85), yi, f"{pi[i]:.3f}", va="center", fontsize=7)
    for ax, (role, (labels, mass)) in zip(axes[1:], marginals.items(), strict=True):
        o = np.argsort(-np.asarray(mass), kind="stable")
        yy = np.arange(len(o))[::-1]
        ax.barh(yy, np.asarray(mass)[o], color=[color_of(labels[i]) for i in o])
        ax.set_yticks(yy, [labels[i] for i in o], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel("marginal mass")
        ax.set_title(f"{role} strategies", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def replicator_figure(
    trajectories: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    labels: tuple[Sequence[str], Sequence[str]],
    path: Path,
    *,
    title: str,
    roles: tuple[str, str] = ("miners", "validators"),
) -> Path:
    """Replicator trajectories: each role's strategy shares over (replicator) time.

    ``trajectories``: ``(t, x, y)`` per start, ``x`` (T, n_row) and ``y`` (T, n_col).
    Solid lines are the first start; thinner lines the other starts.
    """
    fig = Figure(figsize=(11.0, 4.0))
    axes = fig.subplots(1, 2)
    for k, (ax, names, role) in enumerate(zip(axes, labels, roles, strict=True)):
        for s, (t, x, y) in enumerate(trajectories):
            mix = x if k == 0 else y
            for j, name in enumerate(names):
                ax.plot(t, mix[:, j], color=color_of(name), lw=2.0 if s == 0 else 0.8,
                        alpha=1.0 if s == 0 else 0.45, label=name if s == 0 else None)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("replicator time (payoff units scaled to 1)")
        ax.set_ylabel(f"share of {role}")
        ax.set_title(role)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center right")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def phase_figure(
    x_values: Sequence[object],
    y_values: Sequence[object],
    winner: np.ndarray,
    overlap: np.ndarray,
    honest_eq: np.ndarray | None,
    names: Sequence[str],
    path: Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    annotations: Sequence[Sequence[str]] | None = None,
) -> Path:
    """Phase diagram over two swept parameters.

    ``winner[i, j]``: index into ``names`` of the winning strategy at ``(y_i, x_j)`` (-1:
    none); ``overlap[i, j]``: hatched where the winner's interval overlaps the
    runner-up's; ``honest_eq[i, j]`` (optional): 1 where honest play is an equilibrium,
    drawn as a black contour around that region.
    """
    ny, nx = winner.shape
    fig = Figure(figsize=(max(5.5, 1.0 * nx + 3.5), max(4.0, 0.7 * ny + 2.2)))
    ax = fig.subplots()
    cmap = ListedColormap([color_of(n) for n in names] or ["0.8"])
    grid = np.ma.masked_less(winner.astype(float), 0)
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, origin="lower",
              aspect="auto", alpha=0.85)
    for i in range(ny):
        for j in range(nx):
            if overlap[i, j]:
                ax.add_patch(matplotlib.patches.Rectangle(
                    (j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", lw=0, color="0.15"))
            if annotations is not None:
                ax.text(j, i, annotations[i][j], ha="center", va="center", fontsize=7)
    handles = [Patch(color=color_of(n), label=n) for n in names]
    handles.append(Patch(facecolor="white", edgecolor="0.15", hatch="///",
                         label="intervals overlap"))
    if honest_eq is not None and np.any(np.isfinite(honest_eq)):
        h = np.nan_to_num(np.asarray(honest_eq, float), nan=0.0) > 0.5
        if not h.any():
            ax.text(0.5, -0.16, "honest play is a best response in no cell",
                    transform=ax.transAxes, ha="center", va="top", fontsize=8)
        for i, j in zip(*np.nonzero(h), strict=True):
            # the region's outline along cell edges: every side facing a cell outside it
            for di, dj, xs, ys in ((-1, 0, (j - .5, j + .5), (i - .5, i - .5)),
                                   (1, 0, (j - .5, j + .5), (i + .5, i + .5)),
                                   (0, -1, (j - .5, j - .5), (i - .5, i + .5)),
                                   (0, 1, (j + .5, j + .5), (i - .5, i + .5))):
                ii, jj = i + di, j + dj
                if not (0 <= ii < ny and 0 <= jj < nx and h[ii, jj]):
                    ax.plot(xs, ys, color="k", lw=2.5, solid_capstyle="round",
                            clip_on=False)
        if h.any():
            handles.append(matplotlib.lines.Line2D([], [], color="k", lw=2,
                                                   label="honest play is a best\nresponse inside"))
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)
    ax.set_xticks(range(nx), [str(v) for v in x_values])
    ax.set_yticks(range(ny), [str(v) for v in y_values])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
              frameon=False)
    return _save(fig, path)


def metrics_figure(
    panels: Mapping[str, Sequence[Band]],
    path: Path,
    *,
    title: str,
    ylabels: Mapping[str, str],
    ylims: Mapping[str, tuple[float, float]] | None = None,
    xlabel: str = "epoch",
) -> Path:
    """Network metrics over time, one panel per metric, one line per cell, with bands.

    ``ylims`` bounds a panel's y axis (e.g. a correlation's [-1, 1], which a t-band may
    overshoot).
    """
    keys = list(panels)
    cols = 2
    rows = int(np.ceil(max(len(keys), 1) / cols))
    fig = Figure(figsize=(11.0, 3.4 * rows + 0.8))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, key in zip(axes, keys, strict=False):
        for b in panels[key]:
            c = color_of(b.label)
            ax.plot(b.x, b.mean, color=c, lw=1.4, label=b.label)
            ok = np.isfinite(b.low) & np.isfinite(b.high)
            if ok.any():
                ax.fill_between(b.x, b.low, b.high, where=ok, color=c, alpha=0.2, lw=0)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabels.get(key, key))
        ax.grid(alpha=0.3)
        if ylims and key in ylims:
            ax.set_ylim(*ylims[key])
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    handles, labels = _legend_entries(axes[: len(keys)])
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    # one legend for all panels, beside them (never stacked over the plots)
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8,
               frameon=False, title="cell")
    return _save(fig, path)


def coalition_figure(
    series: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    path: Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """Coalition curves: profit per member against coalition size or share, with intervals.

    One series per (role, members or not, profile): a line joins only points of one
    profile across the sweep; a profile with one x value is a point with its interval."""
    fig = Figure(figsize=(8.0, 4.6))
    ax = fig.subplots()
    for label, (x, m, lo, hi) in series.items():
        c = color_of(label)
        if len(x) > 1:
            ax.plot(x, m, "o-", color=c, label=label)
            ax.fill_between(x, lo, hi, color=c, alpha=0.2, lw=0)
        else:
            ax.errorbar(x, m, yerr=[m - lo, hi - m], fmt="o", color=c, capsize=3,
                        label=label)
    ax.axhline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return _save(fig, path)


def deviation_figure(
    panels: Mapping[str, Sequence[Interval]],
    path: Path,
    *,
    title: str,
    xlabel: str,
    epsilon: float | None = None,
) -> Path:
    """Deviation gains, one panel per role stacked (their scales differ): a row per deviation and
    sweep point, dot = mean gain, bar = interval, colour = the strategy deviated to (with
    its legend), dashed zero line and, when given, a dotted line at +epsilon."""
    sizes = [max(len(v), 1) for v in panels.values()] or [1]
    fig = Figure(figsize=(9.0, 1.2 + 0.28 * sum(sizes) + 0.8 * len(sizes)))
    axes = np.atleast_1d(fig.subplots(len(sizes), 1, squeeze=False,
                                      gridspec_kw={"height_ratios": sizes})[:, 0])
    for ax, (role, items) in zip(axes, panels.items(), strict=False):
        y = np.arange(len(items))[::-1]
        for yi, it in zip(y, items, strict=True):
            c = color_of(it.group or it.label)
            ax.errorbar(it.mean, yi, xerr=_err([it]), fmt="o", color=c, ecolor=c, capsize=3,
                        ms=5, label=it.group or it.label)
        ax.set_yticks(y, [it.label for it in items], fontsize=8)
        ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
        if epsilon is not None:
            ax.axvline(epsilon, color="0.3", lw=0.8, ls=":")
        ax.set_xlabel(xlabel)
        ax.set_title(f"{role}s")
        ax.grid(axis="x", alpha=0.3)
        ax.set_ylim(-0.7, len(items) - 0.3)
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles, strict=True))
        ax.legend(uniq.values(), uniq.keys(), title="deviates to", fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle(title)
    return _save(fig, path)
