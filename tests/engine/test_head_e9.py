"""The NUMERIC x 10^9 integers of the head queries that take the float path for |y| < 10^5
(v54_player_context, v54_last10_games, v54_r_games, v54_o_games, v54_t_teammate_usage) equal
the exact product, on both sides of the switch, for DECIMAL(38,9) and FLOAT64 inputs."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import duckdb
import pytest

from fsengine.sql import query_text

FAST_PATH_FILES = ("v54_player_context", "v54_last10_games", "v54_r_games", "v54_o_games", "v54_t_teammate_usage")
_E9_CASE = re.compile(
    r"CASE WHEN CAST\((?P<col>[\w.]+) AS DECIMAL\(38, 9\)\) BETWEEN -99999 AND 99999\s+THEN .*?END", re.S
)


def _expressions() -> list[tuple[str, str]]:
    found = []
    for name in FAST_PATH_FILES:
        for m in _E9_CASE.finditer(query_text(name)):
            found.append((f"{name}:{m['col']}", m.group(0).replace(m["col"], "x")))
    return found


def _decimals() -> list[Decimal]:
    rng = random.Random(54)
    edges = [
        "0",
        "0.000000001",
        "0.5",
        "99998.999999999",
        "99999",
        "99999.000000001",
        "99999.999999999",
        "100000",
        "123456789.123456789",
        "9223372036.854775807",
    ]
    values = [Decimal(e) for e in edges] + [-Decimal(e) for e in edges]
    for _ in range(20000):
        values.append(Decimal(rng.randrange(-(10 ** rng.randrange(1, 16)), 10 ** rng.randrange(1, 16))).scaleb(-9))
    return values


def test_every_fast_path_file_has_its_expressions():
    assert sorted(label.split(":")[0] for label, _ in _expressions()) == sorted(
        [*FAST_PATH_FILES, "v54_player_context"]
    )


@pytest.mark.parametrize(("label", "expression"), _expressions())
def test_e9_is_the_exact_product(label, expression):
    con = duckdb.connect()
    decimals = _decimals()
    con.execute(
        "CREATE TABLE d AS SELECT CAST(v AS DECIMAL(38, 9)) AS x FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(v, i) ORDER BY i",
        [[str(v) for v in decimals] + [None]],
    )
    got = [r[0] for r in con.execute(f"SELECT {expression} FROM d").fetchall()]
    assert got == [int(v * 10**9) for v in decimals] + [None], label
    floats = [float(v) for v in decimals if abs(v) < 10**6]
    con.execute("CREATE TABLE f AS SELECT x FROM unnest(?::DOUBLE[]) WITH ORDINALITY t(x, i) ORDER BY i", [floats])
    exact = [
        r[0] for r in con.execute("SELECT CAST(CAST(x AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) FROM f").fetchall()
    ]
    assert [r[0] for r in con.execute(f"SELECT {expression} FROM f").fetchall()] == exact, label
