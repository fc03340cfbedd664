"""What contract v2_54features reads on top of the round-1 world (spec v2_54 fixtures.md): the
new columns of PGS, UPGC, team offense and BettingPros, the two new tables (injury report,
prediction accuracy), and the planted shapes the new rules need (bovada, a constant-line
date, an upper-case status, a date without injury report).

Everything is drawn from its own random stream (seed, 54), after the round-1 world is built,
so the round-1 columns keep their values where nothing is planted on purpose. All frames keep
dates as int32 day numbers and NUMERIC values as integer units (scales in generate.SCALES).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import polars as pl

from fsengine.synthetic.schedule import day_number
from fsengine.synthetic.windows import leading_run, rows_in_window, sort_stable
from fsengine.synthetic.world import World

SYSTEMS = ("catboost_v8", "ensemble_v1", "moving_average", "similarity_balanced_v1", "zone_matchup_v1")
LATE_SYSTEM = "catboost_v12"  # starts grading later (docs/sources.md §3.2)
BP_BOOKS = (
    "BetMGM",
    "DraftKings",
    "FanDuel",
    "Caesars",
    "PrizePicks",
    "Underdog",
    "Sleeper",
    "Fliff",
    "PropSwap",
    "prizepicks",
    "UNDERDOG",
    "bettingpros consensus",
)
BP_CONSENSUS = "BettingPros Consensus"
REPORT_HOURS = (11, 13, 17, 19)
# the hard-coded season start of upstream's star_teammates_out (fixtures.md §3)
STAR_SINCE = day_number(dt.date(2025, 10, 22))


def grow(world: World, seed: int, first: dt.date, last: dt.date) -> Iterator[tuple[str, pl.DataFrame]]:
    """The world's v2_54 tables, (short name, frame) each as soon as it is final: grown copies of
    five round-1 frames and the two new tables. Consumes the world: each of its frames is
    released (World.release) after its last use, so the largest worlds fit in memory."""
    rng = np.random.default_rng([seed, 54])
    lo, hi = day_number(first), day_number(last)
    planted: list[str] = []  # what was planted on purpose (handy when debugging a world)
    pgs = _pgs(world, rng, lo, hi, planted)
    world.release("pgs")
    odds = _odds(world, rng, lo, hi, planted)
    world.release("odds_api")
    lines = _current_lines(odds, world.bettingpros)
    yield "odds_api", odds
    del odds
    injury = _injury_report(world, rng, lo, hi, planted)
    world.release("candidates")
    upgc = _upgc(world, pgs, lines, injury, rng, lo, hi, planted)
    world.release("upgc")
    yield "upgc", upgc
    del upgc
    yield "injury_report", injury
    del injury
    yield "team_offense", _team_offense(world, rng)
    world.release("team_games", "team_offense")
    yield "bettingpros", _bettingpros(world, rng)
    world.release("bettingpros")
    accuracy = _prediction_accuracy(pgs, lines, rng, lo)
    del lines
    yield "pgs", pgs
    del pgs
    yield "prediction_accuracy", accuracy


# --------------------------------------------------------------------------- PGS


def _pgs(world: World, rng: np.random.Generator, lo: int, hi: int, planted: list[str]) -> pl.DataFrame:
    """Zone attempts (sum = fg attempts on most rows; NULL zones on some older rows and for
    untracked call-ups) and usage rate (NULL on DNP rows and some played ones)."""
    n_cand = len(world.candidates)
    # per candidate row, so a duplicated PGS row is an exact copy
    u_zone, u_usage, u_fga = (pl.Series(rng.random(n_cand)) for _ in range(3))
    pgs = world.pgs.with_columns(
        _u_zone=u_zone.gather(world.pgs["row"]),
        _u_usage=u_usage.gather(world.pgs["row"]),
        _u_fga=u_fga.gather(world.pgs["row"]),
    )
    boxed = pl.col("points").is_not_null()
    tracked = pl.col("paint_fga").is_not_null()
    older = pl.col("game_date") < lo - 30
    zone_null = ~tracked | ~boxed | (older & (pl.col("_u_zone") < 0.25))
    fga = pl.col("paint_fga").fill_null(0) + pl.col("mid_fga").fill_null(0) + pl.col("three_fga").fill_null(0)
    # untracked players still have a field-goal count: zones unknown, total known
    fga_untracked = (pl.col("minutes").fill_null(0) * 0.4).round(0).cast(pl.Int64)
    pgs = pgs.with_columns(
        fg_attempts=pl.when(~boxed)
        .then(None)
        .when(~tracked)
        .then(fga_untracked)
        .when(pl.col("_u_fga") < 0.03)
        .then(fga + 1)  # "most rows": a few totals disagree with the zones
        .otherwise(fga)
        .cast(pl.Int64),
        paint_attempts=pl.when(zone_null).then(None).otherwise(pl.col("paint_fga")).cast(pl.Int64),
        mid_range_attempts=pl.when(zone_null).then(None).otherwise(pl.col("mid_fga")).cast(pl.Int64),
        three_pt_attempts=pl.when(zone_null).then(None).otherwise(pl.col("three_fga")).cast(pl.Int64),
        # NUMERIC(6,2) in units of 0.01; NULL on DNP rows and on ~6 % of played rows
        usage_rate=pl.when(pl.col("played") & pl.col("usage").is_not_nan() & (pl.col("_u_usage") >= 0.06))
        .then((pl.col("usage").fill_nan(0) * 100).round(0).clip(0, 999_999))
        .otherwise(None)
        .cast(pl.Int64),
    ).drop("_u_zone", "_u_usage", "_u_fga")

    # Not planted, to keep the round-1 world's invariants (tests/test_fixtures.py): trades inside
    # the small world's month (real trades start on Dec 15, so the season worlds have them) and
    # rows with points but 0 minutes (the round-1 world has none; the golden world plants two).
    return pgs


# --------------------------------------------------------------------------- props


def _odds(world: World, rng: np.random.Generator, lo: int, hi: int, planted: list[str]) -> pl.DataFrame:
    """bovada copies of draftkings rows (line off the median on ~74 % of player-dates by ~2.15
    points), snapshots exactly at tip-off, and one served date whose lines are constant per
    player (max std 0: M's BettingPros switch)."""
    odds = world.odds_api
    if "bovada" not in odds["bookmaker"].unique().to_list():
        dk = odds.filter(pl.col("bookmaker") == "draftkings")
        # the median (lower middle) of the other books' latest lines of the player-date
        latest = odds.filter(
            pl.col("snapshot_timestamp")
            == pl.col("snapshot_timestamp").max().over("player_lookup", "game_date", "bookmaker")
        )
        median = latest.group_by("player_lookup", "game_date").agg(
            _median=pl.col("points_line").sort().gather((pl.len() - 1) // 2).first()
        )
        keys = (
            dk.select("player_lookup", "game_date")
            .unique(maintain_order=True)
            .join(median, on=["player_lookup", "game_date"], how="left", nulls_equal=True, maintain_order="left")
        )
        size = rng.choice([1.5, 2.0, 2.0, 2.5, 2.5, 3.0], len(keys)) * rng.choice([-1.0, 1.0], len(keys))
        shift = np.where(rng.random(len(keys)) < 0.74, size, 0.0)
        keys = keys.with_columns(_line=(pl.col("_median") + pl.Series(shift)).clip(0.5, None)).drop("_median")
        bovada = (
            dk.join(keys, on=["player_lookup", "game_date"], how="left", nulls_equal=True)
            .with_columns(
                bookmaker=pl.lit("bovada"),
                points_line=pl.col("_line"),
            )
            .drop("_line")
        )
        odds = pl.concat([odds, bovada])
        planted.append(f"bovada: {len(bovada)} rows copied from draftkings")
    at_tip = pl.Series(rng.random(len(odds)) < 0.005)
    odds = odds.with_columns(
        minutes_before_tipoff=pl.when(at_tip & pl.col("minutes_before_tipoff").is_not_null())
        .then(0)
        .otherwise(pl.col("minutes_before_tipoff"))
    )
    days = odds["game_date"]
    served = days.filter(days.is_between(lo + 7, hi)).unique().sort().to_list()
    if served:
        day = served[int(rng.integers(0, len(served)))]
        constant = (pl.col("game_date") == day) & (pl.col("bookmaker") != "bovada")
        first_line = (
            odds.filter(constant & pl.col("player_lookup").is_not_null())
            .group_by("player_lookup")
            .agg(pl.col("points_line").first().alias("_first"))
        )
        # a lookup of the day's first lines, not a join: the day is a sliver of the frame
        odds = odds.with_columns(
            points_line=pl.when(constant & pl.col("player_lookup").is_not_null())
            .then(
                pl.col("player_lookup").replace_strict(
                    first_line["player_lookup"], first_line["_first"], default=None, return_dtype=pl.Float64
                )
            )
            .otherwise(pl.col("points_line"))
        )
        planted.append(f"constant Odds API lines per player on day {day} (BettingPros switch)")
    return sort_stable(odds, "game_date")


def _current_lines(odds: pl.DataFrame, bettingpros: pl.DataFrame) -> pl.DataFrame:
    """(player_lookup, game_date) -> the player's current points line: the median over the
    books of the latest Odds API snapshot, else the latest BettingPros points line."""
    latest = (
        odds.select("player_lookup", "game_date", "snapshot_timestamp", "points_line")
        .filter(pl.col("player_lookup").is_not_null())
        .filter(pl.col("snapshot_timestamp") == pl.col("snapshot_timestamp").max().over("player_lookup", "game_date"))
        .group_by("player_lookup", "game_date")
        .agg(line=pl.col("points_line").median())
    )
    bp = (
        bettingpros.filter(pl.col("market_type") == "points")
        .sort("created_at")
        .group_by("player_lookup", "game_date")
        .agg(bp_line=pl.col("points_line").last())
    )
    both = latest.join(bp, on=["player_lookup", "game_date"], how="full", coalesce=True)
    return both.select("player_lookup", "game_date", line=pl.coalesce("line", "bp_line"))


def _bettingpros(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """A bookmaker per (player-game, book) pair: the consensus on most first pairs, sportsbooks
    and DFS apps (mixed case) otherwise; over and under rows keep their shared created_at."""
    bp = world.bettingpros
    pairs = int(bp["bp_pair"].max() or 0) + 1
    consensus = rng.random(pairs) < 0.6
    names = np.array(BP_BOOKS, dtype=object)[rng.integers(0, len(BP_BOOKS), pairs)]
    book = np.where(consensus, BP_CONSENSUS, names)
    other = np.array(BP_BOOKS, dtype=object)[rng.integers(0, len(BP_BOOKS), len(bp))]
    pair = bp["bp_pair"].to_numpy()
    return bp.with_columns(bookmaker=pl.Series(np.where(pair >= 0, book[np.maximum(pair, 0)], other), dtype=pl.String))


# --------------------------------------------------------------------------- injury report


def _injury_report(world: World, rng: np.random.Generator, lo: int, hi: int, planted: list[str]) -> pl.DataFrame:
    """Several report hours per day; absent players `out` (some `out` early, `available` later),
    inactive ones doubtful/questionable, a sample of healthy ones probable/available; some rows of
    a report list the next day's games; a few NULL player_lookups; one game date without rows."""
    cand = world.candidates.join(world.players.select("player", "player_lookup"), on="player").sort("row")
    teams = pl.Series(world.teams)
    listed = cand.filter(
        pl.col("absent") | pl.col("inactive") | pl.col("injured") | pl.Series(rng.random(len(cand)) < 0.05)
    )
    n = len(listed)
    u = rng.random(n)
    absent = listed["absent"].to_numpy()
    inactive = listed["inactive"].to_numpy()
    status = np.where(
        absent,
        np.where(u < 0.85, "out", "doubtful"),
        np.where(
            inactive,
            np.where(u < 0.5, "doubtful", "questionable"),
            np.where(u < 0.5, "probable", np.where(u < 0.8, "available", "questionable")),
        ),
    )
    hours = rng.integers(1, 4, n)
    idx = np.repeat(np.arange(n), hours)
    starts = np.cumsum(hours) - hours
    slot = np.arange(len(idx)) - starts[idx]
    first_hour = rng.integers(0, len(REPORT_HOURS) - 2, n)
    hour = np.array(REPORT_HOURS)[np.minimum(first_hour[idx] + slot, len(REPORT_HOURS) - 1)]
    row_status = status[idx].astype(object)
    # out early, available later (T still counts the early out)
    flip = (rng.random(n) < 0.08) & absent & (hours >= 2)
    last_of = starts + hours - 1
    row_status[last_of[flip]] = "available"
    game_day = listed["game_date"].to_numpy()[idx]
    early = rng.random(len(idx)) < 0.08  # a report of D - 1 listing the game of D
    report = pl.DataFrame(
        {
            "report_date": (game_day - early.astype(np.int32)).astype(np.int32),
            "player_lookup": listed["player_lookup"].gather(idx).set(pl.Series(rng.random(len(idx)) < 0.01), None),
            "team": teams.gather(listed["team"].to_numpy()[idx]),
            "injury_status": pl.Series(row_status, dtype=pl.String),
            "report_hour": hour.astype(np.int64),
            "game_date": game_day.astype(np.int32),
        }
    )
    served = sorted(set(report.filter(pl.col("game_date").is_between(lo + 7, hi))["game_date"].to_list()))
    if served:
        gap = served[int(rng.integers(0, len(served)))]
        report = report.filter(pl.col("report_date") != gap)
        planted.append(f"no injury-report rows on day {gap}")
    return sort_stable(report, "report_date", "report_hour")


# --------------------------------------------------------------------------- UPGC


def _window_sums(keys: pl.DataFrame, pgs: pl.DataFrame, back: int) -> pl.DataFrame:
    """For each (player, game_date) of keys: count and minutes sum of the player's PGS rows in
    [D - back, D - 1] (DNP rows included), from running sums and two as-of joins."""
    state = (
        pgs.group_by("player", "game_date")
        .agg(n=pl.len(), m=pl.col("minutes").fill_null(0).sum())
        .sort("player", "game_date")
        .with_columns(cn=pl.col("n").cum_sum().over("player"), cm=pl.col("m").cum_sum().over("player"))
        .select("player", "game_date", "cn", "cm")
        .sort("game_date")
    )
    left = keys.with_columns(_to=pl.col("game_date") - 1, _from=pl.col("game_date") - back - 1)

    def at(column: str, suffix: str) -> pl.DataFrame:
        return left.sort(column).join_asof(
            state.rename({"game_date": "_d" + suffix, "cn": "cn" + suffix, "cm": "cm" + suffix}),
            left_on=column,
            right_on="_d" + suffix,
            by="player",
            check_sortedness=False,
        )

    a = at("_to", "_a")
    b = at("_from", "_b").select("player", "game_date", "cn_b", "cm_b")
    joined = a.join(b, on=["player", "game_date"], how="left")
    return joined.select(
        "player",
        "game_date",
        w_n=(pl.col("cn_a").fill_null(0) - pl.col("cn_b").fill_null(0)).cast(pl.Int64),
        w_m=(pl.col("cm_a").fill_null(0) - pl.col("cm_b").fill_null(0)).cast(pl.Int64),
    )


def _streaks(keys: pl.DataFrame, pgs: pl.DataFrame) -> pl.DataFrame:
    """prop_over_streak / prop_under_streak per (player, game_date, line) (fixtures.md §3): the
    player's PGS rows of the 30 days before D, newest first, pushes skipped; the run of rows on
    the newest row's side of the line (a row without points stops it)."""
    lined = keys.filter(pl.col("line").is_not_null()).select("player", "game_date", "line")
    if not len(lined):
        return lined.with_columns(over=pl.lit(0, pl.Int64), under=pl.lit(0, pl.Int64))
    hist = pgs.select("player", "game_date", "points").sort("player", "game_date")
    day = lined["game_date"].to_numpy()
    key, row = rows_in_window(
        lined["player"].to_numpy(), day, hist["player"].to_numpy(), hist["game_date"].to_numpy(), 30
    )
    points = hist["points"]
    past_points = points.fill_null(0).to_numpy()[row]
    line = lined["line"].to_numpy()[key]
    sign = np.where(
        points.is_null().to_numpy()[row], 2, np.where(past_points > line, 1, np.where(past_points < line, -1, 0))
    )
    counted = sign != 0  # pushes are skipped
    key, sign = key[counted], sign[counted]
    run, first = leading_run(key, sign, len(lined))
    return lined.select(
        "player",
        "game_date",
        over=pl.Series(np.where(first == 1, run, 0), dtype=pl.Int64),
        under=pl.Series(np.where(first == -1, run, 0), dtype=pl.Int64),
    )


def _upgc(
    world: World,
    pgs: pl.DataFrame,
    lines: pl.DataFrame,
    injury: pl.DataFrame,
    rng: np.random.Generator,
    lo: int,
    hi: int,
    planted: list[str],
) -> pl.DataFrame:
    upgc = world.upgc.with_row_index("_u")
    n = len(upgc)
    keys = upgc.select("player", "game_date").unique()
    last7 = _window_sums(keys, pgs, 6)
    hist30 = _window_sums(keys, pgs, 29)
    upgc = upgc.join(last7.rename({"w_n": "n7", "w_m": "m7"}), on=["player", "game_date"], how="left").join(
        hist30.rename({"w_n": "n30", "w_m": "m30"}), on=["player", "game_date"], how="left"
    )
    upgc = upgc.join(lines.rename({"line": "cur_line"}), on=["player_lookup", "game_date"], how="left")
    streaks = _streaks(upgc.select("player", "game_date", line="cur_line").unique(["player", "game_date"]), pgs)
    upgc = upgc.join(streaks.rename({"over": "st_over", "under": "st_under"}), on=["player", "game_date"], how="left")

    # game lines: per game a total and the favourite's spread (<= 0), NULL when not scraped
    games = world.team_games.filter(pl.col("is_home")).select("game_idx", "team_points", "opp_points")
    g = len(games)
    scraped = rng.random(g) >= 0.1
    spread_only = scraped & (rng.random(g) < 0.03)
    total = np.round((games["team_points"].to_numpy() + games["opp_points"].to_numpy() + rng.normal(0, 9, g)) * 2) / 2
    spread = -np.abs(
        np.round((games["team_points"].to_numpy() - games["opp_points"].to_numpy() + rng.normal(0, 6, g)) * 2) / 2
    )
    game_lines = games.select("game_idx").with_columns(
        game_total=pl.Series(np.where(scraped & ~spread_only, np.rint(total * 10), np.nan))
        .fill_nan(None)
        .cast(pl.Int64),
        game_spread=pl.Series(np.where(scraped, np.rint(spread * 10), np.nan)).fill_nan(None).cast(pl.Int64),
    )
    upgc = upgc.join(game_lines, on="game_idx", how="left")

    stars = _star_counts(world, pgs, injury)
    upgc = upgc.join(stars, on=["team", "game_date"], how="left")

    minutes_scale = 10  # world minutes are whole minutes; NUMERIC(5,1) units are tenths
    u = rng.random((3, n))
    avg7 = pl.when(pl.col("n7") > 0).then((pl.col("m7") * minutes_scale / pl.col("n7")).round(0)).otherwise(None)
    upgc = upgc.sort("_u").with_columns(
        games_in_last_7_days=pl.col("n7").fill_null(0),
        minutes_in_last_7_days=pl.col("m7").fill_null(0),
        avg_minutes_per_game_last_7=pl.when(avg7 > 0).then(avg7).otherwise(None).cast(pl.Int64),
        prop_over_streak=pl.col("st_over").fill_null(0),
        prop_under_streak=pl.col("st_under").fill_null(0),
        has_prop_line=pl.when(pl.Series(u[0] < 0.03)).then(None).otherwise(pl.col("cur_line").is_not_null()),
        is_production_ready=pl.when(pl.Series(u[1] < 0.05)).then(None).otherwise(pl.col("n30").fill_null(0) >= 14),
        star_teammates_out=pl.when(pl.Series(u[2] < 0.02))
        .then(None)
        .otherwise(pl.col("stars").fill_null(0))
        .cast(pl.Int64),
    )
    # one upper-case OUT (production writes lower case; the spine filter only sees this one)
    served = upgc.filter(pl.col("game_date").is_between(lo, hi) & (pl.col("player_status") == "out"))
    if len(served):
        pick = int(served["_u"][int(rng.integers(0, len(served)))])
        upgc = upgc.with_columns(
            player_status=pl.when(pl.col("_u") == pick).then(pl.lit("OUT")).otherwise(pl.col("player_status"))
        )
        planted.append(f"UPGC player_status 'OUT' (upper case) on row {pick}")
    return upgc.drop("_u", "n7", "m7", "n30", "m30", "cur_line", "st_over", "st_under", "stars")


def _star_counts(world: World, pgs: pl.DataFrame, injury: pl.DataFrame) -> pl.DataFrame:
    """(team, game_date) -> stars listed OUT or DOUBTFUL for that game (fixtures.md §3, simplified:
    stars from the team's played rows since the hard-coded 2025-10-22, >= 10 games, average
    points >= 18 or minutes >= 28 with points >= 12; latest report hour of the game date)."""
    played = pgs.filter(pl.col("played") & (pl.col("game_date") >= STAR_SINCE))
    teams = pl.DataFrame({"team": np.arange(len(world.teams), dtype=np.int32), "team_abbr_": world.teams})
    star = (
        played.group_by("player", "team")
        .agg(games=pl.len(), pts=pl.col("points").mean(), mins=pl.col("minutes").mean())
        .filter((pl.col("games") >= 10) & ((pl.col("pts") >= 18) | ((pl.col("mins") >= 28) & (pl.col("pts") >= 12))))
        .join(world.players.select("player", "player_lookup"), on="player")
        .join(teams, on="team")
    )
    latest = (
        injury.filter(pl.col("player_lookup").is_not_null())
        .sort("report_hour")
        .group_by("player_lookup", "game_date", "team")
        .agg(status=pl.col("injury_status").last())
        .filter(pl.col("status").str.to_uppercase().is_in(["OUT", "DOUBTFUL"]))
    )
    hits = star.join(latest, left_on=["player_lookup", "team_abbr_"], right_on=["player_lookup", "team"])
    return hits.group_by("team", "game_date").agg(stars=pl.len().cast(pl.Int64))


# --------------------------------------------------------------------------- team offense


def _team_offense(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """game_id, pace (NUMERIC(5,1)), offensive_rating (NUMERIC(6,2)), margin_of_victory, some NULL."""
    teams = pl.DataFrame({"team_abbr": world.teams, "team": np.arange(len(world.teams), dtype=np.int32)})
    extra = world.team_games.join(teams, on="team").select(
        "game_idx",
        "team_abbr",
        game_id_="game_id",
        pace_=pl.col("pace10"),
        ortg_=pl.col("ortg100"),
        margin_=(pl.col("team_points") - pl.col("opp_points")).cast(pl.Int64),
    )
    offense = world.team_offense.join(extra, on=["game_idx", "team_abbr"], how="left", maintain_order="left")
    n = len(offense)
    u = rng.random((3, n))
    return offense.with_columns(
        game_id=pl.col("game_id_"),
        pace=pl.when(pl.Series(u[0] < 0.03)).then(None).otherwise(pl.col("pace_")),
        offensive_rating=pl.when(pl.Series(u[1] < 0.025)).then(None).otherwise(pl.col("ortg_")),
        margin_of_victory=pl.when(pl.Series(u[2] < 0.02)).then(None).otherwise(pl.col("margin_")),
    ).drop("game_id_", "pace_", "ortg_", "margin_")


# --------------------------------------------------------------------------- prediction accuracy


def _prediction_accuracy(pgs: pl.DataFrame, lines: pl.DataFrame, rng: np.random.Generator, lo: int) -> pl.DataFrame:
    """Graded predictions: per lined player-game with a PGS row, several systems with different
    lines (MAX wins), PASS rows, NULL and 0 lines; one system grades only from a later date."""
    graded = (
        pgs.select("player_lookup", "game_date")
        .unique()
        .join(lines.filter(pl.col("line").is_not_null()), on=["player_lookup", "game_date"])
        .sort("game_date", "player_lookup")
    )
    systems = SYSTEMS + (LATE_SYSTEM,)
    k = len(systems)
    n = len(graded)
    take = rng.random((n, k)) < 0.8
    late_from = lo + 10
    take[:, -1] &= graded["game_date"].to_numpy() >= late_from
    pg, sys = np.nonzero(take)
    offset = rng.choice([0.0, 0.0, -0.5, 0.5, -1.0, 1.0], len(pg))
    line = graded["line"].to_numpy()[pg] + offset
    u = rng.random(len(pg))
    line_units = np.where(u < 0.02, np.nan, np.where(u < 0.03, 0.0, np.rint(line * 10)))
    v = rng.random(len(pg))
    recommendation = np.where(v < 0.12, "PASS", np.where(v < 0.56, "OVER", "UNDER"))
    return pl.DataFrame(
        {
            "player_lookup": graded["player_lookup"].gather(pg),
            "game_date": graded["game_date"].to_numpy()[pg].astype(np.int32),
            "line_value": pl.Series(line_units).fill_nan(None).cast(pl.Int64),
            "recommendation": pl.Series(recommendation, dtype=pl.String),
            "system_id": pl.Series(np.array(systems, dtype=object)[sys], dtype=pl.String),
        }
    )
