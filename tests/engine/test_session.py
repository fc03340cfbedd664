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
