"""PyTorch's file format without PyTorch: the zip archive ``torch.save`` writes (a pickle of the object,
``data.pkl``, whose tensors point at raw storages ``data/<key>``), read and written on NumPy arrays.

Reading goes through a restricted unpickler: it resolves only the names a state dict needs (tensor
rebuilding, storage types, ``OrderedDict``) to fastnn's own functions, so a file naming any other global
is refused with ValueError before anything from it runs (torch's ``weights_only=True`` rule). Storages are
checked against their declared sizes and every tensor's view against its storage before any copy.
Writing emits the pickle's opcodes directly (protocol 2, as torch does) and aligns each storage to 64
bytes, so ``torch.load(f, weights_only=True)`` (and ``mmap=True``) reads the file.
"""
import collections
import io
import pickle
import struct
import zipfile
import zlib

import numpy as np

# torch's storage classes and the dtypes they hold ("bf16": bfloat16, read as float32: NumPy has none)
STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
            "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
            "ByteStorage": np.uint8, "BoolStorage": np.bool_, "BFloat16Storage": "bf16"}
_STORAGE_OF = {np.dtype(v): k for k, v in STORAGES.items() if v != "bf16"}
ALIGN = 64


def is_torch_file(raw):
    """Whether raw bytes are a torch.save zip archive (a zip holding a ``<name>/data.pkl``)."""
    if raw[:4] != b"PK\x03\x04":
        return False
    try:
        return any(n.endswith("/data.pkl") or n == "data.pkl" for n in zipfile.ZipFile(io.BytesIO(raw)).namelist())
    except Exception:  # any damage: not recognisably torch's (the caller's own checks say what is wrong)
        return False


# ---- reading ----
class _Storage:
    """A storage class named in the file: its dtype."""

    def __init__(self, name):
        self.name, self.dtype = name, STORAGES[name]


def _bf16_to_f32(raw):
    return (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2: a view of a storage, checked against it, copied out."""
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) and all(isinstance(v, int) and v >= 0 for v in (offset,) + size + stride)):
        raise ValueError("a tensor's offset, size or stride is malformed")
    if not isinstance(storage, np.ndarray):
        raise ValueError("a tensor does not point at a storage")
    n = int(np.prod(size, dtype=np.int64))
    if n and offset + sum((s - 1) * st for s, st in zip(size, stride)) >= storage.size:
        raise ValueError(f"a tensor of size {list(size)} reaches past its storage of {storage.size} elements")
    if n == 0:
        return np.zeros(size, storage.dtype)
    it = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], size, tuple(s * it for s in stride), writeable=False)
    return np.array(view, order="C")  # a copy (ascontiguousarray would make a 0-d tensor 1-d)


def _rebuild_parameter(data, requires_grad=True, hooks=None):
    return data


_ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch", "Size"): tuple}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, zf, prefix, name):
        super().__init__(io.BytesIO(data))
        self.zf, self.prefix, self.name, self.storages = zf, prefix, name, {}

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGES:
            return _Storage(name)  # a marker, not a class: only persistent_load takes it
        raise ValueError(f"{self.name}: the file names {module}.{name}, which a file of tensors does not need; "
                         "it is refused and nothing from it runs (fastnn reads state dicts and data of tensors, "
                         "as torch.load(weights_only=True) does)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Storage)
                and isinstance(pid[2], str) and isinstance(pid[4], int) and pid[4] >= 0):
            raise ValueError(f"{self.name}: a malformed storage reference")
        st, key, numel = pid[1], pid[2], pid[4]
        if key not in self.storages:
            entry = f"{self.prefix}data/{key}"
            try:
                info = self.zf.getinfo(entry)
            except KeyError:
                raise ValueError(f"{self.name}: storage {key!r} is missing from the archive") from None
            itemsize = 2 if st.dtype == "bf16" else np.dtype(st.dtype).itemsize
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != numel * itemsize:
                raise ValueError(f"{self.name}: storage {key!r} holds {info.file_size} bytes, not the "
                                 f"{numel} x {itemsize} it declares (or is compressed)")
            raw = self.zf.read(entry)
            self.storages[key] = _bf16_to_f32(raw) if st.dtype == "bf16" else np.frombuffer(raw, st.dtype)
        return self.storages[key]


def read(raw, name):
    """The object a torch.save archive holds, its tensors as NumPy arrays (bfloat16 as float32)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        pkl = next(n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
        prefix = pkl[:-len("data.pkl")]
        if zf.getinfo(pkl).compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"{name}: a compressed data.pkl (torch writes it stored)")
        order = zf.read(prefix + "byteorder").decode() if prefix + "byteorder" in zf.namelist() else "little"
        if order != "little":
            raise ValueError(f"{name}: a {order}-endian file (only little-endian is read)")
        return _Unpickler(zf.read(pkl), zf, prefix, name).load()
    except ValueError:
        raise
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError, struct.error, UnicodeDecodeError, NotImplementedError, OSError, OverflowError,
            MemoryError, zlib.error) as e:
        raise ValueError(f"{name}: not a readable PyTorch file ({type(e).__name__}: {e})") from None


# ---- writing ----
class _Writer:
    """Protocol-2 pickle opcodes for dicts, OrderedDicts, lists, tuples, strings, numbers, None and arrays
    (as torch tensors over storages collected in self.storages)."""

    def __init__(self):
        self.out, self.storages = io.BytesIO(), []

    def w(self, b):
        self.out.write(b)

    def glob(self, module, name):
        self.w(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def save(self, v, depth=0):
        if depth > 100:
            raise TypeError("nested more than 100 levels deep")
        if v is None:
            self.w(b"N")
        elif v is True or v is False:
            self.w(b"\x88" if v else b"\x89")
        elif isinstance(v, (int, np.integer)):
            self.int(int(v))
        elif isinstance(v, (float, np.floating)):
            self.w(b"G" + struct.pack(">d", float(v)))
        elif isinstance(v, str):
            b = v.encode("utf-8")
            self.w(b"X" + struct.pack("<I", len(b)) + b)
        elif isinstance(v, np.ndarray):
            self.tensor(v)
        elif isinstance(v, dict):
            if isinstance(v, collections.OrderedDict):
                self.glob("collections", "OrderedDict")
                self.w(b")R")
            else:
                self.w(b"}")
            self.items(v.items(), depth)
        elif isinstance(v, (list, tuple)):
            self.w(b"]" if isinstance(v, list) else b"")
            self.w(b"(")
            for x in v:
                self.save(x, depth + 1)
            self.w(b"e" if isinstance(v, list) else b"t")
        else:
            raise TypeError(f"a {type(v).__name__}")

    def items(self, items, depth):
        self.w(b"(")
        for k, x in items:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"a dict key of type {type(k).__name__} (keys are strings or ints)")
            self.save(k, depth + 1)
            self.save(x, depth + 1)
        self.w(b"u")

    def int(self, v):
        if 0 <= v < 256:
            self.w(b"K" + bytes([v]))
        elif -(1 << 31) <= v < (1 << 31):
            self.w(b"J" + struct.pack("<i", v))
        else:
            b = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            self.w(b"\x8a" + bytes([len(b)]) + b)

    def tensor(self, a):
        if a.dtype not in _STORAGE_OF:
            raise TypeError(f"an array of dtype {a.dtype}, which torch has no storage for")
        a = np.asarray(a, order="C")
        key = str(len(self.storages))
        self.storages.append(a.astype(a.dtype.newbyteorder("<"), copy=False))
        self.glob("torch._utils", "_rebuild_tensor_v2")
        self.w(b"((")
        self.save("storage")
        self.glob("torch", _STORAGE_OF[a.dtype])
        self.save(key)
        self.save("cpu")
        self.int(a.size)
        self.w(b"tQ")  # the storage tuple, then its persistent id
        self.int(0)
        self.save(tuple(int(s) for s in a.shape))
        strides, acc = [], 1
        for s in reversed(a.shape):
            strides.append(acc)
            acc *= int(s)
        self.save(tuple(reversed(strides)))
        self.w(b"\x89")  # requires_grad
        self.glob("collections", "OrderedDict")
        self.w(b")Rt")   # backward hooks, then the argument tuple
        self.w(b"R")


def dumps(obj, archive="archive"):
    """The bytes of a torch.save archive holding obj (arrays become tensors); TypeError names what cannot
    be written."""
    wr = _Writer()
    wr.w(b"\x80\x02")
    wr.save(obj)
    wr.w(b".")
    records = [("data.pkl", wr.out.getvalue()), (".format_version", b"1"), (".storage_alignment", b"64"),
               ("byteorder", b"little")]
    records += [(f"data/{i}", a.tobytes()) for i, a in enumerate(wr.storages)]
    records.append(("version", b"3\n"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in records:
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            start = buf.tell() + 30 + len(info.filename.encode())
            pad = (-(start + 4)) % ALIGN  # an extra field (id "FB", torch's) pads the data to 64 bytes
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(info, data)
    return buf.getvalue()
