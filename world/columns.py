"""Columnar per-account storage for parameters and strategy state.

Every participant owns one ledger account; its numbers (parameters such as a miner's
quality or a validator's capability, and strategy state such as a poison pill's "turned"
flag) live in float64 columns indexed by account, so a strategy acts on a whole group
with one array operation instead of one Python call per agent (DEVELOPERS.md, "Speed is
designed in"). Columns grow with the ledger.
"""

from __future__ import annotations

import numpy as np


class Columns:
    """Named float64 columns over accounts, each declared once with the value its unset
    entries hold (its default). Reading never creates a column: ``get`` of an undeclared
    column is an error unless the caller names the value it stands for."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._data: dict[str, np.ndarray] = {}
        self._defaults: dict[str, float] = {}
        self._versions: dict[str, int] = {}

    def declare(self, name: str, default: float = np.nan) -> None:
        """Create column ``name`` filled with ``default`` (nothing if it exists with the
        same default; ``ValueError`` if it exists with another)."""
        if name in self._data:  # the common case (strategies' state, every epoch): cheap
            old = self._defaults[name]
            if old != default and not (old != old and default != default):  # NaN == NaN
                raise ValueError(f"column {name!r} is declared with default {old!r}, "
                                 f"not {default!r}")
            return
        self._data[name] = np.full(self.capacity, default, dtype=np.float64)
        self._defaults[name] = default
        self._versions[name] = 0

    def get(self, name: str, accts: np.ndarray | int | slice,
            default: float | None = None) -> np.ndarray:
        """Values of ``name`` for ``accts`` (a copy; for a slice of accounts, a read-only
        view). An undeclared column reads as ``default`` everywhere if one is given (it is
        not created), else ``KeyError``."""
        col = self._data.get(name)
        if col is None:
            if default is None:
                raise KeyError(f"no column {name!r} (declare it with Columns.declare)")
            shape = (len(range(self.capacity)[accts]),) if isinstance(accts, slice) else \
                np.shape(accts)
            return np.full(shape, default, dtype=np.float64)
        if isinstance(accts, slice):
            view = col[accts]
            view.flags.writeable = False
            return view
        return col[accts]

    def set(self, name: str, accts: np.ndarray | int | slice,
            values: np.ndarray | float) -> None:
        """Write ``values`` for ``accts`` into the declared column ``name``."""
        col = self._data.get(name)
        if col is None:
            raise KeyError(f"no column {name!r} (declare it with Columns.declare)")
        col[accts] = values
        self._versions[name] += 1

    def version(self, name: str) -> int:
        """A counter that changes whenever column ``name`` is written (-1: no such column).

        Lets callers keep values they gathered from a column (a group's parameters) until
        the column changes; write columns only through ``set`` and ``reset``."""
        return self._versions.get(name, -1)

    def versions(self, names: tuple[str, ...]) -> tuple[int, ...]:
        """``version`` of each of ``names``, in one call (the check of a kept value)."""
        get = self._versions.get
        return tuple([get(n, -1) for n in names])

    def reset(self, prefix: str, accts: np.ndarray | int) -> None:
        """Put ``accts`` back to the default in every column whose name starts with ``prefix``
        (a strategy's state when an account takes the strategy up afresh)."""
        for name, col in self._data.items():
            if name.startswith(prefix):
                col[accts] = self._defaults[name]
                self._versions[name] += 1

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def grow(self, n_accounts: int) -> None:
        """Make room for at least ``n_accounts`` accounts."""
        if n_accounts <= self.capacity:
            return
        cap = max(n_accounts, 2 * self.capacity)
        for name, col in self._data.items():
            new = np.full(cap, self._defaults[name], dtype=np.float64)
            new[: len(col)] = col
            self._data[name] = new
        self.capacity = cap
