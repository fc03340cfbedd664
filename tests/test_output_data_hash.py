"""data_hash (docs/output.md §3) of many rows at once: the vectorised hash groups the rows by
the head of their text (the fields before `features`) and must still equal the row-at-a-time
reference on every row, whatever the mix and order of heads."""

from __future__ import annotations

import datetime as dt
import math
import random

import polars as pl
from reference import hash_reference
from reference import quality_reference as ref
from test_finalize import HASH_SCHEMA

from fsengine.output import rows as finalize

HOSTILE_FLOATS = [None, math.nan, -0.0, 0.0, 1e-7, 1e-05, 0.0001, 1e15, 1e16, 9007199254740993.0, 0.1, 1 / 3, -2.5]


def random_row(rng: random.Random) -> dict:
    return {
        "player_lookup": rng.choice(["lebronjames", " nikolajokić ", "a|b", "x\u3000"]),
        "universal_player_id": rng.choice([None, "id_1", "\tid_2"]),
        "game_date": dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(400)),
        "game_id": rng.choice(["20260101_BOS_LAL", "g"]),
        "features": [rng.choice(HOSTILE_FLOATS) for _ in range(37)],
        "feature_names": ref.FEATURE_NAMES,
        "feature_count": 37,
        "feature_version": rng.choice(["v2_37features", " v2_37features"]),
        # the head fields take few values, so heads repeat and interleave
        "feature_quality_score": rng.choice([0.0, -0.0, 98.14, 85.0, 1e-05, math.nan]),
        "opponent_team_abbr": rng.choice([None, "GSW"]),
        "is_home": rng.choice([None, True, False]),
        "days_rest": rng.choice([None, 0, 1, 2, -3, 2**40]),
        "data_source": rng.choice(["mixed", "phase4", " early_season", "phase4_partial"]),
        "early_season_flag": rng.choice([None, True, False]),
        "insufficient_data_reason": rng.choice([None, "early_season_skip_first_14_days", ""]),
    }


def test_many_rows_with_repeating_heads_equal_reference():
    rng = random.Random(37)
    rows = [random_row(rng) for _ in range(2000)]
    frame = pl.DataFrame(rows, schema=HASH_SCHEMA)
    assert finalize.data_hashes(frame, 37).to_list() == [hash_reference.data_hash(r) for r in rows]


def test_hash_of_no_rows_is_empty():
    frame = pl.DataFrame([], schema=HASH_SCHEMA)
    hashes = finalize.data_hashes(frame, 37)
    assert hashes.dtype == pl.Utf8 and hashes.len() == 0


def test_hash_texts_are_what_is_hashed():
    rng = random.Random(54)
    rows = [random_row(rng) for _ in range(50)]
    frame = pl.DataFrame(rows, schema=HASH_SCHEMA)
    texts = finalize.hash_texts(frame, 37).to_list()
    want = ["|".join(sorted(f"{n}:{hash_reference.render(r[n])}" for n in hash_reference.FIELDS)) for r in rows]
    assert texts == want
