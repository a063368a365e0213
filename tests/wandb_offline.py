"""Read the records of an offline W&B run file (``run-<id>.wandb``) without network or wandb-core.

The file is a W&B header (``:W&B``, magic 0xBEE1, version 0) followed by a LevelDB-style log:
32 KiB blocks of chunks, each ``crc32c (4) | length (2, little endian) | type (1) | data``, where
a record is one FULL chunk or FIRST, MIDDLE..., LAST chunks; a record is a protobuf
``wandb.proto.wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> list[wandb_internal_pb2.Record]:
    """Every record of the run file, in order."""
    data = path.read_bytes()
    if not data.startswith(HEADER):
        raise ValueError(f"{path}: not a W&B run file (header {data[:7]!r})")
    offset, pending, out = len(HEADER), b"", []
    while offset + CHUNK_HEADER <= len(data):
        left = BLOCK - offset % BLOCK
        if left < CHUNK_HEADER:  # the rest of a block too short for a chunk header is padding
            offset += left
            continue
        length, kind = struct.unpack_from("<HB", data, offset + 4)
        chunk = data[offset + CHUNK_HEADER : offset + CHUNK_HEADER + length]
        offset += CHUNK_HEADER + length
        if kind == 0 and length == 0:
            break
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            out.append(record)
    return out


@dataclass
class OfflineRun:
    """What one offline run logged: its identity, config, last value of every key, exit code."""

    run_id: str = ""
    project: str = ""
    group: str = ""
    job_type: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None


def read_run(run_dir: Path, wait_s: float = 0.0) -> OfflineRun:
    """Parse ``<run dir>/run-*.wandb`` of an offline run folder (``wandb/offline-run-*``).

    W&B's service may still be writing the file when ``finish()`` has returned in this process:
    with ``wait_s``, the file is read again (for up to that many seconds) until its exit record is
    there.
    """
    deadline = time.monotonic() + wait_s
    while True:
        run = _parse(run_dir)
        if run.exit_code is not None or time.monotonic() >= deadline:
            return run
        time.sleep(0.2)


def _parse(run_dir: Path) -> OfflineRun:
    (path,) = run_dir.glob("run-*.wandb")
    run = OfflineRun()
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.run_id, run.project = record.run.run_id, record.run.project
            run.group, run.job_type = record.run.run_group, record.run.job_type
            run.tags = list(record.run.tags)
        elif kind == "config":
            for item in record.config.update:
                run.config[item.key] = json.loads(item.value_json)
        elif kind == "history":
            row = {
                item.key or "/".join(item.nested_key): json.loads(item.value_json)
                for item in record.history.item
            }
            run.history.append(row)
            run.summary.update(row)
        elif kind == "summary":
            for item in record.summary.update:
                run.summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    return run
