"""fsengine.diagnose.report: numbers checked against counts computed here from hand-made rows; the HTML
is parsed and rendered in headless Chromium (skipped without Chromium on a developer machine; in
CI, where .ci/run installs Debian's chromium, a missing browser fails the test)."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pyarrow as pa
import pytest
from ci_env import running_in_ci
from rich.console import Console

from fsengine.diagnose.report import build_report, render_html, render_terminal, write_html
from fsengine.errors import InputError
from fsengine.output.schema import OUTPUT_COLUMNS, OUTPUT_SCHEMA, write_output

# Index groups and the clean tag pattern, copied from docs/quality.md §1 and §9 (case A).
CATEGORY_INDICES = {
    "matchup": [5, 6, 7, 8, 13, 14],
    "player_history": [0, 1, 2, 3, 4, 29, 30, 31, 32, 33, 34, 35, 36],
    "team_context": [22, 23, 24],
    "vegas": [25, 26, 27, 28],
    "game_context": [9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21],
}
CASE_A = (
    ["phase4"] * 9
    + ["calculated"] * 4
    + ["phase4"] * 2
    + ["phase3"] * 3
    + ["phase4"] * 3
    + ["calculated"]
    + ["phase4"] * 2
    + ["calculated"]
    + ["vegas"] * 3
    + ["calculated"]
    + ["opponent_history"] * 2
    + ["minutes_ppm"] * 2
    + ["calculated"] * 4
)
# Gap patterns a row may carry (docs/features.md §6): indices -> raw tag.
PATTERNS = {
    "no_line": ({25, 26, 27}, "missing"),
    "no_composite": ({5, 6, 7, 8}, "default"),
    "unknown_opponent": ({29, 30}, "fallback"),
    "no_shot_zone": ({18, 19, 20}, "missing"),
    "no_cache_std": ({3, 4, 22, 23}, "default"),
    "no_opp_defense": ({13, 14}, "default"),
}
DEFAULTED = {"default", "fallback", "missing"}
TIERS = ["gold", "silver", "bronze", "poor", "critical"]


def _blank(column):
    t = column.arrow_type
    if pa.types.is_list(t):
        return []
    return None


def output_table(rows: list[dict]) -> pa.Table:
    """A valid OUTPUT_SCHEMA table: given values, NOT NULL fillers, [] for arrays, else NULL."""
    fillers = {
        "feature_count": 37,
        "feature_version": "v2_37features",
        "data_source": "mixed",
        "created_at": dt.datetime(2026, 2, 6, 12, tzinfo=dt.UTC),
    }
    full = []
    for row in rows:
        full.append({c.name: row.get(c.name, fillers.get(c.name, _blank(c))) for c in OUTPUT_COLUMNS})
    return pa.Table.from_pylist(full, schema=OUTPUT_SCHEMA)


def scored_row(player: str, day: dt.date, tags: list[str], **extra) -> dict:
    defaulted = [i for i, t in enumerate(tags) if t in DEFAULTED]
    row = {
        "player_lookup": player,
        "game_date": day,
        "game_id": f"{day:%Y%m%d}_AAA_BBB",
        "features": [0.0] * 37,
        "feature_quality_score": Decimal("80.00"),
        "early_season_flag": False,
        "feature_sources_json": json.dumps({str(i): t for i, t in enumerate(tags)}),
        "default_feature_indices": defaulted,
        "default_feature_count": len(defaulted),
        **{f"{c}_default_count": sum(1 for i in idx if i in defaulted) for c, idx in CATEGORY_INDICES.items()},
    }
    row.update(extra)
    return row


def placeholder_row(player: str, day: dt.date) -> dict:
    return {
        "player_lookup": player,
        "game_date": day,
        "game_id": f"{day:%Y%m%d}_AAA_BBB",
        "features": [0.0] * 37,
        "feature_quality_score": Decimal("0.00"),
        "data_source": "early_season",
        "early_season_flag": True,
        "insufficient_data_reason": "early_season_skip_first_14_days",
    }


DATES = [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 5), dt.date(2026, 1, 10)]


def make_rows(seed: int) -> list[dict]:
    rng = random.Random(seed)
    players = [f"player{k:02d}" for k in range(14)]
    rows = []
    for day in DATES:
        composite_day = rng.random() < 0.5
        for player in rng.sample(players, rng.randint(6, len(players))):
            if rng.random() < 0.1:
                rows.append(placeholder_row(player, day))
                continue
            tags = list(CASE_A)
            for name, (indices, tag) in PATTERNS.items():
                if rng.random() < 0.35:
                    for i in indices:
                        tags[i] = tag
            rows.append(
                scored_row(
                    player,
                    day,
                    tags,
                    feature_quality_score=Decimal(f"{rng.uniform(40, 99):.2f}"),
                    quality_tier=rng.choice(TIERS),
                    quality_alert_level=rng.choice(["green", "yellow", "red"]),
                    quality_alerts=rng.sample(
                        ["composite_factors_missing", "opponent_defense_missing", "high_default_rate_22pct"],
                        rng.randint(0, 2),
                    ),
                    is_quality_ready=rng.random() < 0.4,
                    is_training_ready=rng.random() < 0.3,
                    fallback_reasons=["composite_factors_missing_matchup_data"] if composite_day else [],
                )
            )
    return rows


def expected_from(rows: list[dict]) -> dict:
    """Plain-Python reference for the report's numbers."""
    scored = [r for r in rows if not r["early_season_flag"]]
    feat_rows, feat_players, feat_tags = Counter(), defaultdict(set), defaultdict(Counter)
    for r in scored:
        tags = json.loads(r["feature_sources_json"])
        for i in range(37):
            if tags[str(i)] in DEFAULTED:
                feat_rows[i] += 1
                feat_players[i].add(r["player_lookup"])
                feat_tags[i][tags[str(i)]] += 1
    per_date = {}
    for day in sorted({r["game_date"] for r in rows}):
        of_day = [r for r in rows if r["game_date"] == day]
        per_date[day] = {
            "rows": len(of_day),
            "ready": len({r["player_lookup"] for r in of_day if r.get("is_quality_ready")}),
            "placeholders": sum(r["early_season_flag"] for r in of_day),
            "composite": any(r.get("fallback_reasons") for r in of_day),
        }
    category_rows = {c: sum(1 for r in scored if r[f"{c}_default_count"] > 0) for c in CATEGORY_INDICES}
    category_values = {c: sum(r[f"{c}_default_count"] for r in scored) for c in CATEGORY_INDICES}
    return {
        "feat_rows": feat_rows,
        "feat_players": {i: len(p) for i, p in feat_players.items()},
        "feat_tags": feat_tags,
        "tiers": Counter(r["quality_tier"] for r in scored),
        "levels": Counter(r["quality_alert_level"] for r in scored),
        "alerts": Counter(a for r in scored for a in r["quality_alerts"]),
        "per_date": per_date,
        "scored": len(scored),
        "placeholders": len(rows) - len(scored),
        "players": len({r["player_lookup"] for r in rows}),
        "category_rows": category_rows,
        "category_values": category_values,
        "ready": sum(1 for r in scored if r["is_quality_ready"]),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_report_numbers_match_independent_counts(tmp_path, seed):
    rows = make_rows(seed)
    write_output(output_table(rows), tmp_path, rows_per_file=17)  # several files, read as one dataset
    report = build_report(tmp_path)
    want = expected_from(rows)

    assert (report.start, report.end) == (DATES[0], DATES[-1])
    assert report.rows == len(rows)
    assert report.scored_rows == want["scored"] and report.placeholder_rows == want["placeholders"]
    assert report.players == want["players"]
    assert report.quality_ready_rows == want["ready"]
    for f in report.features:
        assert f.rows == want["feat_rows"].get(f.index, 0), f.name
        assert f.players == want["feat_players"].get(f.index, 0), f.name
        assert f.raw_tags == dict(want["feat_tags"].get(f.index, {})), f.name
    top = report.top_defaults()
    assert [f.rows for f in top] == sorted((f.rows for f in top), reverse=True)
    assert {f.index for f in top} == {i for i, n in want["feat_rows"].items() if n}
    # reasons: the contract's (docs/features.md §1), spot-checked against the spec text
    reasons = {f.index: f.fallback_reason for f in report.features}
    assert reasons[25] == "vegas_line_unavailable" and reasons[5] == "composite_factors_missing"
    assert reasons[29] == "no_opponent_history" and reasons[18] == "shot_zone_data_missing"
    assert reasons[13] == "opponent_defense_missing" and reasons[31] == "minutes_ppm_unavailable"
    assert {t: n for t, n in report.tiers.items() if n} == dict(want["tiers"])
    assert {lvl: n for lvl, n in report.alert_levels.items() if n} == dict(want["levels"])
    assert report.alerts == dict(want["alerts"])
    for c in report.categories:
        assert c.rows == want["category_rows"][c.category]
        assert c.defaulted_values == want["category_values"][c.category]
    assert [d.game_date for d in report.per_date] == sorted(want["per_date"])
    for d in report.per_date:
        w = want["per_date"][d.game_date]
        assert (d.rows, d.quality_ready_players, d.placeholder_rows, d.composite_fallback) == (
            w["rows"],
            w["ready"],
            w["placeholders"],
            w["composite"],
        )


def test_last_n_days_counts_calendar_days_back_from_newest_date(tmp_path):
    rows = make_rows(5)
    write_output(output_table(rows), tmp_path)
    newest = max(DATES)
    for n, expect_dates in ((1, [newest]), (6, [d for d in DATES if d >= newest - dt.timedelta(days=5)]), (400, DATES)):
        report = build_report(tmp_path, last_days=n)
        assert [d.game_date for d in report.per_date] == expect_dates
        assert report.rows == sum(1 for r in rows if r["game_date"] in expect_dates)
    report = build_report(tmp_path, start=DATES[1], end=DATES[2])
    assert [d.game_date for d in report.per_date] == DATES[1:3]


def test_clear_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        build_report(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no fsengine output"):
        build_report(tmp_path / "empty")
    write_output(output_table(make_rows(7)), tmp_path / "out")
    with pytest.raises(InputError, match="no rows with game_date in 2025-01-01 .. 2025-01-31"):
        build_report(tmp_path / "out", start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    with pytest.raises(InputError, match="cannot be combined"):
        build_report(tmp_path / "out", last_days=3, start=dt.date(2026, 1, 1))
    with pytest.raises(InputError, match=">= 1"):
        build_report(tmp_path / "out", last_days=0)


def test_no_defaults_and_only_placeholders(tmp_path):
    day = dt.date(2026, 1, 3)
    clean = scored_row("a", day, list(CASE_A), quality_tier="gold", quality_alert_level="green", is_quality_ready=True)
    write_output(output_table([clean, placeholder_row("b", day)]), tmp_path)
    report = build_report(tmp_path)
    assert report.top_defaults() == [] and report.tiers["gold"] == 1 and report.placeholder_rows == 1
    assert report.per_date[0].quality_ready_players == 1
    render_terminal(report, Console(record=True, width=200))
    assert "<svg" in render_html(report)
    write_output(output_table([placeholder_row("b", day), placeholder_row("c", day)]), tmp_path / "early")
    early = build_report(tmp_path / "early")
    assert (early.rows, early.scored_rows, early.placeholder_rows, early.top_defaults()) == (2, 0, 2, [])
    assert early.per_date[0].placeholder_rows == 2 and early.per_date[0].mean_score is None
    render_terminal(early, Console(record=True, width=200))
    assert "<svg" in render_html(early)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = Counter()
        self.urls = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "data", "srcset", "action") and value:
                self.urls.append(value)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_with_svg_charts(tmp_path):
    rows = make_rows(11)
    write_output(output_table(rows), tmp_path / "out")
    report = build_report(tmp_path / "out")
    path = write_html(report, tmp_path / "html" / "report.html")
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]  # no temporary file left
    document = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(document)
    parser.close()
    assert parser.tags["svg"] >= 3  # coverage per date, defaults per feature, tier distribution
    assert parser.tags["script"] == 0 and parser.tags["link"] == 0 and parser.tags["iframe"] == 0
    assert all(not u.lower().startswith(("http:", "https:", "//")) for u in parser.urls), parser.urls
    assert "http://" not in document and "https://" not in document and "@import" not in document
    svgs = re.findall(r"<svg\b.*?</svg>", document, re.S)
    assert len(svgs) == parser.tags["svg"]
    for svg in svgs:  # every chart is well-formed XML (a browser would render it)
        ElementTree.fromstring(svg)
    text = " ".join(parser.text)
    top = report.top_defaults()[0]
    assert top.name in text and top.fallback_reason in text
    for d in report.per_date:
        assert d.game_date.isoformat() in text
    # the coverage chart has one bar group per date
    assert document.count("<g><title>") == len(report.per_date)


def test_terminal_render(tmp_path):
    rows = make_rows(3)
    write_output(output_table(rows), tmp_path)
    report = build_report(tmp_path)
    console = Console(record=True, width=240)
    render_terminal(report, console, top=5)
    text = console.export_text()
    for f in report.top_defaults(5):
        assert f.name in text and f.fallback_reason in text
    for tier in ("gold", "silver", "bronze", "poor", "critical"):
        assert tier in text
    for d in report.per_date:
        assert d.game_date.isoformat() in text


CHROMIUM = "/usr/bin/chromium"  # Debian's package, which .ci/run installs


def chromium() -> str:
    """The headless browser; in CI its absence is a failure, elsewhere a skip."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found:
        return found
    if running_in_ci():
        pytest.fail(
            "CI is set but Chromium is not installed (.ci/run installs Debian's chromium): "
            "the HTML report cannot be rendered",
            pytrace=False,
        )
    pytest.skip("headless check needs chromium (on PATH or /usr/bin/chromium); in CI it is required")


def test_html_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    write_output(output_table(make_rows(13)), tmp_path / "out")
    report = build_report(tmp_path / "out")
    path = write_html(report, tmp_path / "report.html")
    flags = ["--headless", "--no-sandbox", "--disable-gpu"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", path.resolve().as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr
    assert dom.stdout.count("<svg") >= 3 and "Defaulted rows per feature" in dom.stdout
    shot = tmp_path / "report.png"
    screenshot = subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1200,2000", path.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert screenshot.returncode == 0, screenshot.stderr
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_escapes_values_from_the_data(tmp_path):
    day = dt.date(2026, 1, 3)
    row = scored_row(
        "a",
        day,
        list(CASE_A),
        quality_tier="gold",
        quality_alert_level="green",
        quality_alerts=['<script src="https://x.example/a.js"></script>'],
    )
    write_output(output_table([row]), tmp_path)
    document = render_html(build_report(tmp_path))
    parser = _Collector()
    parser.feed(document)
    assert parser.tags["script"] == 0 and "&lt;script" in document


def test_report_on_engine_output(tmp_path):
    """End to end on a generated world: the report agrees with counts taken from the rows."""
    from fsengine.output.schema import read_output
    from fsengine.pipeline import backfill
    from fsengine.synthetic.generate import generate

    snapshot = tmp_path / "snap"
    generate("small", snapshot, seed=7)
    backfill(
        tmp_path / "out",
        snapshot,
        dt.date(2025, 11, 18),
        dt.date(2025, 11, 20),
        mode="backfill",
        as_of=dt.date(2026, 1, 1),
    )
    rows = read_output(tmp_path / "out").to_pylist()
    assert rows
    report = build_report(tmp_path / "out")
    scored = [r for r in rows if not r["early_season_flag"]]
    for f in report.features:
        hit = [r for r in scored if f.index in r["default_feature_indices"]]
        assert f.rows == len(hit) and f.players == len({r["player_lookup"] for r in hit}), f.name
        assert sum(f.raw_tags.values()) == f.rows
    assert report.tiers == {t: sum(r["quality_tier"] == t for r in scored) for t in TIERS}
    for d in report.per_date:
        of_day = [r for r in rows if r["game_date"] == d.game_date]
        assert d.rows == len(of_day)
        assert d.quality_ready_players == len({r["player_lookup"] for r in of_day if r["is_quality_ready"]})
    assert "<svg" in render_html(report)
