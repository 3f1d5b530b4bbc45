"""Module and Parameter: how a model finds its weights, and the containers.

A Module finds its parameters, buffers and submodules by walking its own
attributes (in assignment order), so `self.fc = Linear(3, 4)` is all it takes
to register a layer. Plain lists, tuples and dicts of modules or parameters are
walked too (their items are named `name.0`, `name.key`, ...).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor, from_numpy
from .state import check_state_dict


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True by default).

    Built from a Tensor it shares that tensor's array, as torch.nn.Parameter;
    from anything else it copies (Python numbers become float32)."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            super().__init__(np.empty(0, dtype=data.dtype))
            self.data = data.data
        else:
            super().__init__(data)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: subclass it and write `forward`.

    `training` is True until `eval()`; buffers (e.g. BatchNorm's running
    statistics) are Tensors registered with `register_buffer`: they are saved
    in the state_dict but are not parameters.
    """

    training: bool = True

    def __init__(self) -> None:
        self.training = True

    # -- forward -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        if isinstance(out, Tensor) and out.grad_fn is not None:
            # Remembered weakly (no graph is kept alive) so that tinygrad_edu.viz can box
            # exactly the ops of this call: those between its inputs and its output.
            inputs = tuple(weakref.ref(a) for a in (*args, *kwargs.values())
                           if isinstance(a, Tensor))
            self.__dict__["_last_call"] = (weakref.ref(out), inputs)
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_last_call", None)  # weak references cannot be pickled
        return state

    def last_call(self) -> tuple[Tensor, tuple[Tensor, ...]] | None:
        """(output, tensor inputs) of this module's latest call that recorded a graph,
        while those tensors are alive; None otherwise."""
        record = self.__dict__.get("_last_call")
        if record is None:
            return None
        out, inputs = record[0](), tuple(ref() for ref in record[1])
        if out is None:
            return None
        return out, tuple(t for t in inputs if t is not None)

    # -- registration ----------------------------------------------------------
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A non-trainable tensor that belongs to the module's state (saved in the
        state_dict unless persistent=False)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: buffer {name!r} must be a Tensor or None, "
                f"got {type(tensor).__name__}"
            )
        if isinstance(tensor, Parameter):
            raise TypeError(f"register_buffer: {name!r} is a Parameter; assign it as an "
                            "attribute to register it as a parameter instead")
        buffers = self.__dict__.setdefault("_buffer_names", {})
        buffers[name] = persistent
        setattr(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Same as `setattr(self, name, param)`; kept for PyTorch users."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        setattr(self, name, module)

    def _entries(self) -> Iterable[tuple[str, Any]]:
        """(name, value) for every attribute that may hold parameters, buffers or
        submodules. Containers override this to name their items 0, 1, ..."""
        return self.__dict__.items()

    def _direct(self) -> Iterator[tuple[str, str, Any]]:
        """(kind, name, value) of this module's own members, kind being
        'param', 'buffer' or 'module'; plain lists and dicts are opened one level."""
        buffers = self.__dict__.get("_buffer_names", {})
        for name, value in self._entries():
            if name in buffers:
                if value is not None:
                    yield "buffer", name, value
            elif isinstance(value, Parameter):
                yield "param", name, value
            elif isinstance(value, Module):
                yield "module", name, value
            elif isinstance(value, (list, tuple, dict)):
                items = value.items() if isinstance(value, dict) else enumerate(value)
                for key, item in items:
                    if isinstance(item, Parameter):
                        yield "param", f"{name}.{key}", item
                    elif isinstance(item, Module):
                        yield "module", f"{name}.{key}", item

    # -- walking ---------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their attribute names (each module once)."""
        seen: set[int] = set()
        for kind, name, value in self._direct():
            if kind == "module" and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module._direct_modules()]
            stack.extend(reversed(kids))

    def _direct_modules(self) -> list[tuple[str, Module]]:
        return [(name, value) for kind, name, value in self._direct() if kind == "module"]

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_members(self, kind: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = (self.named_modules(prefix, remove_duplicate) if recurse
                   else iter([(prefix, self)]))
        for module_name, module in modules:
            for member_kind, name, value in module._direct():
                if member_kind != kind:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by two layers comes once."""
        return self._named_members("param", prefix, recurse, remove_duplicate)  # type: ignore

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("buffer", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every submodule and then on self (as PyTorch: children first)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # -- modes and gradients ------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every submodule (Dropout, BatchNorm care)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter (None, as PyTorch's default)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = from_numpy(np.zeros_like(param.grad.data))

    def to(self, dtype: Any) -> Module:
        """Convert floating point parameters and buffers to `dtype`, in place."""
        dtype = np.dtype(dtype)
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor.dtype.kind == "f" and tensor.dtype != dtype:
                tensor.data = tensor.data.astype(dtype)
                tensor.grad = None
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # -- state -----------------------------------------------------------------------
    def _state_items(self) -> Iterator[tuple[str, Tensor]]:
        """Everything a state_dict holds, in PyTorch's order: each module's
        parameters, then its buffers, then its submodules. A module or parameter
        reachable under two names is listed under both, as PyTorch does."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            buffers = module.__dict__.get("_buffer_names", {})
            direct = list(module._direct())
            for kind in ("param", "buffer"):
                for member_kind, name, value in direct:
                    if member_kind == kind and buffers.get(name, True):
                        yield (f"{module_name}.{name}" if module_name else name), value

    def state_dict(self, *, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, as Tensors that are
        detached copies (later training does not change a saved state_dict);
        keep_vars=True gives the module's own tensors instead."""
        return OrderedDict(
            (prefix + name, t if keep_vars else from_numpy(t.data.copy()))
            for name, t in self._state_items()
        )

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy Tensors or arrays into the existing parameters and buffers (their
        dtypes are kept), all or nothing: every key, shape and value is checked first.

        Shape and value problems always raise; with strict=True missing and unexpected
        keys raise too, all of them named in one error. Returns the missing and
        unexpected keys."""
        own = OrderedDict(self._state_items())
        arrays, missing, unexpected = check_state_dict(type(self).__name__, own,
                                                       state_dict, strict)
        for key, array in arrays.items():
            target = own[key]
            if not target.data.flags.writeable:
                target.data = target.data.copy()
            target.data[...] = array
        return IncompatibleKeys(missing, unexpected)

    # -- printing ----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's arguments for repr, e.g. 'in_features=3, out_features=4, bias=True'."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self.named_children():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"


# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------


def _check_module(container: str, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{container}: expected a Module, got {type(module).__name__}")
    return module


class ModuleList(Module):
    """A list of modules whose parameters are registered (items named 0, 1, ...)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self._items: list[Module] = []
        self.extend(modules)

    def _entries(self) -> Iterable[tuple[str, Any]]:
        return ((str(i), m) for i, m in enumerate(self._items))

    def _index(self, index: int) -> int:
        if not -len(self._items) <= index < len(self._items):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for "
                             f"{len(self._items)} modules")
        return index % len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(self._items[index])
        return self._items[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self._items[self._index(index)] = _check_module(type(self).__name__, module)

    def __delitem__(self, index: int | slice) -> None:
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def append(self, module: Module) -> ModuleList:
        self._items.append(_check_module(type(self).__name__, module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        self._items.insert(index, _check_module(type(self).__name__, module))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it in your own forward")


class Sequential(ModuleList):
    """Modules applied one after the other: Sequential(a, b)(x) == b(a(x))."""

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            super().__init__()
            self._names: list[str] | None = []
            for name, module in modules[0].items():
                self._names.append(str(name))
                self.append(module)
            return
        super().__init__(modules)
        self._names = None

    def _entries(self) -> Iterable[tuple[str, Any]]:
        if self._names is not None:
            return zip(self._names, self._items)
        return super()._entries()

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self._items[index])
        return self._items[self._index(index)]

    def append(self, module: Module) -> Sequential:
        names = self.__dict__.get("_names")
        if names is not None and len(names) < len(self._items) + 1:
            names.append(str(len(self._items)))
        super().append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        if self.__dict__.get("_names") is not None:
            raise TypeError("Sequential: insert is not supported on a Sequential built from "
                            "a dict of named modules")
        super().insert(index, module)

    def forward(self, x: Any) -> Any:
        for module in self._items:
            x = module(x)
        return x


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules: dict[str, Module] | None = None) -> None:
        super().__init__()
        self._items: OrderedDict[str, Module] = OrderedDict()
        for name, module in (modules or {}).items():
            self[name] = module

    def _entries(self) -> Iterable[tuple[str, Any]]:
        return self._items.items()

    def __getitem__(self, key: str) -> Module:
        return self._items[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self._items[str(key)] = _check_module("ModuleDict", module)

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def keys(self) -> Iterable[str]:
        return self._items.keys()

    def values(self) -> Iterable[Module]:
        return self._items.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._items.items()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: index it in your own forward")
