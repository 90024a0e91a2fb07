"""Where scored rows go: one writer per output (a lock), crash-safe work parts, the final file.

While a run works, finished documents are written batch by batch as Parquet part files in a
hidden folder beside the output (``.OUT.partial/``). Each part appears atomically (temporary
file, fsync, rename) and is never rewritten, so a crash at any moment loses at most the batch
in progress, and a rerun resumes from the parts. The final output is assembled from the parts
one at a time (memory stays flat however large the input), written to a temporary file and
renamed into place.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from .schema import SCORE_COLUMNS

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")
_INTS = {"sentence_index", "start", "end"}
_STRINGS = {"doc_id", "text", "speaker", "speaker_key", "quote", "stance", "tone", "model_version"}
BASE_SCHEMA = pa.schema([(c, pa.int64() if c in _INTS else pa.string() if c in _STRINGS else pa.float64())
                         for c in SCORE_COLUMNS])


class OutputBusyError(ValueError):
    """Another process is writing the same output."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place.

    The file gets the mode a plain ``open()`` would give it (0666 less the umask), not the
    0600 of a temporary file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def check_output(out: str | Path, force: bool = False) -> Path:
    """Refuse an unknown output format, a folder, or an existing output without ``force``."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; --out takes a file name ending in {', '.join(OUTPUT_FORMATS)}")
    if out.suffix not in OUTPUT_FORMATS:
        raise ValueError(f"{out}: unknown output format {out.suffix!r} (use {', '.join(OUTPUT_FORMATS)})")
    if out.exists() and not force:
        raise FileExistsError(f"{out}: already exists (use --force to overwrite)")
    return out


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` for the whole run; refuse at once if another has it."""
    path = out.with_name(f".{out.name}.lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputBusyError(f"{out}: another stance score (pid {holder}) is writing this output; "
                                  "wait for it to finish or choose another --out") from None
        try:  # the holder before us may have removed the file after we opened it: lock anew
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    try:
        yield
    finally:
        os.unlink(path)
        os.close(fd)


def work_dir(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial")


def read_parts(work: Path, version: str) -> tuple[set[str], list[Path]]:
    """Documents finished by an earlier run and the part files that hold their rows."""
    import pyarrow.parquet as pq

    done: set[str] = set()
    parts = sorted(work.glob("part-*.parquet"))
    for stray in work.glob("*.tmp"):  # a part cut off while being written: its batch is redone
        stray.unlink()
    for part in parts:
        meta = pq.read_schema(part).metadata
        if meta[b"stance.model_version"].decode() != version:
            raise ValueError(f"{work}: unfinished output was scored with model "
                             f"{meta[b'stance.model_version'].decode()}, not {version}; "
                             "rerun with --force to start over")
        done.update(json.loads(meta[b"stance.docs"]))
    return done, parts


def write_part(work: Path, index: int, table: pa.Table, doc_ids: list[str], version: str) -> None:
    """Write one batch of finished documents as ``part-NNNNNN.parquet``, atomically."""
    import pyarrow.parquet as pq

    meta = {b"stance.docs": json.dumps(doc_ids).encode(), b"stance.model_version": version.encode()}
    table = table.replace_schema_metadata(meta)
    final = work / f"part-{index:06d}.parquet"
    tmp = work / f"part-{index:06d}.tmp"
    with open(tmp, "wb") as sink:
        pq.write_table(table, sink)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(tmp, final)
    dir_fd = os.open(work, os.O_RDONLY)  # make the rename itself survive a power cut
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _final_schema(parts: list[Path]) -> pa.Schema:
    """The base columns, then every metadata column seen in any part (strings), in order."""
    import pyarrow.parquet as pq

    extra: dict[str, None] = {}
    for part in parts:
        for name in pq.read_schema(part).names:
            if name not in BASE_SCHEMA.names:
                extra.setdefault(name)
    return pa.schema(list(BASE_SCHEMA) + [pa.field(name, pa.string()) for name in extra])


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(len(table), f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def assemble(parts: list[Path], out: Path) -> int:
    """Write the rows of every part to ``out`` (format by extension), atomically; return the count."""
    import pyarrow.parquet as pq

    schema = _final_schema(parts)
    rows = 0

    def write(tmp: str) -> None:
        nonlocal rows
        if out.suffix == ".parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for part in parts:
                    table = _conform(pq.read_table(part), schema)
                    writer.write_table(table)
                    rows += len(table)
                if not parts:
                    writer.write_table(schema.empty_table())
            return
        with open(tmp, "w", encoding="utf-8", newline="") as sink:
            if out.suffix == ".csv" and not parts:
                schema.empty_table().to_pandas().to_csv(sink, index=False)
            for n, part in enumerate(parts):
                frame = _conform(pq.read_table(part), schema).to_pandas()
                rows += len(frame)
                if out.suffix == ".csv":
                    frame.to_csv(sink, index=False, header=n == 0)
                elif len(frame):  # pandas ends each block of lines with a newline
                    frame.to_json(sink, orient="records", lines=True, force_ascii=False)

    write_atomically(out, write)
    return rows


def remove_work(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
