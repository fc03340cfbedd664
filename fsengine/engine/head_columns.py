"""Column-wise assembly of contract v2_54features (the fast path of assemble_head.py).

Same rules and the same bits as the per-row reference `assemble_head.assemble_head_rows` (kept
as the executable statement of the rules and compared column by column in
tests/engine/test_head_columns.py), computed over whole columns with numpy/Polars so that a
five-season world (136k spine rows) assembles in about a second instead of minutes.

How the exact arithmetic of docs/features.md §0 survives vectorisation:
- left-to-right float sums (§0.2): the per-key rows are laid out as a (keys x slots) matrix
  and added one slot column at a time (`_seq_sum`), which is the same sequence of roundings
  as Python's `sum` (padding adds 0.0 after the last value, which changes nothing);
- integer sums and int / int quotients: int64 sums (far below 2^53), then one float64
  division of two exactly representable integers = Python's correctly rounded int / int;
- exact standard deviations (§0.3, §0.5): integer moments n, Σa, Σa² in int64 of values scaled
  by 2^k to integers, then the correctly rounded square root of the rational
  (nΣa² − (Σa)²) / (n(n−1)4^k) once per distinct moment triple (`_sqrt_ratio_nearest`);
  groups whose values do not scale into int64 safely go through the reference `exact_stdev`;
- round(x, k) (§0.7): Python's round once per distinct float64 bit pattern (`_round`);
- 28-digit decimal quotients (§0.4, cache-miss fallback only): Python decimal, once per
  distinct (numerator, denominator) pair of the rows that miss the cache.
"""

from __future__ import annotations

import decimal
import math
from functools import cache
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa

from fsengine.engine.assemble import INJURY_RISK

E9 = 10**9
KEY = ["player_lookup", "game_date"]
_INT_SAFE = 2**53


# --------------------------------------------------------------------------- exact helpers


def _round(values: np.ndarray, digits: int) -> np.ndarray:
    """Python's round(x, digits) bit for bit, once per distinct float64 bit pattern."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    bits, inverse = np.unique(values.view(np.int64), return_inverse=True)
    rounded = np.array([round(float(v), digits) for v in bits.view(np.float64)], dtype=np.float64)
    return rounded[inverse.reshape(values.shape)]


def _py_pow(values: np.ndarray, exponent: float) -> np.ndarray:
    """Python's `x ** exponent` (C pow) bit for bit: numpy turns `** 0.5` into sqrt and `** 2`
    into x*x, which differ from libm's pow in the last bit on some inputs (e.g. 7.7333...**2).
    Once per distinct bit pattern."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    bits, inverse = np.unique(values.view(np.int64), return_inverse=True)
    out = np.array([float(v) ** exponent for v in bits.view(np.float64)], dtype=np.float64)
    return out[inverse.reshape(values.shape)]


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


def stdev_matrix(matrix: np.ndarray, valid: np.ndarray, reference) -> np.ndarray:
    """Exact sample stdev per row of the valid cells (NaN where fewer than 2), the values taken
    exactly (§0.3, §0.5). `reference(list)` is the per-row exact routine for rows that cannot be
    scaled into int64 safely."""
    rows, width = matrix.shape
    out = np.full(rows, np.nan)
    n = valid.sum(axis=1)
    todo = n >= 2
    if not todo.any():
        return out
    x = np.where(valid, matrix, 0.0)
    # the smallest power of two (<= 2^20) making every valid value of the row an integer
    scale_exp = np.full(rows, -1, dtype=np.int64)
    for k in range(21):
        scaled = x * float(1 << k)
        ok = np.where(valid, scaled == np.round(scaled), True).all(axis=1) & (
            np.abs(scaled).max(axis=1, initial=0.0) < 2**24
        )
        scale_exp = np.where((scale_exp < 0) & ok, k, scale_exp)
    fast = todo & (scale_exp >= 0) & (width <= 64)
    if fast.any():
        k = scale_exp[fast]
        a = (x[fast] * (2.0**k)[:, None]).astype(np.int64)
        nn = n[fast].astype(np.int64)
        s = a.sum(axis=1)
        q = (a * a).sum(axis=1)
        num = nn * q - s * s
        out[fast] = [
            _sqrt_ratio_nearest(int(u), int(v) * (1 << (2 * int(e)))) for u, v, e in zip(num, nn * (nn - 1), k)
        ]
    for i in np.flatnonzero(todo & ~fast):
        out[i] = reference([float(v) for v, ok in zip(matrix[i], valid[i]) if ok])
    return out


# --------------------------------------------------------------------------- layout helpers


def _spine_index(spine: pl.DataFrame) -> pl.DataFrame:
    return spine.select(KEY).with_row_index("_i")


def _align(index: pl.DataFrame, frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`frame`'s columns on the spine rows, in spine order (left join; the last row of a
    duplicated key wins, as the reference's dict does)."""
    right = frame.select(KEY + columns).unique(subset=KEY, keep="last", maintain_order=True)
    return index.join(right, on=KEY, how="left", maintain_order="left")


def _matrix(frame: pl.DataFrame, index: pl.DataFrame, order: str, columns: list[str]):
    """Per-key rows (in `order`) as (spine rows x slots) matrices: {column: np.ndarray float64
    (null -> NaN)}, plus `valid` (the cell holds a row) and `null` masks per column."""
    ranked = frame.join(index, on=KEY, how="inner").sort(["_i", order])
    ranked = ranked.with_columns(pl.int_range(pl.len()).over("_i").alias("_pos"))
    # the max of a non-empty integer column is an int (the stub's union includes None)
    width = max(1, int(cast(int, ranked["_pos"].max())) + 1) if ranked.height else 1
    rows = index.height
    r = ranked["_i"].to_numpy().astype(np.int64)
    c = ranked["_pos"].to_numpy().astype(np.int64)
    valid = np.zeros((rows, width), dtype=bool)
    valid[r, c] = True
    out, nulls = {}, {}
    for name in columns:
        s = ranked[name]
        m = np.full((rows, width), np.nan)
        nm = np.zeros((rows, width), dtype=bool)
        if s.dtype == pl.Boolean:
            vals = s.cast(pl.Float64)
        elif s.dtype == pl.Date:
            vals = s.cast(pl.Int32).cast(pl.Float64)
        else:
            vals = s
        m[r, c] = vals.cast(pl.Float64).fill_null(np.nan).to_numpy() if vals.dtype != pl.Utf8 else 0.0
        nm[r, c] = s.is_null().to_numpy()
        out[name] = m
        nulls[name] = nm
    return out, nulls, valid, ranked, r, c


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


def rolling_columns(frame: pl.DataFrame, index: pl.DataFrame) -> dict[str, np.ndarray]:
    """Extraction R (§4) per spine row: l3, slope, dev, below, usage, gsc (NaN = no rows)."""
    mats, nulls, valid, ranked, r, c = _matrix(frame, index, "seq", ["points", "usage_e9", "row_date"])
    rows, width = valid.shape
    m = valid.sum(axis=1)
    has = m > 0
    pts = np.where(valid, mats["points"], 0.0)
    pts_int = pts.astype(np.int64)
    # the chronological rows are left-aligned: position m-1 is the newest
    idx = np.arange(width)[None, :]
    last = m[:, None]
    # L3 = float mean of the last three (points: exact float sums)
    in3 = valid & (idx >= last - 3)
    l3 = _seq_sum(np.where(in3, pts, 0.0)) / np.maximum(np.minimum(m, 3), 1)
    # slope over the last n = min(7, m) points, m >= 4 (integer arithmetic, one division)
    n = np.minimum(7, m)
    in7 = valid & (idx >= last - n[:, None])
    xs = np.where(in7, idx - (last - n[:, None]) + 1, 0)
    sx = xs.sum(axis=1)
    sy = np.where(in7, pts_int, 0).sum(axis=1)
    sxy = (xs * np.where(in7, pts_int, 0)).sum(axis=1)
    sxx = (xs * xs).sum(axis=1)
    slope = np.where(m >= 4, _int_division(n * sxy - sx * sy, np.where(m >= 4, n * sxx - sx * sx, 1)), 0.0)
    mean60 = _int_division(pts_int.sum(axis=1), np.maximum(m, 1))
    dev2 = np.where(valid, _py_pow(pts - mean60[:, None], 2.0), 0.0)
    s = _seq_sum(dev2)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(m >= 2, _py_pow(s / np.maximum(m - 1, 1), 0.5), 5.0)
        dev = np.where(sd > 0, (l3 - mean60) / np.where(sd > 0, sd, 1.0), 0.0)
    # below: the newest consecutive rows under the mean
    below = np.zeros(rows)
    running = has.copy()
    for back in range(width):
        pos = m - 1 - back
        ok = running & (pos >= 0)
        val = pts[np.arange(rows), np.clip(pos, 0, width - 1)]
        hit = ok & (val < mean60)
        below += hit
        running = hit
    # usage: float mean of the last five non-null usage values when there are >= 3
    u_ok = valid & ~nulls["usage_e9"]
    u_count = u_ok.sum(axis=1)
    u_rank = np.cumsum(u_ok[:, ::-1], axis=1)[:, ::-1]  # 1 = newest non-null
    u_take = u_ok & (u_rank <= 5)
    u_vals = np.where(u_take, mats["usage_e9"] / 1e9, 0.0)
    if np.nanmax(np.abs(np.where(u_ok, mats["usage_e9"], 0.0)), initial=0.0) >= _INT_SAFE:
        raise ValueError("v54_r_rolling: usage_e9 beyond 2^53")
    usage = np.where(u_count >= 3, _seq_sum(u_vals) / np.maximum(np.minimum(u_count, 5), 1), 20.0)
    # gsc: games since the newest team change or > 14-day gap
    teams = ranked["team_abbr"].fill_null("\x00<null>").cast(pl.Categorical).to_physical().to_numpy()
    team_m = np.full((rows, width), -1, dtype=np.int64)
    team_m[r, c] = teams
    team_null = np.zeros((rows, width), dtype=bool)
    team_null[r, c] = ranked["team_abbr"].is_null().to_numpy()
    dates = mats["row_date"]
    gsc = np.minimum(m, 30).astype(np.float64)
    found = np.zeros(rows, dtype=bool)
    for i in range(width, 1, -1):  # pair (i-2, i-1), newest first per row
        active = ~found & (i <= m)
        if not active.any():
            continue
        a, b = i - 2, i - 1
        diff_team = (team_m[:, b] != team_m[:, a]) | (team_null[:, a] != team_null[:, b])
        # None != None is False, None != 'X' is True: categorical codes cover both
        gap = (dates[:, b] - dates[:, a]) > 14
        brk = active & (diff_team | gap)
        gsc = np.where(brk, (m - i).astype(np.float64), gsc)
        found |= brk
    nan = np.full(rows, np.nan)
    return {
        "l3": np.where(has, l3, nan),
        "slope": np.where(has, slope, nan),
        "dev": np.where(has, dev, nan),
        "below": np.where(has, below, nan),
        "usage": np.where(has, usage, nan),
        "gsc": np.where(has, gsc, nan),
    }


def line_history_columns(frame: pl.DataFrame, index: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Extraction H (§4): (over_rate, margin) per spine row, NaN = absent."""
    f = frame.filter(pl.col("games_ago") <= 10).with_columns(
        (pl.col("points").cast(pl.Int64) * E9 - pl.col("line_e9")).alias("_d")
    )
    agg = f.group_by(KEY).agg(
        pl.len().alias("n10"),
        (pl.col("_d") > 0).sum().alias("overs"),
        (pl.col("games_ago") <= 5).sum().alias("n5"),
        pl.col("_d").filter(pl.col("games_ago") <= 5).sum().alias("total5"),
    )
    a = _align(index, agg, ["n10", "overs", "n5", "total5"])
    n10 = a["n10"].fill_null(0).to_numpy().astype(np.int64)
    overs = a["overs"].fill_null(0).to_numpy().astype(np.int64)
    n5 = a["n5"].fill_null(0).to_numpy().astype(np.int64)
    total = a["total5"].fill_null(0).to_numpy().astype(np.int64)
    over = np.where(n10 >= 5, _round(_int_division(overs, np.maximum(n10, 1)), 9), np.nan)
    cnt = np.maximum(n5, 1)
    avg = np.sign(total) * ((2 * np.abs(total) + cnt) // (2 * cnt))  # NUMERIC AVG, half away from zero
    margin = np.where(n5 >= 3, _round(_int_division(avg, np.full_like(avg, E9)), 9), np.nan)
    return over, margin


def opportunity_columns(frame: pl.DataFrame, index: pl.DataFrame, day: np.ndarray, minutes_type: str, reference):
    """Extraction O (§4): (risk, volatility) per spine row, NaN = absent."""
    players = frame.filter(pl.col("kind") == "player").sort(KEY + ["slot"])
    teams = frame.filter(pl.col("kind") == "team")
    # minutes x 10^9 go through the matrix as exact integers-in-float and are divided by numpy
    # (Polars would multiply by the reciprocal)
    minutes = pl.col("minutes_float") if minutes_type == "FLOAT64" else pl.col("minutes_e9").cast(pl.Float64)
    if (
        minutes_type != "FLOAT64"
        and players["minutes_e9"].abs().max() is not None
        and cast(Any, players["minutes_e9"].abs().max()) >= _INT_SAFE  # not None: checked above
    ):
        raise ValueError("v54_o_opportunity: minutes_e9 beyond 2^53")
    per_team = players.group_by(KEY + ["team_abbr"], maintain_order=True).agg(
        pl.len().alias("n"), pl.col("slot").min().alias("first")
    )
    chosen = (
        per_team.filter(pl.col("n") >= 3)
        .sort(KEY + ["first"])
        .unique(subset=KEY, keep="first", maintain_order=True)
        .select(KEY + ["team_abbr"])
    )
    rows_of = players.join(chosen, on=KEY + ["team_abbr"], how="inner", nulls_equal=True).with_columns(
        minutes.alias("_m")
    )
    mats, nulls, valid, _, _, _ = _matrix(rows_of, index, "slot", ["_m"])
    if minutes_type != "FLOAT64":
        mats["_m"] = mats["_m"] / 1e9
    has = valid.any(axis=1)
    approx = _approx_stdev(mats["_m"], valid)
    # round(std, 2): the float estimate rounds the same way unless it lies near a boundary
    frac = approx * 100.0 - np.floor(approx * 100.0)
    near = has & (np.abs(frac - 0.5) < 1e-6)
    exact = approx.copy()
    for i in np.flatnonzero(near):
        exact[i] = reference([float(v) for v, ok in zip(mats["_m"][i], valid[i]) if ok])
    vol = np.where(has, _round(np.where(has, exact, 0.0), 2), np.nan)
    ch = index.join(chosen, on=KEY, how="left").sort("_i")
    tt = teams.select(pl.col("team_abbr").alias("_t"), "game_date", "team_rows", "blowouts").unique(
        subset=["_t", "game_date"], keep="last", maintain_order=True
    )
    ch = ch.join(tt, left_on=["team_abbr", "game_date"], right_on=["_t", "game_date"], how="left").sort("_i")
    tr = ch["team_rows"].fill_null(0).to_numpy().astype(np.int64)
    bl = ch["blowouts"].fill_null(0).to_numpy().astype(np.int64)
    found = ch["team_rows"].is_not_null().to_numpy()
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


def multi_book_columns(frame: pl.DataFrame, index: pl.DataFrame, switch_below: float, reference):
    """Extraction M (§4): (std, tag) per spine row (NaN, None = absent)."""
    groups = frame.select("source", "player_lookup", "game_date", "points_line").with_row_index("_r")
    gid = (
        groups.group_by(["source", "player_lookup", "game_date"], maintain_order=True)
        .agg(pl.col("_r"))
        .with_row_index("_g")
    )
    exploded = gid.explode("_r").join(groups, on="_r").sort(["_g", "_r"])
    gi = gid.select("_g", "source", "player_lookup", "game_date")
    ex = exploded.select(pl.col("_g").alias("_i"), "_r", "points_line")
    mats_rank = ex.with_columns(pl.int_range(pl.len()).over("_i").alias("_pos"))
    # the max of a non-empty integer column is an int (the stub's union includes None)
    width = max(1, int(cast(int, mats_rank["_pos"].max())) + 1) if mats_rank.height else 1
    g = gi.height
    mat = np.full((g, width), np.nan)
    valid = np.zeros((g, width), dtype=bool)
    if mats_rank.height:
        rr = mats_rank["_i"].to_numpy().astype(np.int64)
        cc = mats_rank["_pos"].to_numpy().astype(np.int64)
        mat[rr, cc] = mats_rank["points_line"].fill_null(np.nan).to_numpy()
        valid[rr, cc] = True
    std = stdev_matrix(mat, valid, reference)
    gi = gi.with_columns(pl.Series("std", std), pl.Series("n", valid.sum(axis=1)))
    odds = gi.filter((pl.col("source") == "odds_api") & (pl.col("n") >= 2))
    bp = gi.filter((pl.col("source") == "bettingpros") & (pl.col("n") >= 2))
    date_max = odds.group_by("game_date").agg(pl.col("std").max().alias("mx"))
    # max() of Python floats: NaN never wins a comparison; stds are never NaN here
    bp = bp.join(date_max, on="game_date", how="left").filter(pl.col("mx").is_null() | (pl.col("mx") < switch_below))
    bp = bp.join(odds.select("player_lookup", "game_date"), on=["player_lookup", "game_date"], how="anti")
    out = pl.concat(
        [
            odds.select(KEY + ["std"]).with_columns(pl.lit("vegas").alias("tag")),
            bp.select(KEY + ["std"]).with_columns(pl.lit("bettingpros").alias("tag")),
        ]
    )
    a = _align(index, out, ["std", "tag"])
    return a["std"].fill_null(np.nan).to_numpy(), a["tag"].to_numpy()


def line_delta_columns(frame: pl.DataFrame, index: pl.DataFrame, window_days: int) -> np.ndarray:
    """Extraction L (§4): round(cons(D) - cons(previous date within the window), 1), NaN = absent."""
    cons = (
        frame.sort(["player_lookup", "line_date", "points_line"])
        .group_by(["player_lookup", "line_date"], maintain_order=True)
        .agg(pl.col("points_line").sort().gather((pl.len() - 1) // 2).first().alias("cons"))
        .sort(["player_lookup", "line_date"])
        .with_columns(
            pl.col("line_date").shift(1).over("player_lookup").alias("prev_date"),
            pl.col("cons").shift(1).over("player_lookup").alias("prev_cons"),
        )
        .rename({"line_date": "game_date"})
    )
    ok = cons.filter(
        pl.col("prev_date").is_not_null() & (pl.col("prev_date") >= pl.col("game_date") - pl.duration(days=window_days))
    )
    a = _align(index, ok.with_columns((pl.col("cons") - pl.col("prev_cons")).alias("d")), ["d"])
    d = a["d"]
    has = d.is_not_null().to_numpy()
    out = np.full(index.height, np.nan)
    out[has] = _round(d.to_numpy()[has].astype(np.float64), 1)
    return out


_CTX = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


def _dq(num_e9: int, den_e9: int) -> float:
    """decimal_quotient of two NUMERIC values given x 10^9 (the scale cancels exactly)."""
    return float(_CTX.divide(decimal.Decimal(int(num_e9)).scaleb(-9), decimal.Decimal(int(den_e9)).scaleb(-9)))


def cache_miss_columns(
    frame: pl.DataFrame,
    index: pl.DataFrame,
    miss: np.ndarray,
    day: np.ndarray,
    minutes_type: str,
    season_avg: Col,
    ctx_team: np.ndarray,
    team_rows: pl.DataFrame,
    window_days: int,
    reference_stdev,
):
    """§2.4 for the spine rows in `miss`: (emitted mask, {field: Col}, used mask)."""
    n_rows = index.height
    float_minutes = minutes_type == "FLOAT64"
    cols = [
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
    sub = frame.join(index.filter(pl.Series(miss)).select(KEY), on=KEY, how="semi")
    mats, nulls, valid, ranked, r, c = _matrix(sub, index, "slot", cols)
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
            raise ValueError("v54_last10_rows: minutes_e9 beyond 2^53")
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
        col = Col.empty(n_rows)
        col.v = np.where(mask, values, np.nan)
        col.none = ~mask
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
        avg_memo: dict[tuple[int, int], float] = {}
        ppm_memo: dict[tuple[int, int], float] = {}
        for i in idx:
            t, k = int(total_e9[i]), int(count10[i])
            avg[i] = avg_memo.get((t, k)) if (t, k) in avg_memo else avg_memo.setdefault((t, k), _dq(t, k * E9))
            if t > 0:
                ps = int(point_sum[i])
                ppm[i] = ppm_memo.get((ps, t)) if (ps, t) in ppm_memo else ppm_memo.setdefault((ps, t), _dq(ps * E9, t))
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
    week = day.astype("datetime64[D]").astype(np.int64) - window_days
    in_week = fp & (mats["list_date"] >= week[:, None])
    put("games_in_last_7_days", has, in_week.sum(axis=1).astype(np.float64))
    put("points_avg_season", has & ~season_avg.none, season_avg.v)
    fg = np.where(f10, np.nan_to_num(mats["fg_attempts"]), 0).astype(np.int64).sum(axis=1)
    for name, col in (
        ("paint_rate_last_10", "paint_attempts"),
        ("mid_range_rate_last_10", "mid_range_attempts"),
        ("three_pt_rate_last_10", "three_pt_attempts"),
    ):
        part = np.where(f10, np.nan_to_num(mats[col]), 0).astype(np.int64).sum(axis=1)
        put(name, has & (fg > 0), _int_division(part, np.where(fg > 0, fg, 1)))
    # the team: the context team when set, else the first fp row's team
    first_pos = np.argmax(fp, axis=1)
    team_m = np.full(valid.shape, None, dtype=object)
    team_m[r, c] = ranked["team_abbr"].to_numpy()
    fp_team = team_m[np.arange(n_rows), first_pos]
    team = np.where(np.array([bool(t) for t in ctx_team], dtype=bool), ctx_team, fp_team)
    per_team = team_rows.group_by(["team_abbr", "game_date"]).agg(
        pl.col("pace_e9").drop_nulls().sum().alias("ps"),
        pl.col("pace_e9").drop_nulls().len().alias("pn"),
        pl.col("offensive_rating_e9").drop_nulls().sum().alias("os"),
        pl.col("offensive_rating_e9").drop_nulls().len().alias("on"),
    )
    t_idx = index.with_columns(pl.Series("_team", list(team), pl.Utf8)).filter(pl.Series(has))
    joined = t_idx.join(per_team, left_on=["_team", "game_date"], right_on=["team_abbr", "game_date"], how="left")
    for name, s_col, n_col in (("team_pace_last_10", "ps", "pn"), ("team_off_rating_last_10", "os", "on")):
        vals = np.full(n_rows, np.nan)
        mask = np.zeros(n_rows, dtype=bool)
        memo = {}
        for i, s, k in zip(joined["_i"].to_list(), joined[s_col].to_list(), joined[n_col].to_list()):
            if k:
                key = (s, k)
                if key not in memo:
                    memo[key] = _dq(s, k * E9)
                vals[i] = memo[key]
                mask[i] = True
        put(name, mask, vals)
    emitted_all = np.where(miss, emitted, True)
    return emitted_all, out, has


# --------------------------------------------------------------------------- assembly


def assemble_columns(
    tables: dict[str, pl.DataFrame], history: pl.DataFrame, profile, minutes_type: str, default, reference_stdev
) -> tuple[pl.DataFrame, np.ndarray]:
    """The 60 values and tags per spine row: (frame of the output columns in spine order, kept
    mask). `tables` = the head extraction tables by name; `default(i)` as the reference."""
    spine = tables["spine"]
    n = spine.height
    index = _spine_index(spine)
    placeholder = spine["is_placeholder"].fill_null(False).to_numpy().astype(bool)
    day = spine["game_date"].to_numpy()

    def align(name, columns, frame=None):
        return _align(index, tables[name] if frame is None else frame, columns)

    def dflt(i) -> Col:
        d = default(i)
        return Col(np.full(n, np.nan if d is None else float(d)), np.full(n, d is None))

    values: list[Col | None] = [None] * 60
    tags: list[np.ndarray | None] = [None] * 60

    def put(i, col: Col, tag):
        values[i] = col
        tags[i] = (
            np.broadcast_to(np.asarray(tag, dtype=object), (n,)).copy() if not isinstance(tag, np.ndarray) else tag
        )

    hist_cols = [c for c in history.columns if c not in KEY]
    h = _align(index, history, hist_cols)
    H = {c: Col.of(h[c]) for c in hist_cols if c != "contributing_game_dates"}
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
    ctx = align("v54_player_context", ctx_cols)
    upgc = ctx["row_found"].fill_null(False).to_numpy().astype(bool)
    C = {c: Col.of(ctx[c]) for c in ctx_cols if c not in ("team_abbr", "season_phase", "player_status")}

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
    dc = align("q01_daily_cache", ["row_found"] + list(p4_names))
    cache_found = dc["row_found"].fill_null(False).to_numpy().astype(bool)
    use_cache = cache_found | (not profile.cache_miss_fallback)
    for name in p4_names:
        p4[name].set(cache_found, Col.of(dc[name]))
    miss = ~use_cache & ~placeholder
    # numpy's stub rejects None as the `y` of where (numpy accepts it: an object array)
    team_ctx: np.ndarray = np.where(upgc, ctx["team_abbr"].to_numpy(), None)  # type: ignore[assignment]
    emitted, cm, cache_miss_used = cache_miss_columns(
        tables["v54_last10_rows"],
        index,
        miss,
        day,
        minutes_type,
        H["season_points_avg"],
        team_ctx,
        tables["v54_team_rows"],
        profile.cache_miss_games_window_days,
        reference_stdev,
    )
    for name, col in cm.items():
        p4[name].set(~col.none, col)
    cf = align(
        "q02_composite_factors",
        [
            "row_found",
            "composite_fallback",
            "fatigue_score",
            "shot_zone_mismatch_score",
            "pace_score",
            "usage_spike_score",
        ],
    )
    found = cf["row_found"].fill_null(False).to_numpy().astype(bool)
    for name in ("fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score"):
        p4[name].set(found, Col.of(cf[name]))
    sz = align("q03_shot_zone", ["row_found", "paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10"])
    found = sz["row_found"].fill_null(False).to_numpy().astype(bool)
    for name in ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10"):
        p4[name].set(found, Col.of(sz[name]))
    td = align("q04_team_defense", ["row_found", "opponent_def_rating", "opponent_pace"])
    found = td["row_found"].fill_null(False).to_numpy().astype(bool)
    for name in ("opponent_def_rating", "opponent_pace"):
        p4[name].set(found, Col.of(td[name]))

    def with_fallback(i, field, p3: Col | None):
        v4 = p4[field]
        d = dflt(i)
        pr4 = is_present(v4)
        pr3 = is_present(p3) if p3 is not None else np.zeros(n, dtype=bool)
        p3v = p3.v if p3 is not None else d.v
        v = np.where(pr4, v4.v, np.where(pr3, p3v, d.v))
        none = np.where(pr4 | pr3, False, d.none)
        put(i, Col(v, none), np.where(pr4, "phase4", np.where(pr3, "phase3", "default")).astype(object))

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
    d10 = dflt(10)
    status = ctx["player_status"].to_list()
    risk_of = {}
    for sv in set(status):
        if sv is not None:
            risk_of[sv] = INJURY_RISK.get(sv.lower(), default(10))
    v10 = (
        np.array(
            [d10.v[0] if sv is None else (np.nan if risk_of[sv] is None else risk_of[sv]) for sv in status],
            dtype=np.float64,
        )
        if n
        else np.zeros(0)
    )
    none10 = (
        np.array([(default(10) is None) if sv is None else risk_of[sv] is None for sv in status], dtype=bool)
        if n
        else np.zeros(0, bool)
    )
    put(10, Col(v10, none10), "calculated")

    # 11 recent_trend
    l10 = tables["v54_last10_rows"]
    mats, nulls, valid, _, _, _ = _matrix(l10, index, "slot", ["points"])
    cnt = valid.sum(axis=1)
    width = valid.shape[1]
    p = np.zeros((n, max(width, 5)))
    p[:, :width] = np.where(valid & ~nulls["points"], mats["points"], 0.0)
    if profile.recent_trend_newest_first:
        dif = (p[:, 0] + p[:, 1]) / 2.0 - (p[:, 2] + p[:, 3] + p[:, 4]) / 3.0
    else:
        dif = (p[:, 3] + p[:, 4]) / 2.0 - (p[:, 0] + p[:, 1] + p[:, 2]) / 3.0
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
    phase = ctx["season_phase"]
    playoffs = Col.of(phase.str.to_lowercase() == "playoffs")
    for i, flag in ((15, C["home_game"]), (16, C["back_to_back"]), (17, playoffs)):
        d = dflt(i)
        truthy = ~flag.none & (flag.v != 0.0)
        put(i, Col(np.where(upgc, truthy.astype(np.float64), d.v), np.where(upgc, False, d.none)), "phase3")
    for i, name in ((18, "paint_rate_last_10"), (19, "mid_range_rate_last_10"), (20, "three_pt_rate_last_10")):
        v = p4[name]
        pr = is_present(v)
        with np.errstate(invalid="ignore"):
            put(i, Col(np.where(pr, v.v / 100.0, np.nan), ~pr), np.where(pr, "phase4", "missing").astype(object))
    for i, name in ((21, "pct_free_throw"), (33, "dnp_rate"), (34, "pts_slope_10g")):
        col, d = H[name], dflt(i)
        put(i, Col(np.where(col.none, d.v, col.v), np.where(col.none, d.none, False)), "calculated")
    with_fallback(22, "team_pace_last_10", None)
    with_fallback(23, "team_off_rating_last_10", None)
    tg = align("q08_team_games", ["team_games", "team_wins"])
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
    vg = align("v54_vegas_lines", ["vegas_points_line", "vegas_opening_line", "vegas_line_move", "vegas_line_source"])
    has_line = vg["vegas_points_line"].is_not_null().to_numpy()
    for i, name in ((25, "vegas_points_line"), (26, "vegas_opening_line"), (27, "vegas_line_move")):
        col = Col.of(vg[name])
        put(
            i,
            Col(np.where(has_line, col.v, np.nan), np.where(has_line, col.none, True)),
            np.where(has_line, "vegas", "missing").astype(object),
        )
    d = dflt(28)
    put(28, Col(np.where(has_line, 1.0, d.v), np.where(has_line, False, d.none)), "calculated")
    line_source = np.where(has_line, vg["vegas_line_source"].to_numpy(), "none").astype(object)

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
        np.where(use_opp, "opponent_history", profile.opponent_fallback_tag).astype(object),
    )
    og = H["opp_games"]
    put(
        30,
        Col(np.where(known, np.where(og.none, 0.0, og.v), 0.0), np.zeros(n, bool)),
        np.where(known, "opponent_history", profile.opponent_fallback_tag).astype(object),
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
                np.where(a, "minutes_ppm", np.where(b, "phase4", profile.minutes_ppm_missing_tag)).astype(object),
            )
    else:
        tag = np.where(mppm_b, "minutes_ppm", profile.minutes_ppm_missing_tag).astype(object)
        d = dflt(31)
        put(31, Col(np.where(mppm_b, qm.v, d.v), np.where(mppm_b, qm.none, d.none)), tag)
        d = dflt(32)
        okp = mppm_b & ~qp.none
        put(32, Col(np.where(okp, qp.v, d.v), np.where(okp, False, d.none)), tag.copy())
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
        np.where(~star.none, "phase3", "default").astype(object),
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
            np.where(col.none, "missing", "phase3").astype(object),
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
        np.where(both, "phase3", "missing").astype(object),
    )
    roll = rolling_columns(tables["v54_r_rolling"], index)
    has = _has_rows(tables["v54_r_rolling"], index)
    for i, name in ((43, "l3"), (44, "slope"), (45, "dev"), (46, "below"), (48, "usage"), (49, "gsc")):
        put(i, Col(roll[name], np.zeros(n, bool)), np.where(has, "calculated", "missing").astype(object))
    fr = tables["v54_t_teammate_usage"]
    try:
        fr = fr.with_columns(pl.col("freed_e9").cast(pl.Int64, strict=True))
        fa = align("v54_t_teammate_usage", ["freed_e9"], fr)
        fv = fa["freed_e9"]
        fmask = fv.is_not_null().to_numpy()
        fvals = fv.fill_null(0).to_numpy().astype(np.int64)
        freed = _int_division(fvals, np.full(n, E9, dtype=np.int64)) if n else np.zeros(0)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        fa = align("v54_t_teammate_usage", ["freed_e9"])
        fl = fa["freed_e9"].to_list()
        fmask = np.array([x is not None for x in fl], dtype=bool)
        freed = np.array([0.0 if x is None else int(x) / E9 for x in fl], dtype=np.float64)
    put(
        47,
        Col(np.where(fmask, freed, np.nan), np.zeros(n, bool)),
        np.where(fmask, "calculated", "missing").astype(object),
    )
    mstd, mtag = multi_book_columns(
        tables["v54_m_book_lines"], index, profile.multi_book_bettingpros_below_std, reference_stdev
    )
    mhas = np.array([t is not None for t in mtag], dtype=bool)
    put(50, Col(np.where(mhas, mstd, np.nan), np.zeros(n, bool)), np.where(mhas, mtag, "missing").astype(object))
    v25, v2 = values[25], values[2]
    assert v25 is not None and v2 is not None  # put above
    put(
        53,
        Col(np.where(~v25.none, v25.v - v2.v, np.nan), np.zeros(n, bool)),
        np.where(~v25.none, "calculated", "missing").astype(object),
    )
    delta = line_delta_columns(tables["v54_l_consensus"], index, profile.odds_lookback_days)
    dh = ~np.isnan(delta) & ~placeholder
    put(54, Col(np.where(dh, delta, np.nan), np.zeros(n, bool)), np.where(dh, "vegas", "missing").astype(object))
    over, margin = line_history_columns(tables["v54_h_line_history"], index)
    for i, arr in ((55, over), (56, margin)):
        hv = ~np.isnan(arr)
        put(i, Col(arr, np.zeros(n, bool)), np.where(hv, "calculated", "missing").astype(object))
    risk, vol = opportunity_columns(tables["v54_o_opportunity"], index, day, minutes_type, reference_stdev)
    for i, arr in ((57, risk), (58, vol)):
        hv = ~np.isnan(arr)
        put(i, Col(arr, np.zeros(n, bool)), np.where(hv, "calculated", "missing").astype(object))
    v22, v14 = values[22], values[14]
    assert v22 is not None and v14 is not None  # put above
    put(59, Col(v22.v - v14.v, v22.none | v14.none), "calculated")
    # put() has now set all 60 slots of values and tags
    filled = cast("list[Col]", values)
    filled_tags = cast("list[np.ndarray]", tags)

    fat = filled[5]
    low, high = profile.fatigue_gate
    with np.errstate(invalid="ignore"):
        gate = fat.present() & (low <= fat.v) & (fat.v <= high)
    keep = placeholder | (emitted & gate)

    # the output lists, built as Arrow list arrays over one flat (rows x 60) buffer: a None
    # stays null, a NaN stays NaN, a placeholder row's lists are null
    values_flat = np.stack([col.v for col in filled], axis=1).reshape(-1)
    none_flat = np.stack([col.none for col in filled], axis=1).reshape(-1)
    vocabulary: dict[str, int] = {}
    codes = np.empty((n, 60), dtype=np.int32)
    for i in range(60):
        uniq, inverse = np.unique(filled_tags[i].astype(str), return_inverse=True)
        remap = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in uniq.tolist()], dtype=np.int32)
        codes[:, i] = remap[inverse.reshape(-1)] if n else 0
    words = pl.Series("w", list(vocabulary), dtype=pl.Utf8)
    tags_flat = words.gather(codes.reshape(-1)).to_arrow() if n else pa.array([], pa.string())
    offsets = pa.array(np.arange(0, 60 * n + 1, 60, dtype=np.int32))
    ph_mask = pa.array(placeholder)
    value_lists = pa.ListArray.from_arrays(
        offsets, pa.array(values_flat, type=pa.float64(), mask=none_flat), mask=ph_mask
    )
    tag_lists = pa.ListArray.from_arrays(offsets, pa.array(tags_flat).cast(pa.string()), mask=ph_mask)
    body = pl.DataFrame(
        {
            "feature_values": pl.from_arrow(value_lists).cast(pl.List(pl.Float64)),
            "feature_tags": pl.from_arrow(tag_lists).cast(pl.List(pl.Utf8)),
            "cache_miss_fallback_used": pl.Series(cache_miss_used & miss).set(pl.Series(placeholder), None),
            "vegas_line_source": pl.Series(line_source.astype(str).tolist(), dtype=pl.Utf8).set(
                pl.Series(placeholder), None
            ),
        }
    )
    base = pl.DataFrame(
        {
            "player_lookup": spine["player_lookup"],
            "universal_player_id": spine["universal_player_id"],
            "game_date": spine["game_date"],
            "game_id": spine["game_id"],
            "opponent_team_abbr": opp_abbr,
            "is_home": spine["is_home"],
            "days_rest": ctx["days_rest"],
            "is_placeholder": pl.Series(placeholder),
            "composite_fallback": pl.Series(
                cf["composite_fallback"].fill_null(False).to_numpy().astype(bool) & ~placeholder
            ),
            "last10_n": h["last10_n"],
            "total_games": h["total_games"],
            "contributing_game_dates": h["contributing_game_dates"],
        }
    )
    return pl.concat([base, body], how="horizontal").filter(pl.Series(keep)), keep


def _has_rows(frame: pl.DataFrame, index: pl.DataFrame) -> np.ndarray:
    keys = frame.select(KEY).unique()
    return (
        index.join(keys.with_columns(pl.lit(True).alias("_h")), on=KEY, how="left")
        .sort("_i")["_h"]
        .fill_null(False)
        .to_numpy()
    )
