"""save / load checkpoints as .npz files that can never run code (no pickle).

Layout of a file written by `save`:

- every array is one .npz entry, named by its path in the saved object with
  "/" between levels: a state_dict's arrays keep their own names
  ("fc1.weight"), a nested checkpoint gives "model/fc1.weight",
  "optimizer/state/0/exp_avg", ... (a "/" or "%" inside a key is written
  %2F / %25, so every path gets a distinct name);
- one more entry, "__tinygrad_edu__", holds a JSON manifest (as a unicode
  array, no pickle) that records the structure: dicts (with int or str keys),
  lists, tuples, Python scalars (int, float, bool, str, None) and which entry
  holds each array or Tensor.

So `np.load(path)` reads the arrays of any checkpoint, and a plain .npz made
with `np.savez` loads as a flat dict of arrays. The file is written to a
temporary file in the same directory and moved into place with os.replace,
so a failed save never leaves a partial file or damages an existing one.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from ..files import atomic_open
from ..tensor import Tensor

MANIFEST = "__tinygrad_edu__"
FORMAT_VERSION = 1


def _escape(key: str) -> str:
    return key.replace("%", "%25").replace("/", "%2F")


def _encode(obj: Any, path: list[str], arrays: dict[str, np.ndarray]) -> Any:
    """The manifest node for `obj`; its arrays are added to `arrays` by entry name."""
    where = "/".join(path) or "<root>"
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if array.dtype.hasobject:
            raise TypeError(f"save: {where!r} is an object array; only numeric, bool and "
                            "string arrays can be saved (object arrays would need pickle)")
        name = "/".join(_escape(p) for p in path) or "__root__"
        if name == MANIFEST:
            raise ValueError(f"save: the key {MANIFEST!r} is reserved for the manifest")
        while name in arrays:  # the int key 0 and the str key "0" share a path
            name += "~"
        arrays[name] = array
        kind = "tensor" if isinstance(obj, Tensor) else "array"
        return {"type": kind, "entry": name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"type": "scalar", "value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (int, str)):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} "
                                f"({type(key).__name__}) in {where!r}")
            items.append([key, _encode(value, path + [str(key)], arrays)])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__,
                "items": [_encode(v, path + [str(i)], arrays) for i, v in enumerate(obj)]}
    raise TypeError(
        f"save: cannot save {type(obj).__name__} at {where!r}; a checkpoint holds arrays, "
        "Tensors, Python scalars, strings, None, and dicts/lists/tuples of them "
        "(save model.state_dict(), not the model)"
    )


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write a state_dict or a nested checkpoint dict to `path` (.npz format), atomically."""
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    manifest = {"format": FORMAT_VERSION, "tree": _encode(obj, [], arrays)}
    arrays[MANIFEST] = np.array(json.dumps(manifest))
    with atomic_open(path, "wb", sync=True) as file:
        _write_npz(file, arrays)


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """What np.savez does, with allow_pickle=False for every entry."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


def load(path: str | os.PathLike) -> Any:
    """Read what `save` wrote (or any plain .npz: then a dict of its arrays).

    Refuses files holding pickled object arrays: unpickling can run arbitrary code."""
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"load: {path!r} is not an .npz checkpoint ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path!r} holds a single .npy array, not an .npz checkpoint")
    with archive:
        arrays = {}
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as error:
                if "allow_pickle" not in str(error):
                    raise
                raise ValueError(
                    f"load: entry {name!r} of {path!r} is a pickled object array; refusing to "
                    "load it, because unpickling can run arbitrary code. tinygrad_edu "
                    "checkpoints hold only numeric arrays (use nn.save to write one)"
                ) from None
    if MANIFEST not in arrays:
        return arrays
    manifest = json.loads(str(arrays.pop(MANIFEST)))
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"load: {path!r} has checkpoint format {manifest.get('format')!r}; "
                         f"this version reads format {FORMAT_VERSION}")
    return _decode(manifest["tree"], arrays, path)


def _decode(node: dict, arrays: dict[str, np.ndarray], path: str) -> Any:
    kind = node["type"]
    if kind in ("array", "tensor"):
        if node["entry"] not in arrays:
            raise ValueError(f"load: {path!r} is damaged: entry {node['entry']!r} is missing")
        array = arrays[node["entry"]]
        return Tensor(array) if kind == "tensor" else array
    if kind == "scalar":
        return node["value"]
    if kind == "dict":
        return {key: _decode(value, arrays, path) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, path) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"load: {path!r} has an unknown node type {kind!r} in its manifest")
