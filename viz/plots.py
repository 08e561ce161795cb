"""The plots over epochs (emission, profit and population by strategy; alignment, Gini
and Nakamoto coefficient), drawn by redrawing only their data lines over a kept
background (matplotlib blitting), and the status card with the top earners."""

from __future__ import annotations

import html
import math
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from viz.style import TOP_EARNERS, encode_png, new_figure, strategy_colour
from world.ledger import to_tao

if TYPE_CHECKING:
    from viz.arena import ArenaModel

def _x_limits(epochs: np.ndarray) -> tuple[float, float]:
    """The x range: from the first epoch to a round number of epochs past the last (10,
    20, 30, 50, 100, ...), so that it stays put for many epochs."""
    lo = float(epochs[0]) if len(epochs) else 0.0
    span = (float(epochs[-1]) - lo + 1.0) if len(epochs) else 1.0
    scale = 1.0
    while True:
        for m in (10, 20, 30, 50):
            if m * scale >= span:
                return lo - 0.5, lo + m * scale - 0.5
        scale *= 10


def _y_limits(values: np.ndarray, floor: float | None = None) -> tuple[float, float]:
    """A range covering ``values`` with a little headroom, its ends rounded (so that it
    changes only when the data leave it)."""
    v = values[np.isfinite(values)]
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
    if floor is not None:
        lo = min(lo, floor)
    if hi - lo < 1e-9:
        lo, hi = (lo - 1.0 if lo < 0 else lo), hi + 1.0
    pad = 0.05 * (hi - lo)  # headroom, but not below zero for data that are not
    ticks = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi + pad)
    fine = float(ticks[1] - ticks[0]) / 5  # round the ends to a fifth of a tick step
    low = fine * math.floor((lo - pad) / fine)
    if lo >= 0:
        low = max(low, 0.0)
    return low, fine * math.ceil((hi + pad) / fine)


class _Blitter:
    """Keeps a figure's static pixels (axes, ticks, labels, legend) between renders and
    draws only the data lines on them; the static part is redrawn when the axes' limits,
    the legend or the style change."""

    def __init__(self, size: tuple[float, float]) -> None:
        self.lock = threading.Lock()
        self.fig, self.canvas = new_figure(size)
        self._background: Any = None
        self._state: Any = None

    def finish(self, state: Any, lines: list[Line2D]) -> bytes:
        """Render: reuse the background if ``state`` (what the static part shows) is the
        same as last time, then draw ``lines`` (animated artists) on it."""
        if self._background is None or state != self._state:
            self.canvas.draw()  # animated lines are left out
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._state = state
        else:
            self.canvas.restore_region(self._background)
        for line in lines:
            line.axes.draw_artist(line)
        return encode_png(self.canvas)


class LineFigure(_Blitter):
    """A plot over epochs, one line per strategy, redrawn cheaply from epoch to epoch."""

    def __init__(self, title: str, ylabel: str, *, step: bool = False) -> None:
        super().__init__((6.2, 4.0))
        self.ax = self.fig.add_subplot()
        self.ax.set_title(title, fontsize=11, loc="left", fontweight="bold")
        self.ax.set_ylabel(ylabel, fontsize=9)
        self.ax.set_xlabel("epoch", fontsize=9)
        self.ax.grid(alpha=0.3)
        self.ax.tick_params(labelsize=8)
        self.fig.subplots_adjust(left=0.12, right=0.7, top=0.9, bottom=0.13)
        self.step = step
        self.lines: dict[str, Line2D] = {}
        self.hint = self.ax.text(0.5, 0.5, "press Step or ▶ to run epochs", ha="center",
                                 va="center", transform=self.ax.transAxes, color="#777777")

    def render(self, df: pd.DataFrame, series: dict[str, str], scale: float = 1.0) -> bytes:
        """The PNG with one line per ``{label: column}`` of ``df`` (times ``scale``)."""
        with self.lock:
            shown = {k: c for k, c in series.items() if c in df and df[c].notna().any()}
            if set(shown) != set(self.lines):
                for name in set(self.lines) - set(shown):
                    self.lines.pop(name).remove()
                for name in sorted(set(shown) - set(self.lines)):
                    (self.lines[name],) = self.ax.plot(
                        [], [], color=strategy_colour(name), lw=1.6, markersize=3, label=name,
                        drawstyle="steps-post" if self.step else "default", animated=True)
                legend = self.ax.get_legend()
                if legend is not None:
                    legend.remove()
                if self.lines:
                    self.ax.legend(handles=[self.lines[n] for n in sorted(self.lines)],
                                   fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                                   frameon=False)
            epochs = df["epoch"].to_numpy(dtype=float) if len(df) else np.zeros(0)
            marker = "o" if len(df) < 25 else ""
            values = []
            for name, col in shown.items():
                y = df[col].to_numpy(dtype=float) * scale
                self.lines[name].set_data(epochs, y)
                self.lines[name].set_marker(marker)
                values.append(y)
            self.hint.set_visible(not shown)
            limits = (_x_limits(epochs), _y_limits(np.concatenate(values) if values
                                                   else np.zeros(0),
                                                   floor=0.0 if self.step else None))
            self.ax.set_xlim(*limits[0])
            self.ax.set_ylim(*limits[1])
            state = (limits, tuple(sorted(shown)), marker)
            return self.finish(state, [self.lines[n] for n in sorted(self.lines)])


class HealthFigure(_Blitter):
    """Alignment, Gini of emission and Nakamoto coefficient over epochs (kept figure)."""

    SPECS = (
        ("alignment", "alignment", "rank corr. of miner quality\nand incentive (1 = ideal)",
         "#2ca02c"),
        ("gini_emission", "Gini", "Gini of emission\n(0 equal, 1 one takes all)", "#d62728"),
        ("nakamoto_stake", "Nakamoto", "fewest validators holding\nhalf the stake", "#1f77b4"),
    )

    def __init__(self) -> None:
        super().__init__((6.2, 4.0))
        self.axes = self.fig.subplots(3, 1, sharex=True)
        self.fig.suptitle("Does the network reward good work?", fontsize=11, x=0.02,
                          ha="left", fontweight="bold")
        self.lines: list[Line2D] = []
        for ax, (col, short, label, colour) in zip(self.axes, self.SPECS, strict=True):
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
            ax.text(1.01, 0.5, label, transform=ax.transAxes, fontsize=7.5, va="center",
                    ha="left", color="#333333")
            ax.set_ylabel(short, fontsize=8.5)
            (line,) = ax.plot([], [], color=colour, lw=1.6, markersize=3, animated=True,
                              drawstyle="steps-post" if col == "nakamoto_stake" else "default")
            self.lines.append(line)
        self.axes[0].set_ylim(-1.05, 1.05)
        self.axes[0].axhline(0, color="#888888", lw=0.8)
        self.axes[1].set_ylim(0, 1.02)
        self.axes[2].yaxis.get_major_locator().set_params(integer=True)
        self.axes[-1].set_xlabel("epoch", fontsize=9)
        self.hint = self.axes[1].text(0.5, 0.5, "press Step or ▶ to run epochs", ha="center",
                                      va="center", transform=self.axes[1].transAxes,
                                      color="#777777")
        self.fig.subplots_adjust(left=0.1, right=0.72, top=0.9, bottom=0.12, hspace=0.25)

    def render(self, df: pd.DataFrame) -> bytes:
        """The PNG of the three measures in ``df``."""
        with self.lock:
            epochs = df["epoch"].to_numpy(dtype=float) if len(df) else np.zeros(0)
            marker = "o" if len(df) < 25 else ""
            for line, (col, *_rest) in zip(self.lines, self.SPECS, strict=True):
                if col in df:
                    line.set_data(epochs, df[col].to_numpy(dtype=float))
                line.set_marker(marker)
            self.hint.set_visible(len(df) == 0)
            naka = (df["nakamoto_stake"].to_numpy(dtype=float) if "nakamoto_stake" in df
                    else np.zeros(0))
            limits = (_x_limits(epochs), _y_limits(naka, floor=0.0))
            self.axes[-1].set_xlim(*limits[0])
            self.axes[2].set_ylim(*limits[1])
            return self.finish((limits, marker, len(df) == 0), self.lines)


def strategy_lines_png(model: ArenaModel, prefix: str, title: str, ylabel: str,
                       scale: float = 1.0, step: bool = False) -> bytes:
    """A plot over epochs of the ``<prefix>:<strategy>`` model variables, per strategy."""
    df = model.metrics()
    series = {c.split(":", 1)[1]: c for c in df.columns if c.startswith(prefix + ":")}

    def render() -> bytes:
        plot = model.figure(prefix, lambda: LineFigure(title, ylabel, step=step))
        return plot.render(df, series, scale)

    return model.picture(prefix, render)


def health_png(model: ArenaModel) -> bytes:
    """Alignment, Gini of emission and Nakamoto coefficient over epochs."""
    df = model.metrics()
    return model.picture("health", lambda: model.figure("health", HealthFigure).render(df))


def top_earners(model: ArenaModel, n: int = TOP_EARNERS) -> pd.DataFrame:
    """The ``n`` participants with the highest profit so far per day of the run (for a
    newcomer, its profit spread over the whole run so far)."""
    from world.model import ROLES

    net = model.network
    accts = np.flatnonzero(net.columns.get("alive", np.arange(net.ledger.n), 0.0) > 0)
    if len(accts) == 0:
        return pd.DataFrame()
    col = net.columns
    days = max(net.epoch, 1) * net.params.epoch_hours / 24.0
    profit_day = np.nan_to_num(col.get("profit_usd_total", accts, 0.0)) / days
    role = [ROLES[int(r)] for r in col.get("role_code", accts)]
    hotkey = to_tao(net.ledger.hotkey_stake())
    own = to_tao(net.ledger.staked)
    stake = np.array([hotkey[a] if r == "validator" else (own[a] if r == "delegator"
                                                          else np.nan)
                      for a, r in zip(accts, role, strict=True)])
    cabal = np.nan_to_num(col.get("cabal", accts, -1.0), nan=-1.0).astype(np.int64)
    df = pd.DataFrame({
        "account": accts,
        "strategy": [net.strategy_names[int(c)] for c in col.get("strategy_code", accts)],
        "role": role,
        "subnet": net.acct_netuid[accts],
        "uid": net.acct_uid[accts],
        "cabal": [net.cabals[int(c)].get("name", str(c)) if c >= 0 and int(c) in net.cabals
                  else "" for c in cabal],
        "stake_tao": stake,
        "earned_tao_epoch": np.nan_to_num(col.get("income_tao", accts, 0.0)),
        "profit_usd_per_day": profit_day,
    })
    return df.sort_values(["profit_usd_per_day", "account"], ascending=[False, True]).head(n)


def _fmt(v: float, digits: int = 0) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.{digits}f}"


def status_html(model: ArenaModel) -> str:
    """The epoch counter, what the model was built with, and the top earners table."""
    net = model.network
    days = net.epoch * net.params.epoch_hours / 24.0
    df = model.metrics()
    last = df.iloc[-1] if len(df) else None
    head = (f'<div style="font-size:20px;font-weight:600;margin-bottom:2px">'
            f'<span id="tao-epoch">Epoch {net.epoch}</span>'
            f'<span style="font-size:13px;font-weight:400;color:#666"> · day {days:.1f} · '
            f'TAO ${net.price_usd:,.2f}</span></div>')
    if last is not None:
        total = float(last["emission_tao"]) or 1.0
        head += (f'<div style="font-size:12px">Last epoch: {total:,.1f} TAO minted; '
                 f'miners got {100 * last["emission_miners_tao"] / total:.0f}%, validators '
                 f'{100 * last["emission_validators_tao"] / total:.0f}% (owner '
                 f'{100 * last["emission_owner_tao"] / total:.0f}%)</div>')
    else:
        minutes = net.params.epoch_hours * 60
        head += (f'<div style="font-size:12px">One step is one epoch ({net.params.tempo} '
                 f'blocks, {minutes:.0f} minutes of chain time): miners answer, validators '
                 'grade them and set weights, and Yuma Consensus turns weights and stake '
                 'into emission.</div>')
    head += (f'<div id="tao-built" style="font-size:11.5px;color:#555;margin:2px 0 6px 0">'
             f'Built with: {html.escape(model.describe())}. '
             f'<i>Sidebar changes apply on Reset.</i></div>')
    top = top_earners(model)
    rows = []
    for rank, r in enumerate(top.itertuples(index=False), start=1):
        who = html.escape(r.strategy) + (f' <span style="color:#888">({html.escape(r.cabal)})'
                                         f'</span>' if r.cabal else "")
        dot = f'<span style="color:{strategy_colour(r.strategy)}">■</span> '
        uid = f"{r.subnet}/{r.uid}" if r.uid >= 0 else "–"
        rows.append(
            f"<tr><td>{rank}</td><td>{dot}{who}</td><td>{r.role}</td><td>{uid}</td>"
            f'<td style="text-align:right">{_fmt(r.stake_tao)}</td>'
            f'<td style="text-align:right">{_fmt(r.earned_tao_epoch, 3)}</td>'
            f'<td style="text-align:right">{_fmt(r.profit_usd_per_day)}</td></tr>')
    table = (
        '<div style="font-size:13px;font-weight:600;margin-top:4px">Top earners '
        '<span style="font-weight:400;color:#666">(profit so far per day of the run)</span></div>'
        '<table id="tao-top-earners" style="border-collapse:collapse;font-size:12px;'
        'width:100%"><thead><tr style="border-bottom:1px solid #bbb;text-align:left">'
        '<th>#</th><th>strategy</th><th>role</th><th>subnet/UID</th>'
        '<th style="text-align:right">stake τ</th>'
        '<th style="text-align:right">τ last epoch</th>'
        '<th style="text-align:right">profit $/day</th></tr></thead><tbody>'
        + ("".join(rows) if net.epoch else
           '<tr><td colspan="7" style="color:#777">no epochs yet</td></tr>')
        + "</tbody></table>")
    return f'<div style="line-height:1.35">{head}{table}</div>'


