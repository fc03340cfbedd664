"""Smoke test of the benchmark harness: it runs end to end and writes valid JSON.
It never asserts that a number is fast (performance lives in bench/, not in tests)."""

from __future__ import annotations

import json

from fsengine import benchmark


def load_harness():
    return benchmark


def test_quick_bench_writes_a_complete_results_file(tmp_path):
    harness = load_harness()
    results, path = harness.run_bench(["small"], quick=True, note=lambda m: None, results_dir=tmp_path, readme=None)
    data = json.loads(path.read_text())
    assert path.parent == tmp_path and data == json.loads(json.dumps(results, default=str))
    world = data["worlds"]["small"]
    assert world["rows"] > 0 and world["dates"] > 0
    assert world["wall_seconds"]["min"] <= world["wall_seconds"]["median"] <= world["wall_seconds"]["max"]
    assert world["peak_rss_bytes"]["median"] > 0
    assert {"spine", "q01_daily_cache", "q11_minutes_ppm"} <= set(world["stage_seconds"])
    assert len(world["world_checksum"]) == 64
    pairs = data["batch_vs_date_by_date"]
    assert len(pairs["dates"]) == 5 and pairs["ratio"]["median"] > 0
    for key in ("python", "duckdb", "polars", "pyarrow", "cpu_count"):
        assert data["versions"][key]
    assert data["seed"] == harness.SEED


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
