"""Independent reference implementation of contract `v2_54features` (profile "head-2026-07"),
written from the spec alone (docs/v2_54/features.md and the round-1
docs/features.md it extends), one (player, D) at a time, in plain Python.

It never imports fsengine (no engine, no snapshot reader, no contract file) and never reads
queries/: it reads the snapshot's Parquet files itself (format 1 or 2: manifest.json plus the
files each table lists) and hard-codes the spec's constants. Its value is independence.

Entry point (how the engine parity test calls it)::

    compute_rows(snapshot_path, start, end, mode="backfill", as_of=None,
                 include_bootstrap=False) -> list[dict]

`start`/`end`/`as_of` are `datetime.date` (or ISO strings); `mode` is "auto", "backfill" or
"production" (F37 §2.1: a backfill date on/after `as_of` is produced in production mode;
`as_of` defaults to today in America/New_York). Only emitted rows are returned (S1, the
cache-miss exception path and the fatigue gate drop rows), ordered by (game_date,
player_lookup). Each dict has:

- keys: `player_lookup`, `game_date`, `universal_player_id`, `game_id`,
  `opponent_team_abbr`, `is_home`, `days_rest`;
- `mode` ("backfill"/"production"), `is_placeholder` (early-season production placeholder);
- `values`: the 60 in-memory values (None = none, float('nan') = NaN, else float);
- `tags`: the 60 raw source tags (None on placeholders);
- `feature_sources_json`: the tags rendered as docs/output.md §3 / O37 §4 (None on placeholders);
- `features`: the stored array (60 floats, None/NaN -> 0.0; placeholders 60 x 0.0);
- `feature_values`: the 60 `feature_N_value` columns (None when the tag is default / missing /
  fallback, and on placeholders);
- `cache_miss_fallback_used` (bool; None on placeholders), `vegas_line_source`
  ("both"/"odds_api"/"bettingpros"/"none"; None on placeholders);
- `historical_completeness` (dict as F37 §8);
- `spine_duplicates`: number of source rows (PGS or UPGC) the spine row collapsed;
- `tie_reasons`: list of inputs with ties this reference noticed (informational, partial).

Readings of points the spec leaves open (see also the report in the test module):
- Full-row tie-break (§0.8 / F37 §0.2): every column of the table in docs/sources.md order (S37
  columns, then v2_54 §2 appended columns), ascending, NULLs last; extra snapshot columns the
  spec says to ignore (PGS fg_makes, Odds API prices, UPGC current_points_line) are not part
  of the order. Same-date PGS duplicates therefore order by their first differing column.
- Production spine: S2 filters UPGC rows before duplicates collapse (F37 §2.3 tie-break over
  the kept rows); Q5′ is the row the spine chose. S1 is not applied to placeholders.
- Cache-miss fallback: step 1 tests every row of the (≤ 10-row) last-10 list; with FLOAT64
  minutes a NULL reads as NaN (no error, not fallback-played) and sums are Python float sums
  in list order (§0.2), one float division; `games_in_last_7_days` counts FP rows with
  game_date >= D − 7.
- O with two or more qualifying team groups: the group whose newest row is newest wins (also
  when the newest row's own group does not qualify).
- M: rows with a NULL player_lookup or NULL bookmaker are ignored (`bookmaker != 'bovada'` is
  NULL for a NULL bookmaker; BettingPros: "a NULL bookmaker fails"). L: a NULL bookmaker is
  its own bookmaker.
- T: distinct (player, team) pairs; a player injured under two teams counts for both; a pair
  with a NULL team never matches a UPGC team; "not in injured(D)" uses every injured player,
  including those whose pair dropped out for lack of usage rows.
- Q11 on the NUMERIC path follows F37 (each ratio rounded to 9 dp, then the mean); upstream's
  golden run used an emulator that rounds only the mean (`q11_round_ratios=False` reproduces
  that, for explaining the vectors only).
- Feature 12 keeps the F37 presence test (a NaN is present) also for C's minutes average;
  feature 35/36 likewise (C's copied NaN season average gives 35 = 3.0, 36 = 0.0).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

DAY = dt.timedelta(days=1)
NINE_DP = Decimal("1e-9")
N_FEATURES = 60
ABSENT_TAGS = ("default", "missing", "fallback")

PGS = "nba_analytics.player_game_summary"
UPGC = "nba_analytics.upcoming_player_game_context"
DAILY_CACHE = "nba_precompute.player_daily_cache"
COMPOSITE = "nba_precompute.player_composite_factors"
SHOT_ZONE = "nba_precompute.player_shot_zone_analysis"
TEAM_DEFENSE = "nba_precompute.team_defense_zone_analysis"
TEAM_OFFENSE = "nba_analytics.team_offense_game_summary"
ODDS = "nba_raw.odds_api_player_points_props"
BETTINGPROS = "nba_raw.bettingpros_player_points_props"
INJURY = "nba_raw.nbac_injury_report"
ACCURACY = "nba_predictions.prediction_accuracy"

# Column order of each table (S37 §2, then the v2_54 §2 appended columns / §3 new tables):
# the full-row tie-break order.
COLUMNS = {
    PGS: [
        "player_lookup",
        "universal_player_id",
        "game_id",
        "game_date",
        "team_abbr",
        "opponent_team_abbr",
        "season_year",
        "points",
        "minutes_played",
        "ft_makes",
        "is_dnp",
        "fg_attempts",
        "paint_attempts",
        "mid_range_attempts",
        "three_pt_attempts",
        "usage_rate",
    ],
    UPGC: [
        "player_lookup",
        "universal_player_id",
        "game_id",
        "game_date",
        "team_abbr",
        "opponent_team_abbr",
        "home_game",
        "back_to_back",
        "season_phase",
        "days_rest",
        "opponent_days_rest",
        "player_status",
        "games_in_last_7_days",
        "star_teammates_out",
        "game_total",
        "minutes_in_last_7_days",
        "game_spread",
        "prop_over_streak",
        "prop_under_streak",
        "avg_minutes_per_game_last_7",
        "has_prop_line",
        "is_production_ready",
    ],
    DAILY_CACHE: [
        "player_lookup",
        "cache_date",
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
    ],
    COMPOSITE: [
        "player_lookup",
        "game_date",
        "fatigue_score",
        "shot_zone_mismatch_score",
        "pace_score",
        "usage_spike_score",
    ],
    SHOT_ZONE: [
        "player_lookup",
        "analysis_date",
        "paint_rate_last_10",
        "mid_range_rate_last_10",
        "three_pt_rate_last_10",
    ],
    TEAM_DEFENSE: ["team_abbr", "analysis_date", "defensive_rating_last_15", "opponent_pace"],
    TEAM_OFFENSE: [
        "team_abbr",
        "game_date",
        "season_year",
        "win_flag",
        "game_id",
        "pace",
        "offensive_rating",
        "margin_of_victory",
    ],
    ODDS: ["player_lookup", "game_date", "bookmaker", "points_line", "snapshot_timestamp", "minutes_before_tipoff"],
    BETTINGPROS: [
        "player_lookup",
        "game_date",
        "market_type",
        "points_line",
        "opening_line",
        "created_at",
        "bookmaker",
    ],
    INJURY: ["report_date", "player_lookup", "team", "injury_status", "report_hour", "game_date"],
    ACCURACY: ["player_lookup", "game_date", "line_value", "recommendation", "system_id"],
}

# Built-in season starts (F37 §2.5) and fixed windows of the profile.
SEASON_STARTS = {
    2021: dt.date(2021, 10, 19),
    2022: dt.date(2022, 10, 18),
    2023: dt.date(2023, 10, 24),
    2024: dt.date(2024, 10, 22),
    2025: dt.date(2025, 10, 21),
}
EARLY_SEASON_DAYS = 14
LAST10_DAYS = 60
TOTAL_GAMES_DAYS = 365
MINUTES_PPM_DAYS = 30

SPINE_KEYS = ["game_id", "team_abbr", "opponent_team_abbr", "universal_player_id"]
INJURY_RISK = {"available": 0.0, "probable": 1.0, "questionable": 2.0, "doubtful": 3.0, "out": 3.0}
DFS_BOOKS = {"prizepicks", "propswap", "fliff", "underdog", "sleeper"}

Q1_FIELDS = [
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
]
Q2_FIELDS = ["fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score"]
Q3_FIELDS = ["paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10"]
Q4_FIELDS = {"opponent_def_rating": "defensive_rating_last_15", "opponent_pace": "opponent_pace"}

PLACEHOLDER_COMPLETENESS = {
    "games_found": 0,
    "games_expected": 0,
    "is_complete": True,
    "is_bootstrap": True,
    "contributing_game_dates": [],
}

# --------------------------------------------------------------------------- arithmetic


def is_nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def present54(x) -> bool:
    """§0.1: present = neither NULL nor NaN."""
    return x is not None and not is_nan(x)


def present37(x) -> bool:
    """F37 §4.3: present = not NULL (NaN is present)."""
    return x is not None


def to_float(x):
    return None if x is None else float(x)


def float_sum(values) -> float:
    """§0.2: Python 3.11 `sum`: left to right from the integer 0, each addition in float64."""
    total = 0
    for v in values:
        total = total + v
    return total


def float_mean(values) -> float:
    values = list(values)
    return float_sum(values) / len(values)


def nearest_sqrt(q: Fraction) -> float:
    """The float64 nearest to the exact square root of the non-negative rational q."""
    if q < 0:
        raise ValueError("negative variance")
    if q == 0:
        return 0.0
    x = math.sqrt(float(q))
    # walk to the pair of adjacent floats bracketing sqrt(q), then compare with the midpoint
    while Fraction(x) * Fraction(x) > q:
        x = math.nextafter(x, 0.0)
    while True:
        up = math.nextafter(x, math.inf)
        if Fraction(up) * Fraction(up) <= q:
            x = up
            continue
        break
    # now x^2 <= q < up^2
    mid = (Fraction(x) + Fraction(up)) / 2
    if mid * mid < q:
        return up
    if mid * mid > q:
        return x
    # exact tie: round half to even on the significand
    return x if (math.frexp(x)[0] * 2**53) % 2 == 0 else up


def stdev_exact(values) -> float:
    """§0.3 / §0.5: nearest float64 to the exact sample standard deviation (n >= 2)."""
    xs = [Fraction(v) for v in values]
    n = len(xs)
    mean = sum(xs, Fraction(0)) / n
    var = sum(((x - mean) ** 2 for x in xs), Fraction(0)) / (n - 1)
    return nearest_sqrt(var)


def numeric_sum(values) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 100
        return sum((Decimal(v) for v in values), Decimal(0))


def numeric_avg(values) -> Decimal:
    """BigQuery NUMERIC AVG (§0.4): exact mean rounded to 9 dp, half away from zero."""
    values = list(values)
    with localcontext() as ctx:
        ctx.prec = 100
        q = numeric_sum(values) / Decimal(len(values))
        return q.quantize(NINE_DP, rounding=ROUND_HALF_UP)


def numeric_div(numerator, denominator) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 100
        q = Decimal(numerator) / Decimal(denominator)
        return q.quantize(NINE_DP, rounding=ROUND_HALF_UP)


def _round9_half_up(q: Fraction) -> Decimal:
    """An exact rational rounded to 9 dp, half away from zero."""
    scaled = q * 10**9
    n = abs(scaled)
    whole = n.numerator // n.denominator
    if (n - whole) * 2 >= 1:
        whole += 1
    return Decimal(whole if scaled >= 0 else -whole).scaleb(-9)


PY_DECIMAL = Context()  # prec 28, ROUND_HALF_EVEN: Python's default decimal context


def py_decimal_div(numerator: Decimal, denominator) -> Decimal:
    """§0.4 Python decimal: exact operands, quotient rounded to 28 significant digits half-even."""
    return PY_DECIMAL.divide(Decimal(numerator), Decimal(denominator))


def minus_year(day: dt.date) -> dt.date:
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return dt.date(day.year - 1, day.month, day.day)


def season_of(day: dt.date) -> int:
    return day.year if day.month >= 10 else day.year - 1


def full_row_key(row: dict, table: str, keys=()) -> tuple:
    """Named keys, then every column in docs/sources.md order; ascending, NULLs last."""
    parts = []
    for name in list(keys) + COLUMNS[table]:
        v = row.get(name)
        parts.append((1,) if v is None else (0, v))
    return tuple(parts)


def first_row(rows, table, keys=()):
    return min(rows, key=lambda r: full_row_key(r, table, keys))


def newest_first(rows, table):
    """game_date DESC, game_id ASC, then the full row ascending."""
    ordered = sorted(rows, key=lambda r: full_row_key(r, table, ["game_id"]))
    ordered.sort(key=lambda r: r["game_date"], reverse=True)
    return ordered


def oldest_first(rows, table):
    """game_date ASC, game_id ASC, then the full row ascending."""
    ordered = sorted(rows, key=lambda r: full_row_key(r, table, ["game_id"]))
    ordered.sort(key=lambda r: r["game_date"])
    return ordered


def _as_date(x) -> dt.date:
    return dt.date.fromisoformat(x) if isinstance(x, str) else x


def round_lower_median(values):
    """§0.6: value at 0-based position (k - 1) div 2 of the ascending values."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


# --------------------------------------------------------------------------- snapshot


def read_snapshot(path) -> tuple[dict, dict[str, list[dict]]]:
    """manifest + every table as Python rows (read straight from the Parquet files)."""
    root = Path(path)
    manifest = json.loads((root / "manifest.json").read_text())
    contracts = manifest.get("contracts", ["v2_37features"]) if manifest.get("format") == 2 else ["v2_37features"]
    if "v2_54features" not in contracts:
        raise ValueError(f"snapshot {root} was taken for contracts {contracts}, not v2_54features")
    tables = {}
    for name, table in manifest["tables"].items():
        parts = [pq.read_table(root / f["path"]) for f in table.get("files", [])]
        if not parts:
            tables[name] = []
            continue
        data = pa.concat_tables(parts, promote_options="default") if len(parts) > 1 else parts[0]
        tables[name] = data.to_pylist()
    return manifest, tables


def minutes_type(manifest) -> str:
    for col in manifest["tables"][PGS]["columns"]:
        if col["name"] == "minutes_played":
            return col["type"]
    raise KeyError("minutes_played")


# --------------------------------------------------------------------------- the world


class ReferenceWorld54:
    def __init__(self, snapshot_path, *, q11_round_ratios: bool = True):
        # q11_round_ratios: F37 Q11's NUMERIC path rounds each points/minutes ratio to 9 dp
        # (the spec, default). False = the emulator upstream ran on (vectors/README.md): exact
        # ratios, only the mean rounded to 9 dp. Used only to explain the golden vectors.
        self.q11_round_ratios = q11_round_ratios
        self.manifest, tables = read_snapshot(snapshot_path)
        self.minutes_type = minutes_type(self.manifest)
        self.numeric = self.minutes_type == "NUMERIC"
        self.float_minutes = self.minutes_type == "FLOAT64"

        self.pgs_by_player: dict[str, list[dict]] = defaultdict(list)
        self.pgs_by_date: dict[dt.date, list[dict]] = defaultdict(list)
        self.first_pgs_date: dict[int, dt.date] = {}
        for r in tables.get(PGS, []):
            self.pgs_by_player[r["player_lookup"]].append(r)
            self.pgs_by_date[r["game_date"]].append(r)
            s = r["season_year"]
            if s is not None and (s not in self.first_pgs_date or r["game_date"] < self.first_pgs_date[s]):
                self.first_pgs_date[s] = r["game_date"]

        self.upgc_by_date: dict[dt.date, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for r in tables.get(UPGC, []):
            self.upgc_by_date[r["game_date"]][r["player_lookup"]].append(r)

        def index(rows, date_col, who):
            out = defaultdict(list)
            for r in rows:
                out[(r[who], r[date_col])].append(r)
            return out

        self.daily_cache = index(tables.get(DAILY_CACHE, []), "cache_date", "player_lookup")
        self.composite = index(tables.get(COMPOSITE, []), "game_date", "player_lookup")
        self.shot_zone = index(tables.get(SHOT_ZONE, []), "analysis_date", "player_lookup")
        self.team_defense = index(tables.get(TEAM_DEFENSE, []), "analysis_date", "team_abbr")

        self.team_offense: dict[str, list[dict]] = defaultdict(list)
        for r in tables.get(TEAM_OFFENSE, []):
            self.team_offense[r["team_abbr"]].append(r)

        self.odds_by_date: dict[dt.date, list[dict]] = defaultdict(list)
        for r in tables.get(ODDS, []):
            self.odds_by_date[r["game_date"]].append(r)
        self.bp_by_date: dict[dt.date, list[dict]] = defaultdict(list)
        for r in tables.get(BETTINGPROS, []):
            self.bp_by_date[r["game_date"]].append(r)
        self.injury_by_date: dict[dt.date, list[dict]] = defaultdict(list)
        for r in tables.get(INJURY, []):
            self.injury_by_date[r["report_date"]].append(r)
        # H step 1: graded line per (player, game_date)
        self.graded_line: dict[tuple, Decimal] = {}
        for r in tables.get(ACCURACY, []):
            lv = r["line_value"]
            if lv is None or not lv > 0 or r["recommendation"] not in ("OVER", "UNDER"):
                continue
            key = (r["player_lookup"], r["game_date"])
            if key not in self.graded_line or lv > self.graded_line[key]:
                self.graded_line[key] = lv

        self._per_date_cache: dict[tuple, object] = {}

    # ------------------------------------------------------------------ small lookups

    def pgs_between(self, player, lo, hi):
        return [r for r in self.pgs_by_player.get(player, []) if lo <= r["game_date"] <= hi]

    def season_start(self, season):
        if season in SEASON_STARTS:
            return SEASON_STARTS[season]
        if season in self.first_pgs_date:
            return self.first_pgs_date[season]
        return dt.date(season, 10, 22)

    def is_early_season(self, day):
        return 0 <= (day - self.season_start(season_of(day))).days < EARLY_SEASON_DAYS

    # ------------------------------------------------------------------ spine (§1)

    @staticmethod
    def s2_passes(r) -> bool:
        """S2 in SQL three-valued logic (NULL fails)."""
        avg = r.get("avg_minutes_per_game_last_7")
        avg = Decimal(0) if avg is None else avg
        c1 = (avg >= 15) or (r.get("has_prop_line") is True)
        status = r.get("player_status")
        c2 = status is None or status not in ("OUT", "DOUBTFUL")
        c3 = (r.get("is_production_ready") is True) or (r.get("has_prop_line") is True)
        return bool(c1 and c2 and c3)

    def spine_for_date(self, day, date_mode, include_bootstrap):
        early = self.is_early_season(day)
        if date_mode == "backfill" and early and not include_bootstrap:
            return []
        if date_mode == "backfill":
            groups = defaultdict(list)
            for r in self.pgs_by_date.get(day, []):
                groups[r["player_lookup"]].append(r)
            table = PGS
        else:
            groups = defaultdict(list)
            for player, rows in self.upgc_by_date.get(day, {}).items():
                kept = [r for r in rows if self.s2_passes(r)]
                if kept:
                    groups[player] = kept
            table = UPGC
        placeholder = date_mode == "production" and early
        out = []
        for player in sorted(groups, key=lambda p: (p is None, p)):
            chosen = first_row(groups[player], table, SPINE_KEYS)
            if not placeholder and not self.pgs_between(player, day - dt.timedelta(days=LAST10_DAYS), day - DAY):
                continue  # S1
            if date_mode == "backfill":
                tokens = (chosen["game_id"] or "").split("_")
                is_home = len(tokens) >= 3 and tokens[2] == chosen["team_abbr"]
            else:
                is_home = chosen["home_game"]
            out.append(
                {
                    "player_lookup": player,
                    "game_date": day,
                    "row": chosen,
                    "table": table,
                    "is_home": is_home,
                    "is_placeholder": placeholder,
                    "mode": date_mode,
                    "n_dups": len(groups[player]),
                }
            )
        return out

    # ------------------------------------------------------------------ Q1-Q4 exact date

    def exact(self, index, who, day, table, ties, label):
        rows = index.get((who, day))
        if not rows:
            return None
        if len(rows) > 1:
            ties.append(label)
        return first_row(rows, table)

    # ------------------------------------------------------------------ Q5'

    def q5(self, player, day, spine_row, ties):
        if spine_row["table"] == UPGC:
            return spine_row["row"]
        rows = self.upgc_by_date.get(day, {}).get(player, [])
        if not rows:
            return None
        if len(rows) > 1 and len({tuple(repr(r.get(c)) for c in COLUMNS[UPGC]) for r in rows}) > 1:
            ties.append("upgc_duplicates")
        return first_row(rows, UPGC, SPINE_KEYS)

    # ------------------------------------------------------------------ Q6', Q7, Q8', Q10, Q11

    def last10(self, player, day, ties):
        window = self.pgs_between(player, day - dt.timedelta(days=LAST10_DAYS), day - DAY)
        ordered = newest_first(window, PGS)
        chosen = ordered[:10]
        by_date = defaultdict(set)
        for r in chosen:
            by_date[r["game_date"]].add(tuple(repr(r.get(c)) for c in COLUMNS[PGS]))
        if any(len(v) > 1 for v in by_date.values()):
            ties.append("last10_same_date")  # same-date rows that differ: order decides
        total = len(self.pgs_between(player, day - dt.timedelta(days=TOTAL_GAMES_DAYS), day - DAY))
        return chosen, total

    def q7(self, player, day):
        season = season_of(day)
        rows = [r for r in self.pgs_between(player, dt.date(season, 10, 1), day - DAY) if r["season_year"] == season]
        if not rows:
            return None
        rows = oldest_first(rows, PGS)
        pts = [r["points"] for r in rows if r["points"] is not None]
        points_avg = sum(pts) / len(pts) if pts else float("nan")
        # A NaN stored in a FLOAT64 minutes column is a NULL (docs/sources.md §2.1: FLOAT64 is treated
        # like INT64, "NULL, never NaN"), as Q6 and Q11 below already read it; N3's NaN comes
        # only from having no non-NULL value.
        mins = [
            r["minutes_played"] for r in rows if r["minutes_played"] is not None and not is_nan(r["minutes_played"])
        ]
        if self.numeric:
            minutes_avg = float(numeric_avg(mins)) if mins else None
        else:
            minutes_avg = self._avg_nonnumeric(mins) if mins else float("nan")
        return {"points_avg_season": points_avg, "minutes_avg_season": minutes_avg}

    @staticmethod
    def _avg_nonnumeric(values):
        """F37 §0.3: INT64 -> exact integer sum / count; float64 -> running sum then ÷ count."""
        if all(isinstance(v, int) for v in values):
            return sum(values) / len(values)
        total = float(values[0])
        for v in values[1:]:
            total = total + float(v)
        return total / len(values)

    def q8_rows(self, team, day):
        """Q8′: team rows of season S in [Oct 1 of S, D − 1], game_date ASC, game_id ASC."""
        season = season_of(day)
        lo = dt.date(season, 10, 1)
        rows = [
            r
            for r in self.team_offense.get(team, [])
            if r["season_year"] == season and lo <= r["game_date"] <= day - DAY
        ]
        return oldest_first(rows, TEAM_OFFENSE)

    def q10(self, player, day, opponent):
        rows = [r for r in self.pgs_between(player, minus_year(day), day - DAY) if r["opponent_team_abbr"] == opponent]
        pts = [r["points"] for r in rows if r["points"] is not None]
        return len(rows), (sum(pts) / len(pts) if pts else float("nan"))

    def q11(self, player, day):
        window = self.pgs_between(player, day - dt.timedelta(days=MINUTES_PPM_DAYS), day - DAY)
        rows = oldest_first(
            [
                r
                for r in window
                if r["minutes_played"] is not None and not is_nan(r["minutes_played"]) and r["minutes_played"] > 0
            ],
            PGS,
        )
        if not rows:
            return None
        mins = [r["minutes_played"] for r in rows]
        with_points = [r for r in rows if r["points"] is not None]
        if self.numeric:
            minutes_avg = float(numeric_avg(mins))
            if self.q11_round_ratios:
                ratios = [numeric_div(r["points"], r["minutes_played"]) for r in with_points]
                ppm = float(numeric_avg(ratios)) if ratios else None
            else:
                exact = [Fraction(r["points"]) / Fraction(r["minutes_played"]) for r in with_points]
                ppm = float(_round9_half_up(sum(exact, Fraction(0)) / len(exact))) if exact else None
        else:
            minutes_avg = self._avg_nonnumeric(mins)
            ratios = [r["points"] / r["minutes_played"] for r in with_points]
            ppm = self._avg_nonnumeric(ratios) if ratios else float("nan")
        return {"minutes_avg": minutes_avg, "ppm_avg": ppm}

    # ------------------------------------------------------------------ Q9′

    def q9(self, player, day, ties):
        odds = [
            r
            for r in self.odds_by_date.get(day, [])
            if r["player_lookup"] == player
            and r["points_line"] is not None
            and r["points_line"] > 0
            and r["minutes_before_tipoff"] is not None
            and r["minutes_before_tipoff"] >= 0
        ]
        oa_cur = oa_open = None
        if odds:

            def prio(r):
                return 0 if r["bookmaker"] == "draftkings" else 1

            cur = min(odds, key=lambda r: (prio(r), -_ts(r["snapshot_timestamp"]), r["points_line"]))
            opn = min(odds, key=lambda r: (prio(r), _ts(r["snapshot_timestamp"]), r["points_line"]))
            oa_cur, oa_open = cur["points_line"], opn["points_line"]
            for top in (cur, opn):
                same = {
                    r["points_line"]
                    for r in odds
                    if prio(r) == prio(top) and r["snapshot_timestamp"] == top["snapshot_timestamp"]
                }
                if len(same) > 1:
                    ties.append("q9_odds_api_shared_snapshot")
                    break
        props = [
            r
            for r in self.bp_by_date.get(day, [])
            if r["player_lookup"] == player
            and r["market_type"] == "points"
            and r["points_line"] is not None
            and r["points_line"] > 0
        ]
        bp_cur = bp_open = None
        if props:
            top = min(
                props,
                key=lambda r: (
                    -_ts(r["created_at"]),
                    r["points_line"],
                    (1,) if r["opening_line"] is None else (0, r["opening_line"]),
                ),
            )
            bp_cur, bp_open = top["points_line"], top["opening_line"]
            same = {(r["points_line"], r["opening_line"]) for r in props if r["created_at"] == top["created_at"]}
            if len(same) > 1:
                ties.append("q9_bettingpros_created_at")
        if odds and props:
            source = "both"
        elif odds:
            source = "odds_api"
        elif props:
            source = "bettingpros"
        else:
            source = "none"
        if oa_cur is None and bp_cur is None:
            return None, source
        cur = oa_cur if oa_cur is not None else bp_cur
        open_sql = next(v for v in (oa_open, bp_open, oa_cur, bp_cur) if v is not None)
        return {"line": cur, "opening": open_sql if open_sql != 0 else cur, "move": cur - open_sql}, source

    # ------------------------------------------------------------------ §2.4 cache-miss fallback

    def cache_miss(self, day, last10, q5row, q7row):
        """Returns (C dict, raised). `raised` = the exception path of step 1."""
        if not self.float_minutes:
            for r in last10:
                if r["is_dnp"] is not True and r["minutes_played"] is None:
                    return {}, True

        def minutes(r):
            m = r["minutes_played"]
            if m is None and self.float_minutes:
                return float("nan")
            return m

        fp = [r for r in last10 if r["is_dnp"] is not True and minutes(r) is not None and minutes(r) > 0]
        if not fp:
            return {}, False
        f5, f10 = fp[:5], fp[:10]
        c: dict = {}
        p5 = [r["points"] for r in f5 if r["points"] is not None]
        if p5:
            c["points_avg_last_5"] = sum(p5) / len(p5)
        p10 = [r["points"] for r in f10 if r["points"] is not None]
        if p10:
            c["points_avg_last_10"] = sum(p10) / len(p10)
            c["points_std_last_10"] = stdev_exact(p10) if len(p10) >= 2 else 0.0
        mins = [minutes(r) for r in f10]
        points_total = sum(r["points"] if r["points"] is not None else 0 for r in f10)
        if self.numeric:
            msum = numeric_sum(mins)
            c["minutes_avg_last_10"] = float(py_decimal_div(msum, len(f10)))
            if msum > 0:
                c["ppm_avg_last_10"] = float(py_decimal_div(Decimal(points_total), msum))
        elif self.float_minutes:
            msum = float_sum(mins)
            c["minutes_avg_last_10"] = msum / len(f10)
            if msum > 0:
                c["ppm_avg_last_10"] = points_total / msum
        else:
            msum = sum(mins)
            c["minutes_avg_last_10"] = msum / len(f10)
            if msum > 0:
                c["ppm_avg_last_10"] = points_total / msum
        c["games_in_last_7_days"] = float(sum(1 for r in fp if r["game_date"] >= day - dt.timedelta(days=7)))
        if q7row is not None:
            c["points_avg_season"] = q7row["points_avg_season"]
        fga = sum(r["fg_attempts"] or 0 for r in f10)
        if fga > 0:
            c["paint_rate_last_10"] = sum(r["paint_attempts"] or 0 for r in f10) / fga
            c["mid_range_rate_last_10"] = sum(r["mid_range_attempts"] or 0 for r in f10) / fga
            c["three_pt_rate_last_10"] = sum(r["three_pt_attempts"] or 0 for r in f10) / fga
        team = q5row["team_abbr"] if q5row is not None and q5row["team_abbr"] else fp[0]["team_abbr"]
        if team:
            team_rows = self.q8_rows(team, day)[-10:]
            for key, col in (("team_pace_last_10", "pace"), ("team_off_rating_last_10", "offensive_rating")):
                vals = [r[col] for r in team_rows if r[col] is not None]
                if vals:
                    c[key] = float(py_decimal_div(numeric_sum(vals), len(vals)))
        return c, False

    # ------------------------------------------------------------------ R

    def rolling(self, player, day):
        rows = [
            r
            for r in self.pgs_between(player, day - dt.timedelta(days=60), day - DAY)
            if r["points"] is not None
            and r["minutes_played"] is not None
            and not is_nan(r["minutes_played"])
            and r["minutes_played"] > 0
        ]
        rows = oldest_first(rows, PGS)
        m = len(rows)
        if m == 0:
            return None
        y = [float(r["points"]) for r in rows]
        l3 = float_mean(y[-3:])
        if m >= 4:
            n = min(7, m)
            ys = [r["points"] for r in rows[-n:]]
            xs = list(range(1, n + 1))
            sx, sy = sum(xs), sum(ys)
            sxy = sum(a * b for a, b in zip(xs, ys))
            sxx = sum(a * a for a in xs)
            slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
        else:
            slope = 0.0
        mean60 = float_mean(y)
        if m >= 2:
            s = float_sum([(v - mean60) ** 2 for v in y])
            sd = (s / (m - 1)) ** 0.5
        else:
            sd = 5.0
        dev = (l3 - mean60) / sd if sd > 0 else 0.0
        below = 0
        for v in reversed(y):
            if v < mean60:
                below += 1
            else:
                break
        u = [float(r["usage_rate"]) for r in rows if r["usage_rate"] is not None]
        usage = float_mean(u[-5:]) if len(u) >= 3 else 20.0
        gsc = float(min(m, 30))
        for i in range(m, 1, -1):  # 1-based i
            cur, prev = rows[i - 1], rows[i - 2]
            if cur["team_abbr"] != prev["team_abbr"] or (cur["game_date"] - prev["game_date"]).days > 14:
                gsc = float(m - i)
                break
        return {"l3": l3, "slope": slope, "dev": dev, "below": float(below), "usage": usage, "gsc": gsc}

    # ------------------------------------------------------------------ T (per date)

    def teammate_usage(self, day):
        key = ("T", day)
        if key in self._per_date_cache:
            return self._per_date_cache[key]
        injured = set()
        for r in self.injury_by_date.get(day, []):
            if r["player_lookup"] is None or r["injury_status"] is None:
                continue
            if r["injury_status"].lower() in ("out", "doubtful"):
                injured.add((r["player_lookup"], r["team"]))
        freed: dict[str, Decimal] = {}
        for p, team in injured:
            rows = [
                r
                for r in self.pgs_between(p, day - dt.timedelta(days=30), day - DAY)
                if r["usage_rate"] is not None
                and r["minutes_played"] is not None
                and not is_nan(r["minutes_played"])
                and r["minutes_played"] > 10
            ]
            if not rows:
                continue
            a = numeric_avg([r["usage_rate"] for r in rows])
            if team is None:
                continue
            freed[team] = numeric_sum([freed.get(team, Decimal(0)), a])
        result = (freed, {p for p, _ in injured})
        self._per_date_cache[key] = result
        return result

    # ------------------------------------------------------------------ M (per date)

    @staticmethod
    def _latest_per_book(rows, ts_col, table):
        by_book = defaultdict(list)
        for r in rows:
            by_book[(r["player_lookup"], r["bookmaker"])].append(r)
        out = defaultdict(list)  # player -> [(book, line)]
        tie = set()
        for (player, book), rs in by_book.items():
            top = min(rs, key=lambda r: (-_ts(r[ts_col]), r["points_line"], full_row_key(r, table)))
            same = {r["points_line"] for r in rs if r[ts_col] == top[ts_col]}
            if len(same) > 1:
                tie.add(player)
            out[player].append(top["points_line"])
        return out, tie

    def multi_book(self, day):
        key = ("M", day)
        if key in self._per_date_cache:
            return self._per_date_cache[key]
        odds = [
            r
            for r in self.odds_by_date.get(day, [])
            if r["player_lookup"] is not None
            and r["points_line"] is not None
            and r["points_line"] > 0
            and r["bookmaker"] is not None
            and r["bookmaker"] != "bovada"
            and r["minutes_before_tipoff"] is not None
            and r["minutes_before_tipoff"] >= 0
        ]
        lines, tie = self._latest_per_book(odds, "snapshot_timestamp", ODDS)
        result = {p: (stdev_exact(ls), "vegas") for p, ls in lines.items() if len(ls) >= 2}
        max_std = max((v for v, _ in result.values()), default=0.0)
        if not result or max_std < 0.3:
            bp = [
                r
                for r in self.bp_by_date.get(day, [])
                if r["player_lookup"] is not None
                and r["market_type"] == "points"
                and r["points_line"] is not None
                and r["points_line"] > 0
                and r["bookmaker"] is not None
                and r["bookmaker"].lower() not in DFS_BOOKS
            ]
            bp_lines, bp_tie = self._latest_per_book(bp, "created_at", BETTINGPROS)
            tie |= bp_tie
            for p, ls in bp_lines.items():
                if p not in result and len(ls) >= 2:
                    result[p] = (stdev_exact(ls), "bettingpros")
        out = (result, tie)
        self._per_date_cache[key] = out
        return out

    # ------------------------------------------------------------------ L (per date)

    def consensus(self, day):
        key = ("cons", day)
        if key in self._per_date_cache:
            return self._per_date_cache[key]
        rows = [
            r
            for r in self.odds_by_date.get(day, [])
            if r["player_lookup"] is not None
            and r["points_line"] is not None
            and r["points_line"] > 0
            and r["minutes_before_tipoff"] is not None
            and r["minutes_before_tipoff"] >= 0
        ]
        lines, _ = self._latest_per_book(rows, "snapshot_timestamp", ODDS)
        cons = {}
        for p, ls in lines.items():
            cons[p] = round_lower_median(ls)
        self._per_date_cache[key] = cons
        return cons

    def line_delta(self, player, day):
        now = self.consensus(day).get(player)
        if now is None:
            return None
        for back in range(1, 15):
            prev = self.consensus(day - dt.timedelta(days=back)).get(player)
            if prev is not None:
                return round(now - prev, 1)
        return None

    # ------------------------------------------------------------------ H

    def line_history(self, player, day):
        rows = [
            r
            for r in self.pgs_between(player, day - dt.timedelta(days=60), day - DAY)
            if r["points"] is not None and (player, r["game_date"]) in self.graded_line
        ]
        joined = newest_first(rows, PGS)[:10]
        out = {}
        if len(joined) >= 5:
            overs = sum(1 for r in joined if r["points"] > self.graded_line[(player, r["game_date"])])
            out["over_rate"] = round(overs / len(joined), 9)
        five = joined[:5]
        if len(five) >= 3:
            margins = [Decimal(r["points"]) - self.graded_line[(player, r["game_date"])] for r in five]
            out["margin"] = round(float(numeric_avg(margins)), 9)
        return out

    # ------------------------------------------------------------------ O

    def opportunity(self, player, day):
        rows = [
            r
            for r in self.pgs_between(player, day - dt.timedelta(days=60), day - DAY)
            if r["minutes_played"] is not None and not is_nan(r["minutes_played"]) and r["minutes_played"] > 0
        ]
        newest = newest_first(rows, PGS)[:10]
        groups: dict = {}
        order = []
        for r in newest:
            if r["team_abbr"] not in groups:
                groups[r["team_abbr"]] = []
                order.append(r["team_abbr"])
            groups[r["team_abbr"]].append(r)
        qualifying = [t for t in order if len(groups[t]) >= 3]
        if not qualifying:
            return None
        team = qualifying[0]
        std = stdev_exact([float(r["minutes_played"]) for r in groups[team]])
        team_rows = [
            r for r in self.team_offense.get(team, []) if day - dt.timedelta(days=60) <= r["game_date"] <= day - DAY
        ]
        team_rows = newest_first(team_rows, TEAM_OFFENSE)[:10]
        if team_rows:
            big = sum(1 for r in team_rows if r["margin_of_victory"] is not None and abs(r["margin_of_victory"]) >= 15)
            blowout = round(big / len(team_rows), 4)
        else:
            blowout = 0.2
        return {"blowout": blowout, "volatility": round(std, 2)}

    # ------------------------------------------------------------------ one row

    def row(self, spine_row) -> dict | None:
        player, day = spine_row["player_lookup"], spine_row["game_date"]
        ties: list[str] = []
        if spine_row["n_dups"] > 1:
            ties.append("spine_duplicates")
        ctx = self.q5(player, day, spine_row, ties)
        chosen = spine_row["row"]
        base = {
            "player_lookup": player,
            "game_date": day,
            "universal_player_id": chosen["universal_player_id"],
            "game_id": chosen["game_id"],
            "opponent_team_abbr": chosen["opponent_team_abbr"],
            "is_home": spine_row["is_home"],
            "days_rest": ctx["days_rest"] if ctx is not None else None,
            "mode": spine_row["mode"],
            "is_placeholder": spine_row["is_placeholder"],
            "spine_duplicates": spine_row["n_dups"],
        }
        if spine_row["is_placeholder"]:
            base.update(
                values=[None] * N_FEATURES,
                tags=None,
                feature_sources_json=None,
                features=[0.0] * N_FEATURES,
                feature_values=[None] * N_FEATURES,
                cache_miss_fallback_used=None,
                vegas_line_source=None,
                historical_completeness=dict(PLACEHOLDER_COMPLETENESS),
                tie_reasons=ties,
            )
            return base

        opponent = chosen["opponent_team_abbr"]
        opponent_known = isinstance(opponent, str) and opponent != ""
        last10, total_games = self.last10(player, day, ties)
        n = len(last10)
        q7row = self.q7(player, day)

        # ---- P4 (§2.5)
        p4: dict = {}
        q1 = self.exact(self.daily_cache, player, day, DAILY_CACHE, ties, "q1_duplicates")
        cache_miss_used = False
        if q1 is not None:
            for f in Q1_FIELDS:
                p4[f] = to_float(q1[f])
        else:
            c, raised = self.cache_miss(day, last10, ctx, q7row)
            if raised:
                return None
            p4.update(c)
            cache_miss_used = bool(c)
        q2 = self.exact(self.composite, player, day, COMPOSITE, ties, "q2_duplicates")
        if q2 is not None:
            for f in Q2_FIELDS:
                p4[f] = to_float(q2[f])
        q3 = self.exact(self.shot_zone, player, day, SHOT_ZONE, ties, "q3_duplicates")
        if q3 is not None:
            for f in Q3_FIELDS:
                p4[f] = to_float(q3[f])
        if opponent_known:
            q4 = self.exact(self.team_defense, opponent, day, TEAM_DEFENSE, ties, "q4_duplicates")
            if q4 is not None:
                for k, col in Q4_FIELDS.items():
                    p4[k] = to_float(q4[col])

        # ---- P3
        played = [r for r in last10 if r["points"] is not None and (r["minutes_played"] is not None or r["points"] > 0)]
        p3: dict = {}
        if len(played) >= 5:
            p3["points_avg_last_5"] = sum(r["points"] for r in played[:5]) / 5
        if played:
            sample = played[:10]
            p3["points_avg_last_10"] = sum(r["points"] for r in sample) / len(sample)
        if q7row is not None:
            p3["points_avg_season"] = q7row["points_avg_season"]
        if ctx is not None and ctx.get("games_in_last_7_days") is not None:
            p3["games_in_last_7_days"] = float(ctx["games_in_last_7_days"])

        def with_fallback(field, d):
            if present54(p4.get(field)):
                return float(p4[field]), "phase4"
            if present54(p3.get(field)):
                return float(p3[field]), "phase3"
            return d, "default"

        def phase4_only(field, d):
            if present54(p4.get(field)):
                return float(p4[field]), "phase4"
            return d, "default"

        def nullable(field):
            if present54(p4.get(field)):
                return float(p4[field]), "phase4"
            if present54(p3.get(field)):
                return float(p3[field]), "phase3"
            return None, "missing"

        v: list = [None] * N_FEATURES
        t: list = [None] * N_FEATURES
        v[0], t[0] = with_fallback("points_avg_last_5", 10.0)
        v[1], t[1] = with_fallback("points_avg_last_10", 10.0)
        v[2], t[2] = with_fallback("points_avg_season", 10.0)
        v[3], t[3] = with_fallback("points_std_last_10", 5.0)
        v[4], t[4] = with_fallback("games_in_last_7_days", 3.0)
        v[5], t[5] = phase4_only("fatigue_score", 50.0)
        v[6], t[6] = phase4_only("shot_zone_mismatch_score", 0.0)
        v[7], t[7] = phase4_only("pace_score", 0.0)
        v[8], t[8] = phase4_only("usage_spike_score", 0.0)

        # 9 rest_advantage
        if ctx is None or ctx["days_rest"] is None or ctx["opponent_days_rest"] is None:
            v[9] = 0.0
        else:
            v[9] = max(-2.0, min(2.0, float(ctx["days_rest"] - ctx["opponent_days_rest"])))
        t[9] = "calculated"
        status = (ctx["player_status"] if ctx is not None else None) or ""
        v[10], t[10] = INJURY_RISK.get(status.lower(), 0.0), "calculated"

        points = [r["points"] if r["points"] is not None else 0 for r in last10]
        # 11 recent_trend (§2.7)
        if n < 5:
            v[11] = 0.0
        else:
            a = (points[0] + points[1]) / 2.0
            b = (points[2] + points[3] + points[4]) / 3.0
            diff = a - b
            v[11] = 2.0 if diff >= 5 else 1.0 if diff >= 2 else -2.0 if diff <= -5 else -1.0 if diff <= -2 else 0.0
        t[11] = "calculated"

        # 12 minutes_change (F37 present test)
        if present37(p4.get("minutes_avg_last_10")):
            recent = p4["minutes_avg_last_10"]
        elif n >= 1:
            total = sum(
                (
                    Fraction(r["minutes_played"])
                    if r["minutes_played"] is not None and not is_nan(r["minutes_played"])
                    else Fraction(0)
                )
                for r in last10
            )
            recent = float(total / n)
        else:
            recent = 0.0
        season_minutes = q7row["minutes_avg_season"] if q7row is not None else None
        season = (
            season_minutes if (season_minutes is not None and (is_nan(season_minutes) or season_minutes != 0)) else 0.0
        )
        if season == 0 or recent == 0:
            v[12] = 0.0
        else:
            pct = (float(recent) - float(season)) / float(season)
            v[12] = (
                2.0 if pct >= 0.20 else 1.0 if pct >= 0.10 else -2.0 if pct <= -0.20 else -1.0 if pct <= -0.10 else 0.0
            )
        t[12] = "calculated"

        v[13], t[13] = with_fallback("opponent_def_rating", 112.0)
        v[14], t[14] = with_fallback("opponent_pace", 100.0)
        v[15] = 1.0 if ctx is not None and ctx["home_game"] is True else 0.0
        v[16] = 1.0 if ctx is not None and ctx["back_to_back"] is True else 0.0
        phase = (ctx["season_phase"] if ctx is not None else None) or ""
        v[17] = 1.0 if phase.lower() == "playoffs" else 0.0
        t[15] = t[16] = t[17] = "phase3"
        for i, f in ((18, "paint_rate_last_10"), (19, "mid_range_rate_last_10"), (20, "three_pt_rate_last_10")):
            val, t[i] = nullable(f)
            v[i] = None if val is None else float(val) / 100.0

        # 21 pct_free_throw
        if n < 5:
            v[21] = 0.15
        else:
            ft = sum(r["ft_makes"] if r["ft_makes"] is not None else 0 for r in last10)
            pts = sum(points)
            v[21] = 0.15 if pts == 0 else round(max(0.0, min(0.5, ft / pts)), 9)
        t[21] = "calculated"

        v[22], t[22] = with_fallback("team_pace_last_10", 100.0)
        v[23], t[23] = with_fallback("team_off_rating_last_10", 112.0)

        # 24 team_win_pct (Q8′ season rows)
        team = ctx["team_abbr"] if ctx is not None else None
        v[24] = 0.5
        if team:
            trows = self.q8_rows(team, day)
            if len(trows) >= 5:
                v[24] = round(sum(1 for r in trows if r["win_flag"] is True) / len(trows), 9)
        t[24] = "calculated"

        # 25-28 (Q9′)
        vegas, vegas_source = self.q9(player, day, ties)
        if vegas is not None:
            v[25], v[26], v[27] = float(vegas["line"]), float(vegas["opening"]), float(vegas["move"])
            t[25] = t[26] = t[27] = "vegas"
            v[28] = 1.0
        else:
            t[25] = t[26] = t[27] = "missing"
            v[28] = 0.0
        t[28] = "calculated"

        # 29, 30
        s = 10.0
        for cand in (p4.get("points_avg_season"), p3.get("points_avg_season")):
            if present54(cand) and cand != 0:
                s = float(cand)
                break
        if opponent_known:
            games_vs, avg_vs = self.q10(player, day, opponent)
            if present54(avg_vs):
                v[29], t[29] = float(avg_vs), "opponent_history"
            else:
                v[29], t[29] = s, "calculated"
            v[30], t[30] = float(games_vs), "opponent_history"
        else:
            v[29], t[29] = s, "calculated"
            v[30], t[30] = 0.0, "calculated"

        # 31, 32
        mppm = self.q11(player, day)
        if mppm is not None and present54(mppm["minutes_avg"]):
            v[31], t[31] = float(mppm["minutes_avg"]), "minutes_ppm"
        elif present54(p4.get("minutes_avg_last_10")):
            v[31], t[31] = float(p4["minutes_avg_last_10"]), "phase4"
        else:
            v[31], t[31] = 28.0, "default"
        if mppm is not None and present54(mppm["ppm_avg"]):
            v[32], t[32] = float(mppm["ppm_avg"]), "minutes_ppm"
        elif present54(p4.get("ppm_avg_last_10")):
            v[32], t[32] = float(p4["ppm_avg_last_10"]), "phase4"
        else:
            v[32], t[32] = 0.4, "default"

        # 33 dnp_rate
        v[33] = 0.0 if n < 3 else round(sum(1 for r in last10 if r["is_dnp"] is True) / n, 9)
        t[33] = "calculated"
        # 34 pts_slope_10g
        if n < 5:
            v[34] = 0.0
        else:
            y = [points[n - 1 - j] for j in range(n)]
            x_bar = (n - 1) / 2.0
            y_bar = sum(y) / n
            num = 0.0
            den = 0.0
            for j in range(n):
                num += (j - x_bar) * (y[j] - y_bar)
            for j in range(n):
                den += (j - x_bar) ** 2
            v[34] = round(num / den, 9)
        t[34] = "calculated"
        # 35, 36 (F37 present test: NaN is present)
        l5 = p4.get("points_avg_last_5") if present37(p4.get("points_avg_last_5")) else p3.get("points_avg_last_5")
        mm = p4.get("points_avg_season") if present37(p4.get("points_avg_season")) else p3.get("points_avg_season")
        sd = p4.get("points_std_last_10")
        if l5 is None or mm is None or sd is None or sd == 0:
            v[35] = 0.0
        else:
            v[35] = round(max(-3.0, min(3.0, (l5 - mm) / sd)), 9)
        if l5 is None or mm is None or sd is None:
            v[36] = 0.0
        else:
            v[36] = 1.0 if l5 > mm + 1.5 * sd else 0.0
        t[35] = t[36] = "calculated"

        # ---- 37-59 (§5)
        nan = float("nan")
        for i in range(37, 60):
            v[i] = nan
            t[i] = "missing"
        v[38] = None

        def ctx_value(col):
            return ctx.get(col) if ctx is not None else None

        if ctx_value("star_teammates_out") is not None:
            v[37], t[37] = float(ctx["star_teammates_out"]), "phase3"
        else:
            v[37], t[37] = 0.0, "default"
        if ctx_value("game_total") is not None:
            v[38], t[38] = float(ctx["game_total"]), "phase3"
        if ctx_value("days_rest") is not None:
            v[39], t[39] = float(ctx["days_rest"]), "phase3"
        if ctx_value("minutes_in_last_7_days") is not None:
            v[40], t[40] = float(ctx["minutes_in_last_7_days"]), "phase3"
        if ctx_value("game_spread") is not None:
            v[41], t[41] = abs(float(ctx["game_spread"])), "phase3"
        if ctx_value("game_total") is not None and ctx_value("game_spread") is not None:
            gt, gs = float(ctx["game_total"]), float(ctx["game_spread"])
            v[42] = (gt - gs) / 2.0 if ctx["home_game"] is True else (gt + gs) / 2.0
            t[42] = "phase3"
        r = self.rolling(player, day)
        if r is not None:
            for i, k in ((43, "l3"), (44, "slope"), (45, "dev"), (46, "below"), (48, "usage"), (49, "gsc")):
                v[i], t[i] = float(r[k]), "calculated"
        freed, injured_players = self.teammate_usage(day)
        if ctx is not None and ctx["team_abbr"] in freed and player not in injured_players:
            v[47], t[47] = float(freed[ctx["team_abbr"]]), "calculated"
        mb, mb_tie = self.multi_book(day)
        if player in mb:
            v[50], t[50] = mb[player]
            if player in mb_tie:
                ties.append("multi_book_same_timestamp")
        if ctx_value("prop_over_streak") is not None:
            v[51], t[51] = float(ctx["prop_over_streak"]), "phase3"
        if ctx_value("prop_under_streak") is not None:
            v[52], t[52] = float(ctx["prop_under_streak"]), "phase3"
        if v[25] is not None:
            v[53], t[53] = v[25] - v[2], "calculated"
        ld = self.line_delta(player, day)
        if ld is not None:
            v[54], t[54] = float(ld), "vegas"
        h = self.line_history(player, day)
        if "over_rate" in h:
            v[55], t[55] = h["over_rate"], "calculated"
        if "margin" in h:
            v[56], t[56] = h["margin"], "calculated"
        o = self.opportunity(player, day)
        if o is not None:
            v[57], t[57] = float(o["blowout"]), "calculated"
            v[58], t[58] = float(o["volatility"]), "calculated"
        v[59], t[59] = v[22] - v[14], "calculated"

        # fatigue gate (F37 §2.6)
        if not (0.0 <= v[5] <= 100.0):
            return None

        features = [0.0 if (x is None or is_nan(x)) else x for x in v]
        feature_values = [None if t[i] in ABSENT_TAGS else v[i] for i in range(N_FEATURES)]
        games_expected = min(total_games if n >= 1 else n, 10)
        base.update(
            values=v,
            tags=t,
            features=features,
            feature_values=feature_values,
            feature_sources_json=json.dumps({str(i): t[i] for i in range(N_FEATURES)}),
            cache_miss_fallback_used=cache_miss_used,
            vegas_line_source=vegas_source,
            historical_completeness={
                "games_found": n,
                "games_expected": games_expected,
                "is_complete": n >= games_expected,
                "is_bootstrap": games_expected < 10,
                "contributing_game_dates": [r["game_date"] for r in last10],
            },
            tie_reasons=ties,
        )
        return base

    # ------------------------------------------------------------------ many rows

    def rows(self, start, end, mode="backfill", as_of=None, include_bootstrap=False):
        start, end = _as_date(start), _as_date(end)
        as_of = _as_date(as_of) if as_of is not None else dt.datetime.now(ZoneInfo("America/New_York")).date()
        if mode not in ("auto", "backfill", "production"):
            raise ValueError(f"mode {mode!r}")
        out = []
        day = start
        while day <= end:
            date_mode = "production" if mode == "production" or day >= as_of else "backfill"
            for spine_row in self.spine_for_date(day, date_mode, include_bootstrap):
                r = self.row(spine_row)
                if r is not None:
                    out.append(r)
            day += DAY
        return out


def _ts(value: dt.datetime) -> int:
    """Timestamp as integer microseconds since the epoch."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def compute_rows(
    snapshot_path, start, end, mode="backfill", as_of=None, include_bootstrap=False, *, q11_round_ratios: bool = True
) -> list[dict]:
    """See the module docstring."""
    world = ReferenceWorld54(snapshot_path, q11_round_ratios=q11_round_ratios)
    return world.rows(start, end, mode, as_of, include_bootstrap)
