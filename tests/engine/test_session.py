import datetime as dt
import random
from decimal import Decimal

import pyarrow as pa
import pytest

from fsengine.contracts.profile import REFERENCE
from fsengine.engine.extract import parameter_names, query_text, run_query, statement
from fsengine.engine.session import connect, profile_windows, query_params, register_season_starts
from fsengine.errors import InputError


def test_decimal_to_double_is_correctly_rounded():
    rng = random.Random(7)
    values = [Decimal(rng.randint(-9 * 10**15, 9 * 10**15)).scaleb(-9) for _ in range(20000)]
    values += [Decimal(rng.randint(-99999, 99999)).scaleb(-rng.choice([1, 2])) for _ in range(20000)]
    values += [Decimal("35.12"), Decimal("0.1"), Decimal("112.35"), Decimal("-0.3"), Decimal("8999999.999999999")]
    con = connect(1)
    con.register("t", pa.table({"x": pa.array(values, pa.decimal128(38, 9))}))
    got = [r[0] for r in con.execute("SELECT CAST(x AS DOUBLE) FROM t").fetchall()]
    assert got == [float(v) for v in values]


def test_params_carry_run_dates_and_every_profile_window():
    params = query_params(dt.date(2025, 11, 3), dt.date(2025, 12, 1), dt.date(2025, 11, 20), dt.date(2025, 11, 20))
    assert params["start"] == dt.date(2025, 11, 3) and params["as_of"] == dt.date(2025, 11, 20)
    for name in (
        "last10_window_days",
        "last10_size",
        "total_games_window_days",
        "opponent_window_years",
        "minutes_ppm_window_days",
        "daily_cache_fallback_days",
        "composite_fallback_days",
        "shot_zone_fallback_days",
        "team_defense_fallback_days",
        "early_season_days",
    ):
        assert params[name] == getattr(REFERENCE, name)
    assert "season_starts" not in profile_windows(REFERENCE)


def test_season_start_table_comes_from_the_profile():
    con = connect(1)
    register_season_starts(con, REFERENCE)
    got = dict(con.execute("SELECT season_year, start_date FROM season_start_builtin").fetchall())
    assert got == REFERENCE.season_starts


def test_parameter_names_ignore_comments_and_strings():
    sql = "-- uses $not_this\nSELECT $a, '$b' AS s /* $c */, $a + $d_2"
    assert parameter_names(sql) == ["a", "d_2"]


def test_run_query_binds_only_the_names_in_the_file_and_times_it():
    con = connect(1)
    con.execute(
        "CREATE TABLE spine AS SELECT 'p' AS player_lookup, DATE '2025-11-10' AS game_date, FALSE AS is_placeholder"
    )
    con.execute(
        "CREATE TABLE odds_api (player_lookup VARCHAR, game_date DATE, bookmaker VARCHAR, points_line DOUBLE,"
        " snapshot_timestamp TIMESTAMPTZ, minutes_before_tipoff BIGINT)"
    )
    con.execute(
        "CREATE TABLE bettingpros (player_lookup VARCHAR, game_date DATE, market_type VARCHAR,"
        " points_line DOUBLE, opening_line DOUBLE, created_at TIMESTAMPTZ)"
    )
    _, names = statement("q09_vegas_lines")
    assert names == []  # Q9 reads D only
    seconds = run_query(con, "q09_vegas_lines", {"unused": 1, "start": dt.date(2025, 1, 1)})
    assert seconds >= 0 and con.execute("SELECT count(*) FROM q09_vegas_lines").fetchone() == (0,)


def test_run_query_names_missing_parameters():
    con = connect(1)
    with pytest.raises(InputError, match="q01_daily_cache.*daily_cache_fallback_days"):
        run_query(con, "q01_daily_cache", {})


def test_unknown_query_file():
    with pytest.raises(InputError, match="nope.sql"):
        query_text("nope")


def test_chunks_computed_on_one_session_give_the_rows_of_their_own_sessions(tmp_path):
    """pipeline.backfill computes a process's chunks on one Session; each chunk sees its own
    dates (the views restricted again) and leaves no table behind for the next."""

    from engine.builders import make_snapshot
    from engine.random_world import END, START, random_world
    from fsengine.engine.compute import compute
    from fsengine.engine.session import Session

    snap = make_snapshot(tmp_path / "snap", START, END, **random_world(11, START, END))
    middle = START + (END - START) // 2
    chunks = [(START, middle), (middle + dt.timedelta(days=1), END)]
    alone = [compute(snap, a, b, mode="auto", as_of=middle, threads=1).rows for a, b in chunks]
    with Session(snap, REFERENCE, 1, None, bounds=(START, END)) as session:
        kept = session.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1").fetchall()
        shared = []
        for a, b in chunks:
            shared.append(compute(snap, a, b, mode="auto", as_of=middle, threads=1, session=session).rows)
            left = session.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1").fetchall()
            assert left == kept
    assert alone[0].height > 0 and alone[1].height > 0
    for own, on_session in zip(alone, shared, strict=True):
        assert own.equals(on_session, null_equal=True)


def test_a_session_refuses_a_chunk_of_another_snapshot(tmp_path):
    from engine.builders import make_snapshot, pgs_row
    from fsengine.engine.session import Session, chunk_connection

    day = dt.date(2025, 11, 20)
    one = make_snapshot(tmp_path / "one", day, day, pgs=[pgs_row("a", day)])
    other = make_snapshot(tmp_path / "other", day, day, pgs=[pgs_row("a", day)])
    with Session(one, REFERENCE, 1, None, bounds=(day, day)) as session:
        with pytest.raises(ValueError, match="its own snapshot"):
            chunk_connection(other, REFERENCE, 1, None, (day, day), session)
