"""Assembly of contract v2_54features, profile head-2026-07 (docs/v2_54/features.md).

Selected by the profile's `assembly` name ("head"; the round-1 profile "reference" uses
assemble.py). Runs the head extractions of the registry (extract.HEAD_EXTRACTIONS: the round-1
Q1-Q4, Q8 files bound with the profile's windows — exact date for Phase 4 — plus the v54_*
files; Q5 is Q5′'s columns), the round-1 player history (Q6, Q7, Q10, Q11), and turns them
into the 60 in-memory values, their raw tags, `cache_miss_fallback_used` and `vegas_line_source` per spine row.

Arithmetic (docs/features.md §0): the SQL hands over exact values only (integers, NUMERIC x 10^9
as integers, FLOAT64 lines); every float here is computed as the spec states it, per row in
Python: left-to-right float sums (`float_sum`, §0.2), exact rational standard deviations
rounded once (`exact_stdev`, §0.3/§0.5), 28-digit decimal quotients (`decimal_quotient`,
§0.4), NUMERIC AVG rounded to 9 decimals half away from zero (`numeric_avg_e9`), the lower
middle median (§0.6). In-memory conventions as assemble.py: None = absent ("none"), NaN kept.

Two implementations of the same rules: `assemble_head` (what the engine runs) computes them
column-wise (head_columns.py: ~136k rows of a five-season world in seconds); the per-row
functions below and `assemble_head_rows` are the plain statement of the rules it is tested
against bit for bit (tests/engine/test_head_columns.py), and stay as the reference.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import time
from collections import defaultdict
from fractions import Fraction

import duckdb
import polars as pl

from fsengine.contracts import contract_of
from fsengine.contracts.profile import Profile
from fsengine.engine.assemble import COMPLETENESS_DTYPE, INJURY_RISK, completeness_expr
from fsengine.engine.extract import HEAD_EXTRACTIONS, HEAD_RENAMED_TO
from fsengine.engine.extract import run_query as _run_query

E9 = 10**9
FEATURE_COUNT = 60
NAN = float("nan")

PHASE4_FALLBACK_WINDOWS = (
    "daily_cache_fallback_days",
    "composite_fallback_days",
    "shot_zone_fallback_days",
    "team_defense_fallback_days",
)
# Defaults of 37-59 when the profile's contract does not declare them (docs/features.md §3).
NEW_FEATURE_DEFAULT = {37: 0.0}

# The head extractions in run order, after `spine` (stage core) and before the history stage.
HEAD_CORE_QUERIES = tuple(e.name for e in HEAD_EXTRACTIONS)

# --------------------------------------------------------------------------- settings


def head_params(params: dict, profile: Profile) -> dict:
    """The run's query parameters (every integer window of the profile is one already) plus the
    boolean switches the head SQL binds; the Phase-4 fallback windows are 0 when the profile's
    `phase4_exact_date_only` is on, so the round-1 Q1-Q4 files read the exact date only."""
    out = dict(params)
    out["production_spine_filter"] = bool(profile.production_spine_filter)
    out["odds_pre_tipoff_only"] = bool(profile.odds_pre_tipoff_only)
    if profile.phase4_exact_date_only:
        for name in PHASE4_FALLBACK_WINDOWS:
            out[name] = 0
    return out


# --------------------------------------------------------------------------- exact arithmetic


def float_sum(values) -> float:
    """Python 3.11 `sum`: left to right from the integer 0, each addition rounded (§0.2)."""
    total = 0
    for v in values:
        total = total + v
    return total


def float_mean(values) -> float:
    values = list(values)
    return float_sum(values) / len(values)


def _sqrt_fraction_nearest(q: Fraction) -> float:
    """The float64 nearest to sqrt(q) for a rational q >= 0 (correctly rounded)."""
    if q == 0:
        return 0.0
    num, den = q.numerator, q.denominator
    # scale so that the integer square root carries >= 64 significant bits beyond float's 53
    shift = max(0, 2 * 120 - (num.bit_length() - den.bit_length()))
    shift += shift % 2
    scaled = (num << shift) // den
    root = math.isqrt(scaled)
    exact = root * root == scaled and (num << shift) % den == 0
    # root = floor(sqrt(q) * 2^(shift/2)); a sticky bit decides ties correctly
    value = (
        Fraction(2 * root + (0 if exact else 1), 2 << (shift // 2)) if not exact else Fraction(root, 1 << (shift // 2))
    )
    return _fraction_to_float(value)


def _fraction_to_float(q: Fraction) -> float:
    return q.numerator / q.denominator  # int / int is correctly rounded in Python


def exact_stdev(values) -> float:
    """Sample standard deviation (n >= 2): float64 nearest to the exact square root of the
    exact rational variance of the given values (ints or floats, taken exactly) (§0.3, §0.5)."""
    xs = [Fraction(v) for v in values]
    n = len(xs)
    mean = sum(xs, Fraction(0)) / n
    variance = sum(((x - mean) ** 2 for x in xs), Fraction(0)) / (n - 1)
    return _sqrt_fraction_nearest(variance)


_DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


def decimal_e9(value_e9: int) -> decimal.Decimal:
    return decimal.Decimal(int(value_e9)).scaleb(-9)


def decimal_quotient(numerator: decimal.Decimal, denominator: decimal.Decimal) -> float:
    """Python decimal division (28 significant digits, half even), then the nearest float64 of
    that 28-digit decimal (§0.4)."""
    return float(_DECIMAL_CONTEXT.divide(numerator, denominator))


def numeric_avg_e9(total_e9: int, count: int) -> int:
    """BigQuery NUMERIC AVG x 10^9: the exact mean rounded to 9 decimals half away from zero."""
    sign = -1 if total_e9 < 0 else 1
    return sign * ((2 * abs(total_e9) + count) // (2 * count))


def e9_to_float(value_e9: int) -> float:
    """float(dec) of a NUMERIC held as value x 10^9: the nearest float64."""
    return int(value_e9) / E9


def lower_middle(values) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def present(v) -> bool:
    """§0.1: exists and is neither NULL nor NaN."""
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def py_min(a: float, b: float) -> float:
    """Python min(a, b) for a constant a (b only when b < a; NaN b gives a)."""
    return b if b < a else a


def py_max(a: float, b: float) -> float:
    return b if b > a else a


# --------------------------------------------------------------------------- extractions


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    frame = con.table(table).pl()
    return frame.to_dicts()


def _by_key(rows: list[dict], key=("player_lookup", "game_date")) -> dict:
    return {tuple(r[k] for k in key): r for r in rows}


def _grouped(rows: list[dict], key=("player_lookup", "game_date")) -> dict:
    out: dict = defaultdict(list)
    for r in rows:
        out[tuple(r[k] for k in key)].append(r)
    return out


def run_head_core(con: duckdb.DuckDBPyConnection, params: dict, run_query=_run_query) -> None:
    """After `spine`: filter it (S1, S2) and run every head core extraction; a table of
    extract.HEAD_RENAMED_TO takes the name it replaces."""
    for name in HEAD_CORE_QUERIES:
        run_query(con, name, params)
        if name in HEAD_RENAMED_TO:  # the registry's names
            con.execute(f'DROP TABLE IF EXISTS "{HEAD_RENAMED_TO[name]}"')
            con.execute(f'ALTER TABLE "{name}" RENAME TO "{HEAD_RENAMED_TO[name]}"')


# --------------------------------------------------------------------------- per-row rules


def cache_miss_values(
    list_rows: list[dict],
    day: dt.date,
    minutes_type: str,
    season_points_avg,
    team_rows_of,
    ctx_team,
    games_window_days: int = 7,
) -> tuple[bool, dict]:
    """§2.4 for one (player, D) without a Q1 row: (emitted, C). `emitted` is False on the
    exception path (a non-DNP list row with NULL minutes, NUMERIC/INT64 minutes)."""
    float_minutes = minutes_type == "FLOAT64"
    for r in list_rows:
        if r["is_dnp"] is not True and r["minutes_e9"] is None and r["minutes_float"] is None and not float_minutes:
            return False, {}

    def minutes_of(r):
        if float_minutes:
            v = r["minutes_float"]
            return NAN if v is None else v
        return r["minutes_e9"]

    fp = [r for r in list_rows if r["is_dnp"] is not True and minutes_of(r) is not None and minutes_of(r) > 0]
    if not fp:
        return True, {}
    f5, f10 = fp[:5], fp[:10]
    c: dict = {}
    pts5 = [r["points"] for r in f5 if r["points"] is not None]
    pts10 = [r["points"] for r in f10 if r["points"] is not None]
    if pts5:
        c["points_avg_last_5"] = sum(pts5) / len(pts5)
    if pts10:
        c["points_avg_last_10"] = sum(pts10) / len(pts10)
        c["points_std_last_10"] = exact_stdev(pts10) if len(pts10) >= 2 else 0.0
    point_sum = sum(r["points"] or 0 for r in f10)
    if minutes_type == "NUMERIC":
        minutes_total = sum((decimal_e9(r["minutes_e9"]) for r in f10), decimal.Decimal(0))
        c["minutes_avg_last_10"] = decimal_quotient(minutes_total, decimal.Decimal(len(f10)))
        if minutes_total > 0:
            c["ppm_avg_last_10"] = decimal_quotient(decimal.Decimal(point_sum), minutes_total)
    elif minutes_type == "INT64":
        minutes_total = sum(r["minutes_e9"] // E9 for r in f10)
        c["minutes_avg_last_10"] = minutes_total / len(f10)
        if minutes_total > 0:
            c["ppm_avg_last_10"] = point_sum / minutes_total
    else:
        minutes_total_float = float_sum(r["minutes_float"] for r in f10)
        c["minutes_avg_last_10"] = minutes_total_float / len(f10)
        if minutes_total_float > 0:
            c["ppm_avg_last_10"] = point_sum / minutes_total_float
    week_start = day - dt.timedelta(days=games_window_days)
    c["games_in_last_7_days"] = float(sum(1 for r in fp if r["list_date"] >= week_start))
    if season_points_avg is not None:
        c["points_avg_season"] = season_points_avg
    fg = sum(r["fg_attempts"] or 0 for r in f10)
    if fg > 0:
        c["paint_rate_last_10"] = sum(r["paint_attempts"] or 0 for r in f10) / fg
        c["mid_range_rate_last_10"] = sum(r["mid_range_attempts"] or 0 for r in f10) / fg
        c["three_pt_rate_last_10"] = sum(r["three_pt_attempts"] or 0 for r in f10) / fg
    team = ctx_team if ctx_team else fp[0]["team_abbr"]
    rows = team_rows_of(team)
    for key, column in (("team_pace_last_10", "pace_e9"), ("team_off_rating_last_10", "offensive_rating_e9")):
        values = [r[column] for r in rows if r[column] is not None]
        if values:
            c[key] = decimal_quotient(
                sum((decimal_e9(v) for v in values), decimal.Decimal(0)), decimal.Decimal(len(values))
            )
    return True, c


def rolling_values(rows: list[dict]) -> dict | None:
    """Extraction R (§4): L3, slope, dev, below, usage, gsc from the chronological rows."""
    m = len(rows)
    if m == 0:
        return None
    ys = [float(r["points"]) for r in rows]
    points = [int(r["points"]) for r in rows]
    l3 = float_mean(ys[-3:])
    if m >= 4:
        n = min(7, m)
        window = points[-n:]
        xs = range(1, n + 1)
        sx, sy = sum(xs), sum(window)
        sxy = sum(x * y for x, y in zip(xs, window))
        sxx = sum(x * x for x in xs)
        slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    else:
        slope = 0.0
    mean60 = sum(points) / m
    if m >= 2:
        s = float_sum((y - mean60) ** 2 for y in ys)
        sd = (s / (m - 1)) ** 0.5
    else:
        sd = 5.0
    dev = (l3 - mean60) / sd if sd > 0 else 0.0
    below = 0
    for y in reversed(ys):
        if y < mean60:
            below += 1
        else:
            break
    usage_values = [e9_to_float(r["usage_e9"]) for r in rows if r["usage_e9"] is not None]
    usage = float_mean(usage_values[-5:]) if len(usage_values) >= 3 else 20.0
    gsc = float(min(m, 30))
    for i in range(m, 1, -1):  # 1-based pairs (i - 1, i), newest first
        a, b = rows[i - 2], rows[i - 1]
        if b["team_abbr"] != a["team_abbr"] or (b["row_date"] - a["row_date"]).days > 14:
            gsc = float(m - i)
            break
    return {"l3": l3, "slope": slope, "dev": dev, "below": float(below), "usage": usage, "gsc": gsc}


def multi_book_std(book_lines: list[dict], switch_below: float = 0.3) -> dict[tuple, tuple[float, str]]:
    """Extraction M (§4): {(player, D): (std, tag)} with the date-level BettingPros switch."""
    by_date: dict = defaultdict(lambda: {"odds_api": defaultdict(list), "bettingpros": defaultdict(list)})
    for r in book_lines:
        by_date[r["game_date"]][r["source"]][r["player_lookup"]].append(r["points_line"])
    out: dict = {}
    for day, sources in by_date.items():
        odds = {p: exact_stdev(v) for p, v in sources["odds_api"].items() if len(v) >= 2}
        for p, std in odds.items():
            out[(p, day)] = (std, "vegas")
        max_std = max(odds.values()) if odds else 0.0
        if not odds or max_std < switch_below:
            for p, v in sources["bettingpros"].items():
                if len(v) >= 2 and p not in odds:
                    out[(p, day)] = (exact_stdev(v), "bettingpros")
    return out


def line_deltas(lines: list[dict], keys: list[tuple], window_days: int) -> dict[tuple, float]:
    """Extraction L (§4): {(player, D): round(cons(D) - cons(d'), 1)}."""
    books: dict = defaultdict(list)
    for r in lines:
        books[(r["player_lookup"], r["line_date"])].append(r["points_line"])
    cons = {k: lower_middle(v) for k, v in books.items()}
    dates_of: dict = defaultdict(list)
    for p, d in cons:
        dates_of[p].append(d)
    out = {}
    for p, day in keys:
        if (p, day) not in cons:
            continue
        earlier = [d for d in dates_of[p] if day - dt.timedelta(days=window_days) <= d < day]
        if earlier:
            out[(p, day)] = round(cons[(p, day)] - cons[(p, max(earlier))], 1)
    return out


def line_history_values(rows: list[dict]) -> tuple[float | None, float | None]:
    """Extraction H (§4): (over_rate, margin), each None when absent."""
    ten = [r for r in rows if r["games_ago"] <= 10]
    over = None
    if len(ten) >= 5:
        overs = sum(1 for r in ten if r["points"] * E9 > r["line_e9"])
        over = round(overs / len(ten), 9)
    five = [r for r in rows if r["games_ago"] <= 5]
    margin = None
    if len(five) >= 3:
        total = sum(r["points"] * E9 - r["line_e9"] for r in five)
        margin = round(e9_to_float(numeric_avg_e9(total, len(five))), 9)
    return over, margin


def opportunity_values(player_rows: list[dict], team_blowout, minutes_type: str):
    """Extraction O (§4): (blowout_minutes_risk, minutes_volatility) or (None, None)."""
    rows = sorted(player_rows, key=lambda r: r["slot"])
    groups: dict = defaultdict(list)
    first_slot: dict = {}
    for r in rows:
        groups[r["team_abbr"]].append(r)
        first_slot.setdefault(r["team_abbr"], r["slot"])
    qualified = [t for t, g in groups.items() if len(g) >= 3]
    if not qualified:
        return None, None
    team = min(qualified, key=lambda t: first_slot[t])
    if minutes_type == "FLOAT64":
        minutes = [r["minutes_float"] for r in groups[team]]
    else:
        minutes = [e9_to_float(r["minutes_e9"]) for r in groups[team]]
    std = exact_stdev(minutes)
    blow = team_blowout(team)
    risk = 0.2 if blow is None else round(blow, 4)
    return risk, round(std, 2)


# --------------------------------------------------------------------------- assembly


HEAD_TABLES = (
    "spine",
    "q01_daily_cache",
    "q02_composite_factors",
    "q03_shot_zone",
    "q04_team_defense",
    "q08_team_games",
    "v54_player_context",
    "v54_vegas_lines",
    "v54_last10_games",
    "v54_last10_rows",
    "v54_team_rows",
    "v54_r_games",
    "v54_r_rolling",
    "v54_t_teammate_usage",
    "v54_m_book_lines",
    "v54_l_consensus",
    "v54_h_line_history",
    "v54_o_games",
    "v54_o_opportunity",
)


def _default_of(profile: Profile):
    contract = contract_of(profile)

    def default(i: int) -> float | None:
        if i < contract.feature_count:
            return contract.default(i)
        return NEW_FEATURE_DEFAULT.get(i)

    return default


def assemble_head(
    con: duckdb.DuckDBPyConnection,
    history: pl.DataFrame,
    profile: Profile,
    minutes_type: str,
    stages: dict[str, float] | None = None,
    release: bool = False,
) -> pl.DataFrame:
    """The assembled frame (docs/engine.md) for contract v2_54features: 60 values and tags,
    plus cache_miss_fallback_used and vegas_line_source; fatigue gate applied. Column-wise
    (head_columns.py); the same bits as the per-row statement of the rules, assemble_head_rows.
    Each extraction table is read when the assembly first needs it; with `release`, it is
    dropped from the session once read (all but `spine`), so that its rows are not held twice.
    `stages` (when given) receives the seconds of reading the extraction tables
    ("assembly_inputs") and of the assembly itself ("assembly")."""
    from fsengine.engine.head_columns import Frames, assemble_columns

    reading = 0.0

    def read(name: str) -> pl.DataFrame:
        nonlocal reading
        began = time.perf_counter()
        if name not in HEAD_TABLES:
            raise KeyError(name)
        frame = con.table(name).pl()
        if release and name != "spine":
            con.execute(f"DROP TABLE {name}")  # one of HEAD_TABLES: the registry's names
        reading += time.perf_counter() - began
        return frame

    began = time.perf_counter()
    frame, _ = assemble_columns(Frames(read), history, profile, minutes_type, _default_of(profile), exact_stdev)
    frame = _finish(frame, profile)
    if stages is not None:
        stages["assembly_inputs"] = stages.get("assembly_inputs", 0.0) + reading
        stages["assembly"] = stages.get("assembly", 0.0) + time.perf_counter() - began - reading
    return frame


def assemble_head_rows(
    con: duckdb.DuckDBPyConnection, history: pl.DataFrame, profile: Profile, minutes_type: str
) -> pl.DataFrame:
    """The per-row statement of the rules (the reference the column-wise assemble_head is
    tested against, tests/engine/test_head_columns.py): one Python pass per spine row."""
    contract = contract_of(profile)

    def default(i: int) -> float | None:
        if i < contract.feature_count:
            return contract.default(i)
        return NEW_FEATURE_DEFAULT.get(i)

    spine = _rows(con, "spine")
    dc = _by_key(_rows(con, "q01_daily_cache"))
    cf = _by_key(_rows(con, "q02_composite_factors"))
    sz = _by_key(_rows(con, "q03_shot_zone"))
    td = _by_key(_rows(con, "q04_team_defense"))
    tg = _by_key(_rows(con, "q08_team_games"))
    ctx_rows = _by_key(_rows(con, "v54_player_context"))
    vg = _by_key(_rows(con, "v54_vegas_lines"))
    # Q6′: each key's list is the numbered rows last_no, last_no - 1, ... (slots of them), newest first
    l10_games = {r["game_no"]: r for r in _rows(con, "v54_last10_games")}
    last10 = {
        (b["player_lookup"], b["game_date"]): [l10_games[b["last_no"] - s] for s in range(b["slots"])]
        for b in _rows(con, "v54_last10_rows")
    }
    team_rows = _grouped(_rows(con, "v54_team_rows"), ("team_abbr", "game_date"))
    # R: each key's rows are the numbered rows first_no + 1 .. last_no, oldest first
    games = {r["game_no"]: r for r in _rows(con, "v54_r_games")}
    rolling = {
        (b["player_lookup"], b["game_date"]): [games[g] for g in range(b["first_no"] + 1, b["last_no"] + 1)]
        for b in _rows(con, "v54_r_rolling")
    }
    freed = {(r["player_lookup"], r["game_date"]): r["freed_e9"] for r in _rows(con, "v54_t_teammate_usage")}
    mstd = multi_book_std(_rows(con, "v54_m_book_lines"), profile.multi_book_bettingpros_below_std)
    keys = [(r["player_lookup"], r["game_date"]) for r in spine if not r["is_placeholder"]]
    deltas = line_deltas(_rows(con, "v54_l_consensus"), keys, profile.odds_lookback_days)
    lhist = _grouped(_rows(con, "v54_h_line_history"))
    opp = _rows(con, "v54_o_opportunity")
    # O: each key's rows are the numbered rows last_no, last_no - 1, .. first_no + 1 (slot 0 = newest)
    opp_games = {r["game_no"]: r for r in _rows(con, "v54_o_games")}
    opp_players = {
        (b["player_lookup"], b["game_date"]): [
            {**opp_games[g], "slot": b["last_no"] - g} for g in range(b["first_no"] + 1, b["last_no"] + 1)
        ]
        for b in opp
        if b["kind"] == "player"
    }
    opp_teams = {(r["team_abbr"], r["game_date"]): r for r in opp if r["kind"] == "team"}
    hist = _by_key(history.to_dicts())
    # §0.1 presence: NaN is absent in head-2026-07 (nan_is_absent), present in the reference rule
    is_present = present if profile.nan_is_absent else (lambda v: v is not None)

    out_rows = []
    for s in spine:
        key = (s["player_lookup"], s["game_date"])
        day = s["game_date"]
        h = hist.get(key, {})
        ctx = ctx_rows.get(key) or {}
        upgc = bool(ctx.get("row_found"))
        base = {
            "player_lookup": s["player_lookup"],
            "universal_player_id": s["universal_player_id"],
            "game_date": day,
            "game_id": s["game_id"],
            "opponent_team_abbr": s["opponent_team_abbr"],
            "is_home": s["is_home"],
            "days_rest": ctx.get("days_rest"),
            "is_placeholder": bool(s["is_placeholder"]),
            "composite_fallback": bool((cf.get(key) or {}).get("composite_fallback")) and not s["is_placeholder"],
            "last10_n": h.get("last10_n"),
            "total_games": h.get("total_games"),
            "contributing_game_dates": h.get("contributing_game_dates"),
        }
        if s["is_placeholder"]:
            out_rows.append(
                {
                    **base,
                    "feature_values": None,
                    "feature_tags": None,
                    "cache_miss_fallback_used": None,
                    "vegas_line_source": None,
                }
            )
            continue
        ctx_team = ctx.get("team_abbr") if upgc else None
        values: list = [None] * FEATURE_COUNT
        tags: list = [None] * FEATURE_COUNT

        # ---- P4 (§2.5): Q1 or C, then Q2, Q3, Q4
        p4: dict = {}
        cache = dc.get(key)
        cache_miss_used = False
        if (cache is not None and cache["row_found"]) or not profile.cache_miss_fallback:
            for name in (
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
            ):
                if cache is not None and cache["row_found"]:
                    p4[name] = cache[name]
        else:
            team_key_date = day
            emitted, c = cache_miss_values(
                last10.get(key, []),
                day,
                minutes_type,
                h.get("season_points_avg"),
                lambda team: sorted(team_rows.get((team, team_key_date), []), key=lambda r: r["slot"]),
                ctx_team,
                profile.cache_miss_games_window_days,
            )
            if not emitted:
                continue
            p4.update(c)
            cache_miss_used = bool(c)
        comp = cf.get(key)
        if comp is not None and comp["row_found"]:
            for name in ("fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score"):
                p4[name] = comp[name]
        zone = sz.get(key)
        if zone is not None and zone["row_found"]:
            for name in ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10"):
                p4[name] = zone[name]
        defense = td.get(key)
        if defense is not None and defense["row_found"]:
            p4["opponent_def_rating"] = defense["opponent_def_rating"]
            p4["opponent_pace"] = defense["opponent_pace"]

        def with_fallback(i, field, p3):
            v4 = p4.get(field)
            if is_present(v4):
                values[i], tags[i] = float(v4), "phase4"
            elif is_present(p3):
                values[i], tags[i] = float(p3), "phase3"
            else:
                values[i], tags[i] = default(i), "default"

        def phase4_only(i, field):
            with_fallback(i, field, None)

        with_fallback(0, "points_avg_last_5", h.get("p3_points_avg_last_5"))
        with_fallback(1, "points_avg_last_10", h.get("p3_points_avg_last_10"))
        with_fallback(2, "points_avg_season", h.get("season_points_avg"))
        phase4_only(3, "points_std_last_10")
        games_p3 = ctx.get("games_in_last_7_days") if upgc and profile.phase3_games_in_last_7_days else None
        with_fallback(4, "games_in_last_7_days", games_p3)
        for i, name in (
            (5, "fatigue_score"),
            (6, "shot_zone_mismatch_score"),
            (7, "pace_score"),
            (8, "usage_spike_score"),
        ):
            phase4_only(i, name)

        # 9 rest_advantage, 10 injury_risk (F37, unchanged)
        rest, opp_rest = ctx.get("days_rest"), ctx.get("opponent_days_rest")
        if upgc and rest is not None and opp_rest is not None:
            values[9] = py_max(-2.0, py_min(2.0, float(rest - opp_rest)))
        else:
            values[9] = default(9)
        tags[9] = "calculated"
        status = ctx.get("player_status")
        values[10] = INJURY_RISK.get(status.lower(), default(10)) if status is not None else default(10)
        tags[10] = "calculated"

        # 11 recent_trend (§2.7): A = two newest, B = next three, diff = A - B (NULL points -> 0);
        # the reference rule: next two minus newest three
        lst = last10.get(key, [])
        if len(lst) < 5:
            values[11] = 0.0
        else:
            p = [r["points"] or 0 for r in lst[:5]]
            if profile.recent_trend_newest_first:
                diff = (p[0] + p[1]) / 2.0 - (p[2] + p[3] + p[4]) / 3.0
            else:
                diff = (p[3] + p[4]) / 2.0 - (p[0] + p[1] + p[2]) / 3.0
            values[11] = 2.0 if diff >= 5 else 1.0 if diff >= 2 else -2.0 if diff <= -5 else -1.0 if diff <= -2 else 0.0
        tags[11] = "calculated"

        # 12 minutes_change (F37 rule; recent may be C's minutes average)
        n = h.get("last10_n") or 0
        p4_minutes = p4.get("minutes_avg_last_10")
        if p4_minutes is not None:
            recent = p4_minutes
        elif n >= 1:
            recent = h.get("minutes_list_mean")
        else:
            recent = 0.0
        recent = 0.0 if recent is None else recent
        season_minutes = h.get("season_minutes_avg")
        season_minutes = (
            season_minutes
            if (season_minutes is not None and (math.isnan(season_minutes) or season_minutes != 0.0))
            else 0.0
        )
        if season_minutes == 0.0 or recent == 0.0:
            values[12] = default(12)
        else:
            pct = (recent - season_minutes) / season_minutes
            values[12] = (
                2.0 if pct >= 0.20 else 1.0 if pct >= 0.10 else -2.0 if pct <= -0.20 else -1.0 if pct <= -0.10 else 0.0
            )
        tags[12] = "calculated"

        phase4_only(13, "opponent_def_rating")
        phase4_only(14, "opponent_pace")
        for i, flag in (
            (15, ctx.get("home_game")),
            (16, ctx.get("back_to_back")),
            (
                17,
                (ctx.get("season_phase") or "").lower() == "playoffs" if ctx.get("season_phase") is not None else None,
            ),
        ):
            values[i] = default(i) if not upgc else (1.0 if flag else 0.0)
            tags[i] = "phase3"
        for i, name in ((18, "paint_rate_last_10"), (19, "mid_range_rate_last_10"), (20, "three_pt_rate_last_10")):
            v = p4.get(name)
            if is_present(v):
                assert v is not None  # both presence rules reject None
                values[i], tags[i] = float(v) / 100.0, "phase4"
            else:
                values[i], tags[i] = None, "missing"
        ft = h.get("pct_free_throw")
        values[21], tags[21] = (default(21) if ft is None else ft), "calculated"
        phase4_only(22, "team_pace_last_10")
        phase4_only(23, "team_off_rating_last_10")
        team = tg.get(key)
        if team is not None and team["team_games"] is not None and team["team_games"] >= 5:
            values[24] = round(team["team_wins"] / team["team_games"], 9)
        else:
            values[24] = default(24)
        tags[24] = "calculated"
        line = vg.get(key)
        if line is not None and line["vegas_points_line"] is not None:
            values[25], values[26], values[27] = (
                line["vegas_points_line"],
                line["vegas_opening_line"],
                line["vegas_line_move"],
            )
            tags[25] = tags[26] = tags[27] = "vegas"
            values[28] = 1.0
            line_source = line["vegas_line_source"]
        else:
            tags[25] = tags[26] = tags[27] = "missing"
            values[28] = default(28)
            line_source = "none"
        tags[28] = "calculated"

        # 29, 30 (§2.7)
        opponent_known = bool(s["opponent_team_abbr"])
        season_avg = next(
            (v for v in (p4.get("points_avg_season"), h.get("season_points_avg")) if is_present(v) and v != 0),
            default(29),
        )
        opp_avg = h.get("opp_points_avg")
        if opponent_known and (is_present(opp_avg) or not profile.opponent_no_games_fallback):
            values[29], tags[29] = opp_avg, "opponent_history"
        else:
            assert season_avg is not None  # a present value, or contract.default(29) (a float or raises)
            values[29], tags[29] = float(season_avg), profile.opponent_fallback_tag
        if opponent_known:
            values[30], tags[30] = float(h.get("opp_games") or 0), "opponent_history"
        else:
            values[30], tags[30] = 0.0, profile.opponent_fallback_tag
        # 31, 32 (§2.7)
        mppm = bool(h.get("mppm_present"))
        q11_minutes = h.get("minutes_avg_30d") if mppm else None
        q11_ppm = h.get("ppm_avg_30d") if mppm else None
        if profile.minutes_ppm_phase4_fallback:
            if is_present(q11_minutes):
                values[31], tags[31] = q11_minutes, "minutes_ppm"
            elif is_present(p4.get("minutes_avg_last_10")):
                values[31], tags[31] = float(p4["minutes_avg_last_10"]), "phase4"
            else:
                values[31], tags[31] = default(31), profile.minutes_ppm_missing_tag
            if is_present(q11_ppm):
                values[32], tags[32] = q11_ppm, "minutes_ppm"
            elif is_present(p4.get("ppm_avg_last_10")):
                values[32], tags[32] = float(p4["ppm_avg_last_10"]), "phase4"
            else:
                values[32], tags[32] = default(32), profile.minutes_ppm_missing_tag
        else:  # the reference rule: the Q11 row decides both tags
            tag = "minutes_ppm" if mppm else profile.minutes_ppm_missing_tag
            values[31] = q11_minutes if mppm else default(31)
            values[32] = q11_ppm if mppm and q11_ppm is not None else default(32)
            tags[31] = tags[32] = tag
        dnp = h.get("dnp_rate")
        values[33], tags[33] = (default(33) if dnp is None else dnp), "calculated"
        slope = h.get("pts_slope_10g")
        values[34], tags[34] = (default(34) if slope is None else slope), "calculated"
        # 35, 36 (F37 rule; presence = not NULL)
        l5 = p4.get("points_avg_last_5") if p4.get("points_avg_last_5") is not None else h.get("p3_points_avg_last_5")
        m = p4.get("points_avg_season") if p4.get("points_avg_season") is not None else h.get("season_points_avg")
        sd = p4.get("points_std_last_10")
        # inputs present = l5, m and sd all not None
        if l5 is not None and m is not None and sd is not None and sd != 0.0:
            z = (l5 - m) / sd
            values[35] = round(py_max(-3.0, py_min(3.0, z)), 9)
        else:
            values[35] = default(35)
        values[36] = 1.0 if l5 is not None and m is not None and sd is not None and (l5 > m + 1.5 * sd) else default(36)
        tags[35] = tags[36] = "calculated"

        # ---- 37-59 (§5)
        def from_ctx(i, column, convert=float, absent=NAN):
            v = ctx.get(column) if upgc else None
            if v is not None:
                values[i], tags[i] = convert(v), "phase3"
            else:
                values[i], tags[i] = absent, "missing"

        star = ctx.get("star_teammates_out") if upgc else None
        values[37], tags[37] = (float(star), "phase3") if star is not None else (default(37), "default")
        from_ctx(38, "game_total_e9", e9_to_float, None)
        from_ctx(39, "days_rest")
        from_ctx(40, "minutes_in_last_7_days")
        from_ctx(41, "game_spread_e9", lambda v: abs(e9_to_float(v)))
        gt, gs = ctx.get("game_total_e9") if upgc else None, ctx.get("game_spread_e9") if upgc else None
        if gt is not None and gs is not None:
            gtf, gsf = e9_to_float(gt), e9_to_float(gs)
            values[42] = (gtf - gsf) / 2.0 if ctx.get("home_game") is True else (gtf + gsf) / 2.0
            tags[42] = "phase3"
        else:
            values[42], tags[42] = NAN, "missing"
        r = rolling_values(rolling.get(key, []))
        for i, name in ((43, "l3"), (44, "slope"), (45, "dev"), (46, "below"), (48, "usage"), (49, "gsc")):
            values[i], tags[i] = (r[name], "calculated") if r is not None else (NAN, "missing")
        f = freed.get(key)
        values[47], tags[47] = (e9_to_float(f), "calculated") if f is not None else (NAN, "missing")
        ms = mstd.get(key)
        values[50], tags[50] = ms if ms is not None else (NAN, "missing")
        from_ctx(51, "prop_over_streak")
        from_ctx(52, "prop_under_streak")
        if values[25] is not None:
            values[53], tags[53] = values[25] - values[2], "calculated"
        else:
            values[53], tags[53] = NAN, "missing"
        d = deltas.get(key)
        values[54], tags[54] = (d, "vegas") if d is not None else (NAN, "missing")
        over, margin = line_history_values(lhist.get(key, []))
        values[55], tags[55] = (over, "calculated") if over is not None else (NAN, "missing")
        values[56], tags[56] = (margin, "calculated") if margin is not None else (NAN, "missing")
        risk, vol = opportunity_values(
            opp_players.get(key, []),
            lambda team: (lambda t: None if t is None else t["blowouts"] / t["team_rows"])(opp_teams.get((team, day))),
            minutes_type,
        )
        values[57], tags[57] = (risk, "calculated") if risk is not None else (NAN, "missing")
        values[58], tags[58] = (vol, "calculated") if vol is not None else (NAN, "missing")
        values[59], tags[59] = values[22] - values[14], "calculated"

        fatigue = values[5]
        low, high = profile.fatigue_gate
        if not (present(fatigue) and low <= fatigue <= high):
            continue
        out_rows.append(
            {
                **base,
                "feature_values": [None if v is None else float(v) for v in values],
                "feature_tags": tags,
                "cache_miss_fallback_used": cache_miss_used,
                "vegas_line_source": line_source,
            }
        )

    return _frame(out_rows, profile)


def _frame(rows: list[dict], profile: Profile) -> pl.DataFrame:
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "player_lookup": pl.Utf8,
        "universal_player_id": pl.Utf8,
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "opponent_team_abbr": pl.Utf8,
        "is_home": pl.Boolean,
        "days_rest": pl.Int64,
        "feature_values": pl.List(pl.Float64),
        "feature_tags": pl.List(pl.Utf8),
        "is_placeholder": pl.Boolean,
        "composite_fallback": pl.Boolean,
        "last10_n": pl.Int64,
        "total_games": pl.Int64,
        "contributing_game_dates": pl.List(pl.Date),
        "cache_miss_fallback_used": pl.Boolean,
        "vegas_line_source": pl.Utf8,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    # NaN must survive as NaN inside the lists (pl.DataFrame keeps float NaN as NaN)
    return _finish(frame, profile)


def _finish(frame: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    frame = frame.with_columns(completeness_expr(profile).alias("historical_completeness"))
    return frame.select(
        "player_lookup",
        "universal_player_id",
        "game_date",
        "game_id",
        "opponent_team_abbr",
        "is_home",
        "days_rest",
        "feature_values",
        "feature_tags",
        "is_placeholder",
        "composite_fallback",
        pl.col("historical_completeness").cast(COMPLETENESS_DTYPE),
        "cache_miss_fallback_used",
        "vegas_line_source",
    )
    date, player = pl.col("game_date"), pl.col("player_lookup")
    in_order = (date > date.shift(1)) | ((date == date.shift(1)) & (player > player.shift(1)))
    if frame.height < 2 or frame.select(in_order.slice(1).fill_null(False).all()).item():
        return frame  # already in (game_date, player_lookup) order, each key once: the spine's order
    return frame.sort(["game_date", "player_lookup"])


def compute_head(
    con: duckdb.DuckDBPyConnection,
    params: dict,
    profile: Profile,
    minutes_type: str,
    run_query=_run_query,
    stages: dict[str, float] | None = None,
) -> pl.DataFrame:
    """Spine already built as table `spine`: filter it, run the head extractions and the
    player history, assemble. `stages` (when given) receives the seconds of the stages that are
    not queries, as compute() reports them for the reference assembly: "history" (the player
    history less its queries, when `run_query` records them in `.timings`), "assembly_inputs"
    and "assembly"."""
    from fsengine.engine.history import player_history

    params = head_params(params, profile)
    run_head_core(con, params, run_query)
    timed = getattr(run_query, "timings", None)
    before = dict(timed) if timed is not None else {}
    began = time.perf_counter()
    history = player_history(con, params, minutes_type, run_query, profile)
    if stages is not None:
        queries = sum(s - before.get(name, 0.0) for name, s in timed.items()) if timed is not None else 0.0
        stages["history"] = stages.get("history", 0.0) + max(0.0, time.perf_counter() - began - queries)
    return assemble_head(con, history, profile, minutes_type, stages, release=True)
