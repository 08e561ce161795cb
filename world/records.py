"""The per-agent records' storage: one buffer per column, grown in place.

The records of a run of the whole network come to hundreds of megabytes (128 subnets,
1,000 epochs, a record every 10: 3.7 million rows of 23 columns). Kept as one array per
record and joined at the end, every row would be written twice, and on a virtual machine
that backs each new page on first touch, the join's fresh copy cost 2.3-2.9 s of the
benchmark's run (docs/world.md, "Measurement"). Here each column is one buffer that a
record is copied into (the copy costs about 0.2 ms an epoch there); a full buffer grows
by ``realloc``, which for a large buffer remaps its pages rather than copying them (the
remapping still costs the system some time, about 0.6 s once in that run); the table
reads views of the buffers. Nothing here is a rule
of the model: only where the numbers are kept.
"""

from __future__ import annotations

import numpy as np

FIRST_ROWS = 1 << 16  # a column's first buffer (512 KB of float64)


class Records:
    """Records appended as columns (``append``), read as views (``columns``). Columns
    hold numbers (names are kept as codes): a buffer grows without zero-filling, which
    an array of Python objects cannot do safely."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}
        self._rows = 0
        self._lent = False  # views of the buffers are out: they must not move again

    def __len__(self) -> int:
        return self._rows

    @property
    def names(self) -> list[str]:
        """The columns' names, in order (none before the first record)."""
        return list(self._buffers)

    def append(self, record: dict[str, np.ndarray]) -> None:
        """Add a record: equally long 1-D numeric arrays under the same keys, in the same
        order, as the first record's. A column whose type cannot hold a value is first
        converted to one that holds both (``np.result_type``)."""
        sizes = {len(v) for v in record.values()}
        if len(sizes) != 1 or any(np.ndim(v) != 1 for v in record.values()):
            raise ValueError("a record must have columns, 1-D and equally long "
                             f"(lengths {sorted(sizes)})")
        for k, v in record.items():
            if np.asarray(v).dtype.hasobject:
                raise TypeError(f"record column {k!r} holds Python objects; records hold "
                                "numbers (names as codes)")
        if self._buffers and list(record) != list(self._buffers):
            raise ValueError(f"a record's columns {list(record)} are not the first "
                             f"record's {list(self._buffers)}")
        n = sizes.pop()
        if not self._buffers:
            self._buffers = {k: np.empty(max(n, FIRST_ROWS), dtype=np.asarray(v).dtype)
                             for k, v in record.items()}
        end = self._rows + n
        capacity = len(next(iter(self._buffers.values())))
        if self._lent or end > capacity:
            self._grow(max(end, 2 * capacity if end > capacity else capacity))
        for k, v in record.items():
            buf = self._buffers[k]
            kind = np.result_type(buf, v)
            if kind != buf.dtype:  # the rows so far in a buffer of a type that holds both
                wider = np.empty(len(buf), dtype=kind)
                wider[: self._rows] = buf[: self._rows]
                buf = self._buffers[k] = wider
            buf[self._rows : end] = v
        self._rows = end

    def columns(self) -> dict[str, np.ndarray]:
        """Every column's rows so far, as read-only views of the buffers, which are then
        read-only themselves (no view can be made writable) and stay where they are
        while the views live; the next record starts new buffers."""
        self._lent = True
        out = {}
        for k, buf in self._buffers.items():
            buf.flags.writeable = False
            out[k] = buf[: self._rows]
        return out

    def __getstate__(self) -> dict[str, object]:
        """Pickled as the rows so far (not the buffers' room, nor their state)."""
        return {"columns": {k: np.array(b[: self._rows]) for k, b in self._buffers.items()}}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._buffers, self._rows, self._lent = {}, 0, False
        columns = state["columns"]
        assert isinstance(columns, dict)
        if columns:
            self.append(columns)

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
    """``buf.resize(size)`` in place (``realloc``; ``buf`` owns its numbers and no view of
    it is out), without filling the new rows with zeros: numpy fills only a writeable
    array's (numpy's ``PyArray_Resize``), the rows past the records are never read, and
    writing zeros would touch every new page."""
    buf.flags.writeable = False
    try:
        buf.resize(size, refcheck=False)
    finally:
        buf.flags.writeable = True
