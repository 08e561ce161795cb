"""The per-agent records' storage: one buffer per column, grown in place.

The records of a run of the whole network come to hundreds of megabytes (128 subnets,
1,000 epochs, a record every 10: 3.7 million rows of 23 columns). Kept as one array per
record and joined at the end, every row would be written twice, and on a virtual machine
that backs each new page on first touch, the join's fresh copy costs about as much as
the epochs' own records (docs/world.md, "Measurement"). Here each column is one buffer
that a record is copied into; a full buffer grows by ``realloc`` (a large one's pages
are remapped, not copied); the table reads views of the buffers. Nothing here is a rule
of the model: only where the numbers are kept.
"""

from __future__ import annotations

import numpy as np

FIRST_ROWS = 1 << 16  # a column's first buffer (512 KB of float64)


class Records:
    """Records appended as columns (``append``), read as views (``columns``)."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}
        self._rows = 0
        self._lent = False  # views of the buffers are out: they must not move again

    def __len__(self) -> int:
        return self._rows

    def append(self, record: dict[str, np.ndarray]) -> None:
        """Add a record: equally long 1-D arrays under the same keys, in the same order, as
        the first record's (a value is cast as ``np.concatenate`` would: a buffer whose
        type cannot hold it is converted first)."""
        sizes = {len(v) for v in record.values()}
        if len(sizes) != 1 or any(np.ndim(v) != 1 for v in record.values()):
            raise ValueError("a record must have columns, 1-D and equally long "
                             f"(lengths {sorted(sizes)})")
        n = sizes.pop()
        if not self._buffers:
            self._buffers = {k: np.empty(max(n, FIRST_ROWS), dtype=np.asarray(v).dtype)
                             for k, v in record.items()}
        elif list(record) != list(self._buffers):
            raise ValueError(f"a record's columns {list(record)} are not the first "
                             f"record's {list(self._buffers)}")
        end = self._rows + n
        capacity = len(next(iter(self._buffers.values())))
        if self._lent or end > capacity:
            self._grow(max(end, 2 * capacity if end > capacity else capacity))
        for k, v in record.items():
            buf = self._buffers[k]
            kind = np.result_type(buf, v)
            if kind != buf.dtype:  # as ``np.concatenate`` would promote it
                buf = self._buffers[k] = buf.astype(kind)
            buf[self._rows : end] = v
        self._rows = end

    def columns(self) -> dict[str, np.ndarray]:
        """Every column's rows so far, as views of the buffers (read-only); the buffers
        stay where they are while the views live (the next record starts new ones)."""
        self._lent = True
        out = {}
        for k, buf in self._buffers.items():
            view = buf[: self._rows]
            view.flags.writeable = False
            out[k] = view
        return out

    def _grow(self, capacity: int) -> None:
        """Room for ``capacity`` rows in every column: in place while no view is out
        (``_resize``), else in new buffers holding copies of the rows so far."""
        if self._lent:
            fresh = {}
            for k, buf in self._buffers.items():
                fresh[k] = np.empty(capacity, dtype=buf.dtype)
                fresh[k][: self._rows] = buf[: self._rows]
            self._buffers = fresh
            self._lent = False
            return
        for buf in self._buffers.values():
            _resize(buf, capacity)


def _resize(buf: np.ndarray, size: int) -> None:
    """``buf.resize(size)`` in place (``realloc``), no view of ``buf`` being out, without
    filling the new rows with zeros: numpy fills only a writeable array's, and the rows
    past the records are never read; writing zeros would touch every new page."""
    buf.flags.writeable = False
    try:
        buf.resize(size, refcheck=False)
    finally:
        buf.flags.writeable = True
