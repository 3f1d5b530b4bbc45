"""save / load: checkpoints as .npz files that can never run code (no pickle).

A file written by `save` is a zip archive of .npy members (what np.savez writes):

- every array or Tensor is one member with a generated name, "t0.npy", "t1.npy",
  ..., so no key (however it is spelled: "w", "w.npy", "a/b", "") can collide
  with another;
- one more member, "__tinygrad_edu__.npy", holds a JSON manifest (a unicode
  array, no pickle) that records the structure: dicts with str or int keys
  (the key's type is kept), lists, tuples, Python scalars (int, float, bool,
  str, None), and which member holds each array or Tensor. The same Tensor
  object reached twice is stored once and comes back as one object.

Format 1 (before the generated names) stored each array under its path in the
object ("model/fc.weight"); those files still load. A plain .npz without a
manifest (np.savez) loads as a dict of its arrays. Every way a file can be
damaged or foreign raises one error type, CheckpointError, naming the file and
the problem. The file is written through files.atomic_open, so a failed or
killed save never damages an existing checkpoint.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from .backend import to_host, transfer
from .devices import device, resolve
from .files import atomic_open
from .tensor import Tensor, from_numpy

MANIFEST = "__tinygrad_edu__"
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)

PathOrFile = str | os.PathLike | IO[bytes]


class CheckpointError(ValueError):
    """A file that `load` cannot read as a checkpoint: damaged, truncated, foreign."""


# -- writing -------------------------------------------------------------------------


class _Encoder:
    """Turns an object into a manifest tree, collecting its arrays by member name."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.members: dict[int, str] = {}  # id(Tensor) -> member, so shared tensors are stored once
        self.alive: list[Any] = []  # keeps encoded objects alive so their ids stay unique

    def encode(self, obj: Any, where: str) -> Any:
        if isinstance(obj, (Tensor, np.ndarray, np.generic)):
            return self._array(obj, where)
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return {"type": "scalar", "value": obj}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if isinstance(key, bool) or not isinstance(key, (int, str)):
                    raise TypeError(f"save: dict keys must be str or int, got {key!r} "
                                    f"({type(key).__name__}) in {where!r}")
                items.append([key, self.encode(value, f"{where}/{key}")])
            kind = "odict" if isinstance(obj, OrderedDict) else "dict"
            return {"type": kind, "items": items}
        if isinstance(obj, (list, tuple)):
            return {"type": "tuple" if isinstance(obj, tuple) else "list",
                    "items": [self.encode(v, f"{where}/{i}") for i, v in enumerate(obj)]}
        raise TypeError(
            f"save: cannot save {type(obj).__name__} at {where!r}; a checkpoint holds arrays, "
            "Tensors, Python scalars, strings, None, and dicts/lists/tuples of them "
            "(save model.state_dict(), not the model)"
        )

    def _array(self, obj: Any, where: str) -> dict[str, Any]:
        # a tensor on a device is copied to the host: saving is an explicit way off it
        array = to_host(obj.data) if isinstance(obj, Tensor) else np.asarray(obj)
        if array.dtype.hasobject:
            raise TypeError(f"save: {where!r} is an object array; only numeric, bool and "
                            "string arrays can be saved (object arrays would need pickle)")
        if isinstance(obj, np.generic):
            kind = "numpy_scalar"
        else:
            kind = "tensor" if isinstance(obj, Tensor) else "array"
        member = self.members.get(id(obj))
        if member is None:
            member = f"t{len(self.arrays)}.npy"
            self.arrays[member] = array
            self.alive.append(obj)
            if isinstance(obj, Tensor):
                self.members[id(obj)] = member
        node: dict[str, Any] = {"type": kind, "member": member}
        if isinstance(obj, Tensor) and obj.requires_grad:
            node["requires_grad"] = True
        return node


def save(obj: Any, f: PathOrFile) -> None:
    """Write `obj` (a state_dict, an optimizer state_dict, a checkpoint dict, ...) to the
    path or binary file object `f`. A path is written atomically and synced to disk."""
    encoder = _Encoder()
    # the whole object is checked before a byte is written: a bad value changes no file
    tree = encoder.encode(obj, "<root>")
    manifest = json.dumps({"format": FORMAT_VERSION, "tree": tree})
    arrays = {**encoder.arrays, MANIFEST + ".npy": np.array(manifest)}
    if hasattr(f, "write"):
        _write_npz(f, arrays)
        return
    with atomic_open(f, "wb", sync=True) as file:
        _write_npz(file, arrays)


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """What np.savez does, with allow_pickle=False for every member."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for member, array in arrays.items():
            with archive.open(member, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


# -- reading -------------------------------------------------------------------------


def load(f: PathOrFile, map_location: Any = None, weights_only: bool | None = True) -> Any:
    """Read what `save` wrote (or a plain .npz: then a dict of its arrays).

    map_location: None or "cpu" (tensors on the CPU), or a device ("cuda", "standin",
    a `device`): every tensor is copied there.
    weights_only: accepted for PyTorch scripts; True and False load the same thing,
    because the format cannot hold pickled objects and `load` never unpickles."""
    target = _check_map_location(map_location)
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be a bool, got {weights_only!r}")
    source: Any = f if hasattr(f, "read") else os.fspath(f)
    name = repr(getattr(source, "name", source))
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise CheckpointError(f"load: {name} is not an .npz checkpoint: "
                              + _describe_non_zip(source)) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (EOFError, OSError) as error:
        raise CheckpointError(f"load: {name} cannot be read as an .npz checkpoint "
                              f"({type(error).__name__}: {error})") from None
    with archive:
        return _Reader(archive, name, target).load()


def _check_map_location(map_location: Any) -> str:
    """The device type tensors are loaded onto ("cpu" for None)."""
    kind = getattr(map_location, "type", map_location)  # torch.device-like objects
    if map_location is None or kind == "cpu" or str(map_location) == "cpu":
        return "cpu"
    if isinstance(map_location, (str, device)):
        return resolve(map_location, "load").type  # an unavailable device is an error
    raise ValueError(f"load: map_location must be None, a device name or a device, "
                     f"got {map_location!r}")


def _describe_non_zip(source: Any) -> str:
    """Why a file that is not a zip archive is not a checkpoint, from its first bytes."""
    try:
        if isinstance(source, str):
            with open(source, "rb") as file:
                head = file.read(16)
        else:
            source.seek(0)
            head = source.read(16)
    except (OSError, io.UnsupportedOperation):
        head = b""
    if not head:
        return "the file is empty (0 bytes; an interrupted copy or save?)"
    if head.startswith(b"PK"):
        return "the zip archive is truncated or damaged"
    if head.startswith(b"\x93NUMPY"):
        return "it holds a single .npy array (np.save), not an .npz archive"
    if head[:1] == b"\x80":
        return ("it looks like a pickle file; tinygrad_edu never unpickles, because "
                "unpickling can run arbitrary code")
    return f"it does not start like a zip archive (first bytes {head!r})"


class _Reader:
    """Reads the members of one open archive, turning every failure into CheckpointError."""

    def __init__(self, archive: zipfile.ZipFile, name: str, target: str = "cpu") -> None:
        self.archive = archive
        self.name = name
        self.target = target  # the device type tensors are loaded onto
        self.members = set(archive.namelist())
        self.cache: dict[str, Any] = {}

    def fail(self, problem: str) -> CheckpointError:
        return CheckpointError(f"load: {self.name} is damaged or not a tinygrad_edu "
                               f"checkpoint: {problem}")

    def read(self, member: str, what: str) -> np.ndarray:
        if member not in self.members:
            raise self.fail(f"member {member!r} ({what}) is missing from the archive")
        try:
            with self.archive.open(member) as entry:
                return np.lib.format.read_array(entry, allow_pickle=False)
        except ValueError as error:
            if "allow_pickle" in str(error) or "pickled" in str(error):
                raise CheckpointError(
                    f"load: {what} in {self.name} is a pickled object array; refusing to "
                    "load it, because unpickling can run arbitrary code. tinygrad_edu "
                    "checkpoints hold only numeric arrays (write one with tinygrad_edu.save)"
                ) from None
            raise self.fail(f"member {member!r} ({what}) cannot be read: {error}") from None
        except (EOFError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as error:
            raise self.fail(f"member {member!r} ({what}) cannot be read: "
                            f"{type(error).__name__}: {error}") from None

    def load(self) -> Any:
        if "data.pkl" in {m.rsplit("/", 1)[-1] for m in self.members}:
            raise CheckpointError(
                f"load: {self.name} was written by torch.save (it holds pickled data); "
                "tinygrad_edu never unpickles, because unpickling can run arbitrary code. "
                "Convert it with torch: tinygrad_edu.save({k: v.numpy() for k, v in "
                "torch.load(path).items()}, new_path)")
        manifest_member = MANIFEST + ".npy"
        if manifest_member not in self.members:
            return self.plain_npz()
        try:
            manifest = json.loads(str(self.read(manifest_member, "the manifest")[()]))
            version = manifest["format"]
            tree = manifest["tree"]
        except (json.JSONDecodeError, KeyError, TypeError, IndexError) as error:
            raise self.fail(f"the manifest is unreadable ({type(error).__name__}: "
                            f"{error})") from None
        if version not in READABLE_FORMATS:
            raise CheckpointError(f"load: {self.name} has checkpoint format {version!r}; "
                                  f"this version reads formats {READABLE_FORMATS}")
        try:
            return self.decode(tree, "<root>")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, CheckpointError):
                raise
            raise self.fail(f"the manifest is malformed ({type(error).__name__}: "
                            f"{error})") from None

    def plain_npz(self) -> dict[str, np.ndarray]:
        """A zip of .npy members written by np.savez: a dict keyed as np.load does."""
        out = {}
        for member in self.archive.namelist():
            if not member.endswith(".npy"):
                raise self.fail(f"member {member!r} is not an .npy array")
            out[member[:-4]] = self.read(member, f"array {member[:-4]!r}")
        return out

    def decode(self, node: dict[str, Any], where: str) -> Any:
        kind = node["type"]
        if kind in ("array", "tensor", "numpy_scalar"):
            # format 1 named members after the key path (without ".npy")
            member = node["member"] if "member" in node else node["entry"] + ".npy"
            if member in self.cache and kind == "tensor":
                return self.cache[member]
            array = self.read(member, f"the value at {where!r}")
            if kind == "array":
                return array
            if kind == "numpy_scalar":
                return array[()]
            # read_array made a fresh array: no copy needed on the CPU
            tensor = from_numpy(array) if self.target == "cpu" else Tensor.wrap(
                transfer(array, self.target))
            if node.get("requires_grad", False):
                tensor.requires_grad_(True)
            self.cache[member] = tensor
            return tensor
        if kind == "scalar":
            return node["value"]
        if kind in ("dict", "odict"):
            pairs = [(key, self.decode(value, f"{where}/{key}")) for key, value in node["items"]]
            return OrderedDict(pairs) if kind == "odict" else dict(pairs)
        if kind in ("list", "tuple"):
            items = [self.decode(v, f"{where}/{i}") for i, v in enumerate(node["items"])]
            return items if kind == "list" else tuple(items)
        raise self.fail(f"unknown node type {kind!r} at {where!r} in the manifest")
