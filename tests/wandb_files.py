"""Read what an offline W&B run wrote, without a server.

A ``run-<id>.wandb`` file is a 7-byte header followed by a LevelDB-style log: 32 KiB blocks of
records, each with a 7-byte header (CRC32C, little-endian length, type: 1 full, 2 first,
3 middle, 4 last) whose payloads are serialised ``wandb_internal_pb2.Record`` protobufs.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK = 32 * 1024
FILE_HEADER = 7
RECORD_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def _payloads(data: bytes):
    position, pending = FILE_HEADER, b""
    while position + RECORD_HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < RECORD_HEADER:  # the block's tail is zero padding
            position += left_in_block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + RECORD_HEADER])
        chunk = data[position + RECORD_HEADER : position + RECORD_HEADER + length]
        position += RECORD_HEADER + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            yield pending + chunk
        else:
            return


def read_offline_run(run_dir: Path) -> dict:
    """History rows, the final summary and the config keys of one ``offline-run-*`` directory."""
    (path,) = Path(run_dir).glob("run-*.wandb")
    history: list[dict] = []
    summary: dict = {}
    config: dict = {}
    for payload in _payloads(path.read_bytes()):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append(
                {
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                }
            )
        elif kind == "summary":
            for item in record.summary.update:
                summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                config[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return {"history": history, "summary": summary, "config": config}
