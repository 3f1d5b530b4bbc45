"""Containers: ModuleList, Sequential and ModuleDict register the modules they hold,
ParameterList the parameters."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from .module import Module, Parameter


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


class ParameterList(Module):
    """A list of parameters, registered as parameters named 0, 1, ...; tensors that
    are not Parameters are made Parameters (sharing their memory), as PyTorch."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._items: list[Parameter] = []
        if values is not None:
            self.extend(values)

    def _entries(self) -> Iterable[tuple[str, Any]]:
        return ((str(i), p) for i, p in enumerate(self._items))

    @staticmethod
    def _as_parameter(value: Any) -> Parameter:
        if isinstance(value, Parameter):
            return value
        if not hasattr(value, "grad_fn"):
            raise TypeError(f"ParameterList: expected a Parameter or a Tensor, got "
                            f"{type(value).__name__}")
        return Parameter(value)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ParameterList(self._items[index])
        if not -len(self._items) <= index < len(self._items):
            raise IndexError(f"ParameterList: index {index} is out of range for "
                             f"{len(self._items)} parameters")
        return self._items[index]

    def __setitem__(self, index: int, value: Any) -> None:
        self._items[index] = self._as_parameter(value)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._items)

    def append(self, value: Any) -> ParameterList:
        self._items.append(self._as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __repr__(self) -> str:  # as PyTorch's, one line per parameter
        lines = [f"    ({i}): Parameter containing: [{p.dtype} of size "
                 f"{'x'.join(map(str, p.shape))}]" for i, p in enumerate(self._items)]
        return "ParameterList(" + "".join("\n" + line for line in lines) + "\n)"

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterList has no forward: use its parameters in your "
                                  "own forward")
