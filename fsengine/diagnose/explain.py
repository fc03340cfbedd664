"""One output row, explained: every feature with its stored value, raw source tag, quality,
fallback reason, and the snapshot rows behind it (the evidence).

The row comes from `OUT/ml_feature_store_v2/`; the evidence from the snapshot the run read,
queried for that one (player, D) with the small files `queries/explain_*.sql`. The evidence is
descriptive: it lists the source rows and which one each extraction picks (the last-10 list,
the daily-cache / composite / shot-zone / team-defense row and whether the table-level
fallback fired, the UPGC row, the odds candidates and chosen snapshots, the opponent and
30-day games). It does not recompute the features.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from fsengine.contracts import contract_of
from fsengine.contracts.profile import REFERENCE, Profile, season_of
from fsengine.errors import InputError
from fsengine.output.schema import checked_output_files, output_dir
from fsengine.scoring.quality import defaulted_tags, scorer_rules
from fsengine.snapshot.format import Snapshot
from fsengine.sql import parameter_names, query_text


@dataclass(frozen=True)
class Evidence:
    """The result of one explain_*.sql query, with a one-line reading of it."""

    key: str
    title: str
    summary: str
    columns: tuple[str, ...]
    rows: tuple[dict, ...]
    fallback_fired: bool | None = None  # Phase-4 tables: the table had no row at D (table-level fallback)

    def chosen(self, flag: str = "chosen") -> dict | None:
        """The row the extraction takes (flag column TRUE), or None."""
        return next((r for r in self.rows if r.get(flag)), None)


@dataclass(frozen=True)
class FeatureExplanation:
    index: int
    name: str
    category: str
    value: float  # as stored in the features array
    tag: str | None  # raw source tag (feature_sources_json); None on placeholder rows
    quality: float | None  # feature_{i}_quality
    source: str | None  # feature_{i}_source (canonical)
    defaulted: bool
    fallback_reason: str | None  # from feature_fallback_reasons_json when defaulted
    inputs: tuple[str, ...]  # the evidence behind the value, one line per input


@dataclass(frozen=True)
class Explanation:
    out: Path
    snapshot: Path
    player: str
    game_date: dt.date
    row: dict  # row-level output columns (identity, context, quality summary)
    features: tuple[FeatureExplanation, ...]
    evidence: dict[str, Evidence]
    warnings: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- output row

_ROW_COLUMNS = [
    "player_lookup",
    "universal_player_id",
    "game_date",
    "game_id",
    "opponent_team_abbr",
    "is_home",
    "days_rest",
    "feature_quality_score",
    "data_source",
    "early_season_flag",
    "insufficient_data_reason",
    "fallback_reasons",
    "quality_tier",
    "quality_alert_level",
    "quality_alerts",
    "default_feature_count",
    "required_default_count",
    "is_quality_ready",
    "is_training_ready",
    "historical_completeness",
    "matchup_data_status",
]


def read_row(out_dir: str | Path, player: str, game_date: dt.date) -> dict:
    """The output row of (player, game_date) as a dict of every column; InputError if absent."""
    folder = output_dir(out_dir)
    if Path(out_dir).is_file():
        raise InputError(f"--out {out_dir} is a file, not a folder: give the folder `fsengine backfill --out` wrote")
    if not folder.is_dir():
        raise InputError(f"{folder} does not exist: run `fsengine backfill --out {out_dir}` first")
    files = checked_output_files(out_dir)
    if not files:
        raise InputError(f"{folder} holds no part-*.parquet files")
    scan = pl.scan_parquet([str(f) for f in files])
    found = scan.filter((pl.col("player_lookup") == player) & (pl.col("game_date") == game_date)).collect()
    if found.height == 0:
        on_date = scan.filter(pl.col("game_date") == game_date).select(pl.len()).collect().item()
        dates = (
            scan.filter(pl.col("player_lookup") == player)
            .select(pl.col("game_date"))
            .unique()
            .sort("game_date")
            .collect()
        )["game_date"].to_list()
        hint = f"{on_date} rows on {game_date}"
        if dates:
            nearest = sorted(dates, key=lambda d: abs((d - game_date).days))[:5]
            hint += f"; {player} has rows on {len(dates)} dates, nearest {', '.join(d.isoformat() for d in sorted(nearest))}"
        else:
            hint += f"; no row for {player} on any date"
        raise InputError(f"{folder} has no row for player {player!r} on {game_date} ({hint})")
    return found.row(0, named=True)


# --------------------------------------------------------------------------- evidence queries


def run_explain_query(
    con: duckdb.DuckDBPyConnection, name: str, params: dict
) -> tuple[tuple[str, ...], tuple[dict, ...]]:
    """Run queries/<name>.sql binding exactly the $names it uses; return (columns, rows)."""
    sql = query_text(name)
    wanted = parameter_names(sql)
    missing = [n for n in wanted if n not in params]
    if missing:
        raise InputError(f"queries/{name}.sql needs parameters {missing}")
    cursor = con.execute(sql, {n: params[n] for n in wanted})
    columns = tuple(d[0] for d in cursor.description)
    return columns, tuple(dict(zip(columns, r)) for r in cursor.fetchall())


def _window_params(profile: Profile) -> dict:
    return {f.name: getattr(profile, f.name) for f in fields(profile) if isinstance(getattr(profile, f.name), int)}


def fmt(value) -> str:
    """Compact text for a source value (decimals without trailing zeros, NULL for None)."""
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _phase4_evidence(
    key: str, title: str, date_column: str, window_days: int, columns, rows, game_date, subject: str
) -> Evidence:
    head = rows[0]
    fired = bool(head["fallback_fired"])
    row = head if head.get(date_column) is not None else None
    if not fired:
        if row is None:
            summary = (
                f"no row of {subject} at {game_date} (the table has rows at that date, so no table-level fallback)"
            )
        else:
            summary = f"row of {subject} at {game_date}"
    else:
        low = game_date - dt.timedelta(days=window_days)
        if row is None:
            summary = (
                f"table-level fallback fired (no row at {game_date} for anyone); "
                f"no row of {subject} in {low} .. {game_date}"
            )
        else:
            summary = (
                f"table-level fallback fired (no row at {game_date} for anyone); "
                f"latest row of {subject} in {low} .. {game_date} is dated {row[date_column]}"
            )
    if row is not None and head.get("candidates", 1) > 1:
        summary += f" ({head['candidates']} duplicate rows; the first by the tie-break is chosen)"
    kept = tuple(r for r in rows if r.get(date_column) is not None)
    return Evidence(key, title, summary, columns, kept, fallback_fired=fired)


def collect_evidence(
    snapshot: Snapshot, player: str, game_date: dt.date, opponent: str, profile: Profile = REFERENCE
) -> dict[str, Evidence]:
    """Run every explain_*.sql for (player, D) against the snapshot's views."""
    season = season_of(game_date)
    params = {
        **_window_params(profile),
        "player": player,
        "game_date": game_date,
        "opponent": opponent or "",
        "season_year": season,
        "season_oct1": dt.date(season, 10, 1),
    }
    con = duckdb.connect()
    try:
        snapshot.register(con)
        ev: dict[str, Evidence] = {}

        cols, rows = run_explain_query(con, "explain_last10", params)
        played = sum(1 for r in rows if r["played"])
        ev["last10"] = Evidence(
            "last10",
            "Last-10 list (PGS, newest first)",
            f"{len(rows)} rows in {game_date - dt.timedelta(days=profile.last10_window_days)} .. {game_date - dt.timedelta(days=1)}"
            f" ({played} played, {sum(1 for r in rows if r['is_dnp'])} marked DNP)",
            cols,
            rows,
        )

        cols, rows = run_explain_query(con, "explain_player_counts", params)
        c = rows[0]
        ev["player_counts"] = Evidence(
            "player_counts",
            "Season and one-year counts (PGS)",
            f"total_games in the last {profile.total_games_window_days} days = {c['total_games']}; season {season} rows before "
            f"{game_date} = {c['season_rows']} ({c['season_rows_with_points']} with points, {c['season_rows_with_minutes']} with minutes)",
            cols,
            rows,
        )

        for key, title, date_column, window in (
            ("daily_cache", "Daily cache (player_daily_cache)", "cache_date", profile.daily_cache_fallback_days),
            ("composite", "Composite factors (player_composite_factors)", "game_date", profile.composite_fallback_days),
            ("shot_zone", "Shot zones (player_shot_zone_analysis)", "analysis_date", profile.shot_zone_fallback_days),
        ):
            cols, rows = run_explain_query(con, f"explain_{key}", params)
            ev[key] = _phase4_evidence(key, title, date_column, window, cols, rows, game_date, player)

        cols, rows = run_explain_query(con, "explain_team_defense", params)
        if opponent:
            ev["team_defense"] = _phase4_evidence(
                "team_defense",
                f"Opponent defense (team_defense_zone_analysis, {opponent})",
                "analysis_date",
                profile.team_defense_fallback_days,
                cols,
                rows,
                game_date,
                opponent,
            )
        else:
            ev["team_defense"] = Evidence(
                "team_defense",
                "Opponent defense (team_defense_zone_analysis)",
                "opponent unknown: no team-defense lookup",
                cols,
                (),
            )

        cols, rows = run_explain_query(con, "explain_upgc", params)
        upgc = next((r for r in rows if r["chosen"]), None)
        summary = (
            "no UPGC row: context features fall to neutral values (docs/features.md §2.4)"
            if upgc is None
            else (
                f"team {upgc['team_abbr']}, home_game {fmt(upgc['home_game'])}, days_rest {fmt(upgc['days_rest'])}"
                + (f" ({len(rows)} duplicate rows; the first by the tie-break is chosen)" if len(rows) > 1 else "")
            )
        )
        ev["upgc"] = Evidence("upgc", "Game context (UPGC)", summary, cols, rows)

        team = (upgc or {}).get("team_abbr") or ""
        cols, rows = run_explain_query(con, "explain_team_games", {**params, "team": team})
        t = rows[0]
        ev["team_games"] = Evidence(
            "team_games",
            f"Team season games (team_offense_game_summary{', ' + team if team else ''})",
            "no UPGC team: no team games looked up"
            if not team
            else f"{t['games']} games of {team} in season {season} before {game_date}, {t['wins']} wins",
            cols,
            rows if team else (),
        )

        cols, rows = run_explain_query(con, "explain_odds_api", params)
        current = next((r for r in rows if r["chosen_current"]), None)
        opening = next((r for r in rows if r["chosen_opening"]), None)
        n_candidates = sum(1 for r in rows if r["candidate"])
        ev["odds_api"] = Evidence(
            "odds_api",
            "Odds API lines",
            "no candidate row"
            if current is None or opening is None  # the opening line is chosen whenever a current one is
            else f"{n_candidates} candidates; current = {current['bookmaker']} {fmt(current['points_line'])} at "
            f"{fmt(current['snapshot_timestamp'])}; opening = {opening['bookmaker']} {fmt(opening['points_line'])} at "
            f"{fmt(opening['snapshot_timestamp'])}",
            cols,
            rows,
        )

        cols, rows = run_explain_query(con, "explain_bettingpros", params)
        bp = next((r for r in rows if r["chosen"]), None)
        ev["bettingpros"] = Evidence(
            "bettingpros",
            "BettingPros lines",
            "no candidate row"
            if bp is None
            else f"{sum(1 for r in rows if r['candidate'])} candidates; chosen line {fmt(bp['points_line'])}, opening "
            f"{fmt(bp['opening_line'])}, created {fmt(bp['created_at'])}",
            cols,
            rows,
        )

        cols, rows = run_explain_query(con, "explain_opponent_games", params)
        ev["opponent_games"] = Evidence(
            "opponent_games",
            f"Games against the opponent ({opponent or 'unknown'})",
            "opponent unknown: features 29-30 take their fallback"
            if not opponent
            else f"{len(rows)} rows vs {opponent} in the last {profile.opponent_window_years} year(s), "
            f"{sum(1 for r in rows if r['points'] is not None)} with points",
            cols,
            rows,
        )

        cols, rows = run_explain_query(con, "explain_minutes_ppm", params)
        counted = sum(1 for r in rows if r["counted"])
        ev["minutes_ppm"] = Evidence(
            "minutes_ppm",
            f"Games in the last {profile.minutes_ppm_window_days} days (minutes / points per minute)",
            f"{len(rows)} rows, {counted} with minutes_played > 0"
            + ("" if counted else ": no qualifying game, 31-32 fall back"),
            cols,
            rows,
        )
        return ev
    finally:
        con.close()


# --------------------------------------------------------------------------- feature inputs

# Which evidence each feature reads (docs/features.md §6): (evidence key, fields shown).
FEATURE_INPUTS: dict[int, tuple[tuple[str, tuple[str, ...]], ...]] = {
    0: (("daily_cache", ("points_avg_last_5",)), ("last10", ("played",))),
    1: (("daily_cache", ("points_avg_last_10",)), ("last10", ("played",))),
    2: (("daily_cache", ("points_avg_season",)), ("player_counts", ("season_rows", "season_rows_with_points"))),
    3: (("daily_cache", ("points_std_last_10",)),),
    4: (("daily_cache", ("games_in_last_7_days",)),),
    5: (("composite", ("fatigue_score",)),),
    6: (("composite", ("shot_zone_mismatch_score",)),),
    7: (("composite", ("pace_score",)),),
    8: (("composite", ("usage_spike_score",)),),
    9: (("upgc", ("days_rest", "opponent_days_rest")),),
    10: (("upgc", ("player_status",)),),
    11: (("last10", ("points",)),),
    12: (
        ("daily_cache", ("minutes_avg_last_10",)),
        ("last10", ("minutes_played",)),
        ("player_counts", ("season_rows_with_minutes",)),
    ),
    13: (("team_defense", ("defensive_rating_last_15",)),),
    14: (("team_defense", ("opponent_pace",)),),
    15: (("upgc", ("home_game",)),),
    16: (("upgc", ("back_to_back",)),),
    17: (("upgc", ("season_phase",)),),
    18: (("shot_zone", ("paint_rate_last_10",)), ("daily_cache", ("paint_rate_last_10",))),
    19: (("shot_zone", ("mid_range_rate_last_10",)),),
    20: (("shot_zone", ("three_pt_rate_last_10",)), ("daily_cache", ("three_pt_rate_last_10",))),
    21: (("last10", ("ft_makes", "points")),),
    22: (("daily_cache", ("team_pace_last_10",)),),
    23: (("daily_cache", ("team_off_rating_last_10",)),),
    24: (("upgc", ("team_abbr",)), ("team_games", ("games", "wins"))),
    25: (("odds_api", ("current",)), ("bettingpros", ("points_line",))),
    26: (("odds_api", ("opening",)), ("bettingpros", ("opening_line",))),
    27: (("odds_api", ("current", "opening")), ("bettingpros", ("points_line", "opening_line"))),
    28: (("odds_api", ("current",)), ("bettingpros", ("points_line",))),
    29: (("opponent_games", ("game_date", "points")),),
    30: (("opponent_games", ("game_date",)),),
    31: (("minutes_ppm", ("minutes_played",)),),
    32: (("minutes_ppm", ("points", "minutes_played")),),
    33: (("last10", ("is_dnp",)),),
    34: (("last10", ("points",)),),
    35: (
        ("daily_cache", ("points_avg_last_5", "points_avg_season", "points_std_last_10")),
        ("last10", ("played",)),
        ("player_counts", ("season_rows_with_points",)),
    ),
    36: (
        ("daily_cache", ("points_avg_last_5", "points_avg_season", "points_std_last_10")),
        ("last10", ("played",)),
        ("player_counts", ("season_rows_with_points",)),
    ),
}
# With an unknown opponent, feature 29 falls back to the season average (docs/features.md §6).
UNKNOWN_OPPONENT_INPUTS: dict[int, tuple[tuple[str, tuple[str, ...]], ...]] = {
    29: (
        ("opponent_games", ()),
        ("daily_cache", ("points_avg_season",)),
        ("player_counts", ("season_rows_with_points",)),
    ),
}
_PHASE4_DATE = {
    "daily_cache": "cache_date",
    "composite": "game_date",
    "shot_zone": "analysis_date",
    "team_defense": "analysis_date",
}
_LABEL = {
    "daily_cache": "daily cache",
    "composite": "composite",
    "shot_zone": "shot zone",
    "team_defense": "team defense",
}


def _describe(key: str, wanted: tuple[str, ...], ev: dict[str, Evidence]) -> str:
    e = ev[key]
    if key in _PHASE4_DATE:
        row = e.chosen()
        if row is None:
            return f"{_LABEL[key]}: {e.summary}"
        where = f"{_LABEL[key]} {fmt(row[_PHASE4_DATE[key]])}" + (
            " (table-level fallback)" if row["fallback_fired"] else ""
        )
        shown = ", ".join(f"{name} = {fmt(row[name])}" for name in wanted)
        if key == "composite" and row["fallback_fired"] and set(wanted) & {"shot_zone_mismatch_score", "pace_score"}:
            shown += " (under the fallback this feature is 0.0, tagged phase4)"
        return f"{where}: {shown}"
    if key == "last10":
        if not e.rows:
            return "last-10 list: empty (no PGS row in the 60-day window)"
        played = sum(1 for r in e.rows if r["played"])
        head = f"last-10 list: {len(e.rows)} rows, {played} played"
        if wanted == ("played",):
            unplayed = [fmt(r["game_date"]) for r in e.rows if not r["played"]]
            return head + (f" (not played: {', '.join(unplayed)})" if unplayed else "")
        return head + "; newest first " + " | ".join(_series(e.rows, name) for name in wanted)
    if key == "player_counts":
        return "PGS counts: " + ", ".join(f"{name} = {fmt(e.rows[0][name])}" for name in wanted)
    if key == "upgc":
        row = e.chosen()
        if row is None:
            return "UPGC: no row for the player at D (neutral value)"
        return "UPGC: " + ", ".join(f"{name} = {fmt(row[name])}" for name in wanted)
    if key == "team_games":
        if not e.rows:
            return f"team games: {e.summary}"
        return "team games: " + ", ".join(f"{name} = {fmt(e.rows[0][name])}" for name in wanted)
    if key == "odds_api":
        current, opening = e.chosen("chosen_current"), e.chosen("chosen_opening")
        if current is None:
            return f"Odds API: no candidate ({len(e.rows)} rows for the player at D)"
        parts = []
        for label, row in (("current", current), ("opening", opening)):
            if label in wanted and row is not None:
                parts.append(f"{label} {row['bookmaker']} {fmt(row['points_line'])} @ {fmt(row['snapshot_timestamp'])}")
        return "Odds API: " + "; ".join(parts)
    if key == "bettingpros":
        row = e.chosen()
        if row is None:
            return f"BettingPros: no candidate ({len(e.rows)} rows for the player at D)"
        return (
            "BettingPros: "
            + ", ".join(f"{name} = {fmt(row[name])}" for name in wanted)
            + f" (created {fmt(row['created_at'])})"
        )
    if key == "opponent_games":
        if not e.rows:
            return f"opponent games: {e.summary if 'unknown' in e.summary else 'none in the window'}"
        listed = "; newest first " + " | ".join(_series(e.rows, n) for n in wanted) if wanted else ""
        return f"opponent games: {len(e.rows)} rows vs {e.rows[0]['opponent_team_abbr']}{listed}"
    if key == "minutes_ppm":
        kept = [r for r in e.rows if r["counted"]]
        if not kept:
            return f"30-day games: {e.summary}"
        return f"30-day games with minutes > 0: {len(kept)}; newest first " + " | ".join(
            _series(kept, n) for n in wanted
        )
    return e.summary


def _series(rows, name: str) -> str:
    return f"{name}: " + ", ".join(fmt(r[name]) for r in rows)


NO_EVIDENCE = "no evidence query for this feature"


def feature_inputs(index: int, ev: dict[str, Evidence], opponent_known: bool = True) -> tuple[str, ...]:
    if index not in FEATURE_INPUTS:
        # v2_54 features 37-59: their value, tag and quality come from the row; the evidence
        # queries (queries/explain/) cover features 0-36 only, and saying so beats an empty cell.
        return (NO_EVIDENCE,)
    table = FEATURE_INPUTS if opponent_known or index not in UNKNOWN_OPPONENT_INPUTS else UNKNOWN_OPPONENT_INPUTS
    return tuple(_describe(key, wanted, ev) for key, wanted in table.get(index, ()))


# --------------------------------------------------------------------------- explain


def default_snapshot_path() -> Path:
    from fsengine.pipeline import default_snapshot

    return default_snapshot()


def explain(
    out_dir: str | Path,
    player: str,
    date: dt.date,
    snapshot: str | Path | None = None,
    *,
    verify_checksums: bool = False,
    profile: Profile | None = None,
) -> Explanation:
    """Explain the output row of (player, date): features, tags, quality, reasons, evidence.

    `snapshot` is the snapshot folder the run read; default: the one the run recorded in OUT
    (SnapshotError when that one is gone: other data would explain the row wrongly), else,
    for a run that recorded none, the bundled fixtures/small. Checksums are not verified by
    default (only a few rows are read).
    """
    from fsengine.output.schema import output_contract
    from fsengine.pipeline import recorded_snapshot

    if profile is None:  # the contract the output holds (its run record, else its columns)
        profile = output_contract(out_dir).profile
    row = read_row(out_dir, player, date)
    if snapshot is None:
        snapshot = recorded_snapshot(out_dir)
    snapshot_path = Path(snapshot) if snapshot is not None else default_snapshot_path()
    snap = Snapshot.open(snapshot_path, verify_checksums=verify_checksums)
    snap.check_coverage(date, date)
    opponent = row["opponent_team_abbr"] or ""
    ev = collect_evidence(snap, player, date, opponent, profile)

    contract = contract_of(profile)
    defaulted_labels = defaulted_tags(scorer_rules(profile))
    tags = json.loads(row["feature_sources_json"]) if row["feature_sources_json"] else {}
    reasons = json.loads(row["feature_fallback_reasons_json"]) if row["feature_fallback_reasons_json"] else {}
    stored_defaults = set(row["default_feature_indices"] or [])
    lines = []
    for f in contract.features:
        tag = tags.get(str(f.index))
        defaulted = f.index in stored_defaults or tag in defaulted_labels
        lines.append(
            FeatureExplanation(
                index=f.index,
                name=f.name,
                category=f.category,
                value=row["features"][f.index],
                tag=tag,
                quality=row[f"feature_{f.index}_quality"],
                source=row[f"feature_{f.index}_source"],
                defaulted=defaulted,
                fallback_reason=reasons.get(str(f.index), f.fallback_reason) if defaulted else None,
                inputs=feature_inputs(f.index, ev, opponent_known=bool(opponent)),
            )
        )

    warnings = []
    if row["early_season_flag"]:
        warnings.append(
            "early-season placeholder row: every feature is stored 0.0 without a tag (docs/features.md §2.5)"
        )
    stored_dates = ((row.get("historical_completeness") or {}).get("contributing_game_dates")) or []
    snapshot_dates = [r["game_date"] for r in ev["last10"].rows]
    if not row["early_season_flag"] and list(stored_dates) != snapshot_dates:
        warnings.append(
            f"the row's contributing_game_dates ({', '.join(map(fmt, stored_dates)) or 'none'}) differ from the snapshot's "
            f"last-10 list ({', '.join(map(fmt, snapshot_dates)) or 'none'}): is {snapshot_path} the snapshot OUT was computed from?"
        )
    return Explanation(
        out=Path(out_dir),
        snapshot=snapshot_path,
        player=player,
        game_date=date,
        row={name: row[name] for name in _ROW_COLUMNS},
        features=tuple(lines),
        evidence=ev,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- rendering


# Columns every row of an evidence table shares with the heading (player, fallback flags).
_REPEATED_COLUMNS = {"player_lookup", "universal_player_id", "table_has_rows_at_date", "fallback_fired", "candidates"}


def render_explanation(explanation: Explanation, console) -> None:
    """Print the explanation: row summary, one line per feature, then every evidence table."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    r = explanation.row
    completeness = r.get("historical_completeness") or {}
    console.print(
        f"[bold]{escape(explanation.player)}[/] on [bold]{explanation.game_date}[/] — game {escape(str(r['game_id']))}, "
        f"opponent {escape(str(r['opponent_team_abbr'] or 'unknown'))}, is_home {fmt(r['is_home'])}, days_rest {fmt(r['days_rest'])}\n"
        f"score {fmt(r['feature_quality_score'])} ({r['quality_tier'] or '–'}), alert {r['quality_alert_level'] or '–'} "
        f"{escape(str(list(r['quality_alerts'] or [])))}, defaults {fmt(r['default_feature_count'])} "
        f"(required {fmt(r['required_default_count'])}), quality-ready {fmt(r['is_quality_ready'])}, "
        f"training-ready {fmt(r['is_training_ready'])}, data_source {r['data_source']}\n"
        f"fallback_reasons {escape(str(list(r['fallback_reasons'] or [])))}; historical completeness "
        f"{completeness.get('games_found')}/{completeness.get('games_expected')} games"
        f" (complete {fmt(completeness.get('is_complete'))}, bootstrap {fmt(completeness.get('is_bootstrap'))})\n"
        f"output {escape(str(explanation.out))}; evidence from snapshot {escape(str(explanation.snapshot))}",
        highlight=False,
    )
    for warning in explanation.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)

    if console.width >= 140:
        table = Table(title="Features", show_lines=True)
        for name, justify in (
            ("#", "right"),
            ("feature", "left"),
            ("value", "right"),
            ("tag", "left"),
            ("quality", "right"),
            ("fallback reason", "left"),
            ("inputs", "left"),
        ):
            table.add_column(name, justify=justify, no_wrap=name != "inputs", overflow="fold")
        for f in explanation.features:
            table.add_row(
                str(f.index),
                f.name,
                fmt(f.value),
                f.tag or "–",
                fmt(f.quality),
                f.fallback_reason or "",
                escape("\n".join(f.inputs)),
                style="yellow" if f.defaulted else None,
            )
        console.print(table)
    else:  # narrow terminal: one block per feature
        console.print("[bold]Features[/]")
        for f in explanation.features:
            reason = f" — defaulted: {f.fallback_reason}" if f.defaulted else ""
            colour = "yellow" if f.defaulted else "bold"
            console.print(
                f"[{colour}]{f.index:>2} {f.name} = {fmt(f.value)}[/] (tag {f.tag or '–'}, quality {fmt(f.quality)}){escape(reason)}",
                highlight=False,
            )
            for line in f.inputs:
                console.print(Padding(Text(line), (0, 0, 0, 5)), highlight=False)

    for e in explanation.evidence.values():
        heading = f"[bold]{escape(e.title)}[/]: {escape(e.summary)}"
        if not e.rows:
            console.print(heading, highlight=False)
            continue
        shown = [c for c in e.columns if c not in _REPEATED_COLUMNS]
        evidence = Table(title=heading, title_justify="left", show_edge=False)
        for column in shown:
            evidence.add_column(column, overflow="fold")
        for row in e.rows:
            picked = any(row.get(flag) for flag in ("chosen", "chosen_current", "chosen_opening"))
            evidence.add_row(*(escape(fmt(row[c])) for c in shown), style="bold" if picked else None)
        console.print(evidence)
