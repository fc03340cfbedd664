"""Independent reference implementation of docs/features.md (contract v2_37features, profile
"reference"), written from the spec alone, one (player, D) at a time, in plain Python.

It exists to check the engine: it never imports fsengine.engine nor reads queries/. Only the
snapshot reader (file list + validation), the profile (windows, built-in season starts) and
the contract (feature names) are shared.

Value conventions of a row dict (`ReferenceWorld.row`):
- `feature_values`: the 37 in-memory values; None = none (tag `missing`), float('nan') = NaN;
- `feature_tags`: the 37 raw tags (None for placeholders);
- `gated`: True when the fatigue gate (§2.6) drops the row (it is then not emitted);
- `tie_affected`: the inputs contain a tie that upstream resolved arbitrarily (§0.2);
  `tie_reasons` says which (spine/UPGC duplicates disagreeing on what they supply, Q1-Q4
  duplicates at the chosen date with different values, last-10 rows sharing a date with
  different values, Odds API lines sharing the top snapshot, BettingPros rows sharing the top
  created_at with different lines).

Readings of points the spec leaves open (the engine is checked against these):
- Non-NUMERIC AVG over float64 inputs (Q11 ppm_avg ratios; FLOAT64 minutes_played): §0.3's
  float64 running sum in (game_date, game_id) order, then one division; rows that share
  (game_date, game_id) are ordered by §0.2 (every PGS column ascending, NULLs last), which
  only matters for rows that differ, i.e. data errors. AVG over INT64 minutes stays the exact
  integer sum / count.
- FLOAT64 minutes_played takes the INT64 path, N3 NaN included ("NULL, never NaN" read as: the
  column's NULLs stay NULL).
- §0.2 for Q2-Q4 duplicates (named only for Q1 and Q5): no named keys, every column of the
  table in docs/sources.md order, ascending, NULLs last. Named keys also ascending, NULLs last.
- Last-10 order: game_date DESC, then game_id ASC, then every PGS column ASC NULLs last.
- An opponent is known when it is a non-empty string (whitespace counts as known).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from fsengine.contracts import load_contract
from fsengine.contracts.profile import REFERENCE
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.sources import CONTRACT_SOURCES, TABLES

PROFILE = REFERENCE
NINE_DP = Decimal("1e-9")
DAY = dt.timedelta(days=1)

SHORT_KEYS = {t.short: key for key, t in TABLES.items() if key in CONTRACT_SOURCES["v2_37features"]}
COLUMN_ORDER = {t.short: t.column_names for t in TABLES.values()}

# The P4 map keys each Phase-4 row contributes (§4.1), with the source column.
Q1_FIELDS = {
    "points_avg_last_5": "points_avg_last_5",
    "points_avg_last_10": "points_avg_last_10",
    "points_avg_season": "points_avg_season",
    "points_std_last_10": "points_std_last_10",
    "games_in_last_7_days": "games_in_last_7_days",
    "paint_rate_last_10": "paint_rate_last_10",
    "three_pt_rate_last_10": "three_pt_rate_last_10",
    "team_pace_last_10": "team_pace_last_10",
    "team_off_rating_last_10": "team_off_rating_last_10",
    "minutes_avg_last_10": "minutes_avg_last_10",
}
Q2_FIELDS = {
    "fatigue_score": "fatigue_score",
    "shot_zone_mismatch_score": "shot_zone_mismatch_score",
    "pace_score": "pace_score",
    "usage_spike_score": "usage_spike_score",
}
Q3_FIELDS = {
    "paint_rate_last_10": "paint_rate_last_10",
    "mid_range_rate_last_10": "mid_range_rate_last_10",
    "three_pt_rate_last_10": "three_pt_rate_last_10",
}
Q4_FIELDS = {"opponent_def_rating": "defensive_rating_last_15", "opponent_pace": "opponent_pace"}

INJURY = {"available": 0.0, "probable": 1.0, "questionable": 2.0, "doubtful": 3.0, "out": 3.0}

PLACEHOLDER_COMPLETENESS = {
    "games_found": 0,
    "games_expected": 0,
    "is_complete": True,
    "is_bootstrap": True,
    "contributing_game_dates": [],
}


# --------------------------------------------------------------------------- small helpers


def is_nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def present(x) -> bool:
    """§4.3: present = not NULL; NaN is present."""
    return x is not None


def truthy(x) -> bool:
    """§0.4 / feature 29: present and != 0; NaN counts as truthy."""
    return x is not None and (is_nan(x) or x != 0)


def round9(x: float) -> float:
    return round(x, 9)


def to_float(value) -> float | None:
    """P4 / NUMERIC value -> float64 nearest to the exact value (float(dec))."""
    if value is None:
        return None
    return float(value)


def numeric_sum(values) -> Decimal:
    """Exact sum of NUMERIC values (no context rounding)."""
    with localcontext() as ctx:
        ctx.prec = 80
        return sum(values, Decimal(0))


def numeric_div(numerator, denominator) -> Decimal:
    """BigQuery NUMERIC division: exact quotient rounded to 9 dp half away from zero."""
    with localcontext() as ctx:
        ctx.prec = 80
        quotient = Decimal(numerator) / Decimal(denominator)
        return quotient.quantize(NINE_DP, rounding=ROUND_HALF_UP)


def minus_year(day: dt.date) -> dt.date:
    """D − 1 year: same month and day, Feb 29 -> Feb 28 (§0.1)."""
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return dt.date(day.year - 1, day.month, day.day)


def season_of(day: dt.date) -> int:
    return day.year if day.month >= 10 else day.year - 1


def tie_key(row: dict, keys: list[str], columns: list[str]) -> tuple:
    """§0.2 ordering: the named keys, then every column in docs/sources.md order, ascending, NULLs
    last (strings compare by code point = UTF-8 byte order; False < True)."""
    parts = []
    for name in list(keys) + list(columns):
        value = row.get(name)
        parts.append((1,) if value is None else (0, value))
    return tuple(parts)


def first_by_tie_break(rows: list[dict], short: str, keys: list[str] = ()) -> dict:
    return min(rows, key=lambda r: tie_key(r, keys, COLUMN_ORDER[short]))


def differ(rows: list[dict], columns) -> bool:
    """True when the rows do not all agree on `columns` (an arbitrary upstream pick mattered)."""
    seen = {tuple(repr(r.get(c)) for c in columns) for r in rows}
    return len(seen) > 1


def today_new_york() -> dt.date:
    return dt.datetime.now(ZoneInfo("America/New_York")).date()


# --------------------------------------------------------------------------- the world


class ReferenceWorld:
    """All nine tables of one snapshot as Python rows, indexed for per-(player, D) lookups."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self.contract = load_contract(PROFILE.contract)
        self.minutes_numeric = snapshot.minutes_type == "NUMERIC"
        tables = {short: self._read(snapshot, key) for short, key in SHORT_KEYS.items()}

        self.pgs = tables["pgs"]
        self.pgs_by_date: dict[dt.date, list[dict]] = defaultdict(list)
        self.pgs_by_player: dict[str, list[dict]] = defaultdict(list)
        self.first_pgs_date_of_season: dict[int, dt.date] = {}
        for r in self.pgs:
            self.pgs_by_date[r["game_date"]].append(r)
            self.pgs_by_player[r["player_lookup"]].append(r)
            s = r["season_year"]
            if s not in self.first_pgs_date_of_season or r["game_date"] < self.first_pgs_date_of_season[s]:
                self.first_pgs_date_of_season[s] = r["game_date"]
        for rows in self.pgs_by_player.values():
            rows.sort(key=lambda r: r["game_date"])
        self.pgs_dates_by_player = {p: [r["game_date"] for r in rows] for p, rows in self.pgs_by_player.items()}

        self.upgc_by_date: dict[dt.date, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for r in tables["upgc"]:
            self.upgc_by_date[r["game_date"]][r["player_lookup"]].append(r)

        self.daily_cache = self._phase4_index(tables["daily_cache"], "cache_date", "player_lookup")
        self.composite = self._phase4_index(tables["composite"], "game_date", "player_lookup")
        self.shot_zone = self._phase4_index(tables["shot_zone"], "analysis_date", "player_lookup")
        self.team_defense = self._phase4_index(tables["team_defense"], "analysis_date", "team_abbr")

        self.team_offense_by_team: dict[str, list[dict]] = defaultdict(list)
        for r in tables["team_offense"]:
            self.team_offense_by_team[r["team_abbr"]].append(r)

        self.odds_by_date_player: dict[tuple, list[dict]] = defaultdict(list)
        for r in tables["odds_api"]:
            self.odds_by_date_player[(r["game_date"], r["player_lookup"])].append(r)
        self.bettingpros_by_date_player: dict[tuple, list[dict]] = defaultdict(list)
        for r in tables["bettingpros"]:
            self.bettingpros_by_date_player[(r["game_date"], r["player_lookup"])].append(r)

    @classmethod
    def open(cls, path: str | Path) -> ReferenceWorld:
        return cls(Snapshot.open(path))

    @staticmethod
    def _read(snapshot: Snapshot, key: str) -> list[dict]:
        table = snapshot.tables[key]
        parts = [pq.read_table(f) for f in table.files]
        data = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        return data.to_pylist()

    @staticmethod
    def _phase4_index(rows: list[dict], date_column: str, who: str) -> dict:
        """dates: every date with any row; by_who: who -> date -> rows."""
        by_who: dict[str, dict[dt.date, list[dict]]] = defaultdict(lambda: defaultdict(list))
        dates = set()
        for r in rows:
            dates.add(r[date_column])
            by_who[r[who]][r[date_column]].append(r)
        return {"dates": dates, "by_who": by_who}

    # ----------------------------------------------------------------------- seasons, modes

    def season_start(self, season: int) -> dt.date:
        """§2.5: built-in, else earliest PGS game_date of the season, else Oct 22 of S."""
        if season in PROFILE.season_starts:
            return PROFILE.season_starts[season]
        if season in self.first_pgs_date_of_season:
            return self.first_pgs_date_of_season[season]
        month, day = PROFILE.fallback_season_start_month_day
        return dt.date(season, month, day)

    def is_early_season(self, day: dt.date) -> bool:
        offset = (day - self.season_start(season_of(day))).days
        return 0 <= offset < PROFILE.early_season_days

    @staticmethod
    def date_mode(day: dt.date, mode: str, as_of: dt.date) -> str:
        """§2.1: the mode one date is produced in."""
        if mode == "production":
            return "production"
        if mode not in ("auto", "backfill"):
            raise ValueError(f"mode {mode!r}: expected auto, backfill or production")
        return "backfill" if day < as_of else "production"

    # ----------------------------------------------------------------------- spine (§2)

    SPINE_KEYS = ["game_id", "team_abbr", "opponent_team_abbr", "universal_player_id"]

    def spine(self, start: dt.date, end: dt.date, mode: str = "auto", as_of: dt.date | None = None) -> list[dict]:
        as_of = as_of or today_new_york()
        out = []
        day = start
        while day <= end:
            out.extend(self.spine_for_date(day, mode, as_of))
            day += DAY
        return out

    def spine_for_date(self, day: dt.date, mode: str, as_of: dt.date) -> list[dict]:
        date_mode = self.date_mode(day, mode, as_of)
        early = self.is_early_season(day)
        if date_mode == "backfill" and early:
            return []
        if date_mode == "backfill":
            groups = defaultdict(list)
            for r in self.pgs_by_date.get(day, []):
                groups[r["player_lookup"]].append(r)
            short = "pgs"
        else:
            groups = self.upgc_by_date.get(day, {})
            short = "upgc"
        season = season_of(day)
        out = []
        for player in sorted(groups):
            candidates = groups[player]
            chosen = first_by_tie_break(candidates, short, self.SPINE_KEYS)
            if date_mode == "backfill":
                tokens = (chosen["game_id"] or "").split("_")
                is_home = len(tokens) >= 3 and tokens[2] == chosen["team_abbr"]
            else:
                is_home = chosen["home_game"]
            out.append(
                {
                    "player_lookup": player,
                    "game_date": day,
                    "universal_player_id": chosen["universal_player_id"],
                    "game_id": chosen["game_id"],
                    "opponent_team_abbr": chosen["opponent_team_abbr"],
                    "is_home": is_home,
                    "season_year": season,
                    "season_oct1": dt.date(season, 10, 1),
                    "is_placeholder": date_mode == "production" and early,
                    "mode": date_mode,
                    # a tie matters only when the duplicates disagree on what the spine supplies
                    "spine_tie": len(candidates) > 1
                    and differ(candidates, self.SPINE_KEYS + (["home_game"] if short == "upgc" else [])),
                }
            )
        return out

    # ----------------------------------------------------------------------- Q1-Q4 (§3)

    @staticmethod
    def _phase4_rows(index: dict, who: str, day: dt.date, window_days: int) -> list[dict] | None:
        """Row at D if the table has any row at D, else the latest row in [D − w, D]."""
        by_date = index["by_who"].get(who, {})
        if day in index["dates"]:
            chosen_date = day if day in by_date else None
        else:
            chosen_date = None
            for d in sorted(by_date, reverse=True):
                if day - dt.timedelta(days=window_days) <= d <= day:
                    chosen_date = d
                    break
        if chosen_date is None:
            return None
        return by_date[chosen_date]

    def _pick(self, rows, short: str, ties: list, label: str, fields) -> dict | None:
        if not rows:
            return None
        if len(rows) > 1 and differ(rows, fields):
            ties.append(label)
        return first_by_tie_break(rows, short)

    # ----------------------------------------------------------------------- Q5 (§3)

    def q5_context(self, player: str, day: dt.date, ties: list) -> dict | None:
        rows = self.upgc_by_date.get(day, {}).get(player, [])
        if not rows:
            return None
        if len(rows) > 1 and differ(rows, COLUMN_ORDER["upgc"]):
            ties.append("q5_upgc_duplicates")
        return first_by_tie_break(rows, "upgc", self.SPINE_KEYS)

    # ----------------------------------------------------------------------- PGS windows

    def _pgs_between(self, player: str, lo: dt.date, hi: dt.date) -> list[dict]:
        """The player's PGS rows with lo <= game_date <= hi, ascending by date."""
        dates = self.pgs_dates_by_player.get(player)
        if not dates:
            return []
        i = bisect.bisect_left(dates, lo)
        j = bisect.bisect_right(dates, hi)
        return self.pgs_by_player[player][i:j]

    def q6_last10(self, player: str, day: dt.date, ties: list) -> tuple[list[dict], int]:
        window = self._pgs_between(player, day - dt.timedelta(days=PROFILE.last10_window_days), day - DAY)
        ordered = sorted(window, key=lambda r: tie_key(r, ["game_id"], COLUMN_ORDER["pgs"]))
        ordered.sort(key=lambda r: r["game_date"], reverse=True)  # stable: DESC date, then tie-break
        chosen = ordered[: PROFILE.last10_size]
        used = ("points", "minutes_played", "ft_makes", "is_dnp")
        chosen_dates = {r["game_date"] for r in chosen}
        by_date = defaultdict(list)
        for r in ordered:
            if r["game_date"] in chosen_dates:
                by_date[r["game_date"]].append(r)
        if any(len(rs) > 1 and differ(rs, used) for rs in by_date.values()):
            ties.append("q6_same_date_rows")
        total = len(self._pgs_between(player, day - dt.timedelta(days=PROFILE.total_games_window_days), day - DAY))
        return chosen, total

    def q7_season(self, player: str, day: dt.date) -> dict | None:
        season = season_of(day)
        rows = [r for r in self._pgs_between(player, dt.date(season, 10, 1), day - DAY) if r["season_year"] == season]
        rows = in_sum_order(rows)
        if not rows:
            return None
        points = [r["points"] for r in rows if r["points"] is not None]
        points_avg = sum(points) / len(points) if points else float("nan")  # N1
        minutes = [r["minutes_played"] for r in rows if r["minutes_played"] is not None]
        if self.minutes_numeric:
            minutes_avg = float(numeric_div(numeric_sum(minutes), len(minutes))) if minutes else None
        else:
            minutes_avg = _avg(minutes) if minutes else float("nan")  # N3
        return {"points_avg_season": points_avg, "minutes_avg_season": minutes_avg}

    def q8_team_games(self, team: str, day: dt.date) -> tuple[int, int]:
        season = season_of(day)
        lo = dt.date(season, 10, 1)
        rows = [
            r
            for r in self.team_offense_by_team.get(team, [])
            if r["season_year"] == season and lo <= r["game_date"] <= day - DAY
        ]
        return len(rows), sum(1 for r in rows if r["win_flag"] is True)

    def q10_opponent(self, player: str, day: dt.date, opponent: str) -> tuple[int, float]:
        rows = [r for r in self._pgs_between(player, minus_year(day), day - DAY) if r["opponent_team_abbr"] == opponent]
        points = [r["points"] for r in rows if r["points"] is not None]
        avg = sum(points) / len(points) if points else float("nan")  # N2
        return len(rows), avg

    def q11_minutes_ppm(self, player: str, day: dt.date) -> dict | None:
        window = self._pgs_between(player, day - dt.timedelta(days=PROFILE.minutes_ppm_window_days), day - DAY)
        rows = in_sum_order([r for r in window if r["minutes_played"] is not None and r["minutes_played"] > 0])
        if not rows:
            return None
        minutes = [r["minutes_played"] for r in rows]
        with_points = [r for r in rows if r["points"] is not None]
        if self.minutes_numeric:
            minutes_avg = float(numeric_div(numeric_sum(minutes), len(minutes)))
            ratios = [numeric_div(r["points"], r["minutes_played"]) for r in with_points]
            ppm = float(numeric_div(numeric_sum(ratios), len(ratios))) if ratios else None
        else:
            minutes_avg = _avg(minutes)
            ratios = [r["points"] / r["minutes_played"] for r in with_points]  # float64 per row
            ppm = _avg(ratios) if ratios else float("nan")  # N3
        return {"minutes_avg": minutes_avg, "ppm_avg": ppm}

    # ----------------------------------------------------------------------- Q9 (§3)

    def q9_vegas(self, player: str, day: dt.date, ties: list) -> dict | None:
        odds = [
            r
            for r in self.odds_by_date_player.get((day, player), [])
            if r["player_lookup"] is not None and r["points_line"] is not None and r["points_line"] > 0
        ]
        oa_cur = oa_open = None
        if odds:

            def priority(r):
                return 0 if r["bookmaker"] == "draftkings" else 1

            cur_row = min(odds, key=lambda r: (priority(r), -_ts(r["snapshot_timestamp"]), r["points_line"]))
            open_row = min(odds, key=lambda r: (priority(r), _ts(r["snapshot_timestamp"]), r["points_line"]))
            oa_cur, oa_open = cur_row["points_line"], open_row["points_line"]
            for top in (cur_row, open_row):
                group = [
                    r
                    for r in odds
                    if priority(r) == priority(top) and r["snapshot_timestamp"] == top["snapshot_timestamp"]
                ]
                if differ(group, ["points_line"]):
                    ties.append("q9_odds_api_shared_snapshot")
                    break
        props = [
            r
            for r in self.bettingpros_by_date_player.get((day, player), [])
            if r["market_type"] == "points" and r["points_line"] is not None and r["points_line"] > 0
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
            group = [r for r in props if r["created_at"] == top["created_at"]]
            if differ(group, ["points_line", "opening_line"]):
                ties.append("q9_bettingpros_created_at")
        if oa_cur is None and bp_cur is None:
            return None
        cur = oa_cur if oa_cur is not None else bp_cur
        open_sql = next(v for v in (oa_open, bp_open, oa_cur, bp_cur) if v is not None)
        move = cur - open_sql
        return {
            "vegas_points_line": cur,
            "vegas_opening_line": open_sql if open_sql != 0 else cur,
            "vegas_line_move": move,
        }

    # ----------------------------------------------------------------------- one row

    def row(self, player: str, day: dt.date, spine_row: dict) -> dict:
        ties: list[str] = []
        if spine_row.get("spine_tie"):
            ties.append("spine_duplicates")
        context = self.q5_context(player, day, ties)
        composite_fallback = day not in self.composite["dates"]
        base = {
            "player_lookup": player,
            "game_date": day,
            "universal_player_id": spine_row["universal_player_id"],
            "game_id": spine_row["game_id"],
            "opponent_team_abbr": spine_row["opponent_team_abbr"],
            "is_home": spine_row["is_home"],
            "days_rest": context["days_rest"] if context else None,
            "is_placeholder": spine_row["is_placeholder"],
            "composite_fallback": composite_fallback,
        }
        if spine_row["is_placeholder"]:
            base.update(
                feature_values=[None] * 37,
                feature_tags=None,
                historical_completeness=dict(PLACEHOLDER_COMPLETENESS, contributing_game_dates=[]),
                gated=False,
                tie_affected=bool(ties),
                tie_reasons=ties,
            )
            return base

        opponent = spine_row["opponent_team_abbr"]
        opponent_known = isinstance(opponent, str) and opponent != ""

        # ---- P4 (§4.1): Q1, Q2, Q3, Q4 applied in order, later rows overwrite (even with NULL)
        p4: dict = {}
        q1_rows = self._phase4_rows(self.daily_cache, player, day, PROFILE.daily_cache_fallback_days)
        q1 = self._pick(q1_rows, "daily_cache", ties, "q1_daily_cache_duplicates", Q1_FIELDS.values())
        if q1 is not None:
            for key, column in Q1_FIELDS.items():
                p4[key] = to_float(q1[column])
        q2_rows = self._phase4_rows(self.composite, player, day, PROFILE.composite_fallback_days)
        q2 = self._pick(
            q2_rows,
            "composite",
            ties,
            "q2_composite_duplicates",
            ["fatigue_score", "usage_spike_score"] if composite_fallback else Q2_FIELDS.values(),
        )
        if q2 is not None:
            for key, column in Q2_FIELDS.items():
                p4[key] = to_float(q2[column])
            if composite_fallback:
                p4["shot_zone_mismatch_score"] = 0.0
                p4["pace_score"] = 0.0
        q3_rows = self._phase4_rows(self.shot_zone, player, day, PROFILE.shot_zone_fallback_days)
        q3 = self._pick(q3_rows, "shot_zone", ties, "q3_shot_zone_duplicates", Q3_FIELDS.values())
        if q3 is not None:
            for key, column in Q3_FIELDS.items():
                p4[key] = to_float(q3[column])
        if opponent_known:
            q4_rows = self._phase4_rows(self.team_defense, opponent, day, PROFILE.team_defense_fallback_days)
            q4 = self._pick(q4_rows, "team_defense", ties, "q4_team_defense_duplicates", Q4_FIELDS.values())
            if q4 is not None:
                for key, column in Q4_FIELDS.items():
                    p4[key] = to_float(q4[column])

        # ---- P3 (§4.2)
        last10, total_games = self.q6_last10(player, day, ties)
        n = len(last10)
        played = [r for r in last10 if r["points"] is not None and (r["minutes_played"] is not None or r["points"] > 0)]
        p3: dict = {}
        if len(played) >= 5:
            p3["points_avg_last_5"] = sum(r["points"] for r in played[:5]) / 5
        if played:
            sample = played[:10]
            p3["points_avg_last_10"] = sum(r["points"] for r in sample) / len(sample)
        q7 = self.q7_season(player, day)
        if q7 is not None:
            p3["points_avg_season"] = q7["points_avg_season"]

        values: list = [None] * 37
        tags: list = [None] * 37

        def with_fallback(field, default):
            if present(p4.get(field)):
                return p4[field], "phase4"
            if present(p3.get(field)):
                return p3[field], "phase3"
            return default, "default"

        def phase4_only(field, default):
            if present(p4.get(field)):
                return p4[field], "phase4"
            return default, "default"

        def nullable(field):
            if present(p4.get(field)):
                return p4[field], "phase4"
            if present(p3.get(field)):
                return p3[field], "phase3"
            return None, "missing"

        values[0], tags[0] = with_fallback("points_avg_last_5", 10.0)
        values[1], tags[1] = with_fallback("points_avg_last_10", 10.0)
        values[2], tags[2] = with_fallback("points_avg_season", 10.0)
        values[3], tags[3] = with_fallback("points_std_last_10", 5.0)
        values[4], tags[4] = with_fallback("games_in_last_7_days", 3.0)
        values[5], tags[5] = phase4_only("fatigue_score", 50.0)
        values[6], tags[6] = phase4_only("shot_zone_mismatch_score", 0.0)
        values[7], tags[7] = phase4_only("pace_score", 0.0)
        values[8], tags[8] = phase4_only("usage_spike_score", 0.0)

        # 9 rest_advantage
        if context is None or context["days_rest"] is None or context["opponent_days_rest"] is None:
            values[9] = 0.0
        else:
            values[9] = max(-2.0, min(2.0, float(context["days_rest"] - context["opponent_days_rest"])))
        tags[9] = "calculated"

        # 10 injury_risk
        status = (context["player_status"] if context else None) or ""
        values[10], tags[10] = INJURY.get(status.lower(), 0.0), "calculated"

        points = [r["points"] if r["points"] is not None else 0 for r in last10]

        # 11 recent_trend
        if n < 5:
            values[11] = 0.0
        else:
            a = (points[0] + points[1] + points[2]) / 3.0
            b = (points[3] + points[4]) / 2.0
            diff = b - a
            if diff >= 5:
                values[11] = 2.0
            elif diff >= 2:
                values[11] = 1.0
            elif diff <= -5:
                values[11] = -2.0
            elif diff <= -2:
                values[11] = -1.0
            else:
                values[11] = 0.0
        tags[11] = "calculated"

        # 12 minutes_change
        if present(p4.get("minutes_avg_last_10")):
            recent = p4["minutes_avg_last_10"]
        elif n >= 1:
            total = sum(
                (Fraction(r["minutes_played"]) if r["minutes_played"] is not None else Fraction(0)) for r in last10
            )
            recent = float(total / n)
        else:
            recent = 0.0
        season_minutes = q7["minutes_avg_season"] if q7 is not None else None
        season = season_minutes if truthy(season_minutes) else 0.0
        if season == 0 or recent == 0:
            values[12] = 0.0
        else:
            pct = (float(recent) - float(season)) / float(season)
            if pct >= 0.20:
                values[12] = 2.0
            elif pct >= 0.10:
                values[12] = 1.0
            elif pct <= -0.20:
                values[12] = -2.0
            elif pct <= -0.10:
                values[12] = -1.0
            else:
                values[12] = 0.0
        tags[12] = "calculated"

        values[13], tags[13] = with_fallback("opponent_def_rating", 112.0)
        values[14], tags[14] = with_fallback("opponent_pace", 100.0)

        values[15] = 1.0 if context is not None and context["home_game"] is True else 0.0
        values[16] = 1.0 if context is not None and context["back_to_back"] is True else 0.0
        phase = (context["season_phase"] if context else None) or ""
        values[17] = 1.0 if phase.lower() == "playoffs" else 0.0
        tags[15] = tags[16] = tags[17] = "phase3"

        for index, field in ((18, "paint_rate_last_10"), (19, "mid_range_rate_last_10"), (20, "three_pt_rate_last_10")):
            value, tags[index] = nullable(field)
            values[index] = None if value is None else float(value) / 100.0

        # 21 pct_free_throw
        if n < 5:
            values[21] = 0.15
        else:
            ft = sum(r["ft_makes"] if r["ft_makes"] is not None else 0 for r in last10)
            pts = sum(points)
            values[21] = 0.15 if pts == 0 else round9(max(0.0, min(0.5, ft / pts)))
        tags[21] = "calculated"

        values[22], tags[22] = with_fallback("team_pace_last_10", 100.0)
        values[23], tags[23] = with_fallback("team_off_rating_last_10", 112.0)

        # 24 team_win_pct
        team = context["team_abbr"] if context is not None else None
        values[24] = 0.5
        if team:
            games, wins = self.q8_team_games(team, day)
            if games >= 5:
                values[24] = round9(wins / games)
        tags[24] = "calculated"

        # 25-28 Vegas
        vegas = self.q9_vegas(player, day, ties)
        if vegas is not None:
            values[25], values[26], values[27] = (
                vegas["vegas_points_line"],
                vegas["vegas_opening_line"],
                vegas["vegas_line_move"],
            )
            tags[25] = tags[26] = tags[27] = "vegas"
            values[28] = 1.0
        else:
            values[25] = values[26] = values[27] = None
            tags[25] = tags[26] = tags[27] = "missing"
            values[28] = 0.0
        tags[28] = "calculated"

        # 29, 30 opponent history
        if opponent_known:
            games_vs, avg_vs = self.q10_opponent(player, day, opponent)
            values[29], tags[29] = avg_vs, "opponent_history"
            values[30], tags[30] = float(games_vs), "opponent_history"
        else:
            p4_season, p3_season = p4.get("points_avg_season"), p3.get("points_avg_season")
            if truthy(p4_season):
                values[29] = p4_season
            elif truthy(p3_season):
                values[29] = p3_season
            else:
                values[29] = 10.0
            tags[29] = "fallback"
            values[30], tags[30] = 0.0, "fallback"

        # 31, 32 minutes / ppm
        mppm = self.q11_minutes_ppm(player, day)
        if mppm is not None:
            values[31], tags[31] = float(mppm["minutes_avg"]), "minutes_ppm"
            ppm = mppm["ppm_avg"]
            values[32] = 0.4 if ppm is None else float(ppm)
            tags[32] = "minutes_ppm"
        else:
            values[31], tags[31] = 28.0, "fallback"
            values[32], tags[32] = 0.4, "fallback"

        # 33 dnp_rate
        values[33] = 0.0 if n < 3 else round9(sum(1 for r in last10 if r["is_dnp"] is True) / n)
        tags[33] = "calculated"

        # 34 pts_slope_10g
        if n < 5:
            values[34] = 0.0
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
            values[34] = round9(num / den)
        tags[34] = "calculated"

        # 35, 36 z-score and breakout
        l5 = p4.get("points_avg_last_5") if present(p4.get("points_avg_last_5")) else p3.get("points_avg_last_5")
        m = p4.get("points_avg_season") if present(p4.get("points_avg_season")) else p3.get("points_avg_season")
        sd = p4.get("points_std_last_10")
        if l5 is None or m is None or sd is None or sd == 0:
            values[35] = 0.0
        else:
            values[35] = round9(max(-3.0, min(3.0, (l5 - m) / sd)))
        if l5 is None or m is None or sd is None:
            values[36] = 0.0
        else:
            values[36] = 1.0 if l5 > m + 1.5 * sd else 0.0
        tags[35] = tags[36] = "calculated"

        # every value is a float64 (ints of P4 INT64 columns were converted by to_float)
        values = [None if v is None else float(v) for v in values]

        games_expected = min(total_games if n >= 1 else n, 10)
        completeness = {
            "games_found": n,
            "games_expected": games_expected,
            "is_complete": n >= games_expected,
            "is_bootstrap": games_expected < 10,
            "contributing_game_dates": [r["game_date"] for r in last10],
        }
        fatigue = values[5]
        gated = not (PROFILE.fatigue_gate[0] <= fatigue <= PROFILE.fatigue_gate[1])
        base.update(
            feature_values=values,
            feature_tags=tags,
            historical_completeness=completeness,
            gated=gated,
            tie_affected=bool(ties),
            tie_reasons=ties,
        )
        return base

    # ----------------------------------------------------------------------- many rows

    def rows(
        self,
        start: dt.date,
        end: dt.date,
        mode: str = "auto",
        as_of: dt.date | None = None,
        *,
        include_gated: bool = False,
    ) -> list[dict]:
        out = []
        for spine_row in self.spine(start, end, mode, as_of):
            r = self.row(spine_row["player_lookup"], spine_row["game_date"], spine_row)
            if include_gated or not r["gated"]:
                out.append(r)
        return out


def in_sum_order(rows: list[dict]) -> list[dict]:
    """PGS rows in the order of §0.3's running sums: game_date, game_id, then §0.2 (every PGS
    column ascending, NULLs last)."""
    ordered = sorted(rows, key=lambda r: tie_key(r, ["game_id"], COLUMN_ORDER["pgs"]))
    return sorted(ordered, key=lambda r: r["game_date"])  # stable: date first, then the above


def _avg(values) -> float:
    """AVG on the non-NUMERIC path (§0.3). INT64 values: the exact integer sum, one float64
    division. float64 values (Q11 ratios, FLOAT64 minutes): a float64 running sum in the given
    order, one addition per value starting from the first, then one division by the count."""
    if all(isinstance(v, int) for v in values):
        return sum(values) / len(values)
    total = float(values[0])
    for v in values[1:]:
        total = total + float(v)
    return total / len(values)


def _ts(value: dt.datetime) -> float:
    """Timestamp as microseconds since the epoch (exact for the us-precision snapshot)."""
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
