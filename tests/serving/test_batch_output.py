"""The batch output written while chunks are scored, and the single-chunk tasks at the end."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import serving.batch as batch_module
from features.schema import SCORE_COLUMNS
from serving.batch import (
    _SCORE_SCHEMA,
    BatchSummary,
    _append_parts,
    _batched,
    _grouped_chunks,
    _save_part,
    _Writer,
    score_folder,
    write_output,
)


@pytest.fixture(scope="module")
def one_piece(tmp_path_factory, world_dir, scorer) -> pd.DataFrame:
    """The scores of the small world scored in one chunk, as a frame."""
    out = tmp_path_factory.mktemp("one") / "one.parquet"
    score_folder(world_dir, out, scorer, chunk_size=0)
    return pd.read_parquet(out)


def _lines(path):
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_output_written_while_scoring_is_the_whole_output(
    fmt, jobs, tmp_path, world_dir, scorer, one_piece
):
    """Every format and both paths give the file the one-piece frame gives, written whole."""
    want = write_output(one_piece, tmp_path / f"want.{fmt}")
    out = tmp_path / "run" / f"scores.{fmt}"
    summary = score_folder(world_dir, out, scorer, chunk_size=3, jobs=jobs)
    assert summary.n_rows == 60 and summary.chunks == 20
    assert summary.bands == one_piece["risk_band"].value_counts().to_dict()
    if fmt == "parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(want))
        assert pq.ParquetFile(out).metadata.num_row_groups == 20  # a part appended per chunk
    else:
        assert out.read_bytes() == want.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no parts, no temp file


@pytest.mark.parametrize("jobs", [1, 2])
def test_parts_are_appended_as_chunks_finish(jobs, tmp_path, world_dir, scorer):
    """At each progress call the temporary file already holds the chunks done (in order)."""
    out = tmp_path / "scores.csv"
    tmp = tmp_path / f".tmp-{os.getpid()}-scores.csv"  # where the output is written first
    seen = []
    score_folder(
        world_dir,
        out,
        scorer,
        chunk_size=8,
        jobs=jobs,
        progress=lambda done, n: seen.append((done, max(_lines(tmp) - 1, 0))),
    )
    assert seen[0] == (0, 0) and seen[-1] == (60, 60)
    if jobs == 1:  # in order, so every chunk is written as soon as it is scored
        assert all(done == rows for done, rows in seen) and len(seen) == 9
    else:  # a chunk waits for the ones before it
        assert all(rows <= done for done, rows in seen)


@pytest.mark.parametrize(("jobs", "fmt"), [(1, "csv"), (2, "parquet"), (2, "jsonl")])
def test_interrupted_run_leaves_no_output_and_resumes_to_the_same_file(
    jobs, fmt, tmp_path, world_dir, scorer, one_piece
):
    want = write_output(one_piece, tmp_path / f"want.{fmt}")
    folder = tmp_path / "run"
    out = folder / f"scores.{fmt}"
    with pytest.raises(KeyboardInterrupt):
        score_folder(world_dir, out, scorer, chunk_size=3, jobs=jobs, stop_after=5)
    assert not out.exists()
    assert [p.name for p in folder.iterdir()] == [f"scores.{fmt}.parts"]  # no temp file
    kept = len(list((folder / f"scores.{fmt}.parts").glob("chunk-*.parquet")))
    assert kept >= 5
    summary = score_folder(world_dir, out, scorer, chunk_size=3, jobs=jobs, resume=True)
    assert summary.resumed_chunks == kept and summary.chunks == 20 and summary.n_rows == 60
    if fmt == "parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(want))
    else:
        assert out.read_bytes() == want.read_bytes()
    assert [p.name for p in folder.iterdir()] == [out.name]


def test_a_failed_row_count_check_leaves_no_output(tmp_path, world_dir, scorer, monkeypatch):
    """The row count is checked before the rename: a lost chunk means no output file at all."""
    real = batch_module._append_parts

    def losing(parts, ready, start, writer, summary):
        ready.discard(7)  # chunk 7 is reported done but never written
        return real(parts, ready, start, writer, summary)

    monkeypatch.setattr(batch_module, "_append_parts", losing)
    out = tmp_path / "run" / "scores.parquet"
    with pytest.raises(RuntimeError, match="wrote 56 rows for 60 creators"):
        score_folder(world_dir, out, scorer, chunk_size=8)
    assert [p.name for p in out.parent.iterdir()] == ["scores.parquet.parts"]


def _score_rows(ids, status="ok"):
    frame = pd.DataFrame({c: pd.Series([None] * len(ids), dtype=object) for c in SCORE_COLUMNS})
    frame["creator_id"] = ids
    frame["status"] = status
    frame["risk_band"] = "low"
    return frame


def test_parts_are_appended_in_chunk_order_whatever_order_they_finish(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in range(5):  # every part is on disk from the start; only the ready ones are read
        _save_part(parts, k, _score_rows([f"c{k}a", f"c{k}b"]), _SCORE_SCHEMA)
    writer = _Writer(tmp_path / "out.csv", _SCORE_SCHEMA)
    summary = BatchSummary(out=tmp_path / "out.csv")
    ready: set[int] = set()
    steps = []
    for finished in (2, 0, 1, 4, 3):
        ready.add(finished)
        nxt = _append_parts(parts, ready, steps[-1][0] if steps else 0, writer, summary)
        steps.append((nxt, sorted(ready), summary.n_rows))
    writer.close()
    assert steps == [(0, [2], 0), (1, [2], 2), (3, [], 6), (3, [4], 6), (5, [], 10)]
    got = pd.read_csv(tmp_path / "out.csv")["creator_id"].tolist()
    assert got == [f"c{k}{s}" for k in range(5) for s in "ab"]
    assert summary.chunks == 5 and summary.bands == {"low": 10}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_write_output_failing_midway_leaves_the_old_file(fmt, error, tmp_path):
    path = tmp_path / f"o.{fmt}"
    path.write_text("old")

    def frames():
        yield _score_rows(["a", "b"])
        raise error("stop")

    with pytest.raises(error):
        write_output(frames(), path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    write_output(_score_rows(["a"]), path)  # a successful write replaces it
    got = pd.read_parquet(path) if fmt == "parquet" else None
    if fmt == "csv":
        got = pd.read_csv(path)
    elif fmt == "jsonl":
        got = pd.read_json(path, lines=True)
    assert got["creator_id"].tolist() == ["a"]


def _taken(n):
    """Items 0..n-1 from a generator that records how many were taken."""
    taken = []

    def items():
        for i in range(n):
            taken.append(i)
            yield i

    return items(), taken


@pytest.mark.parametrize(
    ("n", "group", "jobs", "span", "sizes"),
    [
        (20, 4, 2, 4, [4, 4, 4, 4, 1, 1, 1, 1]),
        (20, 4, 2, 1, [4, 4, 4, 4, 1, 1, 1, 1]),
        (22, 4, 2, 4, [4, 4, 4, 4, 2, 1, 1, 1, 1]),  # the last group shorter, then the singles
        (20, 4, 3, 4, [4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1]),
        (6, 4, 2, 4, [2, 1, 1, 1, 1]),
        (3, 4, 2, 4, [1, 1, 1]),  # fewer chunks than the tail: all single
        (20, 4, 2, 5, [4] * 5),  # row groups longer than a task: single chunks would cost more
        (20, 2, 2, 20, [2] * 10),
        (5, 1, 2, 1, [1] * 5),
        (0, 4, 2, 4, []),
    ],
)
def test_tasks_are_groups_then_single_chunks_at_the_end(n, group, jobs, span, sizes):
    items, taken = _taken(n)
    batches = _batched(items, group, _grouped_chunks(n, group, jobs, span))
    first = next(batches, None)
    if n:  # lazy: only the first task's items are taken to form it
        assert len(taken) == len(first) == sizes[0]
    got = ([first] if first is not None else []) + list(batches)
    assert [len(b) for b in got] == sizes
    assert [i for b in got for i in b] == list(range(n))  # every chunk once, in order


def test_batched_without_a_tail_is_plain_groups():
    assert [len(b) for b in _batched(iter(range(10)), 4)] == [4, 4, 2]


@pytest.fixture(scope="module")
def aligned(tmp_path_factory, world_dir) -> Path:
    """The small world with every table in row groups of 6 creators (2 chunks of 3)."""
    out = tmp_path_factory.mktemp("aligned")
    ids = pq.read_table(world_dir / "creators.parquet").column("creator_id").to_pylist()
    block = {c: i // 6 for i, c in enumerate(ids)}
    for path in world_dir.glob("*.parquet"):
        table = pq.read_table(path)
        if path.stem == "brands":
            pq.write_table(table, out / path.name)
            continue
        blocks = np.array([block[c] for c in table.column("creator_id").to_pylist()])
        cuts = np.r_[0, np.flatnonzero(np.diff(blocks)) + 1, len(blocks)]
        with pq.ParquetWriter(out / path.name, table.schema) as writer:
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                writer.write_table(table.slice(a, b - a))
    return out


@pytest.mark.parametrize(
    ("data", "sizes"), [("aligned", [2] * 9 + [1, 1]), ("world_dir", [2] * 10)]
)
def test_a_parallel_run_hands_out_its_last_chunks_one_per_task(
    data, sizes, request, tmp_path, scorer, monkeypatch, one_piece
):
    """With row groups of two chunks, tasks of 2 then (jobs - 1) * 2 single chunks; with one
    row group for all 20 chunks (tasks of 2 cut it anyway) no single chunks."""
    got = []
    real = batch_module._batched

    def spy(items, size, grouped=None):
        for batch in real(items, size, grouped):
            got.append(len(batch))
            yield batch

    monkeypatch.setattr(batch_module, "_batched", spy)
    folder = request.getfixturevalue(data)
    score_folder(folder, tmp_path / "o.parquet", scorer, chunk_size=3, jobs=2)
    assert got == sizes
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), one_piece)
