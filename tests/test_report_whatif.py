"""`fsengine report` what-if: for each category and feature, the rows (and players per date)
that would become quality-ready if it were never defaulted. Every figure is checked against a
recount written here: a plain loop over the rows that re-scores changed tags with the
independent reference scorer (tests/reference/quality_reference.py, written from docs/quality.md),
on a hand-built output and on the engine's output for the bundled fixture."""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import tomllib
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from reference import quality_reference as qref
from rich.console import Console
from test_report import CASE_A, output_table, placeholder_row, scored_row

from fsengine.diagnose.report import build_report, render_html, render_terminal
from fsengine.output.schema import read_output, write_output

REPO = Path(__file__).resolve().parents[1]
CONTRACT_FILE = REPO / "fsengine" / "contracts" / "v2_37features.toml"
DEFAULTED = {"default", "fallback", "missing"}  # docs/quality.md §1


def contract_data():
    """Names, categories and tag lists straight from the contract file (data, not code)."""
    return tomllib.loads(CONTRACT_FILE.read_text())["feature"]


def recount(rows: list[dict]) -> dict[tuple[str, str], dict]:
    """Independent what-if figures: {(kind, name): {rows, players, median, min, max, after}}.

    A row gains under X when it is scored, stored as not quality-ready, has a defaulted tag
    at some index of X, and is ready by docs/quality.md once those tags are replaced by the
    feature's first non-defaulted contract tag."""
    features = contract_data()
    present_tag = [next(t for t in f["tags"] if t not in DEFAULTED) for f in features]
    scenarios = [("category", c, idx) for c, idx in qref.CATEGORY_INDICES.items()]
    scenarios += [("feature", f["name"], [f["index"]]) for f in features]
    dates = sorted({r["game_date"] for r in rows})
    ready_now = defaultdict(set)
    for r in rows:
        if not r["early_season_flag"] and r["is_quality_ready"]:
            ready_now[r["game_date"]].add(r["player_lookup"])
    out = {}
    for kind, name, indices in scenarios:
        gained = []
        for r in rows:
            if r["early_season_flag"] or r["is_quality_ready"]:
                continue
            mapping = json.loads(r["feature_sources_json"])
            tags = [mapping.get(str(i)) for i in range(37)]
            hit = [i for i in indices if tags[i] in DEFAULTED]
            if not hit:
                continue
            for i in hit:
                tags[i] = present_tag[i]
            if qref.score_row(tags)["is_quality_ready"]:
                gained.append(r)
        per_date = {d: len({r["player_lookup"] for r in gained if r["game_date"] == d}) for d in dates}
        counts = list(per_date.values())
        out[(kind, name)] = {
            "rows": len(gained),
            "players": len({r["player_lookup"] for r in gained}),
            "median": statistics.median(counts),
            "min": min(counts),
            "max": max(counts),
            "after": statistics.median([len(ready_now[d]) + per_date[d] for d in dates]),
        }
    return out


def assert_what_if_matches(report, rows):
    want = recount(rows)
    got = {(w.kind, w.name): w for w in report.what_if}
    assert set(got) == set(want)
    for key, w in want.items():
        g = got[key]
        assert (g.rows, g.players, g.gain_median, g.gain_min, g.gain_max, g.ready_median_after) == (
            w["rows"],
            w["players"],
            w["median"],
            w["min"],
            w["max"],
            w["after"],
        ), key
    ranked = [w.rows for w in report.what_if]
    assert ranked == sorted(ranked, reverse=True)
    return want


def tags_with(**changes) -> list[str]:
    """CASE_A (clean, with a line) with {index: tag} changes; keys are 'i<index>'."""
    tags = list(CASE_A)
    for key, tag in changes.items():
        tags[int(key[1:])] = tag
    return tags


def row(player, day, tags, **extra):
    """A scored row whose stored quality columns are what the reference scorer says."""
    scored = qref.score_row(tags)
    return scored_row(
        player,
        day,
        tags,
        is_quality_ready=scored["is_quality_ready"],
        quality_tier=scored["quality_tier"],
        quality_alert_level=scored["quality_alert_level"],
        **extra,
    )


D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 4)
NO_LINE = {f"i{i}": "missing" for i in (25, 26, 27)}
NO_COMPOSITE = {f"i{i}": "default" for i in (5, 6, 7, 8)}
# 25 indices outside matchup and vegas carry an unknown label (weight 40, not defaulted):
# score (12 x ~100 + 25 x 40) / 37 < 70, so fixing the one default cannot make the row ready
LOW_SCORE = {f"i{i}": "other" for i in [*range(0, 5), *range(9, 13), *range(15, 25), 28, *range(31, 37)][:25]}
# matchup_pct 40 < 50 with a score above 70: not ready however many defaults are fixed
LOW_MATCHUP = {f"i{i}": "other" for i in (5, 6, 7, 8, 13, 14)}


def hand_built_rows() -> list[dict]:
    return [
        row("clean", D1, tags_with()),  # ready now: never counted
        row("noline1", D1, tags_with(**NO_LINE)),  # vegas category only
        row("noline2", D2, tags_with(**NO_LINE)),
        row("noline3", D3, tags_with(**NO_LINE)),
        row("noopp", D1, tags_with(i29="fallback", i30="fallback")),  # player_history, not 29 alone
        row("onlyopp", D2, tags_with(i29="fallback")),  # feature 29 and player_history
        row("onlyopp2", D2, tags_with(i13="default")),  # feature 13 and matchup
        row("nolinecomp", D1, tags_with(**NO_LINE, **NO_COMPOSITE)),  # needs two categories
        row("lowscore", D3, tags_with(**LOW_SCORE, i29="fallback")),  # score stays < 70
        row("lowmatchup", D3, tags_with(**LOW_MATCHUP, i32="fallback")),  # matchup stays < 50
        row("shotzone", D3, tags_with(i18="missing")),  # missing (weight 0) -> feature 18
        placeholder_row("early", D2),  # never scored, never counted
    ]


def test_what_if_matches_the_recount_on_a_hand_built_output(tmp_path):
    rows = hand_built_rows()
    write_output(output_table(rows), tmp_path)
    report = build_report(tmp_path)
    table = read_output(tmp_path).to_pylist()
    want = assert_what_if_matches(report, table)
    # the cases the rows were built for, stated outright
    assert want[("category", "vegas")]["rows"] == 3 and want[("category", "vegas")]["median"] == 1
    assert want[("category", "player_history")]["rows"] == 2  # noopp, onlyopp (not lowscore)
    assert want[("feature", "games_vs_opponent")]["rows"] == 0  # noopp needs 29 and 30
    assert want[("feature", "avg_points_vs_opponent")]["rows"] == 1  # onlyopp
    assert want[("category", "matchup")]["rows"] == 1  # onlyopp2; nolinecomp also lacks its line
    assert want[("feature", "ppm_avg_last_10")]["rows"] == 0  # lowmatchup: matchup share stays < 50
    assert want[("feature", "pct_mid_range")]["rows"] == 0 and want[("feature", "pct_paint")]["rows"] == 1
    assert want[("category", "vegas")]["after"] == statistics.median([1 + 1, 0 + 1, 0 + 1])
    assert report.what_if[0].kind == "category" and report.what_if[0].name == "vegas"


def test_a_stored_not_ready_row_without_the_default_never_gains(tmp_path):
    # inconsistent on purpose: clean tags stored as not ready; no scenario changes its tags
    rows = [scored_row("odd", D1, tags_with(), is_quality_ready=False), row("noline", D1, tags_with(**NO_LINE))]
    write_output(output_table(rows), tmp_path)
    report = build_report(tmp_path)
    gains = {(w.kind, w.name): w.rows for w in report.what_if}
    assert gains[("category", "vegas")] == 1 and gains[("category", "matchup")] == 0
    assert sum(n for (kind, _), n in gains.items() if kind == "feature") == 0


def test_what_if_matches_the_recount_on_the_bundled_fixture_output(tmp_path):
    from fsengine.pipeline import backfill

    backfill(
        tmp_path / "out",
        REPO / "fixtures" / "small",
        dt.date(2025, 11, 20),
        dt.date(2025, 11, 30),
        mode="backfill",
        as_of=dt.date(2026, 1, 1),
        contract="v2_37features",
    )
    report = build_report(tmp_path / "out")
    want = assert_what_if_matches(report, read_output(tmp_path / "out").to_pylist())
    assert want[("category", "vegas")]["rows"] > 0  # the fixture exercises the main gap


def test_terminal_and_html_show_the_ranked_what_if(tmp_path):
    write_output(output_table(hand_built_rows()), tmp_path)
    report = build_report(tmp_path)
    console = Console(record=True, width=240)
    render_terminal(report, console)
    text = console.export_text()
    assert "What if it were never defaulted" in text
    lines = [line for line in text.splitlines() if re.match(r"\s*\d+ │ (category|\d+ )", line)]
    labels = [re.split(r"\s*│\s*", line.strip())[1] for line in lines]
    assert labels[:2] == ["category vegas", "category player_history"]
    assert "29 avg_points_vs_opponent" in labels and "28 has_vegas_line" not in labels

    document = render_html(report)
    svgs = re.findall(r"<svg\b.*?</svg>", document, re.S)
    chart = [s for s in svgs if "What if never defaulted" in s]
    assert len(chart) == 1
    root = ElementTree.fromstring(chart[0])
    ns = "{http://www.w3.org/2000/svg}"
    bar_labels = [t.text for t in root.iter() if t.tag in ("text", f"{ns}text") and t.get("text-anchor") == "end"]
    shown = [w for w in report.what_if if w.kind == "category" or w.rows]
    assert bar_labels == [w.label for w in shown]  # ranked, features that gain nothing left out
    widths = [float(r.get("width")) for r in root.iter() if r.tag in ("rect", f"{ns}rect")]
    assert widths == sorted(widths, reverse=True) and widths[0] > 0
