"""The safetensors format on NumPy arrays: an 8-byte little-endian header length, a JSON header naming
each tensor's dtype, shape and byte range, then the tensors' bytes, contiguous and little-endian. Nothing
in it is code. Files written here read with the ``safetensors`` package's loaders (its checks: offsets
contiguous from 0 to the end of the data), and its files read here (bfloat16 as float32: NumPy has none).
"""
import json
import struct

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "I16": np.int16, "I8": np.int8, "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
          "BOOL": np.bool_}
_CODE = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER = 100 << 20  # the safetensors package's own bound on the JSON header


def is_safetensors(raw):
    if len(raw) < 10:
        return False
    n = struct.unpack("<Q", raw[:8])[0]
    return 2 <= n <= min(MAX_HEADER, len(raw) - 8) and raw[8:9] == b"{"


def dumps(tensors, metadata=None):
    """The bytes of a safetensors file holding {name: array}; TypeError names what cannot be stored."""
    if not isinstance(tensors, dict):
        raise TypeError(f"a safetensors file holds a dict of named tensors, got {type(tensors).__name__}")
    header, blobs, offset = {}, [], 0
    for k, a in tensors.items():
        if not isinstance(k, str) or k == "__metadata__":
            raise TypeError(f"tensor names are strings other than '__metadata__', got {k!r}")
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{k!r}: a safetensors file holds tensors only, got {type(a).__name__}")
        if a.dtype not in _CODE:
            raise TypeError(f"{k!r}: dtype {a.dtype} has no safetensors code")
        b = np.asarray(a, order="C").astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[k] = {"dtype": _CODE[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("metadata: a dict of strings to strings")
        header["__metadata__"] = dict(metadata)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the data starts 8-byte aligned
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read(raw, name):
    """({name: array}, metadata) from a safetensors file's bytes; ValueError for a malformed file (checked
    before any array is made)."""
    if len(raw) < 8:
        raise ValueError(f"{name}: too short for a safetensors file")
    n = struct.unpack("<Q", raw[:8])[0]
    if n > min(MAX_HEADER, len(raw) - 8):
        raise ValueError(f"{name}: a header of {n} bytes in a file of {len(raw)}")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{name}: the safetensors header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{name}: the safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    data, size = memoryview(raw)[8 + n:], len(raw) - 8 - n
    out, spans = {}, []
    for k, d in header.items():
        ok = (isinstance(d, dict) and d.get("dtype") in DTYPES | {"BF16": None}
              and isinstance(d.get("shape"), list) and all(isinstance(s, int) and s >= 0 for s in d["shape"])
              and isinstance(d.get("data_offsets"), list) and len(d["data_offsets"]) == 2
              and all(isinstance(o, int) for o in d["data_offsets"]))
        if not ok:
            raise ValueError(f"{name}: tensor {k!r} has a malformed entry")
        lo, hi = d["data_offsets"]
        itemsize = 2 if d["dtype"] == "BF16" else np.dtype(DTYPES[d["dtype"]]).itemsize
        count = int(np.prod(d["shape"], dtype=np.int64))
        if not 0 <= lo <= hi <= size or hi - lo != count * itemsize:
            raise ValueError(f"{name}: tensor {k!r} declares bytes {lo}..{hi} for shape {d['shape']} of "
                             f"{d['dtype']} in {size} bytes of data")
        spans.append((lo, hi, k, d))
    for lo, hi, k, d in sorted(spans):
        if d["dtype"] == "BF16":
            a = (np.frombuffer(data[lo:hi], np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(data[lo:hi], np.dtype(DTYPES[d["dtype"]]).newbyteorder("<"))
        out[k] = a.reshape(d["shape"]).astype(a.dtype.newbyteorder("="), copy=True)
    return {k: out[k] for k in header}, meta
