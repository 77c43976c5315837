#!/usr/bin/env python3
"""Dependency-free check of the TensorBoard fixtures: TFRecord framing, masked
CRC32C of every record, and a minimal protobuf decode of the KL series.

    python3 check_tfrecord.py            # exit 0 = all good

Record framing (all little-endian):
    uint64  length                     (8 bytes)
    uint32  masked_crc32c(length bytes) (4 bytes)
    bytes   data[length]               (a serialized tensorboard Event proto)
    uint32  masked_crc32c(data)        (4 bytes)
CRC32C = Castagnoli (reflected poly 0x82F63B78, init 0xFFFFFFFF, final xor
0xFFFFFFFF; crc32c(b"123456789") == 0xE3069283).
    masked(c) = (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path: Path, tolerate_partial_tail: bool = False):
    """Strict by default.  A live reader should stop quietly at an incomplete
    last record (tolerate_partial_tail) and retry from that offset later."""
    buf = path.read_bytes()
    off = 0
    while off < len(buf):
        if tolerate_partial_tail and (off + 12 > len(buf) or
                                      off + 16 + struct.unpack("<Q", buf[off:off + 8])[0] > len(buf)):
            return
        assert off + 12 <= len(buf), f"{path}: truncated header at {off}"
        header = buf[off:off + 8]
        (length,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", buf[off + 8:off + 12])
        assert len_crc == masked_crc32c(header), f"{path}: bad length crc at {off}"
        assert off + 16 + length <= len(buf), f"{path}: truncated record at {off}"
        data = buf[off + 12:off + 12 + length]
        (data_crc,) = struct.unpack("<I", buf[off + 12 + length:off + 16 + length])
        assert data_crc == masked_crc32c(data), f"{path}: bad data crc at {off}"
        yield data
        off += 16 + length


# --- minimal protobuf wire decoding -----------------------------------------

def varint(b: bytes, i: int):
    shift = result = 0
    while True:
        x = b[i]
        i += 1
        result |= (x & 0x7F) << shift
        if not x & 0x80:
            return result, i
        shift += 7


def fields(b: bytes):
    """Yield (field_number, wire_type, value) ; value is int or bytes."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        yield fn, wt, v


DT_FLOAT, DT_DOUBLE = 1, 2


def tensor_scalar(t: bytes) -> float:
    """TensorProto: dtype=1, tensor_shape=2, tensor_content=4, float_val=5 (packed), double_val=6 (packed)."""
    dtype, content, fv, dv = None, None, [], []
    for fn, wt, v in fields(t):
        if fn == 1:
            dtype = v
        elif fn == 4:
            content = v
        elif fn == 5:
            fv += [struct.unpack("<f", v[k:k + 4])[0] for k in range(0, len(v), 4)] if wt == 2 else [struct.unpack("<f", v)[0]]
        elif fn == 6:
            dv += [struct.unpack("<d", v[k:k + 8])[0] for k in range(0, len(v), 8)] if wt == 2 else [struct.unpack("<d", v)[0]]
    if content:
        return struct.unpack("<f" if dtype == DT_FLOAT else "<d", content)[0]
    return (fv or dv)[0]


def decode_event(data: bytes):
    """Event: wall_time=1 (double), step=2 (int64 varint, ABSENT when 0), file_version=3, summary=5.
    Summary: value=1 (repeated). Value: tag=1, simple_value=2 (float32), tensor=8, metadata=9."""
    ev = {"wall_time": None, "step": 0, "file_version": None, "values": {}}
    for fn, wt, v in fields(data):
        if fn == 1:
            ev["wall_time"] = struct.unpack("<d", v)[0]
        elif fn == 2:
            ev["step"] = v
        elif fn == 3:
            ev["file_version"] = v.decode()
        elif fn == 5:
            for sfn, _, sv in fields(v):
                if sfn != 1:
                    continue
                tag, val = None, None
                for vfn, _, vv in fields(sv):
                    if vfn == 1:
                        tag = vv.decode()
                    elif vfn == 2:
                        val = struct.unpack("<f", vv)[0]
                    elif vfn == 8:
                        val = tensor_scalar(vv)
                ev["values"][tag] = val
    return ev


def kl_series(run_dir: Path, tolerant: bool = False) -> dict[int, float]:
    series = {}
    for f in sorted(run_dir.glob("events.out.tfevents.*")):
        for rec in read_records(f, tolerant):
            ev = decode_event(rec)
            if "train/kl" in ev["values"]:
                series[ev["step"]] = ev["values"]["train/kl"]
    return series


def main() -> int:
    assert crc32c(b"123456789") == 0xE3069283
    exp = json.loads((HERE / "expected.json").read_text())
    files = sorted((HERE / "tensorboard").rglob("events.out.tfevents.*"))
    for f in files:
        if f.parent.name == "truncated_tail":
            try:
                list(read_records(f))
                raise AssertionError(f"{f}: strict read should fail")
            except AssertionError as e:
                if "should fail" in str(e):
                    raise
            recs = list(read_records(f, tolerate_partial_tail=True))
            assert len(recs) == exp["tensorboard/truncated_tail"]["complete_records"], f
            print(f"OK {len(recs):4d} complete records + cut tail  {f.relative_to(HERE)}")
            continue
        recs = list(read_records(f))
        first = decode_event(recs[0])
        assert first["file_version"] == "brain.Event:2", f
        print(f"OK {len(recs):4d} records  {f.relative_to(HERE)}")
    checks = {"single_run": exp["tensorboard/single_run"]}
    for group in ("multi_run", "tensor_scalars"):
        for run, info in exp[f"tensorboard/{group}"]["runs"].items():
            checks[f"{group}/{run}"] = info
    checks["split_run"] = exp["tensorboard/split_run"]
    checks["truncated_tail"] = exp["tensorboard/truncated_tail"]
    for rel, info in checks.items():
        s = kl_series(HERE / "tensorboard" / rel, tolerant=rel == "truncated_tail")
        lo, hi = info["steps"]
        assert sorted(s) == list(range(lo, hi + 1)), rel
        spikes = [k for k, v in s.items() if v == 5.0]
        assert spikes == ([info["spike_step"]] if info["spike_step"] is not None else []), (rel, spikes)
        assert all(abs(v - (0.02 + 0.001 * ((k * 37) % 11))) < 1e-6 for k, v in s.items() if v != 5.0), rel
        print(f"OK train/kl steps {lo}..{hi} spike={info['spike_step']}  {rel}")
    print(f"{len(files)} files passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
