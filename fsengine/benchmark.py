"""Benchmark harness behind `fsengine bench`.

Every timed run is a fresh child process (so peak RSS is that run's own: the largest single
process from wait4, and the whole process tree's sum sampled from /proc, since a chunked run
computes in worker processes), repeated after a warm-up; figures are medians with min and max.
The machines are shared and noisy, so what matters is compared within one invocation: each
world's wall time against its FLOOR (reading every snapshot column the run needs and writing
its output rows as Parquet with the output's own options, measured right after it), and one
date alone against the marginal cost of a date in a batch. The load average is recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fsengine.contracts import DEFAULT_RUN_CONTRACT
from fsengine.errors import FsengineError

# The benchmark works from any install: its folder (results/, worlds/, README.md) is ./bench
# of the directory it runs in (the repository root in a checkout), or FSENGINE_BENCH_DIR.
BENCH_DIR = Path(os.environ.get("FSENGINE_BENCH_DIR", "bench")).resolve()
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WORLDS_DIR = BENCH_DIR / "worlds"
SEED = 20260206
# Worlds that are not presets: (preset, overrides of fsengine.synthetic.generate.generate).
# x20: x10 twice as long (twenty seasons, 2006-07 .. 2025-26), for memory against range length.
DERIVED_WORLDS = {"x20": ("x10", {"seasons": 20})}
CONTRACTS = ("v2_37features", "v2_54features")  # measured side by side on one world (results["contracts"])
OLD_SYSTEM = {
    "seconds_per_date_before_fix": 17.7 * 60,
    "seconds_per_date_after_fix": 60.0,
    "season_590_dates_hours_on_4_workers": 2.6,
}
TARGETS = {
    "nba5_seconds": 2.5,
    "x10_seconds": 18.0,
    "one_date_seconds": 0.3,
    "x10_peak_rss_gib": 2.0,
    "x20_over_x10_peak_rss": 1.10,
    "growth_exponent": 1.1,
}


class BenchmarkFailed(FsengineError):
    """A benchmark child process failed; its stderr is in the message."""

    exit_code = 1


# The child: backfills in a fresh interpreter (default chunking and workers); prints its figures
# as JSON on stdout. "dates": one backfill per date (the old system's shape), each timed.
CHILD = r"""
import json, sys, time, datetime as dt
t0 = time.perf_counter()
from fsengine.pipeline import backfill
import fsengine.engine.compute, fsengine.output.rows, fsengine.output.schema  # imports outside the "engine" figure
args = json.loads(sys.argv[1])
dates = args.get("dates")
timings = {}
rows = 0
per_date = []
t_engine = time.perf_counter()
if dates:
    for day in dates:
        d = dt.date.fromisoformat(day)
        began = time.perf_counter()
        r = backfill(args["out"], args["snapshot"], d, d, mode="backfill", as_of=dt.date(2100, 1, 1), verify_checksums=False,
                     contract=args.get("contract"))
        per_date.append(time.perf_counter() - began)
        rows += r.rows
        for k, v in r.timings.items():
            timings[k] = timings.get(k, 0.0) + v
else:
    start = dt.date.fromisoformat(args["start"]) if args.get("start") else None
    end = dt.date.fromisoformat(args["end"]) if args.get("end") else None
    r = backfill(args["out"], args["snapshot"], start, end, mode="backfill", as_of=dt.date(2100, 1, 1), verify_checksums=False,
                 contract=args.get("contract"))
    rows, timings = r.rows, r.timings
    args["start"], args["end"] = str(r.start), str(r.end)
    args["n_dates"] = len(r.rows_per_date)
engine = time.perf_counter() - t_engine
print(json.dumps({"wall": time.perf_counter() - t0, "engine": engine, "rows": rows, "timings": timings, "per_date": per_date, "start": args.get("start"), "end": args.get("end"), "n_dates": args.get("n_dates")}))
"""

# The floor of a run: what any engine must do at least, with the same libraries - read every
# snapshot column the run's contract needs (whole files: a full-range run reads nearly all of
# them) and write the run's output rows as Parquet with the output's own write options, one
# file per part file of the run (read untimed). No computation at all.
FLOOR_CHILD = r"""
import json, sys, time, tempfile
from pathlib import Path
import pyarrow.parquet as pq
from fsengine.output.schema import output_dir, write_options
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.sources import CONTRACT_SOURCES, TABLES, columns_for
args = json.loads(sys.argv[1])
snap = Snapshot.open(args["snapshot"], verify_checksums=False)
began = time.perf_counter()
read_rows = read_bytes = 0
for key in CONTRACT_SOURCES[args["contract"]]:
    held = snap.tables.get(key)
    if held is None:
        continue
    columns = [c for c in columns_for(TABLES[key], [args["contract"]]) if c in held.column_types]
    for path in held.files:
        table = pq.read_table(path, columns=columns)
        read_rows += table.num_rows
        read_bytes += table.nbytes
read_seconds = time.perf_counter() - began
write_seconds = 0.0
written = 0
with tempfile.TemporaryDirectory(prefix="fsengine-floor-") as scratch:
    for i, path in enumerate(sorted(output_dir(args["out"]).glob("part-*.parquet"))):
        table = pq.read_table(path)
        began = time.perf_counter()
        pq.write_table(table, Path(scratch) / f"part-{i:05d}.parquet", row_group_size=max(1, table.num_rows), **write_options(table.schema))
        write_seconds += time.perf_counter() - began
        written += table.num_rows
print(json.dumps({"read_seconds": read_seconds, "write_seconds": write_seconds, "read_rows": read_rows, "read_bytes": read_bytes, "written_rows": written}))
"""

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(root: int) -> int:
    """Resident bytes of process `root` and all its descendants now (Linux /proc; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return 0
    for name in entries:
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        children.setdefault(ppid, []).append(int(name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            pass
        stack += children.get(pid, [])
    return total


def run_child(payload: dict, script: str = CHILD) -> dict:
    """Run one child process; return its figures plus wall time, the peak RSS of its largest
    process (wait4) and the peak sum over its process tree (sampled every 50 ms)."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(payload)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss(proc.pid))

    # the pipes are drained by threads while wait4 collects the child's own resource usage
    texts: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda n=n, s=s: texts.__setitem__(n, s.read()), daemon=True)
        for n, s in (("out", proc.stdout), ("err", proc.stderr))
    ]
    sampler = threading.Thread(target=sample, daemon=True)
    for thread in (*readers, sampler):
        thread.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - began
    done.set()
    for thread in (*readers, sampler):
        thread.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchmarkFailed(f"benchmark child failed ({proc.returncode}):\n{texts.get('err', '')[-4000:]}")
    figures = json.loads(texts["out"].strip().splitlines()[-1])
    figures["process_wall"] = elapsed
    figures["peak_rss_bytes"] = usage.ru_maxrss * 1024  # Linux reports KiB
    # CPU seconds of the child and the workers it waited for: what a loaded machine inflates least
    figures["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    figures["peak_tree_rss_bytes"] = max(peak[0], figures["peak_rss_bytes"])
    return figures


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def world_checksum(folder: Path) -> str:
    """SHA-256 over the manifest's file checksums: identical worlds give identical sums."""
    manifest = json.loads((folder / "manifest.json").read_text())
    digest = hashlib.sha256()
    for key in sorted(manifest["tables"]):
        for f in manifest["tables"][key]["files"]:
            digest.update(f"{f['path']}:{f['sha256']}\n".encode())
    return digest.hexdigest()


def ensure_world(preset: str, seed: int, note: Callable[[str], None]) -> tuple[Path, float]:
    """Generate a world once per (name, seed); later runs reuse it. Returns path and generation
    seconds. `preset` is a preset of fsengine.synthetic or a DERIVED_WORLDS name."""
    from fsengine.synthetic.generate import generate

    folder = WORLDS_DIR / f"{preset}-{seed}"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        from fsengine.snapshot.format import FORMAT_VERSION

        if json.loads(manifest.read_text()).get("format") == FORMAT_VERSION:
            return folder, 0.0
        # a world written by an older generator (another snapshot format): ours to replace
        note(f"world {preset} (seed {seed}) is of an older snapshot format: generating it again")
        shutil.rmtree(folder)
    base, overrides = DERIVED_WORLDS.get(preset, (preset, {}))
    note(f"generating world {preset} (seed {seed})")
    began = time.perf_counter()
    generate(base, folder, seed=seed, **overrides)
    return folder, time.perf_counter() - began


def growth_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) against log(size)."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else None


def machine_name() -> str:
    return f"{socket.gethostname().split('.')[0]}-{os.cpu_count()}cpu"


def versions() -> dict:
    import duckdb
    import polars
    import pyarrow

    return {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pyarrow": pyarrow.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }


def machine_load() -> dict:
    """The load the figures were measured under (the machines are shared)."""
    one, five, fifteen = os.getloadavg()
    return {
        "load_1min": one,
        "load_5min": five,
        "load_15min": fifteen,
        "cpu_count": os.cpu_count(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def run_bench(
    presets: list[str],
    repeats: int = 3,
    per_date_dates: int = 30,
    seed: int = SEED,
    quick: bool = False,
    note: Callable[[str], None] = print,
    results_dir: Path = RESULTS_DIR,
    readme: Path | None = BENCH_DIR / "README.md",
    warm_up: bool = True,
    contract: str = DEFAULT_RUN_CONTRACT,
) -> tuple[dict, Path]:
    """Run the benchmark of `contract`; write results JSON (and the README table); return
    (results, json path). The same run also measures the largest world under both contracts,
    pairwise, and records v2_54features / v2_37features.
    `warm_up=False` skips the untimed first run of each world (when time is short and the
    world's files are already in the page cache)."""
    if quick:
        presets, repeats, per_date_dates = ["small"], 1, 5
    load = [machine_load()]
    worlds: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="fsengine-bench-") as scratch:
        out = Path(scratch) / "out"
        for preset in presets:
            folder, gen_seconds = ensure_world(preset, seed, note)
            if warm_up:
                note(f"{preset}: warm-up")
                run_child({"snapshot": str(folder), "out": str(out), "contract": contract})
            runs, floors = [], []
            for i in range(repeats):
                note(f"{preset}: run {i + 1}/{repeats}")
                runs.append(run_child({"snapshot": str(folder), "out": str(out), "contract": contract}))
                # the floor right after the run, on the rows it wrote: same load, same rows
                floors.append(run_child({"snapshot": str(folder), "out": str(out), "contract": contract}, FLOOR_CHILD))
            first = runs[0]
            walls = [r["process_wall"] for r in runs]
            floor_seconds = [f["read_seconds"] + f["write_seconds"] for f in floors]
            med = statistics.median(walls)
            query_times = {k: summary([r["timings"].get(k, 0.0) for r in runs]) for k in first["timings"]}
            extraction = [sum(v for k, v in r["timings"].items() if k not in ("score", "rows", "write")) for r in runs]
            scoring = [r["timings"].get("score", 0.0) for r in runs]
            worlds[preset] = {
                "world_checksum": world_checksum(folder),
                "generation_seconds": gen_seconds,
                "range": [first["start"], first["end"]],
                "dates": first["n_dates"],
                "rows": first["rows"],
                "wall_seconds": summary(walls),
                "engine_seconds": summary([r["engine"] for r in runs]),
                "cpu_seconds": summary([r["cpu_seconds"] for r in runs]),
                "peak_rss_bytes": summary([r["peak_rss_bytes"] for r in runs]),
                "peak_tree_rss_bytes": summary([r["peak_tree_rss_bytes"] for r in runs]),
                "floor": {
                    "read_seconds": summary([f["read_seconds"] for f in floors]),
                    "write_seconds": summary([f["write_seconds"] for f in floors]),
                    "seconds": summary(floor_seconds),
                    "cpu_seconds": summary([f["cpu_seconds"] for f in floors]),
                    "read_rows": floors[0]["read_rows"],
                    "read_bytes": floors[0]["read_bytes"],
                    "written_rows": floors[0]["written_rows"],
                },
                # each run against the floor measured right after it
                "wall_over_floor": summary([w / f for w, f in zip(walls, floor_seconds) if f]),
                "cpu_over_floor_cpu": summary(
                    [r["cpu_seconds"] / f["cpu_seconds"] for r, f in zip(runs, floors) if f["cpu_seconds"]]
                ),
                "rows_per_second": first["rows"] / med if med else None,
                "dates_per_second": (first["n_dates"] or 0) / med if med else None,
                "stage_seconds": query_times,
                "scoring_share_of_extraction": summary([s / e for s, e in zip(scoring, extraction) if e]),
            }
            load.append(machine_load())
        # One date alone vs a date in a batch, pairwise: on nba5 (the production scale the old
        # system's per-date figures describe) when measured, else the largest world.
        largest = "nba5" if "nba5" in worlds else presets[-1]
        folder = WORLDS_DIR / f"{largest}-{seed}"
        days = _game_dates(worlds[largest], folder, per_date_dates)
        pairs = []
        for i in range(max(1, repeats)):
            note(f"one date alone vs a batch of {len(days)} dates: pair {i + 1}")
            batch = run_child(
                {"snapshot": str(folder), "out": str(out), "start": days[0], "end": days[-1], "contract": contract}
            )
            one_by_one = run_child({"snapshot": str(folder), "out": str(out), "dates": days, "contract": contract})
            alone = statistics.median(one_by_one["per_date"])
            pairs.append(
                {
                    "batch": batch["process_wall"],
                    "date_by_date": one_by_one["process_wall"],
                    "batch_in_process": batch["engine"],
                    "date_by_date_in_process": one_by_one["engine"],
                    "one_date_in_process": alone,
                    "marginal_per_date_in_batch": (batch["engine"] - alone) / (len(days) - 1)
                    if len(days) > 1
                    else None,
                }
            )
        # The two contracts on the same world, pairwise in this run (the machines are shared and
        # noisy, so only a ratio of neighbouring runs means anything): what v2_54's 23 more
        # features cost.
        by_contract = []
        for i in range(max(1, repeats)):
            note(f"{CONTRACTS[0]} vs {CONTRACTS[1]} on {largest}: pair {i + 1}")
            by_contract.append(
                {c: run_child({"snapshot": str(folder), "out": str(out), "contract": c}) for c in CONTRACTS}
            )
    load.append(machine_load())
    marginals = [p["marginal_per_date_in_batch"] for p in pairs if p["marginal_per_date_in_batch"] is not None]
    results = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "contract": contract,
        "contracts": {
            "world": largest,
            "rows": {c: by_contract[0][c]["rows"] for c in CONTRACTS},
            "wall_seconds": {c: summary([p[c]["process_wall"] for p in by_contract]) for c in CONTRACTS},
            "engine_seconds": {c: summary([p[c]["engine"] for p in by_contract]) for c in CONTRACTS},
            "ratio_v2_54_over_v2_37": summary(
                [p[CONTRACTS[1]]["process_wall"] / p[CONTRACTS[0]]["process_wall"] for p in by_contract]
            ),
        },
        "machine": machine_name(),
        "versions": versions(),
        "load": load,
        "seed": seed,
        "quick": quick,
        "repeats": repeats,
        "warm_up": warm_up,
        "worlds": worlds,
        "per_date": {
            "world": largest,
            "dates": days,
            "pairs": pairs,
            "one_date_in_process": summary([p["one_date_in_process"] for p in pairs]),
            "marginal_per_date_in_batch": summary(marginals) if marginals else None,
            "batch_in_process": summary([p["batch_in_process"] for p in pairs]),
            "date_by_date_over_batch": summary([p["date_by_date"] / p["batch"] for p in pairs]),
        },
        "memory": memory_figures(worlds),
        "growth_exponent": growth_exponent([(w["rows"], w["wall_seconds"]["median"]) for w in worlds.values()]),
        "old_system": OLD_SYSTEM,
        "targets": TARGETS,
    }
    results["verdicts"] = verdicts(results)
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{dt.date.today().isoformat()}-{results['machine']}{'-quick' if quick else ''}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if readme is not None and not quick:
        write_readme(readme, results, path)
    return results, path


def memory_figures(worlds: dict) -> dict:
    """x10's peak RSS with default chunking, and a world twice as long (x20) against it."""
    figures: dict = {}
    for name in ("x10", "x20"):
        if name in worlds:
            figures[f"{name}_peak_rss_gib"] = worlds[name]["peak_rss_bytes"]["median"] / 2**30
            figures[f"{name}_peak_tree_rss_gib"] = worlds[name]["peak_tree_rss_bytes"]["median"] / 2**30
    if "x10" in worlds and "x20" in worlds:
        figures["x20_over_x10_peak_rss"] = figures["x20_peak_rss_gib"] / figures["x10_peak_rss_gib"]
        figures["x20_over_x10_peak_tree_rss"] = figures["x20_peak_tree_rss_gib"] / figures["x10_peak_tree_rss_gib"]
        figures["x20_over_x10_rows"] = worlds["x20"]["rows"] / worlds["x10"]["rows"]
    return figures


def verdicts(results: dict) -> dict:
    """target -> (measured, met) for every target this run measured."""
    worlds, memory, t = results["worlds"], results["memory"], TARGETS
    found: dict = {}
    if "nba5" in worlds:
        found["nba5_seconds"] = worlds["nba5"]["wall_seconds"]["median"]
    if "x10" in worlds:
        found["x10_seconds"] = worlds["x10"]["wall_seconds"]["median"]
        found["x10_peak_rss_gib"] = memory["x10_peak_tree_rss_gib"]  # every process of the run counts
    if "x20_over_x10_peak_tree_rss" in memory:
        found["x20_over_x10_peak_rss"] = memory["x20_over_x10_peak_tree_rss"]
    found["one_date_seconds"] = results["per_date"]["one_date_in_process"]["median"]
    if results["growth_exponent"] is not None:
        found["growth_exponent"] = results["growth_exponent"]
    return {k: {"measured": v, "target": t[k], "met": v <= t[k]} for k, v in found.items()}


def _game_dates(world: dict, folder: Path, count: int) -> list[str]:
    """`count` consecutive game dates from the middle of the world's range."""
    import duckdb

    from fsengine.snapshot.format import Snapshot

    snap = Snapshot.open(folder, verify_checksums=False)
    con = duckdb.connect()
    snap.register(con)
    start, end = world["range"]
    rows = con.execute(
        "SELECT DISTINCT game_date FROM pgs WHERE game_date BETWEEN CAST($s AS DATE) AND CAST($e AS DATE) ORDER BY game_date",
        {"s": start, "e": end},
    ).fetchall()
    days = [str(r[0]) for r in rows]
    middle = max(0, len(days) // 2 - count // 2)
    return days[middle : middle + count]


_TARGET_TEXT = {
    "nba5_seconds": ("`nba5` end to end", "< {:.1f} s", "{:.2f} s"),
    "x10_seconds": ("`x10` end to end", "< {:.0f} s", "{:.2f} s"),
    "one_date_seconds": ("one date alone, in process", "< {:.1f} s", "{:.3f} s"),
    "x10_peak_rss_gib": ("`x10` peak RSS, default chunking (all processes)", "< {:.0f} GiB", "{:.2f} GiB"),
    "x20_over_x10_peak_rss": ("`x20` (twice as long) peak RSS / `x10`'s", "<= {:.2f}", "{:.2f}"),
    "growth_exponent": ("growth exponent (time vs rows)", "<= {:.1f}", "{:.2f}"),
}


def write_readme(readme: Path, results: dict, json_path: Path) -> None:
    """Regenerate the results between the markers of bench/README.md."""
    load = results.get("load") or []
    load_text = ", ".join(f"{entry['load_1min']:.1f}" for entry in load)
    lines = [
        f"Results of `{json_path.relative_to(REPO_ROOT)}` ({results['machine']}, Python {results['versions']['python']}, "
        f"DuckDB {results['versions']['duckdb']}, Polars {results['versions']['polars']}; median of {results['repeats']} runs{' after a warm-up' if results.get('warm_up', True) else ', no warm-up'}; "
        f"1-minute load average {load_text} on {results['versions']['cpu_count']} CPUs, at the start, after each world and at the end).",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for key, verdict in results.get("verdicts", {}).items():
        what, target, measured = _TARGET_TEXT[key]
        lines.append(
            f"| {what} {target.format(verdict['target'])} | {measured.format(verdict['measured'])} | "
            f"{'met' if verdict['met'] else '**missed**'} |"
        )
    lines += [
        "",
        "| world | dates | rows | wall s (median, min–max) | floor s (read + write) | wall / floor | CPU s | CPU / floor's CPU | peak RSS GiB, largest process | peak RSS GiB, all processes | rows/s | scoring / extraction |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, w in results["worlds"].items():
        wall, floor = w["wall_seconds"], w["floor"]
        lines.append(
            f"| {name} | {w['dates']} | {w['rows']:,} | {wall['median']:.2f} ({wall['min']:.2f}–{wall['max']:.2f}) | "
            f"{floor['seconds']['median']:.2f} ({floor['read_seconds']['median']:.2f} + {floor['write_seconds']['median']:.2f}) | "
            f"{w['wall_over_floor']['median']:.1f}x | {w['cpu_seconds']['median']:.2f} | {w['cpu_over_floor_cpu']['median']:.1f}x | "
            f"{w['peak_rss_bytes']['median'] / 2**30:.2f} | "
            f"{w['peak_tree_rss_bytes']['median'] / 2**30:.2f} | {w['rows_per_second']:,.0f} | "
            f"{w['scoring_share_of_extraction']['median']:.1%} |"
        )
    per_date = results["per_date"]
    exp = results["growth_exponent"]
    marginal = per_date["marginal_per_date_in_batch"]
    old = results.get("old_system", OLD_SYSTEM)["seconds_per_date_after_fix"]
    lines += [
        "",
        f"- Per date ({len(per_date['dates'])} consecutive dates of `{per_date['world']}`, pairwise in one run): one date alone "
        f"costs **{per_date['one_date_in_process']['median']:.3f} s** in process (median over the dates), a batch of all of them "
        f"{per_date['batch_in_process']['median']:.2f} s, so a date in a batch costs "
        + (f"**{marginal['median'] * 1000:.1f} ms** at the margin" if marginal else "n/a at the margin")
        + f"; the old system: about {old:.0f} s per date after its fix (17.7 min before it).",
        f"- Growth exponent of wall time against rows: **{exp:.2f}**."
        if exp is not None
        else "- Growth exponent: n/a (one world).",
    ]
    memory = results.get("memory") or {}
    if "x20_over_x10_peak_rss" in memory:
        lines.append(
            f"- Memory against range length: `x20` ({memory['x20_over_x10_rows']:.2f}x the rows of `x10`) peaks at "
            f"{memory['x20_peak_tree_rss_gib']:.2f} GiB over all processes, {memory['x20_over_x10_peak_tree_rss']:.2f}x `x10`'s "
            f"{memory['x10_peak_tree_rss_gib']:.2f} GiB (largest process {memory['x20_over_x10_peak_rss']:.2f}x)."
        )
    largest_name = list(results["worlds"])[-1]
    per_query = results["worlds"][largest_name]["stage_seconds"]
    lines += [
        "",
        f"Per-stage time on `{largest_name}` (median s, summed over its chunks):",
        "",
        "| stage | seconds |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v['median']:.3f} |" for k, v in per_query.items()]
    text = readme.read_text() if readme.exists() else "# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n"
    startm, endm = "<!-- results:start -->", "<!-- results:end -->"
    if startm not in text:
        text += f"\n{startm}\n{endm}\n"
    head, rest = text.split(startm, 1)
    _, tail = rest.split(endm, 1)
    readme.write_text(head + startm + "\n" + "\n".join(lines) + "\n" + endm + tail)
