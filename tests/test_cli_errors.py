"""The command line's one error handler: every bad input, interruption or bug ends in one line
and a meaningful exit code, never a traceback (fsengine/cli.py `_Cli`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fsengine.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """Exit `code`, no traceback, and exactly one (non-empty) line saying `error: ...`."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def read_only_dir(tmp_path) -> Path:
    """A folder this process cannot write into: mode 0555, or for root (whom modes do not stop)
    /proc/sys, which no process can create files in."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        yield folder
    elif Path("/proc/sys").is_dir() and not os.access("/proc/sys", os.W_OK):
        yield Path("/proc/sys")
    else:
        pytest.skip("no folder this process cannot write into")
    folder.chmod(0o755)


# --------------------------------------------------------------------------- backfill --out, checked first


def test_backfill_out_that_is_a_file_is_refused_before_the_snapshot_is_opened(tmp_path):
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    # the snapshot does not exist either: the --out error proves the check comes first
    result = invoke("backfill", "--out", existing, "--snapshot", tmp_path / "nowhere")
    assert_one_line_error(result, 2, f"--out {existing}", "not a folder")
    assert existing.read_text() == "keep me"


def test_backfill_out_dev_null_is_refused():
    assert_one_line_error(invoke("backfill", "--out", "/dev/null"), 2, "--out /dev/null", "not a folder")


def test_backfill_out_in_a_read_only_folder_is_refused(read_only_dir, tmp_path):
    started = time.monotonic()
    assert_one_line_error(
        invoke("backfill", "--out", read_only_dir, "--snapshot", tmp_path / "nowhere"), 2, "no permission"
    )
    assert_one_line_error(
        invoke("backfill", "--out", read_only_dir / "new" / "out"), 2, "cannot be created", "no permission"
    )
    assert time.monotonic() - started < 10  # refused up front, not after computing


def test_backfill_empty_out_is_refused(tmp_path):
    assert_one_line_error(invoke("backfill", "--out", ""), 2, "--out", "empty")


def test_backfill_start_before_any_nba_game_is_refused(tmp_path):
    assert_one_line_error(
        invoke("backfill", "--out", tmp_path / "o", "--start", "0001-01-01"), 2, "--start 0001-01-01", "first NBA game"
    )
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def small_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("errors") / "out"
    result = invoke("backfill", "--out", out, "--start", "2025-11-10", "--end", "2025-11-12", "--mode", "backfill")
    assert result.exit_code == 0, result.output
    return out


def test_report_last_beyond_the_calendar_covers_every_date(small_out):
    result = invoke("report", small_out, "--last", "100000000")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "2025-11-10" in result.output and "2025-11-12" in result.output


def test_report_negative_top_is_refused(small_out):
    assert_one_line_error(invoke("report", small_out, "--top", "-1"), 2, "--top -1")


def test_report_html_into_a_folder_is_refused(small_out, tmp_path):
    assert_one_line_error(invoke("report", small_out, "--html", tmp_path), 2, f"--html {tmp_path}", "is a folder")


def test_report_html_in_a_read_only_folder_is_refused(small_out, read_only_dir):
    target = read_only_dir / "report.html"
    assert_one_line_error(invoke("report", small_out, "--html", target), 2, "--html", "no permission")
    assert not target.exists()


# --------------------------------------------------------------------------- other commands


def test_fixtures_negative_seed_is_refused(tmp_path):
    assert_one_line_error(invoke("fixtures", "generate", "--out", tmp_path / "w", "--seed", "-1"), 2, "--seed -1")
    assert not (tmp_path / "w").exists()


def test_bench_zero_repeats_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FSENGINE_BENCH_DIR", str(tmp_path / "bench"))  # nothing may be written anywhere
    assert_one_line_error(invoke("bench", "--repeats", "0"), 2, "--repeats 0")
    assert not (tmp_path / "bench").exists()


def test_mode_is_a_choice():
    line = assert_one_line_error(invoke("backfill", "--mode", "sometimes"), 2, "--mode 'sometimes'")
    for choice in ("auto", "backfill", "production"):
        assert choice in line
    # the help shows the choices (a wide terminal, so rich does not wrap the option's line)
    wide = runner.invoke(app, ["backfill", "--help"], env={"COLUMNS": "250", "TERMINAL_WIDTH": "250"})
    assert "auto|backfill|production" in wide.output


def test_snapshot_help_shows_bracketed_text():
    text = " ".join(invoke("snapshot", "--help").output.split())
    assert "( per table)" not in text
    assert "[start - lookback, end] per table" in text.replace("│ ", "").replace(" │", "")


# --------------------------------------------------------------------------- interruptions and bugs

# A real command line (the app with two extra commands) in a child process, so real signals
# reach a real DuckDB query.
SCRIPT = textwrap.dedent('''
    import sys
    import duckdb
    from fsengine.cli import app

    @app.command("boom")
    def boom() -> None:
        """Fails the way a bug would."""
        {}["missing"]

    @app.command("long-query")
    def long_query() -> None:
        """A DuckDB query that runs until it is stopped."""
        print("query started", file=sys.stderr, flush=True)
        duckdb.connect().sql("select count(*) from range(300000000000) t where t.range % 7 = 3").fetchall()
        print("query finished", file=sys.stderr, flush=True)

    app()
''')


def run_script(tmp_path, *args, signum=None) -> subprocess.CompletedProcess:
    script = tmp_path / "cli_with_extras.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the traceback file lands in the test's folder
    proc = subprocess.Popen(
        [sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    if signum is not None:
        assert proc.stderr.readline().strip() == "query started"
        time.sleep(0.5)
        proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=60)  # a stop takes STOP_GRACE_SECONDS at most
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(
    "signum, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_a_signal_inside_a_duckdb_query_is_one_line(tmp_path, signum, code, word):
    done = run_script(tmp_path, "long-query", signum=signum)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and word in lines[0], done.stderr
    assert "query finished" not in done.stderr


def test_an_unexpected_error_names_the_file_holding_its_traceback(tmp_path):
    done = run_script(tmp_path, "boom")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unexpected KeyError" in lines[0], done.stderr
    crash = Path(lines[0].rsplit(" ", 1)[-1])
    assert crash.parent == tmp_path and crash.is_file()
    text = crash.read_text()
    assert "Traceback" in text and '{}["missing"]' in text


def test_push_output_keeps_its_bracketed_mode(bq_emulator, bq_project, tmp_path):
    """Reports are printed as plain text: rich markup would swallow the push's `[upsert]`."""
    from test_push import DATASET, DATES, TABLE, create_target, make_rows, write_run

    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset(DATASET)
    create_target(client, f"{bq_project}.{DATASET}.{TABLE}")
    out = write_run(tmp_path, make_rows(dates=DATES[:1], per_date=3))
    result = invoke(
        "push",
        out,
        "--dry-run",
        "--project",
        bq_project,
        "--api-endpoint",
        bq_emulator.rest_url,
        "--storage-endpoint",
        bq_emulator.grpc_target,
        "--anonymous",
    )
    assert result.exit_code == 0, result.output
    assert "[upsert]" in result.output


def test_plan_needs_chunks_or_stale_and_stale_needs_a_range():
    assert_one_line_error(invoke("plan"), 2, "--chunks")
    assert_one_line_error(invoke("plan", "--stale", "--start", "2025-11-01"), 2, "--start and --end")


@pytest.mark.parametrize("args", [["run", "--help"], ["backfill", "--help"], ["--help"]])
def test_a_reader_that_closes_the_pipe_early_gets_no_bug_report(args):
    """`fsengine ... --help | head -1`: the reader is gone before the help is written; that is not
    a crash (no 'this is a bug' line, no traceback), and the exit code says the output was cut."""
    read_fd, write_fd = os.pipe()
    os.close(read_fd)  # the reader is gone before fsengine writes its first byte
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "fsengine", *args], stdout=write_fd, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write_fd)
    assert proc.stderr == ""
    assert proc.returncode != 0


def test_a_broken_pipe_inside_a_command_is_the_readers_doing_not_a_bug(tmp_path):
    """The pipe can also break while a command prints (the reader leaves mid-output): the handler
    says nothing on stderr, writes no crash file and exits 128 + SIGPIPE, as `head`'s writers do.
    It runs in its own process: the handler repoints the process's stdout, which must not be pytest's."""
    script = (
        "import sys\n"
        "from fsengine import cli\n"
        "code = cli._exit_code_for(BrokenPipeError(32, 'Broken pipe'))\n"
        "print('written after the reader left')\n"  # goes to /dev/null now, and must not fail
        "sys.exit(code)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # a crash file would land here
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (128 + signal.SIGPIPE, "", "")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["backfill", "--snapshot", "{file}", "--out", "{tmp}/out"],
        ["report", "{file}"],
        ["explain", "someone", "2025-01-01", "--out", "{file}"],
    ],
)
def test_a_file_where_a_folder_belongs_is_named_as_a_file_and_kept(tmp_path, args):
    """A file given where a snapshot or output folder belongs is called a file (not "missing"),
    and it is left as it was."""
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine\n")
    result = invoke(*(a.format(file=user_file, tmp=tmp_path) for a in args))
    assert_one_line_error(result, 2, str(user_file), "is a file, not a folder")
    assert user_file.read_text() == "mine\n"
