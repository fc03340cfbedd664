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
from fsengine.snapshot.sources import CONTRACT_SOURCES


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
    sums = "".join(
        f"{f['path']}:{f['sha256']}\n" for key in sorted(manifest["tables"]) for f in manifest["tables"][key]["files"]
    )
    assert world["world_checksum"] == hashlib.sha256(sums.encode()).hexdigest()

    # the floor: every column the contract needs of every snapshot file, and the run's rows rewritten
    floor = world["floor"]
    needed = [key for key in CONTRACT_SOURCES[data["contract"]] if key in manifest["tables"]]
    assert floor["read_rows"] == sum(f["rows"] for key in needed for f in manifest["tables"][key]["files"]) > 0
    assert floor["written_rows"] == world["rows"]
    assert floor["seconds"]["median"] == floor["read_seconds"]["median"] + floor["write_seconds"]["median"] > 0
    assert world["wall_over_floor"]["median"] == wall / floor["seconds"]["median"]
    assert world["peak_tree_rss_bytes"]["median"] >= world["peak_rss_bytes"]["median"]
    assert world["cpu_seconds"]["median"] > 0

    # one date alone vs a batch, on five consecutive game dates of the world
    per_date = data["per_date"]
    days = [dt.date.fromisoformat(d) for d in per_date["dates"]]
    assert per_date["world"] == "small" and len(days) == 5
    first = game_dates.index(days[0])
    assert days == game_dates[first : first + 5]
    (pair,) = per_date["pairs"]
    assert per_date["one_date_in_process"]["median"] == pair["one_date_in_process"] > 0
    assert (
        per_date["marginal_per_date_in_batch"]["median"] == (pair["batch_in_process"] - pair["one_date_in_process"]) / 4
    )
    assert data["growth_exponent"] is None  # one world: no slope
    verdict = data["verdicts"]["one_date_seconds"]
    assert verdict == {
        "measured": pair["one_date_in_process"],
        "target": 0.3,
        "met": pair["one_date_in_process"] <= 0.3,
    }
    assert {"load_1min", "cpu_count"} <= set(data["load"][0]) and len(data["load"]) == 3

    # both contracts on the same world in the same run; the worlds above under the default one
    both = data["contracts"]
    assert data["contract"] == "v2_54features" and both["world"] == "small"
    assert both["rows"]["v2_54features"] == world["rows"]
    local37 = backfill(
        tmp_path / "out37", folder, start, end, mode="backfill", as_of=dt.date(2100, 1, 1), contract="v2_37features"
    )
    assert both["rows"]["v2_37features"] == local37.rows > 0
    walls = both["wall_seconds"]
    assert walls["v2_37features"]["runs"] == walls["v2_54features"]["runs"] == 1
    assert (
        both["ratio_v2_54_over_v2_37"]["median"] == walls["v2_54features"]["median"] / walls["v2_37features"]["median"]
    )

    assert data["versions"]["python"] == platform.python_version()
    assert (data["versions"]["duckdb"], data["versions"]["polars"], data["versions"]["pyarrow"]) == (
        duckdb.__version__,
        polars.__version__,
        pyarrow.__version__,
    )
    assert data["versions"]["cpu_count"] == os.cpu_count()


def test_readme_table_is_regenerated_between_its_markers(tmp_path):
    harness = load_harness()
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nintro\n\n<!-- results:start -->\nstale figures\n<!-- results:end -->\n\ntail\n")
    summary = lambda v: {"median": v, "min": v, "max": v}  # noqa: E731
    results = {
        "machine": "m",
        "repeats": 3,
        "versions": {"python": "3.11", "duckdb": "2", "polars": "2", "cpu_count": 2},
        "load": [{"load_1min": 7.5}, {"load_1min": 9.25}],
        "worlds": {
            name: {
                "dates": d,
                "rows": r,
                "wall_seconds": summary(w),
                "cpu_seconds": summary(w * 1.5),
                "floor": {"seconds": summary(w / 4), "read_seconds": summary(w / 8), "write_seconds": summary(w / 8)},
                "wall_over_floor": summary(4.0),
                "cpu_over_floor_cpu": summary(5.0),
                "peak_rss_bytes": summary(2**30),
                "peak_tree_rss_bytes": summary(2 * 2**30),
                "rows_per_second": r / w,
                "dates_per_second": d / w,
                "scoring_share_of_extraction": summary(0.1),
                "stage_seconds": {"spine": summary(0.1)},
            }
            for name, d, r, w in (("small", 25, 5000, 1.0), ("nba5", 800, 140000, 6.0))
        },
        "per_date": {
            "world": "nba5",
            "dates": ["d"] * 30,
            "one_date_in_process": summary(0.42),
            "batch_in_process": summary(0.9),
            "marginal_per_date_in_batch": summary(0.0166),
        },
        "growth_exponent": 0.55,
        "verdicts": {
            "nba5_seconds": {"measured": 6.0, "target": 2.5, "met": False},
            "growth_exponent": {"measured": 0.55, "target": 1.1, "met": True},
        },
    }
    harness.write_readme(readme, results, harness.REPO_ROOT / "bench" / "results" / "x.json")
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n") and text.endswith("\ntail\n")
    assert "stale figures" not in text
    assert "| nba5 | 800 | 140,000 | 6.00 (6.00–6.00) | 1.50 (0.75 + 0.75) | 4.0x | 9.00 | 5.0x | 1.00 | 2.00 |" in text
    assert "| `nba5` end to end < 2.5 s | 6.00 s | **missed** |" in text
    assert "| growth exponent (time vs rows) <= 1.1 | 0.55 | met |" in text
    assert "load average 7.5, 9.2 on 2 CPUs" in text
    assert "**0.420 s** in process" in text and "**16.6 ms** at the margin" in text and "60 s per date" in text
