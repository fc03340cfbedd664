"""Parity: the engine's assembled rows equal the independent reference implementation
(tests/reference/engine_reference.py) on every row and feature, floats bit for bit.

Worlds: the committed `fixtures/small` (whole served range, several modes) and the generated
"small" world with INT64 minutes, plus a deterministic sample of about
1500 (player, D) rows of the generated "season" world. Rows the reference flags as
tie-affected (docs/features.md §0.2) are compared too; their differences are reported separately
(the engine's deterministic tie-break is specified, so they should agree as well).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import struct
from pathlib import Path

import pytest
from reference.engine_reference import ReferenceWorld
from worlds import world_path

from fsengine.engine.compute import compute
from fsengine.snapshot.format import Snapshot

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SIZE = 1500
SCALAR_FIELDS = ("universal_player_id", "game_id", "opponent_team_abbr", "is_home", "days_rest", "is_placeholder")
COMPLETENESS_FIELDS = ("games_found", "games_expected", "is_complete", "is_bootstrap", "contributing_game_dates")
SHOW = 25


# --------------------------------------------------------------------------- comparison


def same_float(a, b) -> bool:
    """Bit-exact float64 equality; None == None; any NaN == any NaN."""
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def _tags(row: dict):
    tags = row.get("feature_tags")
    if tags is None or all(t is None for t in tags):
        return None  # a placeholder's tags: NULL list or 37 NULLs mean the same
    return list(tags)


def row_differences(engine: dict, ref: dict) -> list[tuple[str, object, object]]:
    """(field, engine value, reference value) for every disagreement of one row."""
    out = []
    for field in SCALAR_FIELDS:
        if engine.get(field) != ref[field]:
            out.append((field, engine.get(field), ref[field]))
    if not ref["is_placeholder"] and engine.get("composite_fallback") != ref["composite_fallback"]:
        out.append(("composite_fallback", engine.get("composite_fallback"), ref["composite_fallback"]))
    values = engine.get("feature_values") or []
    if len(values) != 37:
        out.append(("feature_values.length", len(values), 37))
    else:
        for i, (a, b) in enumerate(zip(values, ref["feature_values"])):
            if not same_float(a, b):
                out.append((f"feature[{i}]", a, b))
    engine_tags, ref_tags = _tags(engine), _tags(ref)
    if engine_tags is None or ref_tags is None or len(engine_tags) != 37:
        if engine_tags != ref_tags:
            out.append(("feature_tags", engine_tags, ref_tags))
    else:
        for i, (a, b) in enumerate(zip(engine_tags, ref_tags)):
            if a != b:
                out.append((f"tag[{i}]", a, b))
    completeness = engine.get("historical_completeness") or {}
    for field in COMPLETENESS_FIELDS:
        got = completeness.get(field)
        want = ref["historical_completeness"][field]
        if field == "contributing_game_dates":
            got = list(got) if got is not None else None
        if got != want:
            out.append((f"completeness.{field}", got, want))
    return out


def compare(engine_rows: list[dict], ref_rows: list[dict], *, keys=None) -> tuple[list, list]:
    """Mismatches (plain, tie-affected): lists of (player, date, field, engine, reference).

    `ref_rows` are reference rows with `gated` set (include_gated=True); `keys`, when given,
    restricts the comparison to those (player, D) keys; without it, engine rows the
    reference does not have are reported too."""
    engine_by_key = {}
    for r in engine_rows:
        key = (r["player_lookup"], r["game_date"])
        if key in engine_by_key:
            engine_by_key[key]["_dup"] = True
        engine_by_key[key] = r
    ref_by_key = {(r["player_lookup"], r["game_date"]): r for r in ref_rows}
    plain, tied = [], []
    for key, ref in sorted(ref_by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if keys is not None and key not in keys:
            continue
        engine = engine_by_key.get(key)
        target = tied if ref["tie_affected"] else plain
        if ref["gated"]:
            if engine is not None:
                target.append((*key, "row", "emitted", "gated by fatigue (not emitted)"))
            continue
        if engine is None:
            target.append((*key, "row", "missing", "emitted"))
            continue
        if engine.get("_dup"):
            target.append((*key, "row", "duplicated", "one row"))
        for field, a, b in row_differences(engine, ref):
            target.append((*key, field, a, b))
    if keys is None:  # a sample cannot tell extra engine rows; the caller checks the spine
        for key in sorted(engine_by_key, key=lambda k: (k[1], k[0])):
            if key not in ref_by_key:
                plain.append((*key, "row", "emitted", "not in the reference spine"))
    return plain, tied


def report(plain: list, tied: list, label: str) -> str:
    lines = [f"{label}: {len(plain)} mismatches, {len(tied)} on tie-affected rows"]
    for title, items in (("mismatches", plain), ("tie-affected mismatches", tied)):
        if items:
            lines.append(f"first {min(SHOW, len(items))} {title} (player, date, field, engine, reference):")
            lines.extend(f"  {p} {d} {f}: engine={a!r} reference={b!r}" for p, d, f, a, b in items[:SHOW])
    return "\n".join(lines)


def engine_rows(snapshot: Snapshot, start: dt.date, end: dt.date, mode: str, as_of: dt.date) -> list[dict]:
    result = compute(snapshot, start, end, mode=mode, as_of=as_of)
    return result.rows.to_dicts()


def coverage(ref_rows: list[dict]) -> dict[str, int]:
    """What the compared rows exercise (printed with the result, checked by some tests)."""

    def has_nan(r):
        return any(v is not None and math.isnan(v) for v in r["feature_values"])

    return {
        "rows": len(ref_rows),
        "placeholders": sum(r["is_placeholder"] for r in ref_rows),
        "gated": sum(r["gated"] for r in ref_rows),
        "tie_affected": sum(r["tie_affected"] for r in ref_rows),
        "with_nan": sum(has_nan(r) for r in ref_rows),
        "composite_fallback": sum(r["composite_fallback"] and not r["is_placeholder"] for r in ref_rows),
    }


def assert_parity(snapshot: Snapshot, ref: ReferenceWorld, start, end, mode, as_of, label: str) -> dict[str, int]:
    ref_rows = ref.rows(start, end, mode, as_of, include_gated=True)
    assert ref_rows, f"{label}: the reference produced no rows; the world does not exercise anything"
    plain, tied = compare(engine_rows(snapshot, start, end, mode, as_of), ref_rows)
    counts = coverage(ref_rows)
    message = report(plain, tied, f"{label} {counts}")
    print(message)
    assert not plain and not tied, message
    return counts


# --------------------------------------------------------------------------- worlds


def _small_world_path(**overrides) -> Path:
    """The committed fixtures/small (the repo ships it: a missing one is a failure, not a
    reason to substitute a generated world); with overrides, the generated variant."""
    if not overrides:
        return REPO / "fixtures" / "small"
    return world_path("small", **overrides)


@pytest.fixture(scope="module")
def small():
    snapshot = Snapshot.open(_small_world_path())
    return snapshot, ReferenceWorld(snapshot)


@pytest.fixture(scope="module")
def small_int64():
    snapshot = Snapshot.open(_small_world_path(minutes_type="INT64"))
    return snapshot, ReferenceWorld(snapshot)


def test_parity_small_backfill(small):
    snapshot, ref = small
    start, end = snapshot.servable_range()
    assert_parity(snapshot, ref, start, end, "auto", end + dt.timedelta(days=1), "small, backfill")


def test_parity_small_auto_split_and_production(small):
    snapshot, ref = small
    start, end = snapshot.servable_range()
    middle = start + (end - start) / 2
    assert_parity(snapshot, ref, start, end, "auto", middle, f"small, auto as_of {middle}")
    assert_parity(snapshot, ref, start, end, "backfill", middle, f"small, backfill as_of {middle}")
    counts = assert_parity(snapshot, ref, start, end, "production", end + dt.timedelta(days=1), "small, production")
    assert counts["placeholders"] > 0, "the small world should start inside the early-season window"


def test_parity_small_int64_minutes(small_int64):
    snapshot, ref = small_int64
    assert snapshot.minutes_type == "INT64"
    start, end = snapshot.servable_range()
    assert_parity(snapshot, ref, start, end, "auto", end + dt.timedelta(days=1), "small (INT64 minutes), backfill")


def _sample(keys: list[tuple], size: int) -> set[tuple]:
    """A deterministic sample: the `size` keys with the smallest SHA-256 of 'player|date'."""
    ranked = sorted(keys, key=lambda k: hashlib.sha256(f"{k[0]}|{k[1]}".encode()).hexdigest())
    return set(ranked[:size])


def test_parity_season_sample():
    snapshot = Snapshot.open(world_path("season"))
    ref = ReferenceWorld(snapshot)
    start, end = snapshot.servable_range()
    as_of = end - dt.timedelta(days=20)  # the last three weeks in production mode
    spine = ref.spine(start, end, "auto", as_of)
    keys = _sample([(s["player_lookup"], s["game_date"]) for s in spine], SAMPLE_SIZE)
    ref_rows = [
        ref.row(s["player_lookup"], s["game_date"], s) for s in spine if (s["player_lookup"], s["game_date"]) in keys
    ]
    rows = engine_rows(snapshot, start, end, "auto", as_of)
    spine_keys = {(s["player_lookup"], s["game_date"]) for s in spine}
    extra = [
        (r["player_lookup"], r["game_date"]) for r in rows if (r["player_lookup"], r["game_date"]) not in spine_keys
    ]
    plain, tied = compare(rows, ref_rows, keys=keys)
    plain[:0] = [(p, d, "row", "emitted", "not in the reference spine") for p, d in extra]
    message = report(plain, tied, f"season sample of {len(keys)} rows (as_of {as_of}) {coverage(ref_rows)}")
    print(message)
    assert not plain and not tied, message


# --------------------------------------------------------------------------- hand-built edge world


def _edge_world_tables() -> dict[str, list[dict]]:
    """One tiny world holding the spec's corner cases (docs/features.md §2-§9) on a few dates, so
    parity also covers what the generated worlds rarely or never produce (the fatigue gate,
    NaN cases, Vegas quirks, NULL shot-zone rows, duplicates, Feb 29, placeholders)."""
    from reference.test_engine_reference import STAMP, pgs, upgc

    d1, d2, early, leap = dt.date(2026, 1, 20), dt.date(2026, 1, 21), dt.date(2025, 10, 25), dt.date(2028, 2, 29)
    back = lambda day, n: day - dt.timedelta(days=n)  # noqa: E731
    rows: dict[str, list[dict]] = {
        k: []
        for k in (
            "pgs",
            "upgc",
            "daily_cache",
            "composite",
            "shot_zone",
            "team_defense",
            "team_offense",
            "odds_api",
            "bettingpros",
        )
    }
    players = ["worked", "gate_hi", "gate_lo", "nullzone", "unknown", "nohist", "vegas", "dup", "dnps", "seasonnan"]
    for p in players:
        for day in (d1, d2):
            opponent = "" if p == "unknown" else ("ZZZ" if p == "nohist" else "BOS")
            rows["pgs"].append(pgs(p, day, opponent=opponent))
            rows["upgc"].append(
                upgc(
                    p,
                    day,
                    opponent=opponent,
                    home_game=p != "dnps",
                    days_rest=1 + len(p) % 3,
                    opponent_days_rest=0,
                    season_phase="mid",
                    player_status="Probable",
                    back_to_back=p == "vegas",
                )
            )
        rows["upgc"].append(upgc(p, early, home_game=True, days_rest=2))
        rows["pgs"].append(pgs(p, leap, opponent="BOS"))
        rows["pgs"].append(pgs(p, dt.date(2027, 2, 28), points=len(p), opponent="BOS"))
        rows["pgs"].append(pgs(p, dt.date(2027, 2, 27), points=40, opponent="BOS"))
    # openers fix the starts of seasons 2026 and 2027 (no built-in date: earliest PGS row)
    rows["pgs"] += [pgs("opener", dt.date(2026, 10, 20)), pgs("opener", dt.date(2027, 10, 19))]
    # §9 worked example history for "worked"
    worked = [
        (30, 34, 8, False),
        (25, 31, 5, False),
        (None, None, None, True),
        (20, 30, 4, False),
        (10, 22, 2, False),
        (15, 28, 3, False),
        (22, 33, 6, False),
        (18, 29, 4, False),
        (0, 12, 0, False),
        (14, 26, 2, False),
    ]
    for i, (points, minutes, ft, dnp) in enumerate(worked):
        rows["pgs"].append(pgs("worked", back(d1, i + 1), points, minutes, ft, dnp, opponent="BOS"))
    for k in range(46):
        rows["pgs"].append(pgs("worked", dt.date(2025, 2, 1) + dt.timedelta(days=k), 9, 20, 1, False, opponent="MIA"))
    # duplicated history rows with different values on one date, and spine/UPGC duplicates
    rows["pgs"].append(pgs("dup", back(d1, 2), points=12, minutes=25))
    rows["pgs"].append(pgs("dup", back(d1, 2), points=19, minutes=31))
    rows["pgs"].append(pgs("dup", back(d1, 5), points=7, minutes=17, game_id="20260115_AAA_TEA"))
    rows["pgs"].append(pgs("dup", d1, opponent="NYK", game_id="20260120_NYK_TEA"))
    rows["upgc"].append(upgc("dup", d2, opponent="MIA", home_game=False, days_rest=9))
    # DNP-heavy list and all-NULL season points
    for k in range(1, 7):
        rows["pgs"].append(pgs("dnps", back(d1, k), points=None if k % 2 else 0, minutes=None, dnp=k % 2 == 1))
        rows["pgs"].append(pgs("seasonnan", back(d1, k), points=None, minutes=20 + k, dnp=False))
    for k in range(1, 5):
        rows["pgs"].append(pgs("vegas", back(d1, k), points=2, minutes=3))
    # Phase 4 at d1 (d2 has none: every table-level fallback fires there)
    rows["daily_cache"] += [
        dict(player_lookup="worked", cache_date=back(d1, 3), points_avg_last_5=99.0),  # ignored: table has d1 rows
        dict(
            player_lookup="nullzone",
            cache_date=d1,
            paint_rate_last_10=40.0,
            three_pt_rate_last_10=35.12,
            points_avg_last_5=20.0,
            points_avg_season=17.5,
            points_std_last_10=6.25,
            minutes_avg_last_10=0.0,
        ),
        dict(
            player_lookup="unknown",
            cache_date=d1,
            points_avg_season=0.0,
            points_std_last_10=0.0,
            paint_rate_last_10=35.12,
            three_pt_rate_last_10=33.33,
            team_pace_last_10=101.5,
            team_off_rating_last_10=115.25,
            games_in_last_7_days=4,
        ),
        dict(player_lookup="vegas", cache_date=d1, points_avg_last_5=30.0, points_std_last_10=2.0),
    ]
    rows["composite"] += [
        dict(player_lookup="gate_hi", game_date=d1, fatigue_score=120, shot_zone_mismatch_score=1.0),
        dict(player_lookup="gate_lo", game_date=d1, fatigue_score=-1),
        dict(
            player_lookup="worked",
            game_date=d1,
            fatigue_score=100,
            shot_zone_mismatch_score=-3.3,
            pace_score=1.5,
            usage_spike_score=0.7,
        ),
        dict(player_lookup="dup", game_date=d1, fatigue_score=80, pace_score=2.0),
        dict(player_lookup="dup", game_date=d1, fatigue_score=75, pace_score=-2.0),
    ]
    rows["shot_zone"] += [
        dict(player_lookup="nullzone", analysis_date=d1),
        dict(
            player_lookup="worked",
            analysis_date=back(d1, 1),
            paint_rate_last_10=50.0,
            mid_range_rate_last_10=20.0,
            three_pt_rate_last_10=30.0,
        ),
        dict(player_lookup="unknown", analysis_date=d1, mid_range_rate_last_10=18.45),
    ]
    rows["team_defense"] += [
        dict(team_abbr="BOS", analysis_date=d1, defensive_rating_last_15=110.33, opponent_pace=98.7),
        dict(team_abbr="BOS", analysis_date=d1, defensive_rating_last_15=111.0, opponent_pace=99.1),
        dict(team_abbr="MIA", analysis_date=back(d1, 6), defensive_rating_last_15=108.0, opponent_pace=97.0),
    ]
    rows["team_offense"] += [
        dict(team_abbr="TEA", game_date=back(d1, k), season_year=2025, win_flag=k % 3 == 0) for k in range(1, 9)
    ]
    later = STAMP + dt.timedelta(hours=3)
    for day in (d1, d2):
        rows["odds_api"] += [
            dict(player_lookup="vegas", game_date=day, bookmaker="fanduel", points_line=21.5, snapshot_timestamp=later),
            dict(player_lookup="vegas", game_date=day, bookmaker="betmgm", points_line=20.5, snapshot_timestamp=later),
            dict(
                player_lookup="vegas", game_date=day, bookmaker="draftkings", points_line=0.0, snapshot_timestamp=later
            ),
            dict(
                player_lookup="worked",
                game_date=day,
                bookmaker="draftkings",
                points_line=24.5,
                snapshot_timestamp=STAMP,
            ),
            dict(
                player_lookup="worked",
                game_date=day,
                bookmaker="draftkings",
                points_line=25.5,
                snapshot_timestamp=later,
            ),
            dict(player_lookup=None, game_date=day, bookmaker="draftkings", points_line=9.5, snapshot_timestamp=later),
        ]
        rows["bettingpros"] += [
            dict(
                player_lookup="nullzone",
                game_date=day,
                market_type="points",
                points_line=22.5,
                opening_line=0.0,
                created_at=STAMP,
            ),
            dict(
                player_lookup="dup",
                game_date=day,
                market_type="points",
                points_line=18.5,
                opening_line=None,
                created_at=STAMP,
            ),
            dict(
                player_lookup="dup",
                game_date=day,
                market_type="points",
                points_line=18.5,
                opening_line=17.5,
                created_at=STAMP,
            ),
            dict(player_lookup="dup", game_date=day, market_type="rebounds", points_line=5.5, created_at=later),
            dict(
                player_lookup="worked",
                game_date=day,
                market_type="points",
                points_line=23.5,
                opening_line=22.0,
                created_at=later,
            ),
        ]
    return rows


@pytest.mark.parametrize("minutes_type", ["NUMERIC", "INT64"])
def test_parity_edge_world(tmp_path, minutes_type):
    from reference.test_engine_reference import world

    ref = world(tmp_path, minutes_type, **_edge_world_tables())
    snapshot = ref.snapshot
    start, end = dt.date(2025, 10, 25), dt.date(2028, 2, 29)
    leap = end
    runs = [
        ("backfill", end + dt.timedelta(days=1)),
        ("auto", dt.date(2026, 1, 21)),  # 2026-01-20 backfill; 2026-01-21 on production
        ("production", end + dt.timedelta(days=1)),
    ]
    for mode, as_of in runs:
        counts = assert_parity(
            snapshot, ref, start, end, mode, as_of, f"edge world ({minutes_type}), {mode} as_of {as_of}"
        )
        assert counts["with_nan"] > 0 and counts["tie_affected"] > 0
        if mode == "backfill":
            dates = {r["game_date"] for r in ref.rows(start, end, mode, as_of)}
            assert {leap, dt.date(2027, 2, 28)} <= dates
        if mode != "production":
            assert counts["gated"] >= 2  # d1, and d2 through the composite fallback
        else:
            assert counts["placeholders"] > 0


# --------------------------------------------------------------------------- random tiny worlds


def _random_world_tables(
    seed: int, first: dt.date, last: dt.date, minutes_type: str, float_divisor: int = 10
) -> dict[str, list[dict]]:
    """A small random world dense in corner cases: NULLs, zeros, duplicates (identical and
    different), unknown opponents, dates where a Phase-4 table is empty, ties in Vegas feeds,
    preseason rows, fatigue outside the gate, fractional NUMERIC minutes."""
    import random
    from decimal import Decimal

    from reference.test_engine_reference import STAMP, pgs, upgc

    rng = random.Random(seed)
    teams = ["AAA", "BBB", "CCC", "DDD"]
    players = [f"p{i}" for i in range(7)]
    team_of = {p: rng.choice(teams) for p in players}
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    rows: dict[str, list[dict]] = {
        k: []
        for k in (
            "pgs",
            "upgc",
            "daily_cache",
            "composite",
            "shot_zone",
            "team_defense",
            "team_offense",
            "odds_api",
            "bettingpros",
        )
    }

    def maybe(value, p_null=0.15):
        return None if rng.random() < p_null else value

    def minutes():
        if minutes_type == "INT64":
            return maybe(rng.choice([0, rng.randint(1, 44)]), 0.2)
        if minutes_type == "FLOAT64":  # not expected live; treated like INT64 (docs/sources.md §2.1)
            return maybe(rng.choice([0.0, rng.randint(1, 440) / 10, rng.randint(1, 44) / float_divisor]), 0.2)
        return maybe(rng.choice([Decimal(0), Decimal(rng.randint(1, 440)) / 10, Decimal(rng.randint(1, 44))]), 0.2)

    def dec(lo, hi, places):
        return maybe(Decimal(rng.randint(lo * 10**places, hi * 10**places)) / 10**places, 0.1)

    def stamp():
        return STAMP + dt.timedelta(minutes=rng.choice([0, 0, 30, 60, 90]))

    for day in days:
        empty = {name: rng.random() < 0.2 for name in ("daily_cache", "composite", "shot_zone", "team_defense")}
        for p in players:
            team = team_of[p]
            opponent = rng.choice([t for t in teams if t != team] + ([""] if rng.random() < 0.1 else []))
            if rng.random() < 0.6:
                season = day.year if day.month >= 10 else day.year - 1
                row = pgs(
                    p,
                    day,
                    points=maybe(rng.randint(0, 40), 0.2),
                    minutes=minutes(),
                    ft=maybe(rng.randint(0, 10), 0.2),
                    dnp=maybe(rng.random() < 0.2, 0.3),
                    opponent=opponent,
                    team=team,
                    season_year=season if rng.random() > 0.05 else season - 1,
                    universal_player_id=maybe(f"{p}_001", 0.1),
                )
                if rng.random() < 0.3:  # some game ids with no third token, away games
                    row["game_id"] = rng.choice([f"{day:%Y%m%d}_{team}_{opponent}", f"{day:%Y%m%d}"])
                rows["pgs"].append(row)
                if rng.random() < 0.12:
                    rows["pgs"].append(
                        dict(row)
                        if rng.random() < 0.5
                        else dict(row, points=maybe(rng.randint(0, 40)), minutes_played=minutes())
                    )
            if rng.random() < 0.6:
                row = upgc(
                    p,
                    day,
                    opponent=opponent,
                    team=rng.choice([team, team, ""]),
                    home_game=maybe(rng.random() < 0.5),
                    back_to_back=maybe(rng.random() < 0.3),
                    season_phase=maybe(rng.choice(["early", "mid", "Playoffs", "late"])),
                    days_rest=maybe(rng.randint(0, 5)),
                    opponent_days_rest=maybe(rng.choice([0, 0, 1, 3])),
                    player_status=maybe(
                        rng.choice(["Available", "probable", "QUESTIONABLE", "doubtful", "out", "day-to-day"])
                    ),
                )
                rows["upgc"].append(row)
                if rng.random() < 0.1:
                    rows["upgc"].append(
                        dict(row, days_rest=maybe(rng.randint(0, 5)), home_game=maybe(rng.random() < 0.5))
                    )
            copies = 2 if rng.random() < 0.08 else 1
            for _ in range(copies):
                if not empty["daily_cache"] and rng.random() < 0.7:
                    rows["daily_cache"].append(
                        dict(
                            player_lookup=p,
                            cache_date=day,
                            points_avg_last_5=dec(0, 35, 1),
                            points_avg_last_10=dec(0, 35, 1),
                            points_avg_season=rng.choice([dec(0, 35, 1), Decimal(0)]),
                            points_std_last_10=rng.choice([dec(0, 12, 2), Decimal(0)]),
                            games_in_last_7_days=maybe(rng.randint(0, 4)),
                            paint_rate_last_10=dec(0, 100, 2),
                            three_pt_rate_last_10=dec(0, 100, 2),
                            team_pace_last_10=dec(90, 110, 1),
                            team_off_rating_last_10=dec(100, 125, 2),
                            minutes_avg_last_10=rng.choice([dec(0, 40, 1), Decimal(0)]),
                        )
                    )
                if not empty["composite"] and rng.random() < 0.7:
                    rows["composite"].append(
                        dict(
                            player_lookup=p,
                            game_date=day,
                            fatigue_score=maybe(rng.randint(-5, 105)),
                            shot_zone_mismatch_score=dec(-10, 10, 1),
                            pace_score=dec(-3, 3, 1),
                            usage_spike_score=dec(-3, 3, 1),
                        )
                    )
                if not empty["shot_zone"] and rng.random() < 0.7:
                    null_rates = rng.random() < 0.2
                    rows["shot_zone"].append(
                        dict(
                            player_lookup=p,
                            analysis_date=day,
                            **{
                                c: None if null_rates else dec(0, 100, 2)
                                for c in ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10")
                            },
                        )
                    )
            if rng.random() < 0.5:
                for _ in range(rng.randint(1, 5)):
                    rows["odds_api"].append(
                        dict(
                            player_lookup=maybe(p, 0.1),
                            game_date=day,
                            bookmaker=rng.choice(["draftkings", "fanduel", "betmgm"]),
                            points_line=rng.choice([0.0, -1.5, 10.5, 12.5, 15.0, 22.5]),
                            snapshot_timestamp=stamp(),
                        )
                    )
            if rng.random() < 0.5:
                for _ in range(rng.randint(1, 5)):
                    rows["bettingpros"].append(
                        dict(
                            player_lookup=p,
                            game_date=day,
                            market_type=rng.choice(["points", "points", "assists"]),
                            points_line=rng.choice([0.0, 9.5, 11.5, 14.5, 20.0]),
                            opening_line=rng.choice([None, 0.0, 9.0, 13.5]),
                            created_at=stamp(),
                        )
                    )
        for team in teams:
            if not empty["team_defense"] and rng.random() < 0.8:
                for _ in range(2 if rng.random() < 0.1 else 1):
                    rows["team_defense"].append(
                        dict(
                            team_abbr=team,
                            analysis_date=day,
                            defensive_rating_last_15=dec(100, 125, 2),
                            opponent_pace=dec(90, 110, 1),
                        )
                    )
            if rng.random() < 0.5:
                season = day.year if day.month >= 10 else day.year - 1
                rows["team_offense"].append(
                    dict(team_abbr=team, game_date=day, season_year=season, win_flag=rng.random() < 0.5)
                )
    return rows


RANDOM_WORLDS = [
    # (seed, first table date, run start, run end, minutes type)
    (1, dt.date(2025, 12, 1), dt.date(2026, 1, 10), dt.date(2026, 1, 31), "NUMERIC"),
    (2, dt.date(2025, 12, 1), dt.date(2026, 1, 10), dt.date(2026, 1, 31), "INT64"),
    (3, dt.date(2025, 9, 15), dt.date(2025, 10, 1), dt.date(2025, 11, 15), "NUMERIC"),  # preseason, early season
    (4, dt.date(2025, 9, 15), dt.date(2025, 10, 1), dt.date(2025, 11, 15), "INT64"),
    (5, dt.date(2026, 1, 1), dt.date(2026, 2, 20), dt.date(2026, 3, 5), "NUMERIC"),
]


@pytest.mark.parametrize("seed,first,start,end,minutes_type", RANDOM_WORLDS)
def test_parity_random_world(tmp_path, seed, first, start, end, minutes_type):
    from reference.test_engine_reference import world

    ref = world(tmp_path, minutes_type, **_random_world_tables(seed, first, end, minutes_type))
    middle = start + (end - start) / 2
    for mode, as_of in (("auto", end + dt.timedelta(days=1)), ("auto", middle), ("production", middle)):
        assert_parity(
            ref.snapshot,
            ref,
            start,
            end,
            mode,
            as_of,
            f"random world seed {seed} ({minutes_type}), {mode} as_of {as_of}",
        )


def test_compare_detects_single_bit_and_tag_differences(tmp_path):
    """The comparison itself can fail: one ulp, -0.0 vs 0.0, a tag, a missing row."""
    from reference.test_engine_reference import world

    ref = world(tmp_path, **_edge_world_tables())
    day = dt.date(2026, 1, 20)
    rows = ref.rows(day, day, "backfill", dt.date(2026, 6, 1), include_gated=True)
    engine = [dict(r) for r in rows if not r["gated"]]
    assert compare(engine, rows) == ([], [])
    first = next(r for r in engine if not r["tie_affected"])
    first["feature_values"] = list(first["feature_values"])
    first["feature_values"][0] = math.nextafter(first["feature_values"][0], math.inf)
    plain, _ = compare(engine, rows)
    assert [(m[0], m[2]) for m in plain] == [(first["player_lookup"], "feature[0]")]
    assert not same_float(0.0, -0.0) and same_float(float("nan"), -float("nan")) and not same_float(None, 0.0)
    engine2 = [dict(r) for r in rows if not r["gated"]]
    engine2[0] = dict(engine2[0], feature_tags=["x"] * 37)
    del engine2[-1]
    plain, tied = compare(engine2, rows)
    fields = {m[2] for m in plain + tied}
    assert "row" in fields and any(f.startswith("tag[") for f in fields)


@pytest.mark.filterwarnings("ignore:.*minutes_played is FLOAT64")
def test_parity_float64_minutes(tmp_path):
    from reference.test_engine_reference import world

    start, end = dt.date(2026, 1, 10), dt.date(2026, 1, 31)
    ref = world(tmp_path, "FLOAT64", **_random_world_tables(6, dt.date(2025, 12, 1), end, "FLOAT64"))
    assert_parity(ref.snapshot, ref, start, end, "auto", end + dt.timedelta(days=1), "random world, FLOAT64 minutes")
