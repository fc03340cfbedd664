"""Output rows produced and written part by part: the same rows as in one piece; constant
columns built from buffers equal the plain per-row construction; the stage timings."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.quality_reference import B
from test_finalize import RUN_TS, assembled, placeholder_row, scored_row

from fsengine.contracts import load_contract
from fsengine.output import rows as finalize
from fsengine.output.schema import OUTPUT_SCHEMA, read_output, write_output, write_part_files

TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(["a", "é", "{", '"', " ", "\u3000"]), max_size=6))
TEXT_LIST = st.lists(st.text(alphabet=st.sampled_from(["x", "é", "_"]), max_size=4), max_size=4)


def plain_constant(value, placeholder_value, arrow_type, placeholder):
    return pa.array([placeholder_value if p else value for p in placeholder.tolist()], arrow_type)


@given(
    st.one_of(
        st.tuples(TEXT, TEXT, st.just(pa.string())),
        st.tuples(TEXT_LIST, TEXT_LIST, st.just(pa.list_(pa.string()))),
        st.tuples(st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.booleans()), st.just(pa.bool_())),
    ),
    st.lists(st.booleans(), max_size=30),
)
@settings(max_examples=300, deadline=None)
def test_constant_columns_equal_per_row_construction(case, flags):
    value, placeholder_value, arrow_type = case
    placeholder = np.array(flags, dtype=bool)
    got = finalize._constant(value, placeholder_value, arrow_type, placeholder)
    got.validate(full=True)
    assert got.type == arrow_type
    assert got.to_pylist() == plain_constant(value, placeholder_value, arrow_type, placeholder).to_pylist()


def test_a_shared_constant_column_has_each_part_s_length():
    names = ["a", "bb", "é"]
    for rows in (5, 3, 8, 3, 0):
        got = finalize._constant(names, [], pa.list_(pa.string()), np.zeros(rows, dtype=bool))
        got.validate(full=True)
        assert got.to_pylist() == [names] * rows


def rows_in_one_piece():
    return (
        [scored_row(player_lookup=f"p{i}") for i in range(5)]
        + [placeholder_row(player_lookup="q")]
        + [scored_row(player_lookup=f"r{i}", feature_tags=list(B), composite_fallback=True) for i in range(3)]
    )


def test_parts_give_the_same_rows_as_one_piece(tmp_path):
    rows = rows_in_one_piece()
    whole = finalize.output_rows(assembled(rows), RUN_TS)
    frame = assembled(rows)
    parts = (finalize.output_rows(frame.slice(first, 4), RUN_TS) for first in range(0, frame.height, 4))
    write_output(parts, tmp_path / "parts", rows_per_file=3)
    write_output(whole, tmp_path / "whole")
    assert read_output(tmp_path / "parts").equals(read_output(tmp_path / "whole"))
    assert read_output(tmp_path / "whole").equals(whole)


def test_files_written_elsewhere_are_moved_in_between_the_parts_in_order(tmp_path):
    """What a worker process does with its chunks: their files, written beside the output, take
    their place among the parts written here, in order, numbered on, and are moved, not copied."""
    frame = assembled(rows_in_one_piece())
    whole = finalize.output_rows(frame, RUN_TS)
    pieces = [finalize.output_rows(frame.slice(first, 2), RUN_TS) for first in range(0, frame.height, 2)]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # pieces 1 and 2 as files of at most 3 rows, written as write_output would write them
    written = write_part_files(pieces[1:3], elsewhere, "chunk-2-", load_contract(), rows_per_file=3)
    assert [w.path.name for w in written] == ["chunk-2-00000.parquet", "chunk-2-00001.parquet"]
    out = write_output([pieces[0], *written, *pieces[3:]], tmp_path / "out", rows_per_file=3)
    assert read_output(tmp_path / "out").equals(whole)
    names = sorted(p.name for p in out.glob("part-*.parquet"))
    assert names == [f"part-{i:05d}.parquet" for i in range(len(names))]
    # the first file ends where the moved files begin; those keep their own row groups
    assert [pq.read_metadata(out / n).num_rows for n in names[:3]] == [2, 3, 1]
    assert list(elsewhere.iterdir()) == []


def test_no_parts_give_an_empty_output(tmp_path):
    write_output(iter(()), tmp_path)
    assert read_output(tmp_path).num_rows == 0
    assert read_output(tmp_path).schema == OUTPUT_SCHEMA


def test_failing_part_leaves_the_previous_output(tmp_path):
    first = finalize.output_rows(assembled([scored_row()]), RUN_TS)
    write_output(first, tmp_path)

    def parts():
        yield first
        raise RuntimeError("part 2 failed")

    with pytest.raises(RuntimeError, match="part 2 failed"):
        write_output(parts(), tmp_path, rows_per_file=1)
    assert read_output(tmp_path).equals(first)
    assert [p.name for p in tmp_path.iterdir()] == ["ml_feature_store_v2"]


def test_timings_name_score_and_rows_and_add_up(monkeypatch):
    """Produced part by part with one timings dict: each part adds its "score" (the scorer) and
    "rows" (the rest of the call) to what is already there; per part the two add up to the
    call's duration, and over the parts the totals are the sum of the parts."""
    scorer = finalize.quality.score
    pause = 1.0  # long beside a 4-row part's own work, even on a loaded machine

    def slow_score(*args, **kwargs):  # the scorer's time must land in "score", not in "rows"
        time.sleep(pause)
        return scorer(*args, **kwargs)

    monkeypatch.setattr(finalize.quality, "score", slow_score)
    frame = assembled(rows_in_one_piece())
    timings = {"score": 1.0, "rows": 2.0}
    spent = []
    for first in range(0, frame.height, 4):
        before = dict(timings)
        began = time.perf_counter()
        finalize.output_rows(frame.slice(first, 4), RUN_TS, timings=timings)
        wall = time.perf_counter() - began
        score, rows = timings["score"] - before["score"], timings["rows"] - before["rows"]
        assert score >= pause and 0.0 < rows < pause, (score, rows)
        assert wall - 0.25 <= score + rows <= wall, (score, rows, wall)  # slack: a preempted call on a busy CI
        spent.append((score, rows))
    assert set(timings) == {"score", "rows"} and len(spent) == 3
    assert timings["score"] == pytest.approx(1.0 + sum(s for s, _ in spent), abs=1e-9)
    assert timings["rows"] == pytest.approx(2.0 + sum(r for _, r in spent), abs=1e-9)
