"""Column-wise assembly of contract v2_54features (the fast path of assemble_head.py).

Same rules and the same bits as the per-row reference `assemble_head.assemble_head_rows` (kept
as the executable statement of the rules and compared column by column in
tests/engine/test_head_columns.py), computed over whole columns with numpy/Polars so that a
five-season world (136k spine rows) assembles in about a second instead of minutes.

Layout: the spine's (player, date) keys become integers (`SpineKeys`), so a table's rows find
their spine row by an array lookup, not a join per table; a table with several rows per key is
laid out once as the cells (row, slot) of a (keys x slots) matrix (`Layout`) and every column
of it is placed with the same cell indices. Per-cell values (e.g. the squared deviations of
extraction R) are computed on the cells; Python-level calls (round, pow, sqrt, decimal) run
once per distinct input, found by hashing, sorting or a small dense table, never once per row.

How the exact arithmetic of docs/features.md §0 survives vectorisation:
- left-to-right float sums (§0.2): the per-key rows are laid out as a (keys x slots) matrix
  and added one slot column at a time (`_seq_sum`, or `_run_sums` over a table's runs), which
  is the same sequence of roundings as Python's `sum` (padding adds 0.0 after the last value,
  which changes nothing; L3 adds its three newest points directly, oldest first);
- integer sums and int / int quotients: int64 sums (far below 2^53), then one float64
  division of two exactly representable integers = Python's correctly rounded int / int;
- exact standard deviations (§0.3, §0.5): integer moments n, Σa, Σa² in int64 of values scaled
  by 2^k to integers, then the correctly rounded square root of the rational
  (nΣa² − (Σa)²) / (n(n−1)4^k) once per distinct (numerator, denominator) pair
  (`_sqrt_ratio_nearest`);
  groups whose values do not scale into int64 safely go through the reference `exact_stdev`;
- round(x, k) (§0.7): numpy's rint of x · 10^k divided by 10^k where that is provably
  Python's round; Python's round once per distinct float64 bit pattern for the values next to
  a decimal half (`_round`);
- 28-digit decimal quotients (§0.4, cache-miss fallback only): the float64 division of the
  two integers, which rounds the same way unless a float64 rounding boundary lies next to the
  quotient (found with the exact remainder); those pairs go through Python decimal, once per
  distinct (numerator, denominator) pair (`_decimal_quotients`).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from functools import cache
from itertools import repeat
from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa

from fsengine.engine.assemble import INJURY_RISK

E9 = 10**9
KEY = ["player_lookup", "game_date"]
_INT_SAFE = 2**53
_SMALL = 1 << 18  # up to this many values a numpy sort costs less than a Polars hash join


# --------------------------------------------------------------------------- exact helpers


def _per_distinct(values: np.ndarray, fn, *args) -> np.ndarray:
    """`fn(float, *args)` of every value, called once per distinct float64 bit pattern (a sort
    of the bit patterns for up to _SMALL values, a Polars hash deduplication above). A builtin
    `fn` with its `args` is mapped directly, without a Python-level function call per value."""

    def apply(inputs: list) -> list:
        return list(map(fn, inputs, *(repeat(a) for a in args)))

    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    if values.size <= _SMALL:
        distinct_bits, at = np.unique(values.reshape(-1).view(np.int64), return_inverse=True)
        computed = np.array(apply(distinct_bits.view(np.float64).tolist()), dtype=np.float64)
        return computed[at].reshape(values.shape)
    bits = pl.DataFrame({"b": values.reshape(-1).view(np.int64)})
    distinct = bits.unique()
    inputs = distinct["b"].to_numpy().view(np.float64).tolist()
    results = distinct.with_columns(pl.Series("v", apply(inputs), dtype=pl.Float64))
    out = bits.join(results, on="b", how="left", maintain_order="left")["v"].to_numpy()
    return out.reshape(values.shape)


def _round(values: np.ndarray, digits: int) -> np.ndarray:
    """Python's round(x, digits) bit for bit (0 <= digits <= 15). Python rounds the exact value
    of x half to even at `digits` decimals and returns the float64 nearest to that decimal k /
    10^digits; numpy computes y = x · 10^digits within 2^-13 of the exact product when |y| <
    2^40, so rint(y) is that k unless the exact product lies within 2^-10 of a half, and k /
    10^digits (two exact float64, one correctly rounded division) is the nearest float64. The
    values near a half, and non-finite or large ones, go through Python's round once per
    distinct bit pattern."""
    values = np.asarray(values, dtype=np.float64)
    scale = float(10**digits)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        fast = np.abs(scaled) < 2.0**40
        fast &= np.abs(scaled - np.floor(scaled) - 0.5) > 2.0**-10
    out = np.empty_like(values)
    out[fast] = np.rint(scaled[fast]) / scale
    slow = ~fast
    if slow.any():
        out[slow] = _per_distinct(values[slow], round, digits)
    return out


def _py_pow(values: np.ndarray, exponent: float) -> np.ndarray:
    """Python's `x ** exponent` (C pow) bit for bit: numpy turns `** 0.5` into sqrt and `** 2`
    into x*x, which differ from libm's pow in the last bit on some inputs (e.g. 7.7333...**2).
    Once per distinct bit pattern."""
    return _per_distinct(values, pow, exponent)  # pow(x, y) is x ** y


@cache
def _sqrt_ratio_nearest(num: int, den: int) -> float:
    """float64 nearest to sqrt(num / den), num >= 0, den > 0 (integers; correctly rounded)."""
    if num == 0:
        return 0.0
    shift = max(0, 2 * 120 - (num.bit_length() - den.bit_length()))
    shift += shift % 2
    scaled = (num << shift) // den
    root = math.isqrt(scaled)
    exact = root * root == scaled and (num << shift) % den == 0
    if exact:
        return root / (1 << (shift // 2))
    return (2 * root + 1) / (2 << (shift // 2))  # the sticky bit decides ties (never exact halves)


def _int_division(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Python int / int for int64 arrays below 2^53 in magnitude (exact conversions, one
    correctly rounded division)."""
    if num.size and (np.abs(num).max() >= _INT_SAFE or np.abs(den).max() >= _INT_SAFE):
        return np.array([int(a) / int(b) for a, b in zip(num, den)], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return num.astype(np.float64) / den.astype(np.float64)


def _seq_sum(matrix: np.ndarray) -> np.ndarray:
    """Row-wise left-to-right float sum (Python `sum`) of a (rows x slots) matrix padded with 0.0."""
    total = np.zeros(matrix.shape[0], dtype=np.float64)
    for j in range(matrix.shape[1]):
        total = total + matrix[:, j]
    return total


def _per_distinct_pair(a: np.ndarray, b: np.ndarray, fn) -> np.ndarray:
    """fn(int(a), int(b)) per element (float64), once per distinct (a, b) pair (a sort of the
    pairs for up to _SMALL of them, a Polars hash deduplication above)."""
    if a.size == 0:
        return np.zeros(0)
    if a.size <= _SMALL:
        order = np.lexsort((b, a))
        sa, sb = a[order], b[order]
        new = np.empty(a.size, dtype=bool)
        new[0] = True
        new[1:] = (sa[1:] != sa[:-1]) | (sb[1:] != sb[:-1])
        first = np.flatnonzero(new)
        computed = np.array([fn(x, y) for x, y in zip(sa[first].tolist(), sb[first].tolist())], dtype=np.float64)
        out = np.empty(a.size, dtype=np.float64)
        out[order] = computed[np.cumsum(new) - 1]
        return out
    pairs = pl.DataFrame({"a": a, "b": b})
    distinct = pairs.unique()
    values = [fn(x, y) for x, y in zip(distinct["a"].to_list(), distinct["b"].to_list())]
    distinct = distinct.with_columns(pl.Series("v", values, dtype=pl.Float64))
    return pairs.join(distinct, on=["a", "b"], how="left", maintain_order="left")["v"].to_numpy()


def stdev_matrix(matrix: np.ndarray, valid: np.ndarray, reference) -> np.ndarray:
    """Exact sample stdev per row of the valid cells (NaN where fewer than 2), the values taken
    exactly (§0.3, §0.5). `reference(list)` is the per-row exact routine for rows that cannot be
    scaled into int64 safely."""
    rows, width = matrix.shape
    out = np.full(rows, np.nan)
    n = valid.sum(axis=1)
    todo = np.flatnonzero(n >= 2)
    if not todo.size:
        return out
    cells = valid[todo]
    x = np.where(cells, matrix[todo], 0.0)
    # a power of two (<= 2^20) making every valid value of the row an integer below 2^24: one
    # for all rows when one fits them all (the root depends on the ratio only, not on k), else
    # the smallest per row
    scale_exp = np.full(todo.size, -1, dtype=np.int64)
    pending = np.arange(todo.size)
    if np.abs(x).max(initial=0.0) < 2**24:
        for k in range(21):
            scaled = x * float(1 << k)
            if np.abs(scaled).max(initial=0.0) >= 2**24:
                break
            if np.array_equal(scaled, np.round(scaled)):  # x is 0.0 where not valid
                scale_exp[:] = k
                pending = pending[:0]
                break
    for k in range(21):
        if not pending.size:
            break
        scaled = x[pending] * float(1 << k)
        ok = np.where(cells[pending], scaled == np.round(scaled), True).all(axis=1) & (
            np.abs(scaled).max(axis=1, initial=0.0) < 2**24
        )
        scale_exp[pending[ok]] = k
        pending = pending[~ok]
    fast = (scale_exp >= 0) & (width <= 64)
    if fast.any():
        k = scale_exp[fast]
        a = (x[fast] * (2.0**k)[:, None]).astype(np.int64)
        nn = n[todo[fast]].astype(np.int64)
        s = a.sum(axis=1)
        q = (a * a).sum(axis=1)
        num = nn * q - s * s
        den = (nn * (nn - 1)) << (2 * k)  # n(n-1)·4^k < 2^53: n <= 64, k <= 20
        out[todo[fast]] = _per_distinct_pair(num, den, _sqrt_ratio_nearest)
    for i in todo[~fast]:
        out[i] = reference([float(v) for v, ok in zip(matrix[i], valid[i]) if ok])
    return out


# --------------------------------------------------------------------------- layout helpers


class SpineKeys:
    """The spine's (player_lookup, game_date) keys as integers (the player's position in the
    spine's player list x the date's day number), so that the spine row of any table's row is an
    array lookup instead of a join per table. A key held by several spine rows gives them all the
    same values (as a join does): everything is computed on one canonical row per key and copied
    (`spread`)."""

    def __init__(self, spine: pl.DataFrame, player: str = "player_lookup", date: str = "game_date"):
        self.n = spine.height
        players = spine[player].drop_nulls().unique()
        self._players = pl.Enum(players)
        days = spine[date].drop_nulls().to_physical()
        self._day0 = int(cast(int, days.min())) if days.len() else 0
        self._days = int(cast(int, days.max())) - self._day0 + 1 if days.len() else 1
        code = self.codes(spine, player, date)
        rows = np.arange(self.n, dtype=np.int64)
        known = code >= 0
        size = players.len() * self._days
        # a dense code -> row table while it stays small, else a sorted search
        self._dense = size <= max(1 << 22, 8 * self.n)
        if self._dense:
            self._table = np.full(size + 1, -1, dtype=np.int64)  # the last cell answers code -1
            self._table[code[known]] = rows[known]
        else:
            order = np.argsort(code[known], kind="stable")
            self._sorted = code[known][order]
            self._sorted_rows = rows[known][order]
        self.canon = rows.copy()
        self.canon[known] = self.lookup(code[known])
        self.duplicated = bool((self.canon != rows).any())

    def codes(self, frame: pl.DataFrame, player: str = "player_lookup", date: str = "game_date") -> np.ndarray:
        """The key code of every row of `frame` (-1: a player or date the spine does not have)."""
        day = pl.col(date).to_physical().cast(pl.Int64) - self._day0
        who = pl.col(player).cast(self._players, strict=False).to_physical().cast(pl.Int64)
        code = pl.when(day.is_between(0, self._days - 1)).then(who * self._days + day).fill_null(-1)
        return frame.select(code.alias("c"))["c"].to_numpy()

    def player_codes(self, players: pl.Series) -> np.ndarray:
        """The spine's code of every player (-1: a player the spine does not have, or null)."""
        return players.cast(self._players, strict=False).to_physical().cast(pl.Int64).fill_null(-1).to_numpy()

    def rows_at(self, player_code: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The (canonical) spine row of each (player code, day number), -1 where the spine lacks it."""
        offset = day - self._day0
        inside = (player_code >= 0) & (offset >= 0) & (offset < self._days)
        return np.where(inside, self.lookup(np.where(inside, player_code * self._days + offset, -1)), -1)

    def lookup(self, code: np.ndarray) -> np.ndarray:
        if self._dense:
            return self._table[code]
        pos = np.minimum(np.searchsorted(self._sorted, code), max(self._sorted.size - 1, 0))
        if self._sorted.size == 0:
            return np.full(code.shape, -1, dtype=np.int64)
        return np.where((self._sorted[pos] == code) & (code >= 0), self._sorted_rows[pos], -1)

    def rows_of(self, frame: pl.DataFrame, player: str = "player_lookup", date: str = "game_date") -> np.ndarray:
        """The (canonical) spine row of every row of `frame`, -1 where the spine lacks its key."""
        return self.lookup(self.codes(frame, player, date))

    def rows_of_runs(self, frame: pl.DataFrame, player: str = "player_lookup", date: str = "game_date") -> np.ndarray:
        """rows_of (for any frame), the key of each run of rows with one key looked up once (a
        row whose player or date is null, or differs from the row before, starts a run): cheaper
        where a key's rows are consecutive, e.g. a key's list of games."""
        if frame.height == 0:
            return np.zeros(0, dtype=np.int64)
        same = (pl.col(player) == pl.col(player).shift(1)) & (pl.col(date) == pl.col(date).shift(1))
        start = frame.select(same.fill_null(False).not_().alias("s"))["s"].to_numpy()
        first = np.flatnonzero(start)
        heads = frame.select(player, date).filter(pl.Series(start))
        return np.repeat(self.rows_of(heads, player, date), np.diff(np.append(first, frame.height)))

    def spread(self, per_row: np.ndarray) -> np.ndarray:
        """Values computed on the canonical rows, on every spine row."""
        return per_row[self.canon] if self.duplicated else per_row

    def last_row(self, frame: pl.DataFrame, player: str = "player_lookup", date: str = "game_date") -> np.ndarray:
        """For every spine row, the last row of `frame` with its key (-1: none)."""
        rows = self.rows_of(frame, player, date)
        last = np.full(self.n, -1, dtype=np.int64)
        hit = np.flatnonzero(rows >= 0)
        np.maximum.at(last, rows[hit], hit)
        return self.spread(last)

    def align(self, frame: pl.DataFrame, columns: list[str], player="player_lookup", date="game_date") -> pl.DataFrame:
        """`frame`'s columns on the spine rows, in spine order (nulls where the key has no row;
        the last row of a duplicated key wins, as the reference's dict does)."""
        return self.take(self.last_row(frame, player, date), frame, columns)

    @staticmethod
    def take(pick: np.ndarray, frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        """`frame`'s columns at the rows `pick` (a row of nulls where -1)."""
        part = frame.select(columns)
        padded = pl.concat([part, part.clear(1)])  # its last row, all null, stands for "no row"
        return padded[np.where(pick >= 0, pick, part.height)]

    @staticmethod
    def take_floats(pick: np.ndarray, frame: pl.DataFrame, names: list[str]) -> dict[str, Col]:
        """Col of each named column of `frame` at the rows `pick` (null where -1): the columns
        become numpy arrays on the table's rows and are gathered there, not in Polars."""
        absent = pick < 0
        at = np.where(absent, 0, pick)
        out = {}
        for name, (v, none) in _float_columns(frame, names).items():
            if not v.size:
                out[name] = Col.empty(pick.size)
                continue
            values = v[at]
            values[absent] = np.nan
            out[name] = Col(values, none[at] | absent)
        return out


def _float_columns(frame: pl.DataFrame, names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{name: (values as float64 with NaN for null, null mask)} of `frame`'s columns, in one
    Polars pass (booleans as 0/1, dates as day numbers)."""
    exprs = []
    for name in names:
        col = pl.col(name)
        if frame.schema[name] == pl.Date:
            col = col.to_physical()
        exprs.append(col.cast(pl.Float64).fill_null(np.nan).alias(name))
    nullable = [name for name in names if frame[name].null_count()]
    exprs.extend(pl.col(name).is_null().alias(f"{name}\0null") for name in nullable)
    out = frame.select(exprs)
    result = {}
    for name in names:
        none = out[f"{name}\0null"].to_numpy() if name in nullable else np.zeros(frame.height, dtype=bool)
        result[name] = (out[name].to_numpy(), none)
    return result


def _compact_codes(series: pl.Series, null_code: int = -2) -> np.ndarray:
    """Small integer codes of a string column (equal strings, equal codes; null -> null_code)."""
    words = series.drop_nulls().unique()
    return series.cast(pl.Enum(words)).to_physical().cast(pl.Int64).fill_null(null_code).to_numpy()


def _runs(rows: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Position of every element within its run of equal consecutive `rows` values (`start`,
    when given: where the runs begin)."""
    if rows.size == 0:
        return rows.copy()
    if start is None:
        start = np.empty(rows.size, dtype=bool)
        start[0] = True
        np.not_equal(rows[1:], rows[:-1], out=start[1:])
    first = np.flatnonzero(start)
    return np.arange(rows.size) - np.repeat(first, np.diff(np.append(first, rows.size)))


class Layout:
    """A table's rows per spine key, in `order`, as the cells (row r, slot c) of a (spine rows x
    slots) matrix: `sel` = the table row of each cell; the cells of a row are consecutive, in slot
    order. Built once per table and reused by every column laid out from it."""

    def __init__(self, keys: SpineKeys, frame: pl.DataFrame, order: str, mask: np.ndarray | None = None):
        self.keys = keys
        rows = keys.rows_of(frame)
        if mask is not None:
            rows = np.where(mask, rows, -1)
        # a null `order` sorts first, as Polars' sort puts nulls first
        ordered = frame[order].to_physical().cast(pl.Int64)
        low = ordered.min()
        rank = ordered.fill_null(cast(int, low) - 1 if low is not None else 0).to_numpy()
        sel = np.flatnonzero(rows >= 0)
        every = sel.size == rows.size
        r, o = (rows, rank) if every else (rows[sel], rank[sel])
        grouped = True
        start = None
        if sel.size:
            start = np.empty(sel.size, dtype=bool)
            start[0] = True
            np.not_equal(r[1:], r[:-1], out=start[1:])
            # already grouped (each key one run of rising `order`, as the SQL writes them): no sort
            grouped = (
                bool(np.all(start[1:] | (o[1:] > o[:-1]))) and int(np.bincount(r[start], minlength=keys.n).max()) <= 1
            )
            if not grouped:
                base = int(o.min())
                perm = np.argsort(r * (int(o.max()) - base + 1) + (o - base), kind="stable")
                sel, r = sel[perm], r[perm]
        self.sel, self.r = sel, r
        self.identity = every and grouped  # cell i is table row i
        self.c = _runs(r, start if grouped else None)
        self.width = int(self.c.max()) + 1 if self.c.size else 1
        self._cell: np.ndarray | None = None
        self.count = keys.spread(np.bincount(r, minlength=keys.n) if r.size else np.zeros(keys.n, np.int64))

    @classmethod
    def of_cells(cls, keys: SpineKeys, r: np.ndarray, c: np.ndarray, sel: np.ndarray) -> Layout:
        """The layout of given cells: spine row `r`, slot `c` and table row `sel` of each cell (a
        row's cells consecutive, in slot order)."""
        lay = cls.__new__(cls)
        lay.keys, lay.sel, lay.r, lay.c = keys, sel, r, c
        lay.identity = False
        lay.width = int(c.max()) + 1 if c.size else 1
        lay._cell = None
        lay.count = keys.spread(np.bincount(r, minlength=keys.n) if r.size else np.zeros(keys.n, np.int64))
        return lay

    @property
    def cell(self) -> np.ndarray:
        """The flat (spine rows x slots) matrix index of each cell (built when first asked for)."""
        if self._cell is None:
            self._cell = self.r * self.width + self.c
        return self._cell

    def take(self, values: np.ndarray) -> np.ndarray:
        """The per-table-row `values` per cell (in `sel` order; `values` itself when the table's
        rows are the cells already)."""
        return values if self.identity else values[self.sel]

    def matrix(self, values: np.ndarray, fill=np.nan) -> np.ndarray:
        """(spine rows x slots) of the per-table-row `values`; `fill` where no row."""
        return self.cells_matrix(self.take(values), fill)

    def cells_matrix(self, cell_values: np.ndarray, fill=np.nan) -> np.ndarray:
        """(spine rows x slots) of values given per cell (in `sel` order)."""
        m = np.full(self.keys.n * self.width, fill, dtype=np.asarray(cell_values).dtype)
        m[self.cell] = cell_values
        return self.keys.spread(m.reshape(self.keys.n, self.width))

    def valid(self) -> np.ndarray:
        return self.cells_matrix(np.ones(self.sel.size, dtype=bool), False)


class Col:
    """A nullable float column: values (NaN where null) and the null mask."""

    __slots__ = ("v", "none")

    def __init__(self, v: np.ndarray, none: np.ndarray):
        self.v, self.none = v, none

    @classmethod
    def of(cls, series: pl.Series) -> Col:
        none = series.is_null().to_numpy()
        if series.dtype == pl.Boolean:
            series = series.cast(pl.Float64)
        v = series.cast(pl.Float64).fill_null(np.nan).to_numpy().copy()
        v[none] = np.nan
        return cls(v, none)

    @classmethod
    def empty(cls, n: int) -> Col:
        return cls(np.full(n, np.nan), np.ones(n, dtype=bool))

    def present(self) -> np.ndarray:
        return ~self.none & ~np.isnan(self.v)

    def set(self, mask: np.ndarray, other: Col) -> None:
        self.v = np.where(mask, other.v, self.v)
        self.none = np.where(mask, other.none, self.none)


# --------------------------------------------------------------------------- extractions


def _run_sums(
    values: np.ndarray, run_start: np.ndarray, run_row: np.ndarray, rows: int, slot: np.ndarray | None = None
) -> np.ndarray:
    """Per row, the left-to-right float sum (Python `sum`) of its run of `values` (the runs
    begin at `run_start`; `run_row[i]` is the row of cell i; `slot`, when given, the position of
    cell i in its run), 0.0 for a row without cells. The cells are placed in a (slots x rows)
    matrix padded with 0.0 and added one slot row at a time (a total that starts at 0.0 is never
    -0.0, so the padding changes nothing); a row with several runs goes through
    `_run_sums_by_length`."""
    if not run_start.size:
        return np.zeros(rows)
    if int(np.bincount(run_row[run_start], minlength=rows).max()) > 1:
        return _run_sums_by_length(values, run_start, run_row, rows)
    if slot is None:
        start = np.zeros(values.size, dtype=bool)
        start[run_start] = True
        slot = _runs(run_row, start)
    by_slot = np.zeros((int(slot.max()) + 1, rows))
    by_slot[slot, run_row] = values
    total = np.zeros(rows)
    for row_of_slot in by_slot:
        total += row_of_slot
    return total


def _run_sums_by_length(values: np.ndarray, run_start: np.ndarray, run_row: np.ndarray, rows: int) -> np.ndarray:
    """_run_sums one step per slot over the runs that reach it, longest runs first."""
    total = np.zeros(rows)
    length = np.diff(np.append(run_start, values.size))
    by_length = np.argsort(-length, kind="stable")
    start, row = run_start[by_length], run_row[run_start[by_length]]
    reaching = np.searchsorted(-length[by_length], -np.arange(int(length.max())), side="left")
    for slot, count in enumerate(reaching.tolist()):
        total[row[:count]] += values[start[:count] + slot]
    return total


def _squares(points: np.ndarray, mean: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Python's `(points - mean[row]) ** 2` per cell (C pow, `_py_pow`), computed once per
    distinct (point, mean) pair: integer points and few distinct means make a small dense table
    of the pairs (no sort, no hashing of the cells)."""
    if points.size == 0:
        return points.astype(np.float64)
    low, high = float(points.min()), float(points.max())
    means, mean_id = np.unique(mean.view(np.int64), return_inverse=True)
    span = int(high - low) + 1 if np.isfinite(low) and np.isfinite(high) else 0
    if span <= 0 or not np.array_equal(points, np.round(points)) or means.size * span > max(4 * points.size, 1 << 20):
        return _py_pow(points - mean[row], 2.0)
    code = mean_id[row] * span + (points - low).astype(np.int64)
    seen = np.zeros(means.size * span, dtype=bool)
    seen[code] = True
    used = np.flatnonzero(seen)
    table = np.zeros(seen.size)
    used_points = (used % span).astype(np.float64) + low
    table[used] = _py_pow(used_points - means.view(np.float64)[used // span], 2.0)
    return table[code]


def _check_numbered(games: pl.DataFrame, table: str) -> None:
    """`games` holds the rows numbered 1, 2, ... by `game_no`, in that order (else ValueError)."""
    game_no = games["game_no"].to_numpy()
    if not np.array_equal(game_no, np.arange(1, game_no.size + 1)):
        raise ValueError(f"{table}: game_no is not 1, 2, ... in row order")


def _window_square_sums(points: np.ndarray, lo: np.ndarray, m: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Per row, the left-to-right float sum (Python `sum`) of `(points[p] - mean) ** 2` (C pow)
    over its window p = lo .. lo + m - 1, 0.0 for a row with m = 0. The rows are taken longest
    window first, so that the rows reaching slot t are a prefix: the cells are laid out slot by
    slot and each slot's squares are added to that prefix of the totals (the same additions, in
    the same order, as the row's own sum). As in `_squares`, integer points and few distinct
    means make a small dense table of the (mean, point) pairs, each pair's square computed once
    (`_py_pow`); else once per distinct difference."""
    total = np.zeros(lo.size)
    active = np.flatnonzero(m > 0)
    if not active.size:
        return total
    order = active[np.argsort(-m[active], kind="stable")]
    start, mean = lo[order], mean[order]
    reaching = np.searchsorted(-m[order], -np.arange(int(m[order[0]])), side="left").tolist()
    cells = sum(reaching)
    covered = np.zeros(points.size + 1, dtype=np.int64)
    np.add.at(covered, start, 1)
    np.add.at(covered, start + m[order], -1)
    read = points[np.cumsum(covered[:-1]) > 0]  # the points of some window
    low, high = (float(read.min()), float(read.max())) if read.size else (0.0, -1.0)
    span = int(high - low) + 1 if np.isfinite(low) and np.isfinite(high) else 0
    means, mean_id = np.unique(mean.view(np.int64), return_inverse=True)
    if span <= 0 or not np.array_equal(read, np.round(read)) or means.size * span > max(4 * cells, 1 << 20):
        at = np.concatenate([start[:count] + t for t, count in enumerate(reaching)])
        row = np.concatenate([np.arange(count) for count in reaching])
        squares = _py_pow(points[at] - mean[row], 2.0)
    else:
        point_code = np.where(np.isfinite(points), points - low, 0.0).astype(np.int64)
        mean_code = mean_id * span
        code = np.concatenate([mean_code[:count] + point_code[start[:count] + t] for t, count in enumerate(reaching)])
        seen = np.zeros(means.size * span, dtype=bool)
        seen[code] = True
        used = np.flatnonzero(seen)
        table = np.zeros(seen.size)
        table[used] = _py_pow((used % span).astype(np.float64) + low - means.view(np.float64)[used // span], 2.0)
        squares = table[code]
    by_order = np.zeros(order.size)
    offset = 0
    for count in reaching:
        by_order[:count] += squares[offset : offset + count]
        offset += count
    total[order] = by_order
    return total


def numbered_cells(
    games: pl.DataFrame, table: str, key_row: np.ndarray, anchor: np.ndarray, length: np.ndarray, step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cells of per-key ranges of numbered rows (R, O, Q6′: `games` holds the rows numbered
    1, 2, ... by `game_no`, in that order; `table` names it in errors). Input row i (spine row
    `key_row[i]`, -1 = none) has `length[i]` cells, slot c being the game at position
    `anchor[i] + step * c` of `games`. Returns, per cell in input order (a row's cells
    consecutive, in slot order): the input row, the spine row r, the slot c and the position."""
    _check_numbered(games, table)
    kept = np.flatnonzero((key_row >= 0) & (length > 0))
    length = length[kept]
    owner = np.repeat(kept, length)
    r = key_row[owner]
    c = np.arange(r.size) - np.repeat(np.cumsum(length) - length, length)
    return owner, r, c, anchor[owner] + step * c


def _team_or_gap_breaks(games: pl.DataFrame, day: np.ndarray) -> np.ndarray:
    """Per game: whether it starts a new run against the game before it (another team, or more
    than 14 days after it; a null team is a team of its own)."""
    teams = _compact_codes(games["team_abbr"])
    with np.errstate(invalid="ignore"):
        return np.r_[False, (teams[1:] != teams[:-1]) | ((day[1:] - day[:-1]) > 14)]


def _r_values(has: np.ndarray, **values: np.ndarray) -> dict[str, np.ndarray]:
    """R's columns: each of `values` where the row has games, NaN elsewhere; and `has`."""
    nan = np.full(has.size, np.nan)
    return {**{name: np.where(has, value, nan) for name, value in values.items()}, "has": has}


def _last3_and_slope(newest, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's L3 and slope of each row from `newest(t)` (its t-th newest point, 0.0 where the row
    has fewer) and `m` (its number of games)."""
    # L3 = float mean of the last three, added oldest first (the zeros before them add nothing)
    l3 = ((0.0 + newest(3)) + newest(2)) + newest(1)
    l3 = l3 / np.maximum(np.minimum(m, 3), 1)
    # slope over the last n = min(7, m) points (x = 1..n oldest first), m >= 4: integer
    # arithmetic, one division
    n = np.minimum(7, m)
    sy = np.zeros(m.size, dtype=np.int64)
    sxy = np.zeros(m.size, dtype=np.int64)
    for t in range(1, 8):
        y = np.where(t <= n, newest(t).astype(np.int64), 0)
        sy += y
        sxy += (n - t + 1) * y
    sx = n * (n + 1) // 2
    sxx = n * (n + 1) * (2 * n + 1) // 6
    slope = np.where(m >= 4, _int_division(n * sxy - sx * sy, np.where(m >= 4, n * sxx - sx * sx, 1)), 0.0)
    return l3, slope


def _deviation(
    square_sums: np.ndarray, m: np.ndarray, l3: np.ndarray, mean60: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R's standard deviation (5.0 under two games) and L3's deviation from the mean in it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(m >= 2, _py_pow(square_sums / np.maximum(m - 1, 1), 0.5), 5.0)
        dev = np.where(sd > 0, (l3 - mean60) / np.where(sd > 0, sd, 1.0), 0.0)
    return sd, dev


def rolling_columns(bounds: pl.DataFrame, games: pl.DataFrame, keys: SpineKeys) -> dict[str, np.ndarray]:
    """Extraction R (§4) per spine row: l3, slope, dev, below, usage, gsc (NaN = no rows), and
    `has` (the key has rows). `games` = v54_r_games (the numbered rows), `bounds` = v54_r_rolling
    (each key's rows are the games first_no + 1 .. last_no, i.e. the positions lo .. hi - 1 of
    `games`). Only the squared deviations need one value per (key, game) cell; everything else
    reads the games by position: the newest rows at hi - 1, hi - 2, .., integer totals and
    non-null counts as differences of running sums over the games, the newest break as a running
    maximum. A spine row with several bounds rows goes through `_rolling_columns_by_cells`."""
    rows = keys.n
    first = bounds["first_no"].to_numpy().astype(np.int64)  # the position of game first_no + 1
    length = bounds["last_no"].to_numpy().astype(np.int64) - first
    key_row = keys.rows_of(bounds)
    owned = key_row[(key_row >= 0) & (length > 0)]
    if not owned.size or int(np.bincount(owned, minlength=rows).max()) > 1:
        return _rolling_columns_by_cells(bounds, games, keys)
    _check_numbered(games, "v54_r_games")
    kept = np.flatnonzero((key_row >= 0) & (length > 0))
    lo_own = np.zeros(rows, dtype=np.int64)  # on the canonical rows, the others 0
    m_own = np.zeros(rows, dtype=np.int64)
    lo_own[key_row[kept]] = first[kept]
    m_own[key_row[kept]] = length[kept]
    lo, m = keys.spread(lo_own), keys.spread(m_own)
    has = m > 0
    hi = lo + m  # one past the newest game of the row
    cols = _float_columns(games, ["points", "usage_e9", "row_date"])
    game_points = cols["points"][0]

    def newest(t: int) -> np.ndarray:
        """The t-th newest point of each row (1 = newest; 0.0 where the row has fewer)."""
        return np.where(m >= t, game_points[np.where(m >= t, hi - t, 0)], 0.0)

    l3, slope = _last3_and_slope(newest, m)
    # integer totals: differences of the games' running int64 sums (wrapping as the sum would)
    running = np.zeros(game_points.size + 1, dtype=np.int64)
    np.cumsum(game_points.astype(np.int64), out=running[1:])
    mean60 = _int_division(np.where(has, running[hi] - running[lo], 0), np.maximum(m, 1))
    s = keys.spread(_window_square_sums(game_points, lo_own, m_own, mean60))
    sd, dev = _deviation(s, m, l3, mean60)
    # below: the newest consecutive rows under the mean, counted back from the newest
    below_count = np.zeros(rows, dtype=np.int64)
    going = np.flatnonzero(has)
    t = 1
    while going.size:
        under = game_points[hi[going] - t] < mean60[going]
        going = going[under]
        below_count[going] += 1
        going = going[m[going] > t]
        t += 1
    below = below_count.astype(np.float64)
    # usage: float mean of the last five non-null usage values when there are >= 3, added
    # oldest first (as a left-to-right sum of five slots, zeros before the values)
    usage_e9, usage_null = cols["usage_e9"]
    covered = np.zeros(game_points.size + 1, dtype=np.int64)
    np.add.at(covered, lo[has], 1)
    np.add.at(covered, hi[has], -1)
    in_window = np.cumsum(covered[:-1]) > 0
    if (in_window & ~usage_null).any() and np.abs(usage_e9[in_window & ~usage_null]).max() >= _INT_SAFE:
        raise ValueError("v54_r_games: usage_e9 beyond 2^53")
    non_null = np.flatnonzero(~usage_null)
    seen = np.zeros(game_points.size + 1, dtype=np.int64)
    np.cumsum(~usage_null, out=seen[1:])
    u_count = np.where(has, seen[hi] - seen[lo], 0)
    five = np.zeros((rows, 5))
    for k in range(1, 6):  # the k-th newest non-null value goes to slot 5 - k
        ok = u_count >= k
        five[ok, 5 - k] = usage_e9[non_null[seen[hi[ok]] - k]] / 1e9
    usage = np.where(u_count >= 3, _seq_sum(five) / np.maximum(np.minimum(u_count, 5), 1), 20.0)
    # gsc: games since the newest team change or > 14-day gap between consecutive rows (a
    # null team is a team of its own: None != None is False, None != 'X' is True); a break at
    # the row's oldest game does not count (it compares with a game outside the row)
    new_run = _team_or_gap_breaks(games, cols["row_date"][0])
    newest_break_at = np.maximum.accumulate(np.where(new_run, np.arange(new_run.size), -1))
    newest_break = np.where(has, newest_break_at[np.where(has, hi - 1, 0)] - lo, -1)
    gsc = np.where(newest_break >= 1, m - newest_break - 1, np.minimum(m, 30)).astype(np.float64)
    return _r_values(has, l3=l3, slope=slope, dev=dev, below=below, usage=usage, gsc=gsc)


def _rolling_columns_by_cells(bounds: pl.DataFrame, games: pl.DataFrame, keys: SpineKeys) -> dict[str, np.ndarray]:
    """rolling_columns with every per-row value computed on the cells (several bounds rows of
    one spine row add their cells to the same row). The cells (row r, slot c) of the keys' rows
    are laid out from the bounds, consecutive per row and oldest first, and take the games'
    values by number; per-cell values are computed on the cells, the ordered float sums on
    (rows x slots) matrices."""
    rows = keys.n
    first = bounds["first_no"].to_numpy().astype(np.int64)  # the position of game first_no + 1
    length = bounds["last_no"].to_numpy().astype(np.int64) - first
    _, r, c, at = numbered_cells(games, "v54_r_games", keys.rows_of(bounds), first, length, 1)
    run_start = np.flatnonzero(c == 0)  # a row's cells are one run
    m = keys.spread(np.bincount(r, minlength=rows) if r.size else np.zeros(rows, np.int64))
    cols = _float_columns(games, ["points", "usage_e9", "row_date"])
    has = m > 0
    points = cols["points"][0][at]
    # a row's cells are consecutive and chronological: its newest cell is the last of its run
    last_cell = np.zeros(rows, dtype=np.int64)
    last_cell[r[run_start]] = run_start
    last_cell = keys.spread(last_cell) + m - 1

    def newest(t: int) -> np.ndarray:
        """The t-th newest point of each row (1 = newest; 0.0 where the row has fewer)."""
        if not points.size:
            return np.zeros(rows)
        return np.where(m >= t, points[np.where(m >= t, last_cell - (t - 1), 0)], 0.0)

    l3, slope = _last3_and_slope(newest, m)
    totals = np.zeros(rows, dtype=np.int64)
    if r.size:
        totals[r[run_start]] = np.add.reduceat(points.astype(np.int64), run_start)
    mean60 = _int_division(keys.spread(totals), np.maximum(m, 1))
    s = keys.spread(_run_sums(_squares(points, mean60, r), run_start, r, rows, c))
    sd, dev = _deviation(s, m, l3, mean60)

    def newest_cell(mask: np.ndarray) -> np.ndarray:
        """Per row, the slot of its newest cell in `mask` (-1: none): the last masked cell of
        the row's run (its slots rise along the run)."""
        out = np.full(rows, -1, dtype=np.int64)
        at = np.flatnonzero(mask)
        if at.size:
            at = at[np.r_[r[at][1:] != r[at][:-1], True]]
            out[r[at]] = c[at]
        return keys.spread(out)

    # below: the newest consecutive rows under the mean (they follow the newest row that is not)
    below = (m - 1 - newest_cell(~(points < mean60[r]))).astype(np.float64)
    # usage: float mean of the last five non-null usage values when there are >= 3, added
    # oldest first (as a left-to-right sum of the row with zeros elsewhere)
    usage_e9, usage_null = cols["usage_e9"]
    usage_e9 = usage_e9[at]
    u_cell = ~usage_null[at]
    if u_cell.any() and np.abs(usage_e9[u_cell]).max() >= _INT_SAFE:
        raise ValueError("v54_r_games: usage_e9 beyond 2^53")
    u_count = np.bincount(r[u_cell], minlength=rows)
    # a non-null cell's slot among its row's last five non-null cells (0..4; below 0: older):
    # its rank among them (running count less the count before the row) - (count - 5)
    seen = np.cumsum(u_cell)
    offset = seen[run_start] - u_cell[run_start] + u_count[r[run_start]] - 4
    u_slot = seen - np.repeat(offset, np.diff(np.append(run_start, r.size)))
    take = u_cell & (u_slot >= 0)
    five = np.zeros(rows * 5)
    five[r[take] * 5 + u_slot[take]] = usage_e9[take] / 1e9
    u_count = keys.spread(u_count)
    usage = np.where(
        u_count >= 3, _seq_sum(keys.spread(five.reshape(rows, 5))) / np.maximum(np.minimum(u_count, 5), 1), 20.0
    )
    # gsc: games since the newest team change or > 14-day gap between consecutive rows (a
    # null team is a team of its own: None != None is False, None != 'X' is True)
    # each game against the one before it (a cell's previous cell is the previous game)
    new_run = _team_or_gap_breaks(games, cols["row_date"][0])
    brk = (c >= 1) & new_run[at]
    newest_break = newest_cell(brk)
    gsc = np.where(newest_break >= 1, m - newest_break - 1, np.minimum(m, 30)).astype(np.float64)
    return _r_values(has, l3=l3, slope=slope, dev=dev, below=below, usage=usage, gsc=gsc)


def line_history_columns(frame: pl.DataFrame, keys: SpineKeys) -> tuple[np.ndarray, np.ndarray]:
    """Extraction H (§4): (over_rate, margin) per spine row, NaN = absent."""
    parts = frame.select(
        (pl.col("games_ago") <= 10).fill_null(False).alias("ten"),
        (pl.col("games_ago") <= 5).fill_null(False).alias("five"),
        (pl.col("points").cast(pl.Int64) * E9 - pl.col("line_e9")).alias("d"),
    )
    rows = keys.rows_of_runs(frame)  # a key's rows are consecutive (games_ago 1, 2, ..)
    ten = parts["ten"].to_numpy() & (rows >= 0)
    five = ten & parts["five"].to_numpy()
    d_ok = parts["d"].is_not_null().to_numpy()
    d = parts["d"].fill_null(0).to_numpy()

    def per_row(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(keys.n, dtype=np.int64)
        np.add.at(out, rows[mask], 1 if weights is None else weights[mask])
        return keys.spread(out)

    n10 = per_row(ten)
    overs = per_row(ten & d_ok & (d > 0))
    n5 = per_row(five)
    total = per_row(five, d)
    over = np.where(n10 >= 5, _round(_int_division(overs, np.maximum(n10, 1)), 9), np.nan)
    cnt = np.maximum(n5, 1)
    avg = np.sign(total) * ((2 * np.abs(total) + cnt) // (2 * cnt))  # NUMERIC AVG, half away from zero
    margin = np.where(n5 >= 3, _round(_int_division(avg, np.full_like(avg, E9)), 9), np.nan)
    return over, margin


def opportunity_columns(frame: pl.DataFrame, games: pl.DataFrame, keys: SpineKeys, minutes_type: str, reference):
    """Extraction O (§4): (risk, volatility) per spine row, NaN = absent. `games` = v54_o_games
    (the numbered rows), `frame` = v54_o_opportunity: its 'player' rows give each key's rows as
    the games last_no, last_no - 1, .. first_no + 1 (slot 0 = newest), its 'team' rows the
    blowout counts. The cells (row r, slot c) are laid out from the bounds, consecutive per row
    in slot order, and take the games' values by number."""
    kind = frame["kind"]
    is_player = (kind == "player").fill_null(False).to_numpy()
    key_row = np.where(is_player, keys.rows_of(frame), -1)
    last = frame["last_no"].fill_null(0).to_numpy().astype(np.int64)  # NULL on the 'team' rows
    length = last - frame["first_no"].fill_null(0).to_numpy().astype(np.int64)
    # sel_bound: the cell's 'player' row of `frame`; slot 0 = game last_no, at position last_no - 1
    sel_bound, lay_r, lay_c, at = numbered_cells(games, "v54_o_games", key_row, last - 1, length, -1)
    if minutes_type != "FLOAT64" and at.size:
        if int(np.abs(games["minutes_e9"].to_numpy()[at]).max()) >= _INT_SAFE:
            raise ValueError("v54_o_games: minutes_e9 beyond 2^53")
    # the team of the key: among its teams with >= 3 rows, the one whose first row comes first
    # (a null team is a team of its own, as in a join with nulls equal)
    team = _compact_codes(games["team_abbr"], -1)[at] + 1  # 0 = null
    team_count = int(team.max()) + 1 if team.size else 1
    group = lay_r * team_count + team
    if keys.n * team_count <= max(1 << 24, 4 * team.size):
        # the key's first cell (in slot order) whose team has >= 3 cells is that team's first
        # cell, and no other such team's first cell comes before it
        eligible = np.flatnonzero(np.bincount(group, minlength=keys.n * team_count)[group] >= 3)
        eligible = eligible[np.r_[True, lay_r[eligible][1:] != lay_r[eligible][:-1]]] if eligible.size else eligible
        chosen_team = np.full(keys.n, -1, dtype=np.int64)
        chosen_team[lay_r[eligible]] = team[eligible]
    else:
        per_team = (
            pl.DataFrame({"r": lay_r, "t": team, "c": lay_c})
            .group_by("r", "t")
            .agg(pl.len().alias("n"), pl.col("c").min().alias("first"))
            .filter(pl.col("n") >= 3)
            .group_by("r")
            .agg(pl.col("t").sort_by("first").first())
        )
        chosen_team = np.full(keys.n, -1, dtype=np.int64)
        chosen_team[per_team["r"].to_numpy()] = per_team["t"].to_numpy()
    cell = team == chosen_team[lay_r]
    # minutes x 10^9 go through the matrix as exact integers-in-float and are divided by numpy
    # (Polars would multiply by the reciprocal)
    minutes = _float_columns(games, ["minutes_float" if minutes_type == "FLOAT64" else "minutes_e9"])
    m_values = next(iter(minutes.values()))[0][at[cell]]
    r, c = lay_r[cell], _runs(lay_r[cell])
    width = int(c.max()) + 1 if c.size else 1
    mat = np.full((keys.n, width), np.nan)
    mat[r, c] = m_values
    valid = np.zeros((keys.n, width), dtype=bool)
    valid[r, c] = True
    mat, valid = keys.spread(mat), keys.spread(valid)
    if minutes_type != "FLOAT64":
        mat = mat / 1e9
    has = valid.any(axis=1)
    approx = _approx_stdev(mat, valid)
    # round(std, 2): the float estimate rounds the same way unless it lies near a boundary
    frac = approx * 100.0 - np.floor(approx * 100.0)
    near = has & (np.abs(frac - 0.5) < 1e-6)
    exact = approx.copy()
    for i in np.flatnonzero(near):
        exact[i] = reference([float(v) for v, ok in zip(mat[i], valid[i]) if ok])
    vol = np.where(has, _round(np.where(has, exact, 0.0), 2), np.nan)
    # the chosen team's blowout rate on the date (the last team row of (team, date) wins)
    first_cell = np.flatnonzero(cell)[np.r_[True, r[1:] != r[:-1]]] if r.size else np.zeros(0, np.int64)
    chosen = pl.DataFrame(
        {
            "_row": lay_r[first_cell],
            "_t": games["team_abbr"].gather(at[first_cell]),
            "_d": frame["game_date"].gather(sel_bound[first_cell]),
        }
    )
    teams = (
        frame.filter(pl.Series(~is_player & (kind == "team").fill_null(False).to_numpy()))
        .select(pl.col("team_abbr").alias("_t"), pl.col("game_date").alias("_d"), "team_rows", "blowouts")
        .unique(subset=["_t", "_d"], keep="last", maintain_order=True)
    )
    rates = chosen.join(teams, on=["_t", "_d"], how="inner")
    tr = np.zeros(keys.n, dtype=np.int64)
    bl = np.zeros(keys.n, dtype=np.int64)
    found = np.zeros(keys.n, dtype=bool)
    at = rates["_row"].to_numpy()
    found[at] = rates["team_rows"].is_not_null().to_numpy()
    tr[at] = rates["team_rows"].fill_null(0).to_numpy()
    bl[at] = rates["blowouts"].fill_null(0).to_numpy()
    tr, bl, found = keys.spread(tr), keys.spread(bl), keys.spread(found)
    blow = _int_division(bl, np.where(found, tr, 1))
    risk = np.where(found, _round(np.where(found, blow, 0.0), 4), 0.2)
    return np.where(has, risk, np.nan), vol


def _approx_stdev(matrix: np.ndarray, valid: np.ndarray) -> np.ndarray:
    n = valid.sum(axis=1)
    x = np.where(valid, matrix, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = x.sum(axis=1) / n
        var = np.where(valid, (matrix - mean[:, None]) ** 2, 0.0).sum(axis=1) / (n - 1)
    return np.sqrt(var)


def multi_book_columns(frame: pl.DataFrame, keys: SpineKeys, switch_below: float, reference):
    """Extraction M (§4): (std, from_vegas, from_bettingpros) per spine row (std NaN = absent)."""
    # one group per (source, player, date) over every player of the table (the date-level
    # switch looks at all of them), its lines in table order
    coded = frame.select(
        pl.struct("source", "player_lookup", "game_date").rank("dense").cast(pl.Int64).alias("g"),
        "points_line",
    )
    group = coded["g"].fill_null(0).to_numpy() - 1
    groups = int(group.max()) + 1 if group.size else 0
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    pos = _runs(g_sorted)
    width = int(pos.max()) + 1 if pos.size else 1
    mat = np.full((groups, width), np.nan)
    valid = np.zeros((groups, width), dtype=bool)
    mat[g_sorted, pos] = coded["points_line"].fill_null(np.nan).to_numpy()[order]
    valid[g_sorted, pos] = True
    std = stdev_matrix(mat, valid, reference)
    # the group's source, player and date, from its first row
    first = order[np.r_[True, g_sorted[1:] != g_sorted[:-1]]] if order.size else order
    gi = frame.select("source", "player_lookup", "game_date")[first].with_columns(
        pl.Series("std", std), pl.Series("n", valid.sum(axis=1))
    )
    odds = gi.filter((pl.col("source") == "odds_api") & (pl.col("n") >= 2))
    bp = gi.filter((pl.col("source") == "bettingpros") & (pl.col("n") >= 2))
    date_max = odds.group_by("game_date").agg(pl.col("std").max().alias("mx"))
    # max() of Python floats: NaN never wins a comparison; stds are never NaN here
    bp = bp.join(date_max, on="game_date", how="left").filter(pl.col("mx").is_null() | (pl.col("mx") < switch_below))
    bp = bp.join(odds.select("player_lookup", "game_date"), on=["player_lookup", "game_date"], how="anti")
    out = np.full(keys.n, np.nan)
    vegas = np.zeros(keys.n, dtype=bool)
    bettingpros = np.zeros(keys.n, dtype=bool)
    for part, tagged in ((odds, vegas), (bp, bettingpros)):
        pick = keys.last_row(part)
        hit = pick >= 0
        out[hit] = part["std"].to_numpy()[pick[hit]]
        tagged[hit] = True
    return out, vegas, bettingpros


def line_delta_columns(frame: pl.DataFrame, keys: SpineKeys, window_days: int) -> np.ndarray:
    """Extraction L (§4): round(cons(D) - cons(previous date within the window), 1), NaN = absent.
    The (player, date) groups are sorted by integer keys in numpy; a table with a null key or line,
    or a NaN or -0.0 line (whose order a float sort may not share with Polars'), goes through the
    Polars statement of the rule (`_line_deltas_polars`)."""
    line = frame["points_line"].cast(pl.Float64).to_numpy()
    if (
        frame["player_lookup"].null_count()
        or frame["line_date"].null_count()
        or frame["points_line"].null_count()
        or np.isnan(line).any()
        or (np.signbit(line) & (line == 0.0)).any()
    ):
        return _line_deltas_polars(frame, keys, window_days)
    player = keys.player_codes(frame["player_lookup"])
    day = frame["line_date"].to_physical().cast(pl.Int64).to_numpy()
    known = player >= 0  # a player the spine lacks has no row to give a delta to
    player, day, line = player[known], day[known], line[known]
    order = np.lexsort((line, day, player))
    player, day, line = player[order], day[order], line[order]
    out = np.full(keys.n, np.nan)
    if not player.size:
        return out
    start = np.flatnonzero(np.r_[True, (player[1:] != player[:-1]) | (day[1:] != day[:-1])])
    length = np.diff(np.append(start, player.size))
    cons = line[start + (length - 1) // 2]  # the lower middle of the group's sorted lines
    g_player, g_day = player[start], day[start]
    # the previous group of the same player (groups run by player, then date)
    ok = np.r_[False, g_player[1:] == g_player[:-1]]
    ok[1:] &= g_day[:-1] >= g_day[1:] - window_days
    at = np.flatnonzero(ok)
    rows = keys.rows_at(g_player[at], g_day[at])
    hit = rows >= 0
    last = np.full(keys.n, -1, dtype=np.int64)
    np.maximum.at(last, rows[hit], at[hit])
    last = keys.spread(last)
    has = last >= 0
    out[has] = _round(cons[last[has]] - cons[last[has] - 1], 1)
    return out


def _line_deltas_polars(frame: pl.DataFrame, keys: SpineKeys, window_days: int) -> np.ndarray:
    cons = (
        frame.sort(["player_lookup", "line_date", "points_line"])
        .group_by(["player_lookup", "line_date"], maintain_order=True)
        .agg(pl.col("points_line").sort().gather((pl.len() - 1) // 2).first().alias("cons"))
        # the groups come in the sorted frame's order: by player, then date
        .with_columns(
            pl.col("line_date").shift(1).over("player_lookup").alias("prev_date"),
            pl.col("cons").shift(1).over("player_lookup").alias("prev_cons"),
        )
        .rename({"line_date": "game_date"})
    )
    ok = cons.filter(
        pl.col("prev_date").is_not_null() & (pl.col("prev_date") >= pl.col("game_date") - pl.duration(days=window_days))
    )
    a = keys.align(ok.with_columns((pl.col("cons") - pl.col("prev_cons")).alias("d")), ["d"])
    d = a["d"]
    has = d.is_not_null().to_numpy()
    out = np.full(keys.n, np.nan)
    out[has] = _round(d.to_numpy()[has].astype(np.float64), 1)
    return out


_CTX = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


def _dq(num_e9: int, den_e9: int) -> float:
    """decimal_quotient of two NUMERIC values given x 10^9: the scale cancels exactly, so the
    28-digit quotient of the two integers has the same digits (and the same float) as that of
    the two NUMERIC values."""
    return float(_CTX.divide(decimal.Decimal(int(num_e9)), decimal.Decimal(int(den_e9))))


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split of float64 values into 26-bit halves (hi + lo == x exactly)."""
    c = 134217729.0 * x  # 2^27 + 1
    hi = c - (c - x)
    return hi, x - hi


def _decimal_quotients(num: np.ndarray, den: np.ndarray, num_scale: int = 1, den_scale: int = 1) -> np.ndarray:
    """_dq(num x num_scale, den x den_scale) of every pair (integer arrays, den > 0). The 28-digit decimal quotient lies within
    5·10^-28 (relative) of the exact a / b, so it rounds to the same float64 as a / b itself
    (the correctly rounded float64 division of the exactly converted integers) unless a
    rounding boundary of float64 (a midpoint between neighbours) lies that close to a / b. The
    distance to the boundary is measured with the exact remainder a - q·b (Dekker's product);
    the pairs within 10^-18 of one, and any input beyond 2^53, go through Python decimal
    (`_dq`, once per distinct pair)."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    if not num.size:
        return np.zeros(0)
    if np.abs(num).max() >= _INT_SAFE // num_scale or den.max() >= _INT_SAFE // den_scale or den.min() <= 0:
        return _per_distinct_pair(num, den, lambda n, d: _dq(n * num_scale, d * den_scale))
    num, den = num * num_scale, den * den_scale
    a, b = num.astype(np.float64), den.astype(np.float64)
    q = a / b
    product = q * b  # q·b = product + error exactly
    q_hi, q_lo = _split(q)
    b_hi, b_lo = _split(b)
    error = ((q_hi * b_hi - product) + q_hi * b_lo + q_lo * b_hi) + q_lo * b_lo
    remainder = (a - product) - error  # a - product is exact: product is within a factor 2 of a
    spacing = np.where(remainder > 0, np.nextafter(q, np.inf) - q, q - np.nextafter(q, -np.inf))
    near = np.abs(spacing / 2.0 * b - np.abs(remainder)) <= 1e-18 * np.abs(a)
    if near.any():
        q[near] = _per_distinct_pair(num[near], den[near], _dq)
    return q


LAST10_COLUMNS = [
    "points",
    "minutes_e9",
    "minutes_float",
    "is_dnp",
    "fg_attempts",
    "paint_attempts",
    "mid_range_attempts",
    "three_pt_attempts",
    "list_date",
]


def last10_layout(bounds: pl.DataFrame, games: pl.DataFrame, keys: SpineKeys) -> Layout:
    """The Q6′ lists as a Layout of `games` (v54_last10_games, the numbered rows): `bounds` =
    v54_last10_rows gives each key's list, slot s = 0 .. slots - 1 being the game last_no - s;
    the cells are laid out from the bounds, consecutive per row and newest first."""
    last = bounds["last_no"].to_numpy().astype(np.int64)
    length = bounds["slots"].to_numpy().astype(np.int64)
    _, r, c, at = numbered_cells(games, "v54_last10_games", keys.rows_of(bounds), last - 1, length, -1)
    return Layout.of_cells(keys, r, c, at)


def cache_miss_columns(
    lay: Layout,
    frame: pl.DataFrame,
    miss: np.ndarray,
    dates: pl.Series,
    minutes_type: str,
    season_avg: Col,
    ctx_team: pl.Series,
    team_rows: pl.DataFrame,
    window_days: int,
    reference_stdev,
):
    """§2.4 for the spine rows in `miss`: (emitted mask, {field: Col}, used mask). `lay` =
    the Q6′ lists (last10_layout) of `frame` = v54_last10_games. The matrices hold only the rows
    that miss (all rows when the spine repeats a key); LAST10_COLUMNS are converted once per game
    and gathered for those rows' cells only."""
    n_all = lay.keys.n
    subset = np.arange(n_all) if lay.keys.duplicated else np.flatnonzero(miss)
    n_rows = subset.size
    miss_all, miss = miss, miss[subset]
    row_of = np.full(n_all, -1, dtype=np.int64)
    row_of[subset] = np.arange(n_rows)
    in_subset = np.flatnonzero(row_of[lay.r] >= 0)
    width = lay.width
    cell = row_of[lay.r[in_subset]] * width + lay.c[in_subset]
    # the table row of each matrix cell (frame.height where none: the fill)
    source = np.full(n_rows * width, frame.height, dtype=np.int64)
    source[cell] = lay.take(np.arange(frame.height))[in_subset]
    # converted once per game (each game is in up to $last10_size lists), then gathered per cell
    cols = _float_columns(frame, LAST10_COLUMNS)

    def matrix(values: np.ndarray, fill) -> np.ndarray:
        """(subset rows x slots) of `values` given per table row."""
        if lay.keys.duplicated:
            return lay.matrix(values, fill)
        return np.append(values, np.array([fill], dtype=values.dtype))[source].reshape(n_rows, width)

    float_minutes = minutes_type == "FLOAT64"
    valid = matrix(np.ones(frame.height, dtype=bool), False) & miss[:, None]
    attempts = ("fg_attempts", "paint_attempts", "mid_range_attempts", "three_pt_attempts")
    mats = {name: matrix(cols[name][0], np.nan) for name in LAST10_COLUMNS if name not in attempts}
    # the attempt counts as int64 (null as 0), converted once per game
    counts = {name: matrix(np.nan_to_num(cols[name][0]).astype(np.int64), 0) for name in attempts}
    nulls = {name: matrix(cols[name][1], False) & valid for name in ("points", "minutes_e9", "minutes_float")}
    not_dnp = valid & ~(mats["is_dnp"] == 1.0)  # `is_dnp is not True`
    emitted = np.ones(n_rows, dtype=bool)
    if not float_minutes:
        bad = not_dnp & nulls["minutes_e9"] & nulls["minutes_float"]
        emitted = ~bad.any(axis=1)
    if float_minutes:
        mins = mats["minutes_float"]  # NaN where None: NaN > 0 is False
        fp = not_dnp & (mins > 0)
    else:
        mins = mats["minutes_e9"]
        fp = not_dnp & ~nulls["minutes_e9"] & (mins > 0)
        if np.abs(np.where(fp, mins, 0.0)).max(initial=0.0) >= _INT_SAFE:
            raise ValueError("v54_last10_games: minutes_e9 beyond 2^53")
    # fp rows keep their slot order; f5 = the first five of them
    fp_rank = np.cumsum(fp, axis=1)
    f5 = fp & (fp_rank <= 5)
    f10 = fp
    nfp = fp.sum(axis=1)
    has = miss & emitted & (nfp > 0)
    pts_ok = ~nulls["points"]
    pts = np.where(valid & pts_ok, mats["points"], 0.0).astype(np.int64)
    out: dict[str, Col] = {}

    def put(name, mask, values):
        col = Col.empty(n_all)
        col.v[subset] = np.where(mask, values, np.nan)
        col.none[subset] = ~mask
        out[name] = col

    p5 = f5 & pts_ok
    p10 = f10 & pts_ok
    n5, n10 = p5.sum(axis=1), p10.sum(axis=1)
    put("points_avg_last_5", has & (n5 > 0), _int_division(np.where(p5, pts, 0).sum(axis=1), np.maximum(n5, 1)))
    put("points_avg_last_10", has & (n10 > 0), _int_division(np.where(p10, pts, 0).sum(axis=1), np.maximum(n10, 1)))
    std = stdev_matrix(np.where(p10, pts, 0).astype(np.float64), p10 & has[:, None], reference_stdev)
    put("points_std_last_10", has & (n10 > 0), np.where(n10 >= 2, std, 0.0))
    point_sum = np.where(f10, pts, 0).sum(axis=1)
    count10 = nfp
    if minutes_type == "NUMERIC":
        total_e9 = np.where(f10, mins, 0.0).astype(np.int64).sum(axis=1)
        idx = np.flatnonzero(has)
        avg = np.full(n_rows, np.nan)
        ppm = np.full(n_rows, np.nan)
        avg[idx] = _decimal_quotients(total_e9[idx], count10[idx], den_scale=E9)
        idx = idx[total_e9[idx] > 0]
        ppm[idx] = _decimal_quotients(point_sum[idx], total_e9[idx], num_scale=E9)
        positive = total_e9 > 0
    elif minutes_type == "INT64":
        total = np.where(f10, mins, 0.0).astype(np.int64) // E9
        total = total.sum(axis=1)
        avg = _int_division(total, np.maximum(count10, 1))
        ppm = _int_division(point_sum, np.where(total != 0, total, 1))
        positive = total > 0
    else:
        total = _seq_sum(np.where(f10, mins, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = total / np.maximum(count10, 1)
            ppm = point_sum.astype(np.float64) / np.where(total != 0, total, 1.0)
        positive = total > 0
    put("minutes_avg_last_10", has, avg)
    put("ppm_avg_last_10", has & positive, ppm)
    day = dates.to_physical().cast(pl.Int64).fill_null(0).to_numpy()[subset]
    in_week = fp & (mats["list_date"] >= (day - window_days)[:, None])
    put("games_in_last_7_days", has, in_week.sum(axis=1).astype(np.float64))
    put("points_avg_season", has & ~season_avg.none[subset], season_avg.v[subset])
    fg = np.where(f10, counts["fg_attempts"], 0).sum(axis=1)
    for name, col in (
        ("paint_rate_last_10", "paint_attempts"),
        ("mid_range_rate_last_10", "mid_range_attempts"),
        ("three_pt_rate_last_10", "three_pt_attempts"),
    ):
        part = np.where(f10, counts[col], 0).sum(axis=1)
        put(name, has & (fg > 0), _int_division(part, np.where(fg > 0, fg, 1)))
    # the team: the context team when set (not null, not empty), else the first fp row's team
    has_at = np.flatnonzero(has)
    first_pos = np.argmax(fp[has_at], axis=1)
    first_row = matrix(np.arange(frame.height), -1)[has_at, first_pos]
    hrows = subset[has_at]
    teams = pl.DataFrame(
        {
            "_row": hrows,
            "_ctx": ctx_team.gather(hrows),
            "_fp": frame["team_abbr"].gather(first_row),
            "game_date": dates.gather(hrows),
        }
    ).select(
        "_row",
        "game_date",
        pl.when(pl.col("_ctx").is_not_null() & (pl.col("_ctx") != ""))
        .then(pl.col("_ctx"))
        .otherwise(pl.col("_fp"))
        .alias("_team"),
    )
    per_team = team_rows.group_by(["team_abbr", "game_date"]).agg(
        pl.col("pace_e9").drop_nulls().sum().alias("ps"),
        pl.col("pace_e9").drop_nulls().len().alias("pn"),
        pl.col("offensive_rating_e9").drop_nulls().sum().alias("os"),
        pl.col("offensive_rating_e9").drop_nulls().len().alias("on"),
    )
    joined = teams.join(per_team, left_on=["_team", "game_date"], right_on=["team_abbr", "game_date"], how="inner")
    at = joined["_row"].to_numpy()
    for name, s_col, n_col in (("team_pace_last_10", "ps", "pn"), ("team_off_rating_last_10", "os", "on")):
        vals = np.full(n_all, np.nan)
        mask = np.zeros(n_all, dtype=bool)
        count = joined[n_col].fill_null(0).to_numpy().astype(np.int64)
        some = count > 0
        total = joined[s_col].fill_null(0).to_numpy()[some]
        vals[at[some]] = _decimal_quotients(total, count[some], den_scale=E9)
        mask[at[some]] = True
        out[name] = Col(np.where(mask, vals, np.nan), ~mask)
    emitted_all = np.ones(n_all, dtype=bool)
    emitted_all[subset] = emitted
    emitted_all = np.where(miss_all, emitted_all, True)
    used = np.zeros(n_all, dtype=bool)
    used[subset] = has
    return emitted_all, out, used


# --------------------------------------------------------------------------- assembly


class Tags:
    """The raw tags of the 60 features as small integer codes (one int32 row per feature),
    turned into strings once at the end."""

    def __init__(self, rows: int):
        self.words: dict[str, int] = {}
        self.codes = np.zeros((60, rows), dtype=np.int32)  # one contiguous row per feature

    def code(self, word: str) -> int:
        return self.words.setdefault(word, len(self.words))

    def pick(self, mask: np.ndarray, yes: str | np.ndarray, no: str | np.ndarray) -> np.ndarray:
        """np.where over tags: `yes` where mask, else `no` (each a word or a code array)."""
        return np.where(
            mask, self.code(yes) if isinstance(yes, str) else yes, self.code(no) if isinstance(no, str) else no
        )

    def put(self, i: int, tag: str | np.ndarray) -> None:
        self.codes[i] = self.code(tag) if isinstance(tag, str) else tag

    def words_of(self, codes: np.ndarray) -> pl.Series:
        return pl.Series("w", list(self.words), dtype=pl.Utf8).gather(pl.Series(codes))


class Frames:
    """The head extraction frames by name, each read by `read(name)` when first asked for;
    `take(name)` hands one over for its last use and forgets it, so that a chunk holds one
    large extraction at a time rather than all of them at once."""

    def __init__(self, read: Callable[[str], pl.DataFrame]):
        self._read = read
        self._held: dict[str, pl.DataFrame] = {}

    def __getitem__(self, name: str) -> pl.DataFrame:
        if name not in self._held:
            self._held[name] = self._read(name)
        return self._held[name]

    def take(self, name: str) -> pl.DataFrame:
        return self._held.pop(name) if name in self._held else self._read(name)


def _cols(frame: pl.DataFrame, names: list[str]) -> dict[str, Col]:
    """Col of each named column of `frame` (one Polars pass)."""
    return {name: Col(v, none) for name, (v, none) in _float_columns(frame, names).items()}


def assemble_columns(
    tables: Frames | dict[str, pl.DataFrame],
    history: pl.DataFrame,
    profile,
    minutes_type: str,
    default,
    reference_stdev,
) -> tuple[pl.DataFrame, np.ndarray]:
    """The 60 values and tags per spine row: (frame of the output columns in spine order, kept
    mask). `tables` = the head extraction tables by name (a dict, or Frames to read each when
    first needed and let it go after its last use); `default(i)` as the reference."""
    if isinstance(tables, dict):
        tables = Frames(tables.__getitem__)
    spine = tables["spine"]
    n = spine.height
    keys = SpineKeys(spine)
    placeholder = spine["is_placeholder"].fill_null(False).to_numpy().astype(bool)

    def found_of(frame: pl.DataFrame) -> np.ndarray:
        return frame["row_found"].fill_null(False).to_numpy().astype(bool)

    picks: dict[str, np.ndarray] = {}

    def floats(name: str, columns: list[str]) -> dict[str, Col]:
        """Col of each named column of table `name` on the spine rows (as align, gathered in numpy)."""
        if name not in picks:
            picks[name] = keys.last_row(tables[name])
        return keys.take_floats(picks[name], tables[name], columns)

    def is_true(col: Col) -> np.ndarray:  # a boolean column's value, null as False
        return ~col.none & (col.v != 0.0)

    def dflt(i) -> Col:
        d = default(i)
        return Col(np.full(n, np.nan if d is None else float(d)), np.full(n, d is None))

    values: list[Col | None] = [None] * 60
    tags = Tags(n)

    def put(i, col: Col, tag: str | np.ndarray):
        values[i] = col
        tags.put(i, tag)

    hist_cols = [c for c in history.columns if c not in KEY]
    h_pick = keys.last_row(history)
    H = keys.take_floats(h_pick, history, [c for c in hist_cols if c != "contributing_game_dates"])
    ctx_cols = [
        "row_found",
        "team_abbr",
        "home_game",
        "back_to_back",
        "season_phase",
        "days_rest",
        "opponent_days_rest",
        "player_status",
        "games_in_last_7_days",
        "star_teammates_out",
        "minutes_in_last_7_days",
        "prop_over_streak",
        "prop_under_streak",
        "game_total_e9",
        "game_spread_e9",
    ]
    C = floats("v54_player_context", [c for c in ctx_cols if c not in ("team_abbr", "season_phase", "player_status")])
    ctx = keys.take(picks["v54_player_context"], tables["v54_player_context"], ["team_abbr", "player_status"])
    upgc = is_true(C["row_found"])

    def ctxu(name) -> Col:  # ctx.get(name) if upgc else None
        col = C[name]
        return Col(np.where(upgc, col.v, np.nan), col.none | ~upgc)

    is_present = (lambda col: col.present()) if profile.nan_is_absent else (lambda col: ~col.none)

    # ---- P4 (§2.5)
    p4_names = (
        "points_avg_last_5",
        "points_avg_last_10",
        "points_avg_season",
        "points_std_last_10",
        "games_in_last_7_days",
        "paint_rate_last_10",
        "three_pt_rate_last_10",
        "team_pace_last_10",
        "team_off_rating_last_10",
        "minutes_avg_last_10",
    )
    all_p4 = p4_names + (
        "mid_range_rate_last_10",
        "ppm_avg_last_10",
        "fatigue_score",
        "shot_zone_mismatch_score",
        "pace_score",
        "usage_spike_score",
        "opponent_def_rating",
        "opponent_pace",
    )
    p4 = {name: Col.empty(n) for name in all_p4}
    dc = floats("q01_daily_cache", ["row_found"] + list(p4_names))
    tables.take("q01_daily_cache")
    cache_found = is_true(dc.pop("row_found"))
    use_cache = cache_found | (not profile.cache_miss_fallback)
    for name, col in dc.items():
        p4[name].set(cache_found, col)
    miss = ~use_cache & ~placeholder
    l10 = tables.take("v54_last10_games")
    l10_layout = last10_layout(tables.take("v54_last10_rows"), l10, keys)
    emitted, cm, cache_miss_used = cache_miss_columns(
        l10_layout,
        l10,
        miss,
        spine["game_date"],
        minutes_type,
        H["season_points_avg"],
        ctx.select(pl.when(pl.Series(upgc)).then(pl.col("team_abbr")).alias("t"))["t"],
        tables.take("v54_team_rows"),
        profile.cache_miss_games_window_days,
        reference_stdev,
    )
    for name, col in cm.items():
        p4[name].set(~col.none, col)
    scores = ("fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score")
    cf = floats("q02_composite_factors", ["row_found", "composite_fallback", *scores])
    tables.take("q02_composite_factors")
    composite = is_true(cf.pop("composite_fallback"))
    found = is_true(cf["row_found"])
    for name, col in ((name, cf[name]) for name in scores):
        p4[name].set(found, col)
    zones = ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10")
    sz = floats("q03_shot_zone", ["row_found", *zones])
    tables.take("q03_shot_zone")
    found = is_true(sz.pop("row_found"))
    for name, col in sz.items():
        p4[name].set(found, col)
    td = floats("q04_team_defense", ["row_found", "opponent_def_rating", "opponent_pace"])
    tables.take("q04_team_defense")
    found = is_true(td.pop("row_found"))
    for name, col in td.items():
        p4[name].set(found, col)

    def with_fallback(i, field, p3: Col | None):
        v4 = p4[field]
        d = dflt(i)
        pr4 = is_present(v4)
        pr3 = is_present(p3) if p3 is not None else np.zeros(n, dtype=bool)
        p3v = p3.v if p3 is not None else d.v
        v = np.where(pr4, v4.v, np.where(pr3, p3v, d.v))
        none = np.where(pr4 | pr3, False, d.none)
        put(i, Col(v, none), tags.pick(pr4, "phase4", tags.pick(pr3, "phase3", "default")))

    with_fallback(0, "points_avg_last_5", H["p3_points_avg_last_5"])
    with_fallback(1, "points_avg_last_10", H["p3_points_avg_last_10"])
    with_fallback(2, "points_avg_season", H["season_points_avg"])
    with_fallback(3, "points_std_last_10", None)
    with_fallback(
        4, "games_in_last_7_days", ctxu("games_in_last_7_days") if profile.phase3_games_in_last_7_days else None
    )
    for i, name in ((5, "fatigue_score"), (6, "shot_zone_mismatch_score"), (7, "pace_score"), (8, "usage_spike_score")):
        with_fallback(i, name, None)

    rest, opp_rest = C["days_rest"], C["opponent_days_rest"]
    ok = upgc & ~rest.none & ~opp_rest.none
    diff = rest.v - opp_rest.v
    d9 = dflt(9)
    put(
        9,
        Col(np.where(ok, np.clip(np.where(ok, diff, 0.0), -2.0, 2.0), d9.v), np.where(ok, False, d9.none)),
        "calculated",
    )
    # 10 injury_risk: once per distinct status
    status = ctx["player_status"]
    d10 = dflt(10)
    statuses = status.drop_nulls().unique().to_list()
    risk_of = [INJURY_RISK.get(sv.lower(), default(10)) for sv in statuses]
    risk = status.replace_strict(
        statuses, [np.nan if r is None else float(r) for r in risk_of], default=None, return_dtype=pl.Float64
    )
    risk_none = status.replace_strict(statuses, [r is None for r in risk_of], default=None, return_dtype=pl.Boolean)
    no_status = status.is_null().to_numpy()
    put(
        10,
        Col(
            np.where(no_status, d10.v, risk.fill_null(np.nan).to_numpy()),
            np.where(no_status, d10.none, risk_none.fill_null(False).to_numpy()),
        ),
        "calculated",
    )

    # 11 recent_trend
    cnt = l10_layout.count
    width = l10_layout.width
    p = np.zeros((n, max(width, 5)))
    points, points_null = _float_columns(l10, ["points"])["points"]
    p[:, :width] = l10_layout.matrix(np.where(points_null, 0.0, points), 0.0)
    if profile.recent_trend_newest_first:
        dif = (p[:, 0] + p[:, 1]) / 2.0 - (p[:, 2] + p[:, 3] + p[:, 4]) / 3.0
    else:
        dif = (p[:, 3] + p[:, 4]) / 2.0 - (p[:, 0] + p[:, 1] + p[:, 2]) / 3.0
    del l10, l10_layout, points, points_null, p
    trend = np.select([dif >= 5, dif >= 2, dif <= -5, dif <= -2], [2.0, 1.0, -2.0, -1.0], 0.0)
    put(11, Col(np.where(cnt < 5, 0.0, trend), np.zeros(n, bool)), "calculated")

    # 12 minutes_change
    n_l10 = H["last10_n"]
    n_l10v = np.where(n_l10.none, 0.0, n_l10.v)
    pm = p4["minutes_avg_last_10"]
    mlm = H["minutes_list_mean"]
    recent = np.where(~pm.none, pm.v, np.where(n_l10v >= 1, np.where(mlm.none, 0.0, mlm.v), 0.0))
    sm = H["season_minutes_avg"]
    smv = np.where(~sm.none & (np.isnan(sm.v) | (sm.v != 0.0)), sm.v, 0.0)
    d12 = dflt(12)
    zero = (smv == 0.0) | (recent == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (recent - smv) / np.where(zero, 1.0, smv)
    chg = np.select([pct >= 0.20, pct >= 0.10, pct <= -0.20, pct <= -0.10], [2.0, 1.0, -2.0, -1.0], 0.0)
    put(12, Col(np.where(zero, d12.v, chg), np.where(zero, d12.none, False)), "calculated")

    with_fallback(13, "opponent_def_rating", None)
    with_fallback(14, "opponent_pace", None)
    phase = tables["v54_player_context"].select((pl.col("season_phase").str.to_lowercase() == "playoffs").alias("p"))
    playoffs = keys.take_floats(picks["v54_player_context"], phase, ["p"])["p"]
    for i, flag in ((15, C["home_game"]), (16, C["back_to_back"]), (17, playoffs)):
        d = dflt(i)
        truthy = ~flag.none & (flag.v != 0.0)
        put(i, Col(np.where(upgc, truthy.astype(np.float64), d.v), np.where(upgc, False, d.none)), "phase3")
    for i, name in ((18, "paint_rate_last_10"), (19, "mid_range_rate_last_10"), (20, "three_pt_rate_last_10")):
        v = p4[name]
        pr = is_present(v)
        with np.errstate(invalid="ignore"):
            put(i, Col(np.where(pr, v.v / 100.0, np.nan), ~pr), tags.pick(pr, "phase4", "missing"))
    for i, name in ((21, "pct_free_throw"), (33, "dnp_rate"), (34, "pts_slope_10g")):
        col, d = H[name], dflt(i)
        put(i, Col(np.where(col.none, d.v, col.v), np.where(col.none, d.none, False)), "calculated")
    with_fallback(22, "team_pace_last_10", None)
    with_fallback(23, "team_off_rating_last_10", None)
    tg = keys.align(tables.take("q08_team_games"), ["team_games", "team_wins"])
    games = tg["team_games"].fill_null(0).to_numpy().astype(np.int64)
    wins = tg["team_wins"].fill_null(0).to_numpy().astype(np.int64)
    ok = tg["team_games"].is_not_null().to_numpy() & (games >= 5) & tg["team_wins"].is_not_null().to_numpy()
    d = dflt(24)
    put(
        24,
        Col(
            np.where(ok, _round(np.where(ok, _int_division(wins, np.where(ok, games, 1)), 0.0), 9), d.v),
            np.where(ok, False, d.none),
        ),
        "calculated",
    )
    line_names = ["vegas_points_line", "vegas_opening_line", "vegas_line_move"]
    line_cols = floats("v54_vegas_lines", line_names)
    has_line = ~line_cols["vegas_points_line"].none
    for i, name in ((25, "vegas_points_line"), (26, "vegas_opening_line"), (27, "vegas_line_move")):
        col = line_cols[name]
        put(
            i,
            Col(np.where(has_line, col.v, np.nan), np.where(has_line, col.none, True)),
            tags.pick(has_line, "vegas", "missing"),
        )
    d = dflt(28)
    put(28, Col(np.where(has_line, 1.0, d.v), np.where(has_line, False, d.none)), "calculated")

    # 29, 30
    opp_abbr = spine["opponent_team_abbr"]
    known = (opp_abbr.is_not_null() & (opp_abbr.fill_null("") != "")).to_numpy()
    ps4, sp = p4["points_avg_season"], H["season_points_avg"]
    d29 = dflt(29)
    c1 = is_present(ps4) & (ps4.v != 0)
    c2 = is_present(sp) & (sp.v != 0)
    season_avg = np.where(c1, ps4.v, np.where(c2, sp.v, d29.v))
    opp_avg = H["opp_points_avg"]
    use_opp = known & (is_present(opp_avg) | (not profile.opponent_no_games_fallback))
    put(
        29,
        Col(np.where(use_opp, opp_avg.v, season_avg), np.where(use_opp, opp_avg.none, ~(c1 | c2) & d29.none)),
        tags.pick(use_opp, "opponent_history", profile.opponent_fallback_tag),
    )
    og = H["opp_games"]
    put(
        30,
        Col(np.where(known, np.where(og.none, 0.0, og.v), 0.0), np.zeros(n, bool)),
        tags.pick(known, "opponent_history", profile.opponent_fallback_tag),
    )
    # 31, 32
    mppm = H["mppm_present"]
    mppm_b = ~mppm.none & (mppm.v != 0.0)
    qm = Col(np.where(mppm_b, H["minutes_avg_30d"].v, np.nan), np.where(mppm_b, H["minutes_avg_30d"].none, True))
    qp = Col(np.where(mppm_b, H["ppm_avg_30d"].v, np.nan), np.where(mppm_b, H["ppm_avg_30d"].none, True))
    if profile.minutes_ppm_phase4_fallback:
        for i, q, field in ((31, qm, "minutes_avg_last_10"), (32, qp, "ppm_avg_last_10")):
            d = dflt(i)
            a, b = is_present(q), is_present(p4[field])
            put(
                i,
                Col(np.where(a, q.v, np.where(b, p4[field].v, d.v)), np.where(a | b, False, d.none)),
                tags.pick(a, "minutes_ppm", tags.pick(b, "phase4", profile.minutes_ppm_missing_tag)),
            )
    else:
        tag = tags.pick(mppm_b, "minutes_ppm", profile.minutes_ppm_missing_tag)
        d = dflt(31)
        put(31, Col(np.where(mppm_b, qm.v, d.v), np.where(mppm_b, qm.none, d.none)), tag)
        d = dflt(32)
        okp = mppm_b & ~qp.none
        put(32, Col(np.where(okp, qp.v, d.v), np.where(okp, False, d.none)), tag)
    # 35, 36
    l5c = p4["points_avg_last_5"]
    l5 = np.where(~l5c.none, l5c.v, H["p3_points_avg_last_5"].v)
    l5n = l5c.none & H["p3_points_avg_last_5"].none
    mc = p4["points_avg_season"]
    mv = np.where(~mc.none, mc.v, H["season_points_avg"].v)
    mn = mc.none & H["season_points_avg"].none
    sd = p4["points_std_last_10"]
    inputs = ~l5n & ~mn & ~sd.none
    zok = inputs & (sd.v != 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (l5 - mv) / np.where(zok, sd.v, 1.0)
    a = np.where(z < 3.0, z, 3.0)
    b = np.where(a > -3.0, a, -3.0)
    d = dflt(35)
    put(35, Col(np.where(zok, _round(np.where(zok, b, 0.0), 9), d.v), np.where(zok, False, d.none)), "calculated")
    d = dflt(36)
    with np.errstate(invalid="ignore"):
        hot = inputs & (l5 > mv + 1.5 * sd.v)
    put(36, Col(np.where(hot, 1.0, d.v), np.where(hot, False, d.none)), "calculated")

    # ---- 37-59
    star = ctxu("star_teammates_out")
    d = dflt(37)
    put(
        37,
        Col(np.where(~star.none, star.v, d.v), np.where(~star.none, False, d.none)),
        tags.pick(~star.none, "phase3", "default"),
    )

    for name in ("game_total_e9", "game_spread_e9"):
        if np.nanmax(np.abs(C[name].v), initial=0.0) >= _INT_SAFE:
            raise ValueError(f"v54_player_context: {name} beyond 2^53")
    gt, gs = ctxu("game_total_e9"), ctxu("game_spread_e9")
    gtf, gsf = gt.v / 1e9, gs.v / 1e9

    def from_ctx(i, col: Col, v, absent_none=False):
        put(
            i,
            Col(np.where(col.none, np.nan, v), col.none if absent_none else np.zeros(n, bool)),
            tags.pick(col.none, "missing", "phase3"),
        )

    from_ctx(38, gt, gtf, absent_none=True)
    for i, name in (
        (39, "days_rest"),
        (40, "minutes_in_last_7_days"),
        (51, "prop_over_streak"),
        (52, "prop_under_streak"),
    ):
        col = ctxu(name)
        from_ctx(i, col, col.v)
    from_ctx(41, gs, np.abs(gsf))
    both = ~gt.none & ~gs.none
    home = ~C["home_game"].none & (C["home_game"].v == 1.0)
    put(
        42,
        Col(np.where(both, np.where(home, (gtf - gsf) / 2.0, (gtf + gsf) / 2.0), np.nan), np.zeros(n, bool)),
        tags.pick(both, "phase3", "missing"),
    )
    roll = rolling_columns(tables.take("v54_r_rolling"), tables.take("v54_r_games"), keys)
    rolled = tags.pick(roll["has"], "calculated", "missing")
    for i, name in ((43, "l3"), (44, "slope"), (45, "dev"), (46, "below"), (48, "usage"), (49, "gsc")):
        put(i, Col(roll[name], np.zeros(n, bool)), rolled)
    fr = tables.take("v54_t_teammate_usage")
    try:
        fa = keys.align(fr.with_columns(pl.col("freed_e9").cast(pl.Int64, strict=True)), ["freed_e9"])
        fv = fa["freed_e9"]
        fmask = fv.is_not_null().to_numpy()
        fvals = fv.fill_null(0).to_numpy().astype(np.int64)
        freed = _int_division(fvals, np.full(n, E9, dtype=np.int64)) if n else np.zeros(0)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        fa = keys.align(fr, ["freed_e9"])
        fl = fa["freed_e9"].to_list()
        fmask = np.array([x is not None for x in fl], dtype=bool)
        freed = np.array([0.0 if x is None else int(x) / E9 for x in fl], dtype=np.float64)
    put(
        47,
        Col(np.where(fmask, freed, np.nan), np.zeros(n, bool)),
        tags.pick(fmask, "calculated", "missing"),
    )
    mstd, from_vegas, from_bp = multi_book_columns(
        tables.take("v54_m_book_lines"), keys, profile.multi_book_bettingpros_below_std, reference_stdev
    )
    mhas = from_vegas | from_bp
    put(
        50,
        Col(np.where(mhas, mstd, np.nan), np.zeros(n, bool)),
        tags.pick(from_vegas, "vegas", tags.pick(from_bp, "bettingpros", "missing")),
    )
    v25, v2 = values[25], values[2]
    assert v25 is not None and v2 is not None  # put above
    put(
        53,
        Col(np.where(~v25.none, v25.v - v2.v, np.nan), np.zeros(n, bool)),
        tags.pick(~v25.none, "calculated", "missing"),
    )
    delta = line_delta_columns(tables.take("v54_l_consensus"), keys, profile.odds_lookback_days)
    dh = ~np.isnan(delta) & ~placeholder
    put(54, Col(np.where(dh, delta, np.nan), np.zeros(n, bool)), tags.pick(dh, "vegas", "missing"))
    over, margin = line_history_columns(tables.take("v54_h_line_history"), keys)
    for i, arr in ((55, over), (56, margin)):
        put(i, Col(arr, np.zeros(n, bool)), tags.pick(~np.isnan(arr), "calculated", "missing"))
    risk_o, vol = opportunity_columns(
        tables.take("v54_o_opportunity"), tables.take("v54_o_games"), keys, minutes_type, reference_stdev
    )
    for i, arr in ((57, risk_o), (58, vol)):
        put(i, Col(arr, np.zeros(n, bool)), tags.pick(~np.isnan(arr), "calculated", "missing"))
    v22, v14 = values[22], values[14]
    assert v22 is not None and v14 is not None  # put above
    put(59, Col(v22.v - v14.v, v22.none | v14.none), "calculated")
    # put() has now set all 60 slots of values and tags
    filled = cast("list[Col]", values)

    fat = filled[5]
    low, high = profile.fatigue_gate
    with np.errstate(invalid="ignore"):
        gate = fat.present() & (low <= fat.v) & (fat.v <= high)
    keep = placeholder | (emitted & gate)

    # the output lists of the kept rows, over one flat (rows x 60) buffer each: a None stays
    # null, a NaN stays NaN, a placeholder row's lists are null
    kept = np.flatnonzero(keep)
    rows_kept = kept.size
    by_feature = np.empty((60, n))
    none_by_feature = np.empty((60, n), dtype=bool)
    for i, col in enumerate(filled):
        by_feature[i] = col.v
        none_by_feature[i] = col.none
    values_flat = np.ascontiguousarray(by_feature[:, kept].T)
    none_flat = np.ascontiguousarray(none_by_feature[:, kept].T)
    value_items = pl.Series(
        "feature_values", pa.array(values_flat.reshape(-1), type=pa.float64(), mask=none_flat.reshape(-1))
    )
    tag_items = tags.words_of(np.ascontiguousarray(tags.codes[:, kept].T).reshape(-1)).alias("feature_tags")
    ph = pl.Series(placeholder[kept])
    kept_rows = pl.Series(kept)
    ctx_kept = keys.take(picks["v54_player_context"][kept], tables["v54_player_context"], ["days_rest"])
    h_kept = keys.take(h_pick[kept], history, ["last10_n", "total_games", "contributing_game_dates"])
    line_source = keys.take(picks["v54_vegas_lines"][kept], tables["v54_vegas_lines"], ["vegas_line_source"]).select(
        pl.when(pl.Series(has_line[kept])).then(pl.col("vegas_line_source")).otherwise(pl.lit("none"))
    )["vegas_line_source"]
    frame = pl.DataFrame(
        {
            "player_lookup": spine["player_lookup"].gather(kept_rows),
            "universal_player_id": spine["universal_player_id"].gather(kept_rows),
            "game_date": spine["game_date"].gather(kept_rows),
            "game_id": spine["game_id"].gather(kept_rows),
            "opponent_team_abbr": opp_abbr.gather(kept_rows),
            "is_home": spine["is_home"].gather(kept_rows),
            "days_rest": ctx_kept["days_rest"],
            "is_placeholder": ph,
            "composite_fallback": pl.Series(composite[kept] & ~placeholder[kept]),
            "last10_n": h_kept["last10_n"],
            "total_games": h_kept["total_games"],
            "contributing_game_dates": h_kept["contributing_game_dates"],
            "feature_values": _lists(value_items, rows_kept, pl.Float64),
            "feature_tags": _lists(tag_items, rows_kept, pl.Utf8),
            "cache_miss_fallback_used": pl.Series((cache_miss_used & miss)[kept]),
            "vegas_line_source": line_source,
        }
    )
    # a placeholder row has no values, tags, fallback flag or line source
    frame = frame.with_columns(
        pl.when(~pl.col("is_placeholder")).then(pl.col(name)).alias(name)
        for name in ("feature_values", "feature_tags", "cache_miss_fallback_used", "vegas_line_source")
    )
    return frame, keep


def _lists(items: pl.Series, rows: int, inner) -> pl.Series:
    """`rows` lists of 60 consecutive items each."""
    if rows == 0:
        return pl.Series(items.name, [], dtype=pl.List(inner))
    return items.reshape((rows, 60)).cast(pl.List(inner))
