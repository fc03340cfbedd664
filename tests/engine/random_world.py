"""A small random world (every table, with NULLs, duplicates, empty dates and out-of-range
fatigue scores) for the engine's property tests."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

PLAYERS = ("ann", "bob", "cyd", "dee")
TEAMS = ("AAA", "BBB", "CCC")
START = dt.date(2025, 11, 6)
END = dt.date(2025, 11, 13)


def days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def maybe(rng: random.Random, value, p_null: float = 0.15):
    return None if rng.random() < p_null else value


def dec(rng: random.Random, low: float, high: float, places: int = 1) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), places)))


def random_world(seed: int, start: dt.date = START, end: dt.date = END) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    tables: dict[str, list[dict]] = {
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
    team_of = {p: rng.choice(TEAMS) for p in PLAYERS}
    for player in PLAYERS:
        for day in days(start - dt.timedelta(days=75), end):
            if rng.random() < 0.45:
                continue
            opponent = rng.choice([t for t in TEAMS if t != team_of[player]] + [""])
            home = rng.random() < 0.5
            game_id = f"{day:%Y%m%d}_{opponent if home else team_of[player]}_{team_of[player] if home else opponent}"
            dnp = rng.random() < 0.15
            row = dict(
                player_lookup=player,
                universal_player_id=maybe(rng, f"{player}_1"),
                game_id=game_id,
                game_date=day,
                team_abbr=team_of[player],
                opponent_team_abbr=opponent,
                season_year=day.year if day.month >= 10 else day.year - 1,
                points=None if dnp else rng.randint(0, 40),
                minutes_played=None if dnp else maybe(rng, Decimal(rng.randint(0, 44)), 0.1),
                ft_makes=maybe(rng, rng.randint(0, 10)),
                is_dnp=maybe(rng, dnp, 0.2),
            )
            for _ in range(2 if rng.random() < 0.1 else 1):
                tables["pgs"].append(dict(row))
            if day >= start and rng.random() < 0.7:
                for _ in range(2 if rng.random() < 0.1 else 1):
                    tables["upgc"].append(
                        dict(
                            player_lookup=player,
                            universal_player_id=row["universal_player_id"],
                            game_id=game_id,
                            game_date=day,
                            team_abbr=rng.choice([team_of[player], ""]) if rng.random() < 0.1 else team_of[player],
                            opponent_team_abbr=opponent,
                            home_game=maybe(rng, home),
                            back_to_back=maybe(rng, rng.random() < 0.3),
                            season_phase=rng.choice(["early", "mid", "playoffs", None]),
                            days_rest=maybe(rng, rng.randint(0, 5)),
                            opponent_days_rest=maybe(rng, 0, 0.05),
                            player_status=rng.choice(["available", "Probable", "questionable", "OUT", None, "weird"]),
                        )
                    )
    phase4_days = list(days(start - dt.timedelta(days=14), end))
    for day in phase4_days:
        empty = {name: rng.random() < 0.3 for name in ("daily_cache", "composite", "shot_zone", "team_defense")}
        for player in PLAYERS:
            if not empty["daily_cache"] and rng.random() < 0.7:
                tables["daily_cache"].append(
                    dict(
                        player_lookup=player,
                        cache_date=day,
                        points_avg_last_5=maybe(rng, dec(rng, 0, 35)),
                        points_avg_last_10=maybe(rng, dec(rng, 0, 35)),
                        points_avg_season=maybe(rng, dec(rng, 0, 35)),
                        points_std_last_10=maybe(rng, rng.choice([Decimal("0"), dec(rng, 0, 9, 2)])),
                        games_in_last_7_days=maybe(rng, rng.randint(0, 4)),
                        paint_rate_last_10=maybe(rng, dec(rng, 0, 100, 2)),
                        three_pt_rate_last_10=maybe(rng, dec(rng, 0, 100, 2)),
                        team_pace_last_10=maybe(rng, dec(rng, 90, 110)),
                        team_off_rating_last_10=maybe(rng, dec(rng, 100, 125, 2)),
                        minutes_avg_last_10=maybe(rng, rng.choice([Decimal("0"), dec(rng, 5, 40)])),
                    )
                )
            if not empty["composite"] and rng.random() < 0.7:
                tables["composite"].append(
                    dict(
                        player_lookup=player,
                        game_date=day,
                        fatigue_score=maybe(rng, rng.randint(-5, 105)),
                        shot_zone_mismatch_score=maybe(rng, dec(rng, -10, 10)),
                        pace_score=maybe(rng, dec(rng, -3, 3)),
                        usage_spike_score=maybe(rng, dec(rng, -3, 3)),
                    )
                )
            if not empty["shot_zone"] and rng.random() < 0.7:
                rate = lambda: maybe(rng, dec(rng, 0, 100, 2), 0.0)
                nulls = rng.random() < 0.2
                tables["shot_zone"].append(
                    dict(
                        player_lookup=player,
                        analysis_date=day,
                        paint_rate_last_10=None if nulls else rate(),
                        mid_range_rate_last_10=None if nulls else rate(),
                        three_pt_rate_last_10=None if nulls else rate(),
                    )
                )
        for team in TEAMS:
            if not empty["team_defense"] and rng.random() < 0.8:
                tables["team_defense"].append(
                    dict(
                        team_abbr=team,
                        analysis_date=day,
                        defensive_rating_last_15=maybe(rng, dec(rng, 100, 120, 2)),
                        opponent_pace=maybe(rng, dec(rng, 90, 110)),
                    )
                )
    for team in TEAMS:
        for day in days(dt.date(2025, 10, 1), end):
            if rng.random() < 0.4:
                tables["team_offense"].append(
                    dict(team_abbr=team, game_date=day, season_year=2025, win_flag=rng.random() < 0.5)
                )
    base = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    for day in days(start, end):
        for player in PLAYERS:
            for _ in range(rng.randint(0, 4)):
                tables["odds_api"].append(
                    dict(
                        player_lookup=maybe(rng, player, 0.1),
                        game_date=day,
                        bookmaker=rng.choice(["draftkings", "fanduel", "betmgm"]),
                        points_line=rng.choice([0.0, 12.5, 18.5, 19.0, 24.5]),
                        snapshot_timestamp=base + dt.timedelta(hours=rng.randint(0, 3)),
                    )
                )
            for _ in range(rng.randint(0, 3)):
                tables["bettingpros"].append(
                    dict(
                        player_lookup=player,
                        game_date=day,
                        market_type=rng.choice(["points", "points", "assists"]),
                        points_line=rng.choice([0.0, 12.5, 18.5]),
                        opening_line=rng.choice([None, 0.0, 11.5, 18.5]),
                        created_at=base + dt.timedelta(hours=rng.randint(0, 2)),
                    )
                )
    return tables


DATE_COLUMNS = {
    "pgs": "game_date",
    "upgc": "game_date",
    "daily_cache": "cache_date",
    "composite": "game_date",
    "shot_zone": "analysis_date",
    "team_defense": "analysis_date",
    "team_offense": "game_date",
    "odds_api": "game_date",
    "bettingpros": "game_date",
}
