"""Player history (docs/features.md §3 Q6, Q7, Q10, Q11, §4.2, §5, §6, §8): runs the four PGS
extractions and turns their rows into the float64 values the spec defines, one row per spine
row.

The extractions hand over rows, not windows: each spine row (a probe) and each PGS row of the
spine's players (a game), with integer codes for the player (and the season or opponent), and
for games sharing a (player, date) their place in the §0.2 tie-break. Here the games are
sorted by (group, date, place) with numpy, and a probe's window [from, D - 1] of its group's
games is found by binary search (`np.searchsorted`); the last-10 list is the run just before D
read backwards. (DuckDB's window operators over games and probes were the costliest part of a
run; sorting integer keys and searching is a fraction of it.)

Exactness (docs/features.md §0.3). The SQL hands over only exact values: points, minutes
x 10^9 (NUMERIC, INT64), NUMERIC ratios already rounded to 9 decimals half away from zero
(still x 10^9), and, where §0.3 averages FLOAT64 values (Q11 ratios on the non-NUMERIC path;
Q7/Q11 minutes when they are FLOAT64), the float64 values themselves. Window sums of integers
are exact (int64 prefix sums, Python integers where int64 could overflow), NUMERIC averages are
rounded half away from zero on those integers as BigQuery does, and every float is then one
correctly rounded conversion of an exact rational (`exact_quotient`), a float64 running sum
added strictly in (game_date, game_id) order and divided once (`sequential_running_sums`:
upstream's AVG over FLOAT64 as its own code computed it; numpy, because DuckDB's SUM over
DOUBLE, as an aggregate or a window, does not add in row order), or the float64 formula of §6
evaluated in the written order, vectorised over all rows at once.

NaN appears only for N1 (season_points_avg), N2 (opp_points_avg) and N3 (season_minutes_avg,
ppm_avg_30d on the non-NUMERIC path); §0.4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from fsengine.contracts import contract_of
from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.engine.extract import stage_queries
from fsengine.errors import InputError

HISTORY_QUERIES = stage_queries("history")  # in registry order (extract.EXTRACTIONS)
MINUTES_TYPES = ("NUMERIC", "INT64", "FLOAT64")
KEYS = ["player_lookup", "game_date"]

E9 = 10**9
_FLOAT_EXACT_INT = 1 << 53  # integers below this are exact float64 values

RECENT_GAMES_FOR_L5 = 5  # features 0 and 11, 21, 34 need 5 list rows
MIN_ROWS_DNP_RATE = 3  # feature 33
FREE_THROW_FEATURE = "pct_free_throw"  # feature 21: its default (contract) fills rows without a ratio
# the profile windows history.py cuts the extractions' rows by (the SQL hands over the rows)
HISTORY_WINDOWS = ("last10_size", "last10_window_days", "total_games_window_days", "minutes_ppm_window_days")

OUTPUT_SCHEMA: dict[str, Any] = {
    "player_lookup": pl.Utf8,
    "game_date": pl.Date,
    "last10_n": pl.Int64,
    "total_games": pl.Int64,
    "contributing_game_dates": pl.List(pl.Date),
    "p3_points_avg_last_5": pl.Float64,
    "p3_points_avg_last_10": pl.Float64,
    "recent_trend": pl.Float64,
    "pct_free_throw": pl.Float64,
    "dnp_rate": pl.Float64,
    "pts_slope_10g": pl.Float64,
    "minutes_list_mean": pl.Float64,
    "season_points_avg": pl.Float64,
    "season_minutes_avg": pl.Float64,
    "opp_games": pl.Int64,
    "opp_points_avg": pl.Float64,
    "mppm_present": pl.Boolean,
    "minutes_avg_30d": pl.Float64,
    "ppm_avg_30d": pl.Float64,
}

RunQuery = Callable[[duckdb.DuckDBPyConnection, str, dict], object]


def player_history(
    con: duckdb.DuckDBPyConnection, params: dict, minutes_type: str, run_query: RunQuery, profile: Profile = REFERENCE
) -> pl.DataFrame:
    """One row per spine row with the columns of OUTPUT_SCHEMA (docs/engine.md).

    `minutes_type` is the recorded BigQuery type of PGS minutes_played: NUMERIC selects the
    NUMERIC arithmetic of Q7/Q11; INT64 and FLOAT64 the float64 arithmetic with N3 NaNs.
    """
    check_minutes_type(minutes_type)
    # Q7 and Q11 pick their exact representation of minutes by the recorded type
    params = {**params, "minutes_type": minutes_type}
    for name in HISTORY_QUERIES:
        run_query(con, name, params)
    free_throw_default = contract_of(profile).feature(FREE_THROW_FEATURE).default
    if free_throw_default is None:
        raise ValueError(f"contract {profile.contract}: feature {FREE_THROW_FEATURE} needs a default value")
    missing = [name for name in HISTORY_WINDOWS if name not in params]
    if missing:
        raise InputError(f"player history needs parameters {missing} that the run does not provide")
    last10 = last10_values(_consume(con, "q06_last10"), minutes_type, free_throw_default, params)
    season = season_values(_consume(con, "q07_season_stats"), minutes_type)
    opponent = opponent_values(_consume(con, "q10_opponent_history"))
    mppm = minutes_ppm_values(_consume(con, "q11_minutes_ppm"), int(params["minutes_ppm_window_days"]), minutes_type)
    frame = last10
    for part in (season, opponent, mppm):
        # every part has one row per spine row, sorted by (player_lookup, D): side by side
        # unless the keys disagree
        if part.select(KEYS).equals(frame.select(KEYS)):
            frame = frame.hstack(part.drop(KEYS))
        else:
            frame = frame.join(part, on=KEYS, how="left", coalesce=True)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in OUTPUT_SCHEMA.items()])


def _consume(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    """Temp table `name` as a Polars frame; the table is dropped once read (nothing else reads
    it, and on large runs the extraction tables held twice are the peak of the run's memory)."""
    frame = con.table(name).pl()
    con.execute(f'DROP TABLE IF EXISTS "{name}"')
    return frame


def check_minutes_type(minutes_type: str) -> None:
    if minutes_type not in MINUTES_TYPES:
        raise InputError(
            f"player_game_summary.minutes_played has type {minutes_type!r}; expected one of {MINUTES_TYPES}"
        )


# --------------------------------------------------------------------------- exact conversions


def exact_quotient(numerator, denominator) -> np.ndarray:
    """float64 nearest to numerator / denominator (int64 arrays), elementwise.

    Operands below 2^53 are exact float64 values, so one IEEE division is correctly rounded;
    larger ones fall back to Python's int true division (also correctly rounded). A zero
    denominator gives NaN (callers mask or keep those rows on purpose).
    """
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    out = np.full(den.shape, np.nan)
    ok = den != 0
    small = ok & (np.abs(num) < _FLOAT_EXACT_INT) & (np.abs(den) < _FLOAT_EXACT_INT)
    out[small] = num[small].astype(np.float64) / den[small].astype(np.float64)
    for i in np.flatnonzero(ok & ~small):
        out[i] = int(num[i]) / int(den[i])
    return out


def sequential_running_sums(values: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Running float64 sums of consecutive segments, each added strictly left to right.

    `values` holds the segments one after the other, each in its summation order;
    `position[i]` is the 0-based place of element i in its segment. Element i of the result
    is ((v_0 + v_1) + ...) + v_i over its segment: the first value as is, then one float64
    addition per element (docs/features.md §0.3 running sum). numpy's sum and DuckDB's SUM may
    pair or compensate; here all segments advance one place per step, so the steps are
    vectorised and their number is the longest segment."""
    values = np.asarray(values, dtype=np.float64)
    position = np.asarray(position, dtype=np.int64)
    running = values.copy()
    if values.size == 0:
        return running
    order = np.argsort(position, kind="stable")
    bounds = np.cumsum(np.bincount(position))
    for k in range(1, len(bounds)):
        at_k = order[bounds[k - 1] : bounds[k]]
        running[at_k] = running[at_k - 1] + values[at_k]
    return running


def scaled_mean(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """float64 nearest to the exact mean of NUMERIC or INT64 minutes from their exact sum
    x 10^9 (for INT64: §0.3's exact integer sum / count); NaN where the count is 0."""
    counts = np.asarray(counts, dtype=np.int64)
    return exact_quotient(np.asarray(sums, dtype=np.int64), counts * E9)


def exact_row_means(values: np.ndarray, n: np.ndarray) -> np.ndarray:
    """float64 nearest to the exact mean of each row's first n float64 values (the rest 0).

    Each value >= 2^-28 in magnitude is a whole multiple of 2^-80, held exactly as
    hi * 2^-40 + lo * 2^-80 with integer hi, lo; whole-number rows take a pure numpy path."""
    if np.all(values == np.floor(values)) and np.all(np.abs(values) < 2.0**40):
        return exact_quotient(values.astype(np.int64).sum(axis=1), n)
    scaled = values * 2.0**40
    high = np.floor(scaled)
    low = (scaled - high) * 2.0**40
    high_sum = high.astype(np.int64).sum(axis=1)
    low_sum = low.astype(np.int64).sum(axis=1)
    out = np.full(len(n), np.nan)
    for i in np.flatnonzero(n > 0):
        out[i] = ((int(high_sum[i]) << 40) + int(low_sum[i])) / (int(n[i]) << 80)
    return out


def round9(values: np.ndarray) -> np.ndarray:
    """Python's round(x, 9) bit for bit: applied once per distinct float64 bit pattern."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    bits, inverse = np.unique(values.view(np.int64), return_inverse=True)
    rounded = np.array([round(float(v), 9) for v in bits.view(np.float64)], dtype=np.float64)
    return rounded[inverse.reshape(values.shape)]


# --------------------------------------------------------------------------- Q6: the list


def last10_values(q6: pl.DataFrame, minutes_type: str, free_throw_default: float, windows: dict) -> pl.DataFrame:
    """Features 0/1 (P3), 11, 21, 33, 34, the feature-12 fallback mean and Q6's counts, one row
    per spine row ordered by (player_lookup, D).

    Q6's PGS rows, sorted by (player_code, game_date, same_day_place), are the stream of
    queries/engine/q06_last10.sql: the games before D of a spine row's player are the run ending
    just before the first key >= (player, D) (one binary search per spine row), and its list is
    that run read backwards, at most last10_size rows dated >= D - last10_window_days."""
    size = max(int(windows["last10_size"]), 1)  # the SQL list always had slot 0
    window_days = int(windows["last10_window_days"])
    total_window_days = int(windows["total_games_window_days"])

    is_game = q6["is_game"].to_numpy()
    code = q6["player_code"].to_numpy()
    day = q6["game_date"].cast(pl.Int32).to_numpy().astype(np.int64)  # days since 1970-01-01
    # numpy sorts of the integer keys (Polars' sort of the frames costs several times more)
    spine_at = np.flatnonzero(~is_game)
    spine_at = spine_at[np.argsort(_player_day_key(code[spine_at], day[spine_at]), kind="stable")]
    game_at = np.flatnonzero(is_game)
    game_at = game_at[
        np.lexsort((q6["same_day_place"].to_numpy()[game_at], _player_day_key(code[game_at], day[game_at])))
    ]
    rows, game_count = len(spine_at), len(game_at)
    spine_code, spine_day = code[spine_at], day[spine_at]
    game_code, game_day = code[game_at], day[game_at]
    game_key = _player_day_key(game_code, game_day)
    games_before = np.searchsorted(game_key, _player_day_key(spine_code, spine_day), side="left")
    window_start = np.searchsorted(game_key, _player_day_key(spine_code, spine_day - total_window_days), side="left")
    total_games = (games_before - window_start).astype(np.int64)

    width = max(size, RECENT_GAMES_FOR_L5)
    slot = np.arange(width)
    back = games_before[:, None] - 1 - slot[None, :]  # slot k: the k-th game back from D
    in_list = (slot[None, :] < size) & (back >= 0)
    back = np.clip(back, 0, max(game_count - 1, 0))
    if game_count:
        in_list &= (game_code[back] == spine_code[:, None]) & (game_day[back] >= (spine_day - window_days)[:, None])
    else:
        in_list[:] = False
    n = in_list.sum(axis=1).astype(np.int64)
    # row index in q6 of every list cell (padding: any row, masked by in_list)
    cell = game_at[back] if game_count else np.zeros((rows, width), dtype=np.int64)

    def matrix(column: str, dtype=np.int64) -> tuple[np.ndarray, np.ndarray]:
        """Slot k of spine row r at [r, k]; NULL and padding are 0 with known = False."""
        series = q6[column]
        values = series.cast(pl.Float64 if dtype == np.float64 else pl.Int64).fill_null(0).to_numpy()
        known = in_list & series.is_not_null().to_numpy()[cell]
        return np.where(in_list, values[cell], 0).astype(dtype), known

    points, points_known = matrix("points")
    minutes_e9, minutes_known = matrix("minutes_e9")
    ft_makes, _ = matrix("ft_makes")
    dnp, _ = matrix("is_dnp")  # NULL is_dnp = not DNP
    day_numbers = np.where(in_list, day[cell], 0)
    spine_rows = q6.select("player_lookup", "game_date")[spine_at]

    l5, l10 = _p3_recent_averages(points, points_known, minutes_known)
    point_sum = points.sum(axis=1)  # NULL -> 0 (the matrices hold 0 there)

    # 11 recent_trend: A = newest three, B = next two; diff = B - A (sign as upstream)
    first_three = points[:, 0] + points[:, 1] + points[:, 2]
    next_two = points[:, 3] + points[:, 4]
    diff = next_two.astype(np.float64) / 2.0 - first_three.astype(np.float64) / 3.0
    trend = np.select([diff >= 5, diff >= 2, diff <= -5, diff <= -2], [2.0, 1.0, -2.0, -1.0], default=0.0)
    trend = np.where(n >= RECENT_GAMES_FOR_L5, trend, 0.0)

    # 21 pct_free_throw
    ft_sum = ft_makes.sum(axis=1)
    free_throw_rows = (n >= RECENT_GAMES_FOR_L5) & (point_sum != 0)
    ratio = ft_sum.astype(np.float64) / np.where(free_throw_rows, point_sum, 1).astype(np.float64)
    clipped = np.maximum(0.0, np.minimum(0.5, ratio))
    pct_free_throw = np.where(free_throw_rows, round9(clipped), free_throw_default)

    # 33 dnp_rate
    dnp_rows = n >= MIN_ROWS_DNP_RATE
    rate = dnp.sum(axis=1) / np.maximum(n, 1)
    dnp_rate = np.where(dnp_rows, round9(np.where(dnp_rows, rate, 0.0)), 0.0)

    # 34 pts_slope_10g
    slope = _slope(points, point_sum, n)

    # feature 12 fallback: exact mean of all n minutes (NULL -> 0), nearest float64
    if minutes_type == "FLOAT64":
        minutes_mean = exact_row_means(matrix("minutes_float", np.float64)[0], n)
    else:
        minutes_mean = exact_quotient(minutes_e9.sum(axis=1), n * E9)

    return pl.DataFrame(
        {
            "player_lookup": spine_rows["player_lookup"],
            "game_date": spine_rows["game_date"],
            "last10_n": n,
            "total_games": total_games,
            "contributing_game_dates": _date_lists(day_numbers[in_list], n),
            "p3_points_avg_last_5": _with_nulls(l5[0], l5[1]),
            "p3_points_avg_last_10": _with_nulls(l10[0], l10[1]),
            "recent_trend": trend,
            "pct_free_throw": pct_free_throw,
            "dnp_rate": dnp_rate,
            "pts_slope_10g": slope,
            "minutes_list_mean": _with_nulls(minutes_mean, n >= 1),
        }
    )


def _player_day_key(code: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One int64 ordered like (player_code, day): binary searches over a player's days."""
    return np.asarray(code, dtype=np.int64) * (1 << 32) + (np.asarray(day, dtype=np.int64) + (1 << 31))


def _date_lists(day_numbers: np.ndarray, lengths: np.ndarray) -> pl.Series:
    """List[Date] series from the row-major flattened list elements and the list lengths."""
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    values = pa.array(day_numbers.astype(np.int32), type=pa.int32()).cast(pa.date32())
    return pl.Series("contributing_game_dates", pa.ListArray.from_arrays(offsets, values))


def _p3_recent_averages(points, points_known, minutes_known):
    """§4.2 L5/L10 over the played rows (points not NULL and (minutes not NULL or points > 0)),
    in list order: (values, present) pairs."""
    played = points_known & (minutes_known | (points > 0))
    played_rank = np.cumsum(played, axis=1)
    played_count = played_rank[:, -1] if played.shape[1] else np.zeros(len(points), dtype=np.int64)
    first_five = played & (played_rank <= 5)
    l5_sum = (points * first_five).sum(axis=1)
    l10_sum = (points * played).sum(axis=1)
    l5 = exact_quotient(l5_sum, np.full(len(points), 5))
    l10 = exact_quotient(l10_sum, played_count)
    return (l5, played_count >= 5), (l10, played_count >= 1)


def _slope(points: np.ndarray, point_sum: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Feature 34: least-squares slope over the chronological points, summed j = 0 .. n-1 in
    that order in float64, then round9; 0.0 below 5 rows."""
    rows = len(n)
    enough = n >= RECENT_GAMES_FOR_L5
    safe_n = np.maximum(n, 1)
    x_mean = (n - 1) / 2.0
    y_mean = point_sum / safe_n
    num = np.zeros(rows)
    den = np.zeros(rows)
    all_rows = np.arange(rows)
    for j in range(points.shape[1]):
        active = j < n
        y = points[all_rows, np.clip(n - 1 - j, 0, points.shape[1] - 1)]  # y_j = p_{n-1-j}
        dx = j - x_mean
        num = np.where(active, num + dx * (y - y_mean), num)
        den = np.where(active, den + dx * dx, den)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(enough, num / np.where(enough, den, 1.0), 0.0)
    return np.where(enough, round9(raw), 0.0)


# --------------------------------------------------------------------------- Q7, Q10, Q11
# Each extraction hands over its spine rows (probes) and the PGS rows of the spine's players
# (games) with integer codes; a probe's aggregates are those of the games of its group (player,
# and season or opponent) dated in a window [from, D - 1], found by binary search over the
# games sorted by (group, game_date, same_day_place).

_FIRST_DAY = -(1 << 31)  # before every date: a window open at its start


def _probes_and_games(frame: pl.DataFrame, group: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row numbers of the probes, sorted by (player_code, D) = (player_lookup, D), and of the
    games, sorted by (group, game_date, same_day_place); and the group ids of both, numbered
    in (player_code, second group column) order."""
    is_game = frame["is_game"].to_numpy()
    day = _days(frame)
    code = frame["player_code"].to_numpy().astype(np.int64)
    ids = code
    if len(group) > 1:
        second = frame[group[1]].fill_null(-1).to_numpy().astype(np.int64)
        low = int(second.min()) if second.size else 0
        span = int(second.max()) - low + 1 if second.size else 1
        if (int(code.max()) + 1 if code.size else 0) * span < 1 << 31:
            ids = code * span + (second - low)
        else:  # too many groups to pack: dense ids
            ids = np.unique(np.stack([code, second], axis=1), axis=0, return_inverse=True)[1].reshape(-1)
    probes = np.flatnonzero(~is_game)
    probes = probes[np.argsort(_player_day_key(code[probes], day[probes]), kind="stable")]
    games = np.flatnonzero(is_game)
    place = frame["same_day_place"].to_numpy()[games] if "same_day_place" in frame.columns else np.zeros(len(games))
    games = games[np.lexsort((place, _player_day_key(ids[games], day[games])))]
    return probes, games, ids[probes], ids[games]


def _window_bounds(game_ids, game_days, probe_ids, day_from, day_to) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) of each probe's games among the sorted games: same group, day_from <= day < day_to."""
    key = _player_day_key(game_ids, game_days)
    lo = np.searchsorted(key, _player_day_key(probe_ids, day_from), side="left")
    hi = np.searchsorted(key, _player_day_key(probe_ids, day_to), side="left")
    return lo, hi


def _window_sums(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Exact integer sums of values[lo:hi] per probe (prefix sums; Python integers when int64
    could overflow)."""
    values = np.asarray(values, dtype=np.int64)
    peak = int(np.abs(values).max()) if values.size else 0
    if peak * (values.size + 1) < 1 << 62:
        running = np.concatenate([[0], np.cumsum(values)]).astype(np.int64)
    else:
        running = np.concatenate([[0], np.cumsum(values.astype(object))])
    return running[hi] - running[lo]


def _rounded_mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count rounded to an integer half away from zero, int64 (BigQuery NUMERIC AVG of
    values x 10^9 from their exact sum); 0 where count is 0."""
    if total.dtype == object or (total.size and int(np.abs(total).max()) >= 1 << 61):
        out = [
            0 if c == 0 else (1 if t >= 0 else -1) * ((2 * abs(int(t)) + int(c)) // (2 * int(c)))
            for t, c in zip(total.tolist(), count.tolist(), strict=True)
        ]
        return np.asarray(out, dtype=np.int64)
    safe = np.maximum(count, 1)
    magnitude = (2 * np.abs(total) + safe) // (2 * safe)
    return np.where(count > 0, np.where(total >= 0, magnitude, -magnitude), 0).astype(np.int64)


def _window_float_means(values: np.ndarray, known: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per probe: the float64 running sum of the known values[lo:hi], added left to right (the
    games' order, docs/features.md §0.3), divided once by their count; NaN where there is none."""
    kept = np.flatnonzero(known)
    first = np.searchsorted(kept, lo, side="left")
    n = np.searchsorted(kept, hi, side="left") - first
    starts = np.cumsum(n) - n
    position = np.arange(int(n.sum())) - np.repeat(starts, n)
    running = sequential_running_sums(values[kept[np.repeat(first, n) + position]], position)
    out = np.full(len(n), np.nan)
    has = n > 0
    out[has] = running[(starts + n - 1)[has]] / n[has].astype(np.float64)
    return out


def _days(frame: pl.DataFrame, column: str = "game_date") -> np.ndarray:
    return frame[column].cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)


def season_values(q7: pl.DataFrame, minutes_type: str = "NUMERIC") -> pl.DataFrame:
    """Q7: points average (N1 NaN) and minutes average (NUMERIC rounded; N3 NaN otherwise) over
    the probe's (player, season_year) games before D."""
    probes, games, probe_ids, game_ids = _probes_and_games(q7, ["player_code", "season_year"])
    day = _days(q7)
    lo, hi = _window_bounds(game_ids, day[games], probe_ids, _FIRST_DAY, day[probes])
    present = hi > lo
    points = q7["points"]
    points_count = _window_sums(points.is_not_null().to_numpy()[games], lo, hi)
    points_sum = _window_sums(points.fill_null(0).to_numpy()[games], lo, hi)
    points_avg = exact_quotient(points_sum, points_count)  # NaN when 0 -> N1
    has_minutes = q7["has_minutes"].fill_null(False).to_numpy()[games]
    minutes_count = _window_sums(has_minutes, lo, hi)
    if minutes_type == "FLOAT64":
        minutes = q7["minutes_float"].fill_null(0.0).to_numpy()[games]
        minutes_avg = _window_float_means(minutes, has_minutes, lo, hi)  # NaN -> N3
        minutes_present = present
    else:
        minutes_sum = _window_sums(q7["minutes_e9"].fill_null(0).to_numpy()[games], lo, hi)
        if minutes_type == "NUMERIC":
            minutes_avg = exact_quotient(_rounded_mean(minutes_sum, minutes_count), np.full(len(probes), E9))
            minutes_present = present & (minutes_count > 0)  # NUMERIC NULL stays NULL
        else:
            minutes_avg = scaled_mean(minutes_sum, minutes_count)  # NaN -> N3
            minutes_present = present
    return (
        q7[probes]
        .select(KEYS)
        .with_columns(
            season_points_avg=_with_nulls(points_avg, present),
            season_minutes_avg=_with_nulls(minutes_avg, minutes_present),
        )
    )


def opponent_values(q10: pl.DataFrame) -> pl.DataFrame:
    """Q10: games and AVG(points) against a known opponent in [window_start, D - 1]; N2 NaN when
    no non-NULL points."""
    probes, games, probe_ids, game_ids = _probes_and_games(q10, ["player_code", "opponent_code"])
    day = _days(q10)
    lo, hi = _window_bounds(game_ids, day[games], probe_ids, _days(q10, "window_start")[probes], day[probes])
    known = q10["opponent_known"].fill_null(False).to_numpy()[probes]
    points = q10["points"]
    points_count = _window_sums(points.is_not_null().to_numpy()[games], lo, hi)
    points_sum = _window_sums(points.fill_null(0).to_numpy()[games], lo, hi)
    return (
        q10[probes]
        .select(KEYS)
        .with_columns(
            opp_games=pl.Series(pa.array((hi - lo).astype(np.int64), mask=~known)),
            opp_points_avg=_with_nulls(exact_quotient(points_sum, points_count), known),
        )
    )


def minutes_ppm_values(q11: pl.DataFrame, window_days: int, minutes_type: str = "NUMERIC") -> pl.DataFrame:
    """Q11: minutes average and mean points-per-minute over the qualifying games in
    [D - window_days, D - 1]."""
    probes, games, probe_ids, game_ids = _probes_and_games(q11, ["player_code"])
    day = _days(q11)
    lo, hi = _window_bounds(game_ids, day[games], probe_ids, day[probes] - window_days, day[probes])
    count = (hi - lo).astype(np.int64)
    present = count > 0
    has_points = q11["has_points"].fill_null(False).to_numpy()[games]
    ppm_count = _window_sums(has_points, lo, hi)
    if minutes_type == "NUMERIC":
        minutes_sum = _window_sums(q11["minutes_e9"].fill_null(0).to_numpy()[games], lo, hi)
        ratio_sum = _window_sums(q11["ratio_e9"].fill_null(0).to_numpy()[games], lo, hi)
        e9 = np.full(len(probes), E9)
        minutes_avg = exact_quotient(_rounded_mean(minutes_sum, count), e9)
        ppm = exact_quotient(_rounded_mean(ratio_sum, ppm_count), e9)
        ppm_present = present & (ppm_count > 0)  # all points NULL: NULL, not NaN
    else:
        if minutes_type == "INT64":
            minutes_avg = scaled_mean(_window_sums(q11["minutes_e9"].fill_null(0).to_numpy()[games], lo, hi), count)
        else:
            minutes = q11["minutes_float"].fill_null(0.0).to_numpy()[games]
            minutes_avg = _window_float_means(minutes, np.ones(len(games), dtype=bool), lo, hi)
        ratio = q11["ratio_float"]
        # NaN (N3) where no row has points
        ppm = _window_float_means(ratio.fill_null(0.0).to_numpy()[games], ratio.is_not_null().to_numpy()[games], lo, hi)
        ppm_present = present
    return (
        q11[probes]
        .select(KEYS)
        .with_columns(
            mppm_present=pl.Series(present),
            minutes_avg_30d=_with_nulls(minutes_avg, present),
            ppm_avg_30d=_with_nulls(ppm, ppm_present),
        )
    )


# --------------------------------------------------------------------------- helpers


def _with_nulls(values: np.ndarray, present: np.ndarray) -> pl.Series:
    """Float64 series: values where present (NaN kept as NaN), null elsewhere."""
    series = pl.Series(values, dtype=pl.Float64, nan_to_null=False)
    return pl.select(pl.when(pl.Series(present)).then(series).otherwise(None)).to_series()
