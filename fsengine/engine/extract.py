"""The extractions and their runner.

`EXTRACTIONS` is the one ordered registry of the engine's SQL (queries/engine/<name>.sql):
the order they run in, what each reads and which stage consumes it. It is the readable DAG of
a run:

    snapshot views ──► run_dates (planning: the chunks of a run)
    snapshot views ──► season_first_game (session, over the whole snapshot)
                   ──► spine ──► q01..q05, q08, q09 (core) ──► assembly_inputs ──► assemble
                          └────► q06, q07, q10, q11 (history) ──► history.player_history ──┘

`run_query` materialises queries/<name>.sql as the temp table <name>, binding exactly the
`$names` the file uses; `TimedRunner` also times each query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from fsengine.engine.session import SEASON_STARTS_TABLE
from fsengine.errors import InputError
from fsengine.snapshot.sources import SOURCE_TABLES
from fsengine.sql import parameter_names, query_text, statement  # noqa: F401  (re-exported)

# What an extraction can read besides earlier extractions: the snapshot's views (named by the
# tables' short names) and the session's table of built-in season starts (session.py).
SNAPSHOT_VIEWS = tuple(t.short for t in SOURCE_TABLES)
# The views of the tables only contract v2_54features reads (short names of the snapshot
# reader of format 2).
HEAD_SNAPSHOT_VIEWS = ("injury_report", "prediction_accuracy")

# The stages, in run order: pipeline.plan_run runs "planning" (once per run, before the
# chunks); session.open_session runs "session" (before a chunk's views are bounded to its
# dates); compute() runs "core"; history.player_history runs and reads "history";
# assemble.load_inputs runs "assembly" and reads it (and through it the core tables).
STAGES = ("planning", "session", "core", "history", "assembly")


@dataclass(frozen=True)
class Extraction:
    name: str  # queries/engine/<name>.sql, materialised as temp table <name>
    reads: tuple[str, ...]  # snapshot views, the season-start table, earlier extractions
    stage: str  # one of STAGES
    consumer: str  # who reads the table, for the reader of this registry


EXTRACTIONS: tuple[Extraction, ...] = (
    Extraction("run_dates", ("pgs", "upgc"), "planning", "pipeline.plan_run (chunks of consecutive game dates)"),
    Extraction("season_first_game", ("pgs",), "session", "spine (season starts without a built-in date)"),
    Extraction(
        "spine",
        ("pgs", "upgc", SEASON_STARTS_TABLE, "season_first_game"),
        "core",
        "every extraction; its dates are the run's dates",
    ),
    Extraction("q01_daily_cache", ("spine", "daily_cache"), "core", "assembly_inputs (dc_: the P4 map)"),
    Extraction("q02_composite_factors", ("spine", "composite"), "core", "assembly_inputs (cf_: features 5-8)"),
    Extraction("q03_shot_zone", ("spine", "shot_zone"), "core", "assembly_inputs (sz_: features 18-20)"),
    Extraction("q04_team_defense", ("spine", "team_defense"), "core", "assembly_inputs (td_: features 13-14)"),
    Extraction(
        "q05_player_context",
        ("spine", "upgc"),
        "core",
        "assembly_inputs (ctx_: features 9, 10, 15-17, days_rest); q08_team_games (the UPGC team)",
    ),
    Extraction(
        "q08_team_games", ("spine", "q05_player_context", "team_offense"), "core", "assembly_inputs (tg_: feature 24)"
    ),
    Extraction(
        "q09_vegas_lines", ("spine", "odds_api", "bettingpros"), "core", "assembly_inputs (vg_: features 25-28)"
    ),
    Extraction(
        "q06_last10",
        ("spine", "pgs"),
        "history",
        "history.last10_values (features 0/1 P3, 11, 12 fallback, 21, 33, 34, 35-36 P3; completeness)",
    ),
    Extraction(
        "q07_season_stats", ("spine", "pgs"), "history", "history.season_values (features 2 P3, 12, 29 fallback, 35-36)"
    ),
    Extraction("q10_opponent_history", ("spine", "pgs"), "history", "history.opponent_values (features 29-30)"),
    Extraction("q11_minutes_ppm", ("spine", "pgs"), "history", "history.minutes_ppm_values (features 31-32)"),
    Extraction(
        "assembly_inputs",
        (
            "spine",
            "q01_daily_cache",
            "q02_composite_factors",
            "q03_shot_zone",
            "q04_team_defense",
            "q05_player_context",
            "q08_team_games",
            "q09_vegas_lines",
        ),
        "assembly",
        "assemble.load_inputs (joined with the history frame)",
    ),
)
BY_NAME: dict[str, Extraction] = {e.name: e for e in EXTRACTIONS}

# The extractions of the "head" assembly (contract v2_54features, profile head-2026-07;
# fsengine/engine/assemble_head.py), files under queries/engine_head/ plus round-1 files it
# reuses (Q5 is not run again: v54_q05_player_context takes its columns from Q5′). Run after
# `spine` and before the history stage, in this order. The round-1 Q1-Q4 files are bound with
# the profile's Phase-4 windows, which the head profile's switch `exact_date_phase4` sets to 0
# (exact date only).
HEAD_EXTRACTIONS: tuple[Extraction, ...] = (
    Extraction(
        "v54_spine", ("spine", "pgs", "upgc"), "core", "replaces spine (S1 60-day history filter, S2 production filter)"
    ),
    Extraction("q01_daily_cache", ("spine", "daily_cache"), "core", "assemble_head (P4: Q1 row)"),
    Extraction("q02_composite_factors", ("spine", "composite"), "core", "assemble_head (features 5-8)"),
    Extraction("q03_shot_zone", ("spine", "shot_zone"), "core", "assemble_head (features 18-20)"),
    Extraction("q04_team_defense", ("spine", "team_defense"), "core", "assemble_head (features 13-14)"),
    Extraction(
        "v54_player_context",
        ("spine", "upgc"),
        "core",
        "assemble_head (Q5′: features 4 P3, 9, 10, 15-17, 37-42, 51, 52; the C team)",
    ),
    Extraction(
        "v54_q05_player_context",
        ("v54_player_context",),
        "core",
        "replaces q05_player_context (its columns of Q5′, the same rows): q08_team_games (the UPGC team)",
    ),
    Extraction("q08_team_games", ("spine", "q05_player_context", "team_offense"), "core", "assemble_head (feature 24)"),
    Extraction(
        "v54_odds_picks",
        ("spine", "odds_api"),
        "core",
        "v54_vegas_lines, v54_m_book_lines, v54_l_consensus (the Odds API rows grouped once)",
    ),
    Extraction(
        "v54_vegas_lines",
        ("spine", "v54_odds_picks", "bettingpros"),
        "core",
        "assemble_head (Q9′: features 25-28, 53; vegas_line_source)",
    ),
    Extraction("v54_last10_games", ("spine", "pgs"), "core", "v54_last10_rows, assemble_head (Q6′: the numbered rows)"),
    Extraction(
        "v54_last10_rows",
        ("spine", "v54_last10_games"),
        "core",
        "assemble_head (Q6′: cache-miss fallback, feature 11; each key's list)",
    ),
    Extraction("v54_team_rows", ("spine", "team_offense"), "core", "assemble_head (Q8′: C's team pace/rating)"),
    Extraction("v54_r_games", ("spine", "pgs"), "core", "v54_r_rolling, assemble_head (R: the numbered rows)"),
    Extraction(
        "v54_r_rolling", ("spine", "v54_r_games"), "core", "assemble_head (R: features 43-46, 48, 49; each key's rows)"
    ),
    Extraction(
        "v54_t_teammate_usage",
        ("spine", "v54_player_context", "injury_report", "pgs"),
        "core",
        "assemble_head (T: feature 47)",
    ),
    Extraction("v54_m_book_lines", ("spine", "v54_odds_picks", "bettingpros"), "core", "assemble_head (M: feature 50)"),
    Extraction("v54_l_consensus", ("spine", "v54_odds_picks"), "core", "assemble_head (L: feature 54)"),
    Extraction(
        "v54_h_line_history", ("spine", "pgs", "prediction_accuracy"), "core", "assemble_head (H: features 55, 56)"
    ),
    Extraction("v54_o_games", ("spine", "pgs"), "core", "v54_o_opportunity, assemble_head (O: the numbered rows)"),
    Extraction(
        "v54_o_opportunity",
        ("spine", "v54_o_games", "team_offense"),
        "core",
        "assemble_head (O: features 57, 58; each key's rows)",
    ),
)

# The head extractions whose table takes another table's name once made (run_head_core drops
# that table, if any, and renames): the filtered spine, and Q5 taken from Q5′.
HEAD_RENAMED_TO: dict[str, str] = {"v54_spine": "spine", "v54_q05_player_context": "q05_player_context"}

# Which extraction list an assembly runs after the spine (the profile names its assembly).
ASSEMBLY_EXTRACTIONS: dict[str, tuple[Extraction, ...]] = {"head": HEAD_EXTRACTIONS}


def stage_queries(stage: str) -> tuple[str, ...]:
    """The extractions of one stage, in run order."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {STAGES}")
    return tuple(e.name for e in EXTRACTIONS if e.stage == stage)


def extraction_inputs(name: str) -> tuple[str, ...]:
    """The extraction tables `name` reads (its reads that are neither views nor session tables)."""
    return tuple(r for r in BY_NAME[name].reads if r in BY_NAME)


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> float:
    """Create (or replace) temp table `name` from queries/<name>.sql; return seconds taken."""
    body, names = statement(name)
    missing = [n for n in names if n not in params]
    if missing:
        raise InputError(f"query {name}.sql needs parameters {missing} that the run does not provide")
    began = time.perf_counter()
    con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {body}', {n: params[n] for n in names})
    return time.perf_counter() - began


class TimedRunner:
    """`run_query` with the same signature that also records each query's seconds."""

    def __init__(self, progress=None):
        self.timings: dict[str, float] = {}
        self._progress = progress

    def __call__(self, con: duckdb.DuckDBPyConnection, name: str, params: dict) -> float:
        seconds = run_query(con, name, params)
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        if self._progress is not None:
            self._progress(f"{name}: {seconds:.3f} s")
        return seconds
