"""What a clumsy or hostile user did to the folders fsengine writes, and what must happen:
never delete a folder fsengine did not write, never replace good output with nothing, never
leave OUT without a complete output (even when killed), never leave litter behind.

The commands run as real subprocesses (`python -m fsengine ...`), so exit codes, signals and
the files on disk are exactly what a user sees.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fsengine.output.schema import read_output
from fsengine.pipeline import BUNDLED_SNAPSHOT
from fsengine.snapshot.format import Snapshot, write_snapshot

PGS = "nba_analytics.player_game_summary"


def fsengine(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fsengine", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def said(done: subprocess.CompletedProcess) -> str:
    """stderr with the terminal's line wrapping undone."""
    return done.stderr.replace("\n", "")


def litter(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


# --------------------------------------------------------------------------- 1. foreign folders


def test_fixtures_generate_refuses_a_folder_holding_the_users_files(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("three years of work")
    done = fsengine("fixtures", "generate", "--preset", "small", "--out", target)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (target / "thesis.tex").read_text() == "three years of work"
    assert "empty or new folder" in said(done) and "mine" in said(done)
    assert litter(tmp_path) == []


def test_fixtures_generate_refuses_a_file_and_leaves_no_hidden_copy(tmp_path):
    target = tmp_path / "notes"
    target.write_text("keep me")
    done = fsengine("fixtures", "generate", "--preset", "small", "--out", target)
    assert done.returncode == 2, done.stdout + done.stderr
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_fixtures_generate_uses_an_empty_folder_and_replaces_its_own_snapshot(tmp_path):
    target = tmp_path / "snap"
    target.mkdir()
    assert fsengine("fixtures", "generate", "--preset", "small", "--out", target).returncode == 0
    first = (target / "manifest.json").read_text()
    again = fsengine("fixtures", "generate", "--preset", "small", "--out", target, "--seed", "7")
    assert again.returncode == 0, again.stderr
    assert (target / "manifest.json").read_text() != first
    assert litter(tmp_path) == []


def test_a_snapshot_with_a_file_the_manifest_does_not_list_is_not_replaced(tmp_path):
    target = tmp_path / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT, target)
    (target / "README.txt").write_text("my notes about this snapshot")
    done = fsengine("fixtures", "generate", "--preset", "small", "--out", target)
    assert done.returncode == 2
    assert "README.txt" in said(done)
    assert (target / "README.txt").is_file()


def test_snapshot_command_refuses_a_foreign_folder_before_any_call(tmp_path):
    import datetime as dt

    from fsengine.config import load_config
    from fsengine.errors import OutputError
    from fsengine.snapshot.read import take_snapshot

    target = tmp_path / "photos"
    target.mkdir()
    (target / "cat.jpg").write_bytes(b"\xff\xd8")
    config = load_config(
        project="fse-test-robust", api_endpoint="http://127.0.0.1:9", storage_endpoint="127.0.0.1:9", anonymous=True
    )
    with pytest.raises(OutputError, match="empty or new folder"):
        take_snapshot(config, dt.date(2025, 11, 4), dt.date(2025, 11, 5), target)
    assert (target / "cat.jpg").is_file()


def test_backfill_refuses_an_output_folder_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    (out / "ml_feature_store_v2").mkdir(parents=True)
    (out / "ml_feature_store_v2" / "important.csv").write_text("a,b\n")
    done = fsengine("backfill", "--out", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (out / "ml_feature_store_v2" / "important.csv").is_file()
    assert "empty or new folder" in said(done)


def test_backfill_into_a_file_is_refused(tmp_path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    done = fsengine("backfill", "--out", out)
    assert done.returncode == 2
    assert out.read_text() == "not a folder"


# --------------------------------------------------------------------------- 3. empty runs


def _snapshot_with_empty(tmp_path: Path, key: str) -> Path:
    snap = Snapshot.open(BUNDLED_SNAPSHOT, verify_checksums=False)
    tables, bounds = {}, {}
    for k, t in snap.tables.items():
        data = pq.ParquetFile(t.files[0]).schema_arrow.empty_table() if k == key else pq.read_table(list(t.files))
        if k != key:
            data = data.combine_chunks()
        tables[k] = data
        bounds[k] = (t.start, t.end)
    created = snap.manifest["tables"][PGS]["snapshot_time"]
    import datetime as dt

    return write_snapshot(
        tmp_path / f"empty-{key}",
        tables,
        bounds,
        snapshot_time=dt.datetime.fromisoformat(created.replace("Z", "+00:00")),
    )


def test_an_empty_spine_table_is_an_error_and_keeps_the_previous_output(tmp_path):
    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out).returncode == 0
    before = read_output(out)
    empty = _snapshot_with_empty(tmp_path, PGS)
    done = fsengine(
        "backfill",
        "--out",
        out,
        "--snapshot",
        empty,
        "--start",
        "2025-11-10",
        "--end",
        "2025-11-12",
        "--mode",
        "backfill",
        "--as-of",
        "2026-01-01",
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no row" in said(done) and "--allow-empty" in said(done)
    assert read_output(out).equals(before)
    assert litter(out) == []

    allowed = fsengine(
        "backfill",
        "--out",
        out,
        "--snapshot",
        empty,
        "--start",
        "2025-11-10",
        "--end",
        "2025-11-12",
        "--mode",
        "backfill",
        "--as-of",
        "2026-01-01",
        "--allow-empty",
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert read_output(out).num_rows == 0


# --------------------------------------------------------------------------- 4. killed runs


def test_a_killed_backfill_leaves_the_old_or_the_new_output_and_no_litter(tmp_path):
    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out).returncode == 0  # cold caches
    began = time.monotonic()
    assert fsengine("backfill", "--out", out).returncode == 0
    whole = time.monotonic() - began
    expected = read_output(out).num_rows
    assert expected > 0
    kills = 0
    # Kill moments as fractions of one run's time; on a loaded machine a run can take longer or
    # shorter than the one measured, so early moments are added until at least three runs died.
    fractions = [0.3, 0.45, 0.55, 0.65, 0.72, 0.8, 0.86, 0.92, 0.97, 1.02]
    extra = [0.2, 0.1, 0.05, 0.25, 0.15]
    while fractions:
        fraction = fractions.pop(0)
        if not fractions and kills < 3 and extra:
            fractions.append(extra.pop(0))
        child = subprocess.Popen(
            [sys.executable, "-m", "fsengine", "backfill", "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(whole * fraction)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
        table = read_output(out)  # always a complete output: the old one or the new one
        assert table.num_rows == expected, fraction
        assert json.loads((out / "ml_feature_store_v2" / "fsengine-run.json").read_text())["snapshot"]
    assert kills >= 3
    assert fsengine("backfill", "--out", out).returncode == 0
    assert litter(out) == []
    assert read_output(out).num_rows == expected


def test_the_staging_folder_of_a_terminated_backfill_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out).returncode == 0
    child = subprocess.Popen(
        [sys.executable, "-m", "fsengine", "backfill", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not litter(out) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.005)
    child.send_signal(signal.SIGTERM)
    child.wait()
    # the next run removes whatever a killed run could not
    assert fsengine("backfill", "--out", out).returncode == 0
    assert litter(out) == []


def test_stale_staging_of_a_live_process_is_left_alone(tmp_path):
    from fsengine.output.write import clean_stale

    final = tmp_path / "ml_feature_store_v2"
    final.mkdir()
    live = tmp_path / f".ml_feature_store_v2.partial-{os.getppid()}-00ab"
    live.mkdir()
    dead_pid = _dead_pid()
    dead = tmp_path / f".ml_feature_store_v2.partial-{dead_pid}-00cd"
    dead.mkdir()
    user = tmp_path / ".ml_feature_store_v2.partial-mine"
    user.mkdir()
    assert clean_stale(final) == [dead]
    assert live.is_dir() and user.is_dir() and not dead.exists()


def test_staging_folders_of_older_fsengine_versions_are_removed_once_an_hour_old(tmp_path):
    from fsengine.output.write import clean_stale

    final = tmp_path / "ml_feature_store_v2"
    old = tmp_path / ".ml_feature_store_v2.partial-k3j_9xq1"
    fresh = tmp_path / ".ml_feature_store_v2.partial-a8d7f6e5"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "part-00000.parquet").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert clean_stale(final) == [old]
    assert fresh.is_dir()


def test_a_previous_output_left_aside_by_a_killed_fallback_swap_is_put_back(tmp_path):
    from fsengine.output.write import clean_stale

    final = tmp_path / "ml_feature_store_v2"
    aside = tmp_path / f".ml_feature_store_v2.old-{_dead_pid()}-0001"
    aside.mkdir()
    (aside / "part-00000.parquet").write_bytes(b"x")
    clean_stale(final)
    assert (final / "part-00000.parquet").is_file() and not aside.exists()


def test_the_parts_folder_of_a_killed_run_goes_with_the_next_run_and_a_live_ones_stays(tmp_path):
    """Worker processes hand their parts over in a hidden folder beside the output; a run killed
    outright cannot remove it, so its name carries the PID like the staging folders."""
    from fsengine.output.write import clean_stale, parts_folder

    final = tmp_path / "ml_feature_store_v2"
    mine = parts_folder(final)  # this process's: alive
    assert mine.parent == tmp_path and mine.name.startswith(".ml_feature_store_v2.parts-")
    dead = tmp_path / f".ml_feature_store_v2.parts-{_dead_pid()}-00ef"
    dead.mkdir()
    (dead / "chunk-0001-of-0002-00000.parquet").write_bytes(b"x")
    assert clean_stale(final) == [dead]
    assert mine.is_dir() and not dead.exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_output_and_snapshot_folders_honour_the_umask(tmp_path):
    out, snap = tmp_path / "out", tmp_path / "snap"
    for args in (("backfill", "--out", out), ("fixtures", "generate", "--preset", "small", "--out", snap)):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import os, sys; os.umask(0o022); from fsengine.cli import app; "
                "sys.argv = ['fsengine', *sys.argv[1:]]; app()",
                *map(str, args),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    assert (out / "ml_feature_store_v2").stat().st_mode & 0o777 == 0o755
    assert (out / "fsengine-run.json").stat().st_mode & 0o777 == 0o644
    assert snap.stat().st_mode & 0o777 == 0o755
    assert (snap / "manifest.json").stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- 5. explain's data


def test_explain_refuses_when_the_recorded_snapshot_is_gone(tmp_path):
    snap = tmp_path / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT, snap)
    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out, "--snapshot", snap, "--no-verify").returncode == 0
    row = read_output(out).slice(0, 1).to_pylist()[0]
    shutil.rmtree(snap)
    done = fsengine("explain", row["player_lookup"], row["game_date"].isoformat(), "--out", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert str(snap) in said(done) and "--snapshot" in said(done)


# --------------------------------------------------------------------------- 7. disk full, damaged output


def test_a_file_too_large_for_the_limit_is_one_clear_error_and_keeps_the_previous_output(tmp_path):
    import resource

    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out).returncode == 0
    before = read_output(out)
    done = subprocess.run(
        [sys.executable, "-m", "fsengine", "backfill", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)),
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert str(out / "ml_feature_store_v2") in said(done) and "file size limit" in said(done)
    assert read_output(out).equals(before)
    assert litter(out) == []


def test_disk_full_is_recognised_from_the_errno_or_from_pyarrow_text(tmp_path):
    import errno as errno_codes

    from fsengine.output.write import disk_error

    assert "no space left" in str(disk_error(OSError(errno_codes.ENOSPC, os.strerror(errno_codes.ENOSPC)), tmp_path))
    arrow_text = OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
    assert str(tmp_path) in str(disk_error(arrow_text, tmp_path))
    assert disk_error(OSError(errno_codes.EACCES, "Permission denied"), tmp_path) is None


def test_report_on_a_truncated_part_names_the_file(tmp_path):
    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out).returncode == 0
    part = out / "ml_feature_store_v2" / "part-00000.parquet"
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    done = fsengine("report", out)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "part-00000.parquet" in said(done) and "truncated" in said(done)


def test_report_over_files_of_two_runs_refuses_naming_the_files(tmp_path):
    out = tmp_path / "out"
    assert fsengine("backfill", "--out", out).returncode == 0
    folder = out / "ml_feature_store_v2"
    shutil.copy(folder / "part-00000.parquet", folder / "part-00001.parquet")  # an older run's file left beside
    done = fsengine("report", out)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "more than once" in said(done)
    assert "part-00000.parquet" in said(done) and "part-00001.parquet" in said(done)


# --------------------------------------------------------------------------- 8. memory


def test_memory_limit_is_applied_and_running_out_is_one_clear_error(tmp_path):
    out = tmp_path / "out"
    done = fsengine("backfill", "--out", out, "--memory-limit", "8MB")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "out of memory" in said(done) and "smaller date range" in said(done) and "--memory-limit" in said(done)
    assert not (out / "ml_feature_store_v2").exists()
    ok = fsengine("backfill", "--out", out, "--memory-limit", "2GB")
    assert ok.returncode == 0, ok.stderr


def test_a_bad_memory_limit_is_refused(tmp_path):
    done = fsengine("backfill", "--out", tmp_path / "out", "--memory-limit", "lots")
    assert done.returncode == 2 and "--memory-limit" in said(done)


def test_the_default_memory_limit_follows_the_address_space_limit():
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30)); "
        "from fsengine.pipeline import default_memory_limit; print(default_memory_limit())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    value = done.stdout.strip()
    cgroup = Path("/sys/fs/cgroup/memory.max")
    limits = [8 * 2**30]
    if cgroup.is_file() and cgroup.read_text().strip().isdigit():
        limits.append(int(cgroup.read_text().strip()))
    assert value == f"{int(min(limits) * 0.75) // 2**20}MB"
