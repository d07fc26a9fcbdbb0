"""The segment structure under the TN index: the number line cut at every range boundary, each segment
holding the tuple of credential ids that cover it. Boundaries live in chunks of ``array('q')`` with a list
of chunk minimums on top (the two-level idea of sorted containers, written on :mod:`bisect`).

**Copy on write.** :meth:`Segments.fork` returns a new structure that shares every chunk with this one; from then
on neither of the two changes a shared chunk in place: a write copies the chunk first (a chunk is at most 1,024
boundaries, 8 KiB of ``array('q')`` plus its list of covers) and remembers the copy as its own. A reader holding
one version therefore never sees a change made to another, and a fork costs three list copies of one pointer per
chunk (about 4,000 for two million segments), not a copy of the index."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable

__all__ = ["Segments"]

_LOAD = 512  # boundaries per chunk (a chunk splits past twice this)
_EMPTY: tuple[bytes, ...] = ()


class Segments:
    """Sorted boundaries b_0 < b_1 < ..., each with the ids covering [b_i, b_(i+1)); nothing before b_0."""

    __slots__ = ("_mins", "_keys", "_vals", "_owned")

    def __init__(self) -> None:
        self._mins: list[int] = []
        self._keys: list[array[int]] = []
        self._vals: list[list[tuple[bytes, ...]]] = []
        self._owned: set[int] = set()  # id() of the key chunks only this instance references (writable in place)

    def fork(self) -> Segments:
        """A new structure with the same content, sharing every chunk (see the module notice)."""
        new = Segments()
        new._mins, new._keys, new._vals = list(self._mins), list(self._keys), list(self._vals)
        self._owned = set()  # the chunks are shared now: this instance copies before writing, too
        return new

    def _own(self, j: int) -> None:
        """Make chunk ``j`` private to this instance (copy it unless it already is)."""
        if id(self._keys[j]) not in self._owned:
            self._keys[j] = array("q", self._keys[j])
            self._vals[j] = list(self._vals[j])
            self._owned.add(id(self._keys[j]))

    def _adopt(self, keys: array[int]) -> None:
        self._owned.add(id(keys))

    def __len__(self) -> int:
        return sum(len(k) for k in self._keys)

    def stab(self, tn: int) -> tuple[bytes, ...]:
        j = bisect_right(self._mins, tn) - 1
        if j < 0:
            return _EMPTY
        return self._vals[j][bisect_right(self._keys[j], tn) - 1]

    @classmethod
    def bulk(cls, intervals: list[tuple[int, int, bytes]]) -> Segments:
        """Build from (start, end, id) in one sweep: O(n log n + total coverage)."""
        seg = cls()
        by_start = sorted(intervals, key=lambda t: t[0])
        by_end = sorted(intervals, key=lambda t: t[1])
        keys: array[int] = array("q")
        vals: list[tuple[bytes, ...]] = []
        active: dict[bytes, None] = {}
        i = j = 0
        n = len(intervals)
        while j < n:
            p = by_end[j][1] if i == n else min(by_start[i][0], by_end[j][1])
            while j < n and by_end[j][1] == p:
                del active[by_end[j][2]]
                j += 1
            while i < n and by_start[i][0] == p:
                active[by_start[i][2]] = None
                i += 1
            cover = tuple(active) if active else _EMPTY
            if cover != (vals[-1] if vals else _EMPTY):
                keys.append(p)
                vals.append(cover)
        for k in range(0, len(keys), _LOAD):
            chunk = keys[k:k + _LOAD]
            seg._keys.append(chunk)
            seg._vals.append(vals[k:k + _LOAD])
            seg._mins.append(keys[k])
            seg._adopt(chunk)
        return seg

    # -------------------------------------------------------------- incremental

    def add(self, start: int, end: int, cid: bytes) -> None:
        self._split(start)
        self._split(end)
        self._update(start, end, lambda cover: cover + (cid,))

    def remove(self, start: int, end: int, cid: bytes) -> None:
        self._split(start)
        self._split(end)
        self._update(start, end, lambda cover: tuple(c for c in cover if c != cid) if cid in cover else cover)
        self._coalesce(end)
        self._coalesce(start)

    def _locate(self, x: int) -> tuple[int, int]:
        """(chunk, position) of the last boundary <= x; chunk -1 if there is none."""
        j = bisect_right(self._mins, x) - 1
        if j < 0:
            return -1, -1
        return j, bisect_right(self._keys[j], x) - 1

    def _split(self, x: int) -> None:
        j, i = self._locate(x)
        if j < 0:
            if not self._keys:
                chunk: array[int] = array("q")
                self._keys.append(chunk)
                self._vals.append([])
                self._mins.append(x)
                self._adopt(chunk)
            self._insert(0, 0, x, _EMPTY)
        elif self._keys[j][i] != x:
            self._insert(j, i + 1, x, self._vals[j][i])  # both halves share the tuple

    def _insert(self, j: int, i: int, x: int, cover: tuple[bytes, ...]) -> None:
        self._own(j)
        keys, vals = self._keys[j], self._vals[j]
        keys.insert(i, x)
        vals.insert(i, cover)
        if i == 0:
            self._mins[j] = x
        if len(keys) > 2 * _LOAD:
            half = len(keys) // 2
            upper = keys[half:]
            self._keys.insert(j + 1, upper)
            self._vals.insert(j + 1, vals[half:])
            self._mins.insert(j + 1, keys[half])
            self._adopt(upper)
            del keys[half:]
            del vals[half:]

    def _delete(self, j: int, i: int) -> None:
        self._own(j)
        keys = self._keys[j]
        del keys[i]
        del self._vals[j][i]
        if not keys:
            self._owned.discard(id(keys))
            del self._keys[j], self._vals[j], self._mins[j]
        elif i == 0:
            self._mins[j] = keys[0]

    def _update(self, start: int, end: int, fn: Callable[[tuple[bytes, ...]], tuple[bytes, ...]]) -> None:
        j, i = self._locate(start)
        while j < len(self._keys):
            if i < len(self._keys[j]) and self._keys[j][i] < end:
                self._own(j)
                keys, vals = self._keys[j], self._vals[j]
                while i < len(keys):
                    if keys[i] >= end:
                        return
                    vals[i] = fn(vals[i])
                    i += 1
            elif i < len(self._keys[j]):
                return
            j, i = j + 1, 0

    def _coalesce(self, x: int) -> None:
        """Drop the boundary at x if its cover equals the one before it (as a set)."""
        j, i = self._locate(x)
        if j < 0 or self._keys[j][i] != x:
            return
        cover = self._vals[j][i]
        if i > 0:
            before = self._vals[j][i - 1]
        elif j > 0:
            before = self._vals[j - 1][-1]
        else:
            before = _EMPTY
        if cover == before or (len(cover) == len(before) and set(cover) == set(before)):
            self._delete(j, i)
