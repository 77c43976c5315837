#!/usr/bin/env python3
"""Checks the framing and every CRC of the `.wandb` files here, and decodes their records with wandb's
own protobuf classes (`wandb.proto.wandb_internal_pb2`), to confirm what kltop's reader relies on:

- the 7-byte header `:W&B` 0xBEE1 version 0, then 32 KiB blocks of chunks
  `u32 crc | u16 length | u8 type (1 FULL, 2 FIRST, 3 MIDDLE, 4 LAST) | payload`;
- the CRC is zlib's CRC-32 over the type byte and the payload;
- history items carry `nested_key` (even for flat keys), the step is `HistoryStep.num`;
- every value in expected.json is found at its step under its key.

    python3 check_wandb.py      # "3 files passed, 0 failed"
"""
from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from collections import Counter
from pathlib import Path

from wandb.proto import wandb_internal_pb2 as pb

HERE = Path(__file__).resolve().parent
BLOCK = 32768


def records(data: bytes, counts: Counter):
    assert data[:7] == b":W&B\xe1\xbe\x00", data[:7]
    position = 7
    pending = b""
    while position < len(data):
        left = BLOCK - position % BLOCK
        if left < 7:
            assert data[position : position + left] == bytes(left), "padding is not zero"
            position += left
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, position)
        if crc == 0 and length == 0 and kind == 0:
            position += left
            counts["zero header"] += 1
            continue
        payload = data[position + 7 : position + 7 + length]
        assert len(payload) == length, f"chunk cut at {position}"
        assert 7 + length <= left, f"chunk crosses a block boundary at {position}"
        assert zlib.crc32(bytes([kind]) + payload) == crc, f"CRC mismatch at {position}"
        counts[{1: "FULL", 2: "FIRST", 3: "MIDDLE", 4: "LAST"}[kind]] += 1
        position += 7 + length
        if kind == 1:
            yield payload
        elif kind == 2:
            pending = payload
        elif kind == 3:
            pending += payload
        else:
            yield pending + payload


def history(path: Path, counts: Counter):
    """(run name, {key: value_json}, step) of every history record."""
    name = None
    for payload in records(path.read_bytes(), counts):
        record = pb.Record()
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        counts[kind] += 1
        if kind == "run":
            name = record.run.display_name or record.run.run_id
        elif kind == "history":
            items = {}
            for item in record.history.item:
                key = "/".join(item.nested_key) if item.nested_key else item.key
                items[key] = item.value_json
            step = record.history.step.num if record.history.HasField("step") else int(items["_step"])
            yield name, items, step


def main() -> None:
    expected = json.loads((HERE / "expected.json").read_text())["values"]
    passed = failed = 0
    found = {}
    for path in sorted((HERE / "wandb").glob("offline-run-*/*.wandb")):
        counts = Counter()
        try:
            for name, items, step in history(path, counts):
                for key, value in items.items():
                    found[(name, key, step)] = value
            passed += 1
            print(f"{path.relative_to(HERE)}: {dict(counts)}")
        except AssertionError as error:
            failed += 1
            print(f"{path.relative_to(HERE)}: {error}")
    for value in expected:
        got = found.get((value["run"], value["key"], value["step"]))
        want = float(value["value"])
        ok = got is not None and (
            (math.isnan(want) and got == "NaN") or float(got.replace("Infinity", "inf")) == want
        )
        if not ok:
            failed += 1
            print(f"missing or different: {value} (file has {got!r})")
    print(f"{passed} files passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
