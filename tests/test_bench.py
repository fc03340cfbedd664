"""Smoke test of the benchmark harness: it runs end to end and writes valid JSON.
It never asserts that a number is fast (performance lives in bench/, not in tests)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform

import duckdb
import polars
import pyarrow

from fsengine import benchmark
from fsengine.output.schema import read_output
from fsengine.pipeline import backfill


def load_harness():
    return benchmark


def test_quick_bench_writes_a_complete_results_file(tmp_path):
    """--quick: one timed run of the small world and one batch/date-by-date pair, every figure
    in the file, each one what that run measured (a summary of one run is that run's value)
    and the row and date counts those of a backfill of the same world over the same range."""
    harness = load_harness()
    results, path = harness.run_bench(["small"], quick=True, note=lambda m: None, results_dir=tmp_path, readme=None)
    data = json.loads(path.read_text())
    assert path.parent == tmp_path and data == json.loads(json.dumps(results, default=str))
    assert (data["quick"], data["repeats"], data["seed"]) == (True, 1, harness.SEED)
    assert set(data["worlds"]) == {"small"}
    world = data["worlds"]["small"]

    # the counts: a backfill of the same world and range, counted from the Parquet it writes
    folder = harness.WORLDS_DIR / f"small-{harness.SEED}"
    start, end = (dt.date.fromisoformat(d) for d in world["range"])
    local = backfill(tmp_path / "out", folder, start, end, mode="backfill", as_of=dt.date(2100, 1, 1))
    written = read_output(tmp_path / "out")
    game_dates = sorted(set(written.column("game_date").to_pylist()))
    assert world["rows"] == written.num_rows > 0
    assert world["dates"] == len(game_dates) > 0
    assert set(world["stage_seconds"]) == set(local.timings)

    # one timed run: every summary is of exactly that run
    for figure in ("wall_seconds", "peak_rss_bytes"):
        one = world[figure]
        assert one["runs"] == 1 and one["min"] == one["median"] == one["max"] > 0, figure
    for stage, one in world["stage_seconds"].items():
        assert one["runs"] == 1 and one["min"] == one["median"] == one["max"] >= 0, stage
    wall = world["wall_seconds"]["median"]
    assert world["rows_per_second"] == world["rows"] / wall
    assert world["dates_per_second"] == world["dates"] / wall
    manifest = json.loads((folder / "manifest.json").read_text())
    sums = "".join(f"{f['path']}:{f['sha256']}\n" for key in sorted(manifest["tables"])
                   for f in manifest["tables"][key]["files"])
    assert world["world_checksum"] == hashlib.sha256(sums.encode()).hexdigest()

    # one batch/date-by-date pair on five consecutive game dates of the world
    pairs = data["batch_vs_date_by_date"]
    days = [dt.date.fromisoformat(d) for d in pairs["dates"]]
    assert pairs["world"] == "small" and len(days) == 5
    first = game_dates.index(days[0])
    assert days == game_dates[first:first + 5]
    (pair,) = pairs["pairs"]
    assert pairs["ratio"]["median"] == pair["date_by_date"] / pair["batch"] > 0
    assert pairs["ratio_in_process"]["median"] == pair["date_by_date_in_process"] / pair["batch_in_process"]
    assert pairs["seconds_per_date_alone"]["median"] == pair["date_by_date_in_process"] / 5
    assert data["growth_exponent"] is None  # one world: no slope

    # both contracts on the same world in the same run; the worlds above under the default one
    both = data["contracts"]
    assert data["contract"] == "v2_54features" and both["world"] == "small"
    assert both["rows"]["v2_54features"] == world["rows"]
    local37 = backfill(tmp_path / "out37", folder, start, end, mode="backfill", as_of=dt.date(2100, 1, 1),
                       contract="v2_37features")
    assert both["rows"]["v2_37features"] == local37.rows > 0
    walls = both["wall_seconds"]
    assert walls["v2_37features"]["runs"] == walls["v2_54features"]["runs"] == 1
    assert both["ratio_v2_54_over_v2_37"]["median"] == walls["v2_54features"]["median"] / walls["v2_37features"]["median"]

    assert data["versions"]["python"] == platform.python_version()
    assert (data["versions"]["duckdb"], data["versions"]["polars"], data["versions"]["pyarrow"]) == (
        duckdb.__version__, polars.__version__, pyarrow.__version__)
    assert data["versions"]["cpu_count"] == os.cpu_count()


def test_readme_table_is_regenerated_between_its_markers(tmp_path):
    harness = load_harness()
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nintro\n\n<!-- results:start -->\nstale figures\n<!-- results:end -->\n\ntail\n")
    results = {
        "machine": "m", "repeats": 3, "versions": {"python": "3.11", "duckdb": "2", "polars": "2"},
        "worlds": {
            name: {"dates": d, "rows": r, "wall_seconds": {"median": w, "min": w, "max": w},
                   "peak_rss_bytes": {"median": 2**30}, "rows_per_second": r / w, "dates_per_second": d / w,
                   "scoring_share_of_extraction": {"median": 0.1}, "stage_seconds": {"spine": {"median": 0.1}}}
            for name, d, r, w in (("small", 25, 5000, 1.0), ("nba5", 800, 140000, 6.0))
        },
        "batch_vs_date_by_date": {"world": "nba5", "dates": ["d"] * 30, "ratio": {"median": 40.0, "min": 35.0, "max": 45.0},
                                  "ratio_in_process": {"median": 41.0}, "seconds_per_date_alone": {"median": 0.7},
                                  "pairs": [{"batch_in_process": 0.5}]},
        "growth_exponent": 0.55,
    }
    harness.write_readme(readme, results, harness.REPO_ROOT / "bench" / "results" / "x.json")
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n") and text.endswith("\ntail\n")
    assert "stale figures" not in text
    assert "| nba5 | 800 | 140,000 | 6.00" in text
    assert "40.0x" in text and "0.55" in text
    assert "17.7 min per date" in text
