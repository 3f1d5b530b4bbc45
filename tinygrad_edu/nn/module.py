"""Module and Parameter: how a model finds its weights, and the containers.

A Module finds its parameters, buffers and submodules by walking its own
attributes (in assignment order), so `self.fc = Linear(3, 4)` is all it takes
to register a layer. Plain lists, tuples and dicts of modules or parameters are
walked too (their items are named `name.0`, `name.key`, ...). Forward hooks and
pre-hooks, per module and global, follow PyTorch's names, signatures and order.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from ..backend import array_module, transfer, writeable
from ..devices import parse_to_args, resolve
from ..hooks import RemovableHandle, add_hook
from ..tensor import Tensor
from .state import check_state_dict

_NO_HOOKS: Mapping[int, Any] = MappingProxyType({})
_HOOK_DICTS = frozenset({"_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
                         "_forward_hooks_with_kwargs", "_forward_hooks_always_called"})

# Global hooks (torch.nn.modules.module's): they run for every module's call, before
# the module's own hooks. Kept as OrderedDicts keyed by handle id, like a module's.
_global_forward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict[int, bool] = OrderedDict()
_global_forward_hooks_always_called: OrderedDict[int, bool] = OrderedDict()


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call `hook(module, args)` before every Module's forward, before the module's own
    pre-hooks; it may return new args as a module pre-hook does."""
    return add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Call `hook(module, args, output)` (or `hook(module, args, kwargs, output)`) after
    every Module's forward, before the module's own forward hooks; a non-None return
    replaces the output."""
    handle = add_hook(_global_forward_hooks, hook, False, _global_forward_hooks_with_kwargs,
                      _global_forward_hooks_always_called)
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


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
    # Hooks live in per-instance OrderedDicts made on first registration; these empty
    # read-only defaults keep hook-free modules (and old pickles) working unchanged.
    _forward_pre_hooks: Mapping[int, Callable[..., Any]] = _NO_HOOKS
    _forward_pre_hooks_with_kwargs: Mapping[int, bool] = _NO_HOOKS
    _forward_hooks: Mapping[int, Callable[..., Any]] = _NO_HOOKS
    _forward_hooks_with_kwargs: Mapping[int, bool] = _NO_HOOKS
    _forward_hooks_always_called: Mapping[int, bool] = _NO_HOOKS

    def __init__(self) -> None:
        self.training = True

    # -- forward -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the one check a call pays when no hook is registered anywhere
        if not (self._forward_pre_hooks or self._forward_hooks
                or _global_forward_pre_hooks or _global_forward_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """PyTorch's order: global pre-hooks, this module's pre-hooks, forward, global
        forward hooks, this module's forward hooks. When anything raises, the forward
        hooks registered with always_call=True that have not started yet still run."""
        hooks: tuple[tuple[int, Callable[..., Any]], ...] | None = None
        started = 0
        output = None
        try:
            if _global_forward_pre_hooks or self._forward_pre_hooks:
                args, kwargs = self._run_pre_hooks(args, kwargs)
            output = self.forward(*args, **kwargs)
            hooks = (*_global_forward_hooks.items(), *self._forward_hooks.items())
            own_with_kwargs = self._forward_hooks_with_kwargs
            for hook_id, hook in hooks:
                started += 1
                if hook_id in _global_forward_hooks_with_kwargs or hook_id in own_with_kwargs:
                    result = hook(self, args, kwargs, output)
                else:
                    result = hook(self, args, output)
                if result is not None:
                    output = result
        except Exception:
            if hooks is None:
                hooks = (*_global_forward_hooks.items(), *self._forward_hooks.items())
            self._run_always_call_hooks(hooks[started:], args, kwargs, output)
            raise
        return output

    def _run_pre_hooks(self, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict]:
        with_kwargs = self._forward_pre_hooks_with_kwargs
        for hook_id, hook in (*_global_forward_pre_hooks.items(),
                              *self._forward_pre_hooks.items()):
            if hook_id in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{type(self).__name__}: a forward pre-hook registered with "
                            "with_kwargs=True must return None or a tuple "
                            f"(new_args, new_kwargs), got {result!r}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs

    def _run_always_call_hooks(self, hooks: tuple[tuple[int, Callable[..., Any]], ...],
                               args: tuple, kwargs: dict[str, Any], output: Any) -> None:
        """The always_call forward hooks among `hooks`, after an error; their own errors
        become warnings so that the original error is the one raised."""
        for hook_id, hook in hooks:
            if (hook_id not in _global_forward_hooks_always_called
                    and hook_id not in self._forward_hooks_always_called):
                continue
            try:
                if (hook_id in _global_forward_hooks_with_kwargs
                        or hook_id in self._forward_hooks_with_kwargs):
                    hook(self, args, kwargs, output)
                else:
                    hook(self, args, output)
            except Exception as error:
                warnings.warn(f"{type(self).__name__}: a forward hook with always_call=True "
                              f"raised {error!r} while handling another error; ignored",
                              stacklevel=3)

    # -- hooks -----------------------------------------------------------------------
    def _own_hooks(self, name: str) -> OrderedDict[int, Any]:
        """This module's hook dict `name`, made on first use (until then the class's
        empty default answers, so modules without hooks carry nothing)."""
        hooks = self.__dict__.get(name)
        if hooks is None:
            hooks = self.__dict__[name] = OrderedDict()
        return hooks

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call `hook(module, args)` before every forward (`hook(module, args, kwargs)`
        with with_kwargs=True). A non-None return replaces the arguments: a new args
        tuple (anything else is wrapped in a 1-tuple), or (args, kwargs) with
        with_kwargs. Runs after the global pre-hooks; prepend=True puts it first
        among this module's."""
        flags = self._own_hooks("_forward_pre_hooks_with_kwargs")
        handle = add_hook(self._own_hooks("_forward_pre_hooks"), hook, prepend, flags)
        if with_kwargs:
            flags[handle.id] = True
        return handle

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call `hook(module, args, output)` after every forward
        (`hook(module, args, kwargs, output)` with with_kwargs=True); a non-None
        return replaces the output. always_call=True runs it even when the forward
        (or an earlier hook) raises. Runs after the global forward hooks."""
        with_kwargs_flags = self._own_hooks("_forward_hooks_with_kwargs")
        always_flags = self._own_hooks("_forward_hooks_always_called")
        handle = add_hook(self._own_hooks("_forward_hooks"), hook, prepend,
                          with_kwargs_flags, always_flags)
        if with_kwargs:
            with_kwargs_flags[handle.id] = True
        if always_call:
            always_flags[handle.id] = True
        return handle

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
        return ((k, v) for k, v in self.__dict__.items() if k not in _HOOK_DICTS)

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
                grad = param.grad.data
                param.grad = Tensor.wrap(array_module(grad).zeros_like(grad))

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move and/or cast every parameter and buffer in place, keeping each
        Parameter object (optimizers still hold them), and return self: to(device),
        to(dtype), to(device, dtype), to(tensor). Only floating tensors are cast, and
        only to floating dtypes, as PyTorch."""
        dev, dtype, _ = parse_to_args(f"{type(self).__name__}.to", args, kwargs)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: only floating point dtypes are "
                            f"accepted, got dtype {dtype}")
        if dev is not None:
            for tensor in (*self.parameters(), *self.buffers()):
                tensor.data = transfer(tensor.data, dev.type)  # itself when already there
                if tensor.grad is not None:
                    tensor.grad = Tensor.wrap(transfer(tensor.grad.data, dev.type))
        if dtype is not None:
            for tensor in (*self.parameters(), *self.buffers()):
                if tensor.dtype.kind == "f" and tensor.dtype != dtype:
                    tensor.data = tensor.data.astype(dtype)
                    if tensor.grad is not None:
                        tensor.grad = Tensor.wrap(tensor.grad.data.astype(dtype))
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        return self.to(resolve("cuda" if device is None else device,
                               f"{type(self).__name__}.cuda"))

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def half(self) -> Module:
        return self.to(np.float16)

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
            (prefix + name, t if keep_vars else Tensor.wrap(t.data.copy()))
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
            if not writeable(target.data):
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
