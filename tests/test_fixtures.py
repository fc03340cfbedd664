"""The synthetic world generator (fsengine/synthetic): format, determinism, schedule realism,
the imperfections at their rates, and Phase-4 rows that agree with the game rows the way
docs/upstream-tables.md says. References here are plain Python over the rows, written from
the spec, not from the generator's vectorised code.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from worlds import world_path

from fsengine.contracts.profile import REFERENCE, season_of
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.sources import ARROW_TYPES, TABLES, required_bounds
from fsengine.synthetic.generate import DEFAULT_SEED, generate
from fsengine.synthetic.phase4 import build_phase4
from fsengine.synthetic.presets import resolve
from fsengine.synthetic.schedule import day_number
from fsengine.synthetic.world import build_world

REPO = Path(__file__).resolve().parents[1]
DEDUP_DAY = dt.date(2026, 1, 27)
SEASON_START = dt.date(2025, 10, 21)
# Declared NUMERIC scales, from docs/sources.md §2 (independent of the generator's own table).
DECLARED_SCALE = {
    ("player_game_summary", "minutes_played"): 1,
    ("player_daily_cache", "points_avg_last_5"): 1,
    ("player_daily_cache", "points_avg_last_10"): 1,
    ("player_daily_cache", "points_avg_season"): 1,
    ("player_daily_cache", "points_std_last_10"): 2,
    ("player_daily_cache", "paint_rate_last_10"): 2,
    ("player_daily_cache", "three_pt_rate_last_10"): 2,
    ("player_daily_cache", "team_pace_last_10"): 1,
    ("player_daily_cache", "team_off_rating_last_10"): 2,
    ("player_daily_cache", "minutes_avg_last_10"): 1,
    ("player_composite_factors", "shot_zone_mismatch_score"): 1,
    ("player_composite_factors", "pace_score"): 1,
    ("player_composite_factors", "usage_spike_score"): 1,
    ("player_shot_zone_analysis", "paint_rate_last_10"): 2,
    ("player_shot_zone_analysis", "mid_range_rate_last_10"): 2,
    ("player_shot_zone_analysis", "three_pt_rate_last_10"): 2,
    ("team_defense_zone_analysis", "defensive_rating_last_15"): 2,
    ("team_defense_zone_analysis", "opponent_pace"): 1,
}


def half_up(value, places: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def stored_mean(total: int, count: int, scale: int) -> Decimal:
    """Writer rounds the mean to 4 decimals, NUMERIC(p, scale) then keeps `scale`."""
    four = half_up(Decimal(total) / Decimal(count), 4)
    return half_up(four, scale)


def read(snapshot: Snapshot) -> dict[str, pl.DataFrame]:
    return {t.spec.short: pl.read_parquet([str(f) for f in t.files]) for t in snapshot.tables.values()}


@pytest.fixture(scope="module")
def season_snapshot() -> Snapshot:
    return Snapshot.open(world_path("season"))


@pytest.fixture(scope="module")
def season_tables(season_snapshot) -> dict[str, pl.DataFrame]:
    return read(season_snapshot)


@pytest.fixture(scope="module")
def con(season_snapshot):
    connection = duckdb.connect()
    season_snapshot.register(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def season_world():
    """The generator's in-memory world (hidden per-game stats included) and its Phase 4."""
    world = build_world(resolve("season"), DEFAULT_SEED)
    return world, build_phase4(world, DEFAULT_SEED)


def scalar(con, sql: str):
    return con.sql(sql).fetchall()[0][0]


# --------------------------------------------------------------------------- format and determinism


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def file_sums(folder: Path) -> dict[str, str]:
    return {f["path"]: f["sha256"] for e in manifest_of(folder)["tables"].values() for f in e["files"]}


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    a = generate("small", tmp_path / "a", seed=11)
    b = generate("small", tmp_path / "b", seed=11)
    c = generate("small", tmp_path / "c", seed=12)
    assert (a.out / "manifest.json").read_bytes() == (b.out / "manifest.json").read_bytes()
    assert file_sums(a.out) == file_sums(b.out)
    for path in file_sums(a.out):
        assert (a.out / path).read_bytes() == (b.out / path).read_bytes()
    pgs_a = read(Snapshot.open(a.out))["pgs"]
    pgs_c = read(Snapshot.open(c.out))["pgs"]
    assert not pgs_a.equals(pgs_c)
    assert manifest_of(a.out)["created_at"] != manifest_of(c.out)["created_at"]


def test_every_table_column_and_type_matches_sources(season_snapshot):
    manifest = season_snapshot.manifest
    assert manifest["format"] == 2 and manifest["contracts"] == ["v2_37features", "v2_54features"]
    assert set(manifest["tables"]) == set(TABLES)
    for key, spec in TABLES.items():
        entry = manifest["tables"][key]
        assert [c["name"] for c in entry["columns"]] == spec.all_column_names
        assert [c["type"] for c in entry["columns"]] == [c.bq_type for c in spec.all_columns]
        assert entry["source"].startswith("fixture:")
        assert entry["row_restriction"] == spec.row_restriction(
            dt.date.fromisoformat(entry["start"]), dt.date.fromisoformat(entry["end"])
        )
        for f in entry["files"]:
            schema = pq.read_schema(season_snapshot.path / f["path"])
            assert schema.names == spec.all_column_names
            assert [schema.field(c.name).type for c in spec.all_columns] == [
                ARROW_TYPES[c.bq_type] for c in spec.all_columns
            ]
        assert entry["rows"] > 0, key


def test_not_null_columns_hold_no_nulls(season_tables):
    for spec in TABLES.values():
        frame = season_tables[spec.short]
        for col in spec.columns:
            if not col.nullable:
                assert frame[col.name].null_count() == 0, (spec.key, col.name)


def test_numeric_values_are_exact_at_their_declared_scale(season_tables):
    for (table, column), scale in DECLARED_SCALE.items():
        short = next(t.short for t in TABLES.values() if t.table == table)
        values = [v for v in season_tables[short][column].to_list() if v is not None]
        assert values, (table, column)
        quantum = Decimal(1).scaleb(-scale)
        bad = [v for v in values if v != v.quantize(quantum)]
        assert not bad, (table, column, bad[:5])


def test_minutes_are_whole_numbers_and_int64_variant_matches(tmp_path):
    numeric = Snapshot.open(world_path("small"))
    as_int = Snapshot.open(generate("small", tmp_path / "int", minutes_type="INT64").out)
    assert numeric.minutes_type == "NUMERIC" and as_int.minutes_type == "INT64"
    a = read(numeric)["pgs"]["minutes_played"].to_list()
    b = read(as_int)["pgs"]["minutes_played"].to_list()
    assert all(v is None or v == v.to_integral_value() for v in a)
    assert [None if v is None else int(v) for v in a] == b
    assert (
        pq.read_schema(as_int.tables["nba_analytics.player_game_summary"].files[0]).field("minutes_played").type
        == ARROW_TYPES["INT64"]
    )


def test_bounds_are_the_run_bounds_and_rows_stay_inside(season_snapshot, season_tables):
    first, last = SEASON_START, season_tables["pgs"]["game_date"].max()
    assert season_snapshot.servable_range() == (first, last)
    season_snapshot.check_coverage(first, last)
    for key, table in season_snapshot.tables.items():
        assert (table.start, table.end) == required_bounds(table.spec, first, last), key
        dates = season_tables[table.spec.short][table.spec.date_column]
        assert dates.min() >= table.start and dates.max() <= table.end, key


def test_small_serves_its_month_with_early_season_partly_included():
    snapshot = Snapshot.open(world_path("small"))
    assert snapshot.servable_range() == (dt.date(2025, 10, 31), dt.date(2025, 11, 30))
    tables = read(snapshot)
    dates = set(tables["pgs"]["game_date"].to_list())
    early_end = SEASON_START + dt.timedelta(days=REFERENCE.early_season_days - 1)
    assert any(dt.date(2025, 10, 31) <= d <= early_end for d in dates)
    assert any(d > early_end for d in dates)
    assert min(dates) == SEASON_START  # history before the month is in PGS
    cache_dates = set(tables["daily_cache"]["cache_date"].to_list())
    assert not any(d <= early_end for d in cache_dates) and any(d > early_end for d in cache_dates)
    assert sum(t.bytes for t in snapshot.tables.values()) < 5_000_000


# Manifest fields that depend on the writer rather than on the data: the Parquet bytes (and so
# their size and checksum) carry the pyarrow version in the footer and may change with its
# encoder, and tool_version is fsengine's own version. Everything else must be equal.
WRITER_DEPENDENT_FILE_FIELDS = {"sha256"}
WRITER_DEPENDENT_TABLE_FIELDS = {"bytes"}
WRITER_DEPENDENT_MANIFEST_FIELDS = {"tool_version"}


def _without_writer_fields(manifest: dict) -> dict:
    return {
        **{k: v for k, v in manifest.items() if k not in WRITER_DEPENDENT_MANIFEST_FIELDS},
        "tables": {
            name: {
                **{k: v for k, v in entry.items() if k not in WRITER_DEPENDENT_TABLE_FIELDS},
                "files": [
                    {k: v for k, v in f.items() if k not in WRITER_DEPENDENT_FILE_FIELDS} for f in entry["files"]
                ],
            }
            for name, entry in manifest["tables"].items()
        },
    }


def test_committed_small_fixture_equals_a_fresh_generation(tmp_path):
    """Decoded contents, not bytes: pyproject allows any pyarrow >= 18, whose Parquet files
    differ in their footer (created_by) even when every value is the same."""
    committed = REPO / "fixtures" / "small"
    Snapshot.open(committed)  # verifies the committed files against their committed checksums
    fresh = generate("small", tmp_path / "small").out
    committed_manifest, fresh_manifest = manifest_of(committed), manifest_of(fresh)
    assert _without_writer_fields(committed_manifest) == _without_writer_fields(fresh_manifest)
    assert set(file_sums(committed)) == set(file_sums(fresh))
    for path in sorted(file_sums(committed)):
        old, new = pq.read_table(committed / path), pq.read_table(fresh / path)
        assert old.schema.equals(new.schema, check_metadata=False), path
        assert old.num_rows == new.num_rows > 0, path
        assert old.equals(new), f"{path}: the committed rows differ from a fresh generation"


def test_writer_dependent_fields_are_only_the_ones_ignored():
    """What the committed-fixture test leaves out is exactly what the manifest holds about the
    bytes of the files; a new manifest field is compared unless it is added here."""
    manifest = manifest_of(REPO / "fixtures" / "small")
    entry = next(iter(manifest["tables"].values()))
    assert WRITER_DEPENDENT_MANIFEST_FIELDS <= set(manifest)
    assert WRITER_DEPENDENT_TABLE_FIELDS <= set(entry)
    assert WRITER_DEPENDENT_FILE_FIELDS <= set(entry["files"][0])
    stripped = _without_writer_fields(manifest)
    assert {"format", "created_at", "tables"} <= set(stripped)
    assert {"rows", "columns", "start", "end", "snapshot_time"} <= set(next(iter(stripped["tables"].values())))


# --------------------------------------------------------------------------- schedule


def test_schedule_is_realistic(con, season_tables):
    pgs = season_tables["pgs"]
    assert pgs["team_abbr"].n_unique() == 30
    assert pgs["game_date"].min() == SEASON_START
    games = pgs.select("game_id", "game_date").unique()
    pattern = re.compile(r"^(\d{8})_([A-Z]{3})_([A-Z]{3})$")
    for game_id, day in games.iter_rows():
        match = pattern.match(game_id)
        assert match and match.group(1) == day.strftime("%Y%m%d") and match.group(2) != match.group(3)
    # team and opponent are the two teams of the game id; one game per team and date
    assert (
        scalar(
            con,
            """select count(*) from pgs where not (
        (split_part(game_id, '_', 2) = team_abbr and split_part(game_id, '_', 3) = opponent_team_abbr)
        or (split_part(game_id, '_', 3) = team_abbr and split_part(game_id, '_', 2) = opponent_team_abbr))""",
        )
        == 0
    )
    assert (
        scalar(con, "select max(n) from (select team_abbr, game_date, count(distinct game_id) n from pgs group by all)")
        == 1
    )
    team_days = "select distinct team_abbr, game_date from pgs"
    b2b = scalar(
        con,
        f"select count(*) from ({team_days}) a join ({team_days}) b on a.team_abbr = b.team_abbr and b.game_date = a.game_date + 1",
    )
    three = scalar(
        con,
        f"""select count(*) from ({team_days}) a join ({team_days}) b on a.team_abbr = b.team_abbr
        and b.game_date = a.game_date + 1 join ({team_days}) c on c.team_abbr = a.team_abbr and c.game_date = a.game_date + 2""",
    )
    assert b2b > 100 and three == 0
    per_team = con.sql(
        """select team_abbr, count(distinct game_id) from pgs where game_date < '2026-04-15' group by 1"""
    ).fetchall()
    assert all(75 <= n <= 90 for _, n in per_team)
    dates = sorted(set(pgs["game_date"].to_list()))
    assert 150 <= len(dates) <= 200
    span = (dates[-1] - dates[0]).days + 1
    assert span - len(dates) > 20  # days without games
    assert any(d.month in (5, 6) for d in dates) and dates[-1].month in (5, 6)
    assert pgs.select((pl.col("season_year") == 2025).all()).item()


def test_upgc_context_follows_upstream_rules(con):
    assert (
        scalar(
            con,
            """select count(*) from upgc where season_phase <> case
        when month(game_date) in (10, 11) then 'early' when month(game_date) in (12, 1, 2) then 'mid'
        when month(game_date) in (3, 4) then 'late' else 'playoffs' end""",
        )
        == 0
    )
    assert scalar(con, "select count(*) from upgc where season_phase = 'playoffs' and month(game_date) in (5, 6)") > 0
    assert scalar(con, "select count(*) from upgc where back_to_back <> coalesce(days_rest = 1, false)") == 0
    assert scalar(con, "select count(*) from upgc where opponent_days_rest <> 0") == 0
    assert scalar(con, "select count(*) from upgc where home_game <> (split_part(game_id, '_', 3) = team_abbr)") == 0
    # days_rest = days since the previous PGS row within 30 days, NULL when none
    wrong = scalar(
        con,
        """
        with prev as (select u.player_lookup, u.game_date, u.days_rest,
                             (select max(p.game_date) from pgs p where p.player_lookup = u.player_lookup
                              and p.game_date < u.game_date) as last_day from upgc u)
        select count(*) from prev where days_rest is distinct from
            case when game_date - last_day <= 30 then game_date - last_day end""",
    )
    assert wrong == 0
    statuses = {r[0] for r in con.sql("select distinct player_status from upgc").fetchall()}
    assert {"available", "out", "questionable", ""} <= statuses


# --------------------------------------------------------------------------- imperfections


def test_dnp_rows_and_their_variants(con):
    total = scalar(con, "select count(*) from pgs")
    dnp = scalar(con, "select count(*) from pgs where points is null")
    assert 0.06 < dnp / total < 0.25
    assert scalar(con, "select count(*) from pgs where points is null and is_dnp") > 0
    assert scalar(con, "select count(*) from pgs where is_dnp and minutes_played = 0 and points is null") > 0
    unmarked = con.sql("select game_date from pgs where points = 0 and minutes_played is null").fetchall()
    assert unmarked and all(d.month == 10 and d.day >= 15 for (d,) in unmarked)
    assert scalar(con, "select count(*) from pgs where points = 0 and minutes_played is null and is_dnp") == 0
    assert scalar(con, "select count(*) from pgs where points is not null and minutes_played = 0") == 0
    null_dnp = con.sql("select game_date from pgs where is_dnp is null").fetchall()
    assert null_dnp and all(d < DEDUP_DAY for (d,) in null_dnp)
    assert scalar(con, "select count(*) from pgs where points is not null and minutes_played > 0 and is_dnp") == 0


def test_duplicate_rows_only_where_upstream_had_them(con):
    dup_before = scalar(
        con, "select count(*) - count(distinct (player_lookup, game_id)) from pgs where game_date < '2026-01-27'"
    )
    dup_after = scalar(
        con, "select count(*) - count(distinct (player_lookup, game_id)) from pgs where game_date >= '2026-01-27'"
    )
    assert dup_before > 0 and dup_after == 0
    assert dup_before / scalar(con, "select count(*) from pgs") < 0.01
    upgc_dups = scalar(con, "select count(*) - count(distinct (player_lookup, game_date)) from upgc")
    assert 0 < upgc_dups < 0.01 * scalar(con, "select count(*) from upgc")
    offense_dups = scalar(con, "select count(*) - count(distinct (team_abbr, game_date)) from team_offense")
    assert 0 <= offense_dups < 0.01 * scalar(con, "select count(*) from team_offense")
    assert scalar(con, "select count(distinct (team_abbr, game_date)) from team_offense") == scalar(
        con, "select count(distinct (team_abbr, game_date)) from pgs"
    )


def test_rosters_have_rookies_call_ups_and_trades(con):
    per_player = con.sql("select player_lookup, count(*) n, min(game_date) first from pgs group by 1").fetchall()
    assert sum(1 for _, n, _ in per_player if n < 10) >= 5
    assert sum(1 for _, _, first in per_player if first >= dt.date(2026, 1, 2)) >= 10
    traded = con.sql("""select player_lookup, min(game_date) filter (where team_abbr = last_team) from
        (select *, last_value(team_abbr) over (partition by player_lookup order by game_date
                   rows between unbounded preceding and unbounded following) last_team from pgs)
        group by 1 having count(distinct team_abbr) > 1""").fetchall()
    assert len(traded) >= 5
    assert all(dt.date(2025, 12, 15) <= moved <= dt.date(2026, 3, 1) for _, moved in traded)


def test_about_a_third_of_player_games_lack_a_upgc_row(con):
    share = scalar(
        con,
        """select avg(case when u.player_lookup is null then 1 else 0 end)
        from (select distinct player_lookup, game_date from pgs) p
        left join (select distinct player_lookup, game_date from upgc) u using (player_lookup, game_date)""",
    )
    assert 0.28 < share < 0.45
    assert (
        scalar(
            con,
            "select count(*) from upgc u where player_status = 'out' and not exists "
            "(select 1 from pgs p where p.player_lookup = u.player_lookup and p.game_date = u.game_date)",
        )
        > 0
    )


def test_prop_lines_cover_about_forty_percent_with_realistic_quirks(con, season_tables):
    lines = """select distinct player_lookup, game_date from odds_api where player_lookup is not null
               union select distinct player_lookup, game_date from bettingpros where market_type = 'points'"""
    covered = scalar(
        con,
        f"""select avg(case when l.player_lookup is null then 0 else 1 end)
        from (select distinct player_lookup, game_date from pgs) p left join ({lines}) l using (player_lookup, game_date)""",
    )
    assert 0.3 < covered < 0.5
    assert (
        scalar(
            con,
            """select count(*) from (select distinct player_lookup, game_date from bettingpros
        where market_type = 'points') b where not exists (select 1 from odds_api o
        where o.player_lookup = b.player_lookup and o.game_date = b.game_date)""",
        )
        > 0
    )
    null_share = scalar(con, "select avg((player_lookup is null)::int) from odds_api")
    assert 0 < null_share < 0.03
    assert scalar(con, "select count(*) from bettingpros where market_type <> 'points'") > 0
    assert scalar(con, "select count(*) from bettingpros where market_type = 'points' and opening_line is null") > 0
    assert scalar(con, "select count(*) from bettingpros where market_type = 'points' and opening_line = 0") > 0
    assert (
        scalar(
            con,
            """select count(*) from (select player_lookup, game_date, snapshot_timestamp from odds_api
        where player_lookup is not null group by all having count(distinct bookmaker) > 1)""",
        )
        > 0
    )
    assert (
        scalar(
            con,
            """select count(*) from (select player_lookup, game_date, created_at from bettingpros
        where market_type = 'points' group by all having count(*) > 1)""",
        )
        > 0
    )
    assert scalar(con, "select count(*) from odds_api where minutes_before_tipoff < 0") > 0  # in-game snapshots
    assert scalar(con, "select count(distinct bookmaker) from odds_api") >= 4
    assert (
        scalar(con, "select count(*) from odds_api where points_line <= 0 or points_line * 2 <> round(points_line * 2)")
        == 0
    )
    sizes = {short: len(frame) for short, frame in season_tables.items()}
    assert max(sizes, key=sizes.get) == "odds_api"


def test_composite_and_shot_zone_gaps(con):
    # composite misses some UPGC players on dates it covers
    gap = scalar(
        con,
        """select avg(case when c.player_lookup is null then 1 else 0 end)
        from (select distinct player_lookup, game_date from upgc) u
        join (select distinct game_date from composite) d using (game_date)
        left join composite c using (player_lookup, game_date)""",
    )
    assert 0.01 < gap < 0.1
    assert (
        scalar(
            con,
            """select count(*) from composite c where not exists
        (select 1 from upgc u where u.player_lookup = c.player_lookup and u.game_date = c.game_date)""",
        )
        == 0
    )
    # low-minute players lack shot-zone rows far more often than starters
    shares = dict(
        con.sql("""
        with minutes as (select player_lookup, avg(coalesce(minutes_played, 0)) m from pgs group by 1),
        ctx as (select distinct u.player_lookup, u.game_date from upgc u
                join (select distinct analysis_date from shot_zone) d on d.analysis_date = u.game_date)
        select m >= 25 as starter, avg(case when s.player_lookup is null then 1 else 0 end)
        from ctx join minutes using (player_lookup)
        left join shot_zone s on s.player_lookup = ctx.player_lookup and s.analysis_date = ctx.game_date
        group by 1""").fetchall()
    )
    assert shares[False] > 2 * shares[True]
    assert scalar(con, "select count(*) from shot_zone where paint_rate_last_10 is null") > 0
    assert (
        scalar(
            con,
            """select count(*) from shot_zone where (paint_rate_last_10 is null) <> (three_pt_rate_last_10 is null)
        or (paint_rate_last_10 is null) <> (mid_range_rate_last_10 is null)""",
        )
        == 0
    )


@pytest.mark.parametrize(
    "short, column, window",
    [
        ("daily_cache", "cache_date", 14),
        ("composite", "game_date", 7),
        ("shot_zone", "analysis_date", 14),
        ("team_defense", "analysis_date", 7),
    ],
)
def test_each_phase4_table_has_empty_game_dates_with_an_earlier_row_to_fall_back_to(con, short, column, window):
    empty = con.sql(f"""
        select d.game_date from (select distinct game_date from pgs where game_date >= date '2025-11-04') d
        where not exists (select 1 from {short} x where x.{column} = d.game_date)
          and exists (select 1 from {short} x where x.{column} between d.game_date - {window} and d.game_date - 1)
    """).fetchall()
    assert empty


# --------------------------------------------------------------------------- Phase 4 against the game rows


def by_player(pgs: pl.DataFrame) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = defaultdict(list)
    for row in pgs.iter_rows(named=True):
        rows[row["player_lookup"]].append(row)
    for history in rows.values():
        history.sort(key=lambda r: (r["game_date"], r["game_id"]), reverse=True)
    return rows


def reference_cache_games(history: list[dict], day: dt.date) -> list[dict]:
    """docs/upstream-tables.md: before D in season S, active, not DNP, minutes or points > 0; the
    82 newest; then points not NULL and (points > 0 or minutes not NULL). Newest first."""
    season = season_of(day)
    games = [
        r
        for r in history
        if r["game_date"] < day
        and season_of(r["game_date"]) == season
        and r["is_dnp"] is not True
        and ((r["minutes_played"] or 0) > 0 or (r["points"] or 0) > 0)
    ][:82]
    return [r for r in games if r["points"] is not None and (r["points"] > 0 or r["minutes_played"] is not None)]


def test_daily_cache_recomputes_from_the_game_rows(season_tables):
    history = by_player(season_tables["pgs"])
    cache = season_tables["daily_cache"]
    sample = cache.sample(n=400, seed=3)
    for row in sample.iter_rows(named=True):
        day = row["cache_date"]
        games = reference_cache_games(history[row["player_lookup"]], day)
        assert len(games) >= 3 and (day - games[0]["game_date"]).days <= 30
        points = [g["points"] for g in games]
        assert row["points_avg_last_5"] == stored_mean(sum(points[:5]), len(points[:5]), 1)
        assert row["points_avg_last_10"] == stored_mean(sum(points[:10]), len(points[:10]), 1)
        assert row["points_avg_season"] == stored_mean(sum(points), len(points), 1)
        minutes = [int(g["minutes_played"]) for g in games[:10]]
        assert row["minutes_avg_last_10"] == stored_mean(sum(minutes), len(minutes), 1)
        assert abs(float(row["points_std_last_10"]) - statistics.stdev(points[:10])) <= 0.0051
        recent = [r for r in history[row["player_lookup"]] if 1 <= (day - r["game_date"]).days <= 6]
        assert row["games_in_last_7_days"] == len(recent)


def test_daily_cache_rows_exist_exactly_where_upstream_writes_them(season_tables):
    history = by_player(season_tables["pgs"])
    cache_keys = set(season_tables["daily_cache"].select("player_lookup", "cache_date").iter_rows())
    cache_dates = {d for _, d in cache_keys}
    context = (
        season_tables["upgc"]
        .select("player_lookup", "game_date")
        .unique()
        .filter(pl.col("game_date").is_in(list(cache_dates)))
    )
    early_end = SEASON_START + dt.timedelta(days=13)
    assert not any(d <= early_end for d in cache_dates)
    for player, day in context.sample(n=1500, seed=5).iter_rows():
        games = reference_cache_games(history.get(player, []), day)
        expected = len(games) >= 3 and (day - games[0]["game_date"]).days <= 30
        assert ((player, day) in cache_keys) == expected, (player, day)


def test_phase4_and_phase3_points_averages_agree_where_their_game_sets_do(season_tables):
    """P3 last-5 (first 5 played rows of the 60-day, 10-row list) equals the daily cache's
    last-5 up to its rounding when the list has no DNP and stays in the season."""
    history = by_player(season_tables["pgs"])
    compared = 0
    for row in season_tables["daily_cache"].sample(n=600, seed=9).iter_rows(named=True):
        day = row["cache_date"]
        listed = [r for r in history[row["player_lookup"]] if 1 <= (day - r["game_date"]).days <= 60][:10]
        played = [r for r in listed if r["points"] is not None and (r["minutes_played"] is not None or r["points"] > 0)]
        if (
            len(played) < 5
            or len(played) != len(listed)
            or any(season_of(r["game_date"]) != season_of(day) for r in listed)
        ):
            continue
        p3 = Fraction(sum(r["points"] for r in played[:5]), 5)
        assert abs(Fraction(row["points_avg_last_5"]) - p3) <= Fraction(1, 20)
        compared += 1
    assert compared > 100


def test_shot_zone_rates_use_games_up_to_and_including_d(season_world):
    world, phase4 = season_world
    history = defaultdict(list)
    for r in world.pgs.iter_rows(named=True):
        history[r["player"]].append(r)
    for rows in history.values():
        rows.sort(key=lambda r: (r["game_date"], r["game_id"]), reverse=True)
    starts = {s: day_number(REFERENCE.season_starts[s]) for s in world.params.seasons}

    def window(player, day, leak=True):
        rows = [
            r
            for r in history[player]
            if (r["game_date"] <= day if leak else r["game_date"] < day)
            and r["season"] == world.params.seasons[0]
            and r["is_dnp"] is not True
            and ((r["minutes"] or 0) > 0 or sum((r[z] or 0) for z in ("paint_fga", "mid_fga", "three_fga")) > 0)
        ]
        return rows[:10]

    leaked = 0
    for row in phase4.shot_zone.sample(n=400, seed=2).iter_rows(named=True):
        games = window(row["player"], row["game_date"])
        required = 5 if row["game_date"] - starts[world.params.seasons[0]] < 28 else 10
        assert len(games) >= required
        totals = {z: sum(r[f"{z}_fga"] or 0 for r in games) for z in ("paint", "mid", "three")}
        total = sum(totals.values())
        if total == 0 or all(r["paint_fga"] is None for r in games):
            assert row["paint_rate_last_10"] is None
            continue
        for zone, column in (
            ("paint", "paint_rate_last_10"),
            ("mid", "mid_range_rate_last_10"),
            ("three", "three_pt_rate_last_10"),
        ):
            assert Decimal(row[column]) / 100 == half_up(Decimal(100 * totals[zone]) / total, 2)
        leaked += window(row["player"], row["game_date"], leak=False) != games
    assert leaked > 20  # same-day games are inside the window


def test_team_defense_means_last_15_games_up_to_d(season_world):
    world, phase4 = season_world
    games = defaultdict(list)
    for r in world.team_games.iter_rows(named=True):
        games[r["team"]].append(r)
    played_on_day = 0
    for row in phase4.team_defense.sample(n=300, seed=4).iter_rows(named=True):
        window = sorted(
            (g for g in games[row["team"]] if g["game_date"] <= row["game_date"]),
            key=lambda g: (g["game_date"], g["game_idx"]),
            reverse=True,
        )[:15]
        assert Decimal(row["defensive_rating_last_15"]) / 100 == stored_mean(
            sum(g["drtg100"] for g in window), 100 * len(window), 2
        )
        assert Decimal(row["opponent_pace"]) / 10 == stored_mean(
            sum(g["opp_pace10"] for g in window), 10 * len(window), 1
        )
        played_on_day += window[0]["game_date"] == row["game_date"]
    assert played_on_day > 50


def test_daily_cache_team_columns_and_copied_shot_zone_rates(season_world):
    world, phase4 = season_world
    games = defaultdict(list)
    for r in world.team_games.iter_rows(named=True):
        games[r["team"]].append(r)
    zones = {(r["player"], r["game_date"]): r for r in phase4.shot_zone.iter_rows(named=True)}
    emptied = set(phase4.empty_dates["shot_zone"])
    for row in (
        phase4.daily_cache.filter(~pl.col("game_date").is_in(list(emptied))).sample(n=300, seed=6).iter_rows(named=True)
    ):
        window = sorted(
            (g for g in games[row["team"]] if g["game_date"] < row["game_date"]),
            key=lambda g: (g["game_date"], g["game_idx"]),
            reverse=True,
        )[:10]
        assert Decimal(row["team_pace_last_10"]) / 10 == stored_mean(
            sum(g["pace10"] for g in window), 10 * len(window), 1
        )
        assert Decimal(row["team_off_rating_last_10"]) / 100 == stored_mean(
            sum(g["ortg100"] for g in window), 100 * len(window), 2
        )
        zone = zones.get((row["player"], row["game_date"]))
        assert row["paint_rate_last_10"] == (zone["paint_rate_last_10"] if zone else None)


def test_composite_fatigue_follows_the_upstream_formula(season_tables):
    pgs = by_player(season_tables["pgs"])
    upgc = {
        (r["player_lookup"], r["game_date"]): r
        for r in season_tables["upgc"].unique(["player_lookup", "game_date"], keep="first").iter_rows(named=True)
    }
    comp = season_tables["composite"]
    assert comp["fatigue_score"].min() >= 0 and comp["fatigue_score"].max() <= 100
    for column, bound in (("pace_score", 3), ("usage_spike_score", 3), ("shot_zone_mismatch_score", 10)):
        assert all(abs(v) <= bound for v in comp[column].to_list())
    ages: dict[str, set[int]] = {}
    for row in comp.sample(n=300, seed=8).iter_rows(named=True):
        day = row["game_date"]
        context = upgc[(row["player_lookup"], day)]
        days = sorted({r["game_date"] for r in pgs.get(row["player_lookup"], []) if r["game_date"] < day}, reverse=True)
        week = {r["game_date"]: r for r in pgs.get(row["player_lookup"], []) if 1 <= (day - r["game_date"]).days <= 6}
        minutes = sum(int(r["minutes_played"] or 0) for r in week.values())
        b2b = sum(1 for d in days if (day - d).days <= 14 and d - dt.timedelta(days=1) in days)
        score = 100
        score += -15 if context["back_to_back"] else (5 if (context["days_rest"] or 1) >= 3 else 0)
        score -= 10 if len(week) >= 4 else 0
        score -= 10 if minutes > 240 else 0
        score -= 8 if week and minutes / len(week) > 35 else 0
        score -= 12 if b2b >= 2 else (5 if b2b == 1 else 0)
        # age is hidden: some age step (0, 5, 10) must explain the score, the same for all of a player's rows
        fits = {a for a in (0, 5, 10) if max(0, min(100, score - a)) == row["fatigue_score"]}
        assert fits, row
        ages[row["player_lookup"]] = ages.get(row["player_lookup"], fits) & fits
        assert ages[row["player_lookup"]], row


def test_generate_rejects_unknown_presets_and_parameters(tmp_path):
    from fsengine.errors import InputError

    with pytest.raises(InputError, match="unknown preset"):
        generate("huge", tmp_path / "x")
    with pytest.raises(InputError, match="unknown world parameter"):
        generate("small", tmp_path / "x", colour="red")
    with pytest.raises(InputError, match="minutes_type"):
        generate("small", tmp_path / "x", minutes_type="FLOAT64")
    assert not (tmp_path / "x").exists()


def test_parameters_scale_the_world(tmp_path):
    report = generate("season", tmp_path / "w", teams=8, players_per_team=10, seasons=2)
    tables = read(Snapshot.open(report.out))
    assert tables["pgs"]["team_abbr"].n_unique() == 8
    assert set(tables["pgs"]["season_year"].unique().to_list()) == {2024, 2025}
    per_team_game = (
        tables["pgs"].group_by("game_id", "team_abbr").agg(pl.col("player_lookup").n_unique())["player_lookup"]
    )
    assert per_team_game.max() <= 11  # ten rostered players plus at most one call-up
    assert report.served[0] == dt.date(2024, 10, 22)
    rows = {t.key: t.rows for t in report.tables}
    assert rows["nba_analytics.player_game_summary"] == len(tables["pgs"])
    assert "player_game_summary" in report.render()


def test_cli_option_forms_resolve(tmp_path):
    from fsengine.errors import InputError
    from fsengine.synthetic.presets import parse_seasons

    assert parse_seasons("5") == 5
    assert parse_seasons("2023") == (2023,)
    assert parse_seasons("2021-2023") == (2021, 2022, 2023)
    assert parse_seasons("2023,2021") == (2021, 2023)
    with pytest.raises(InputError, match="seasons"):
        parse_seasons("recent")
    assert resolve("nba5", seasons=2).seasons == (2024, 2025)
    assert resolve("season", first_date="2025-12-01").first_date == dt.date(2025, 12, 1)
    with pytest.raises(InputError, match="overlap"):
        generate("small", tmp_path / "x", seasons=(2021,))
    report = generate("season", tmp_path / "dec", first_date="2025-12-01", last_date="2025-12-31")
    assert Snapshot.open(report.out).servable_range() == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


def test_nba5_has_the_scale_of_the_real_table():
    snapshot = Snapshot.open(world_path("nba5"))
    con = duckdb.connect()
    snapshot.register(con)
    starts = ", ".join(f"(date '{d}')" for d in REFERENCE.season_starts.values())
    output_rows = scalar(
        con,
        f"""select count(*) from (select distinct player_lookup, game_date from pgs) p
        where not exists (select 1 from (values {starts}) v(s) where p.game_date - v.s between 0 and 13)""",
    )
    assert 130_000 <= output_rows <= 150_000
    assert sorted(scalar(con, "select list(distinct season_year) from pgs")) == [2021, 2022, 2023, 2024, 2025]
    sizes = {t.spec.short: t.rows for t in snapshot.tables.values()}
    assert max(sizes, key=sizes.get) == "odds_api" and sizes["odds_api"] > 5 * sizes["pgs"]
    assert scalar(con, "select count(distinct bookmaker) from odds_api") >= 5
    # every season opens on its built-in date (docs/features.md §2.5)
    firsts = dict(con.sql("select season_year, min(game_date) from pgs group by 1").fetchall())
    assert firsts == REFERENCE.season_starts


def test_dates_without_upgc_get_phase4_rows_from_the_pgs_players(con):
    """docs/upstream-tables.md: when UPGC is empty for D, the processors build a context from the
    PGS players of D; the daily cache then has rows only for players who played on D."""
    days = [
        d
        for (d,) in con.sql("""select distinct game_date from pgs p where game_date > date '2025-11-04'
        and not exists (select 1 from upgc u where u.game_date = p.game_date)""").fetchall()
    ]
    assert days
    counts = []
    for day in days:
        counts.append(scalar(con, f"select count(*) from daily_cache where cache_date = date '{day}'"))
        strangers = scalar(
            con,
            f"""select count(*) from daily_cache c where cache_date = date '{day}' and not exists
            (select 1 from pgs p where p.player_lookup = c.player_lookup and p.game_date = c.cache_date)""",
        )
        assert strangers == 0
    assert max(counts) > 0  # (a date may also be one the cache lost entirely)


def test_committed_small_fixture_has_the_imperfections_of_its_month():
    """fixtures/small is what most engine tests run on: the month must still exercise the
    quirks that can occur in November (trades and call-ups come later in a season)."""
    snapshot = Snapshot.open(REPO / "fixtures" / "small")
    c = duckdb.connect()
    snapshot.register(c)
    checks = {
        "DNP rows": "select count(*) from pgs where points is null and is_dnp",
        "unmarked DNPs": "select count(*) from pgs where points = 0 and minutes_played is null",
        "is_dnp NULL": "select count(*) from pgs where is_dnp is null",
        "PGS duplicates": "select count(*) - count(distinct (player_lookup, game_id)) from pgs",
        "UPGC duplicates": "select count(*) - count(distinct (player_lookup, game_date)) from upgc",
        "players without UPGC": """select count(*) from pgs p where game_date >= date '2025-10-31' and not exists
            (select 1 from upgc u where u.player_lookup = p.player_lookup and u.game_date = p.game_date)""",
        "date without UPGC": """select count(*) from (select distinct game_date from pgs where game_date >= date '2025-11-14') d
            where not exists (select 1 from upgc u where u.game_date = d.game_date)""",
        "odds NULL player": "select count(*) from odds_api where player_lookup is null",
        "other markets": "select count(*) from bettingpros where market_type <> 'points'",
        "opening NULL": "select count(*) from bettingpros where market_type = 'points' and opening_line is null",
        "opening 0": "select count(*) from bettingpros where market_type = 'points' and opening_line = 0",
        "BettingPros only": """select count(*) from bettingpros b where market_type = 'points' and not exists
            (select 1 from odds_api o where o.player_lookup = b.player_lookup and o.game_date = b.game_date)""",
    }
    for short, column in (
        ("daily_cache", "cache_date"),
        ("composite", "game_date"),
        ("shot_zone", "analysis_date"),
        ("team_defense", "analysis_date"),
    ):
        checks[f"{short} empty date"] = f"""select count(*) from (select distinct game_date from pgs
            where game_date between date '2025-11-04' and date '2025-11-30') d
            where not exists (select 1 from {short} x where x.{column} = d.game_date)"""
    missing = [name for name, sql in checks.items() if scalar(c, sql) == 0]
    assert not missing
