"""The Tensor: a NumPy array plus what backward needs to know about it.

Methods fall into three groups: storage and introspection, thin bindings that
call one primitive from ops/, and composites (mean, softmax, ...) written from
those bindings, which need no backward code of their own.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import (
    autograd,
    devices,
    engine,
    tensor_convert,
    tensor_index,
    tensor_linalg,
    tensor_math,
    tensor_misc,
    tensor_reduce,
    tensor_select,
    tensor_shape,
    tensor_sort,
)
from .backend import (
    array_module,
    as_array,
    backend_of,
    full_like_scalar,
    is_array,
    to_host,
    transfer,
    writeable,
)
from .hooks import RemovableHandle, add_hook
from .ops.activations import LeakyRelu
from .ops.dtypes import (
    NUMBER_KINDS,
    check_dtype,
    is_number,
    number_array,
    promote_types,
    result_type,
    with_number,
)
from .ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Erf,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Relu,
    Remainder,
    Sigmoid,
    Sign,
    Sqrt,
    Sub,
    Tanh,
    Where,
)
from .ops.linalg import MatMul
from .ops.movement import (
    Cat,
    Clone,
    Expand,
    GetItem,
    Pad,
    Permute,
    Reshape,
    ScatterAdd,
    SetItem,
    Stack,
)
from .ops.nn_ops import LogSoftmax, LogSumExp, Softmax, Std, Var
from .ops.reduce import Cumsum, Max, Min, Prod, Sum, reduced_size
from .rng import device_generator
from .tensor_shape import check_dim, shape_args

Axis = int | Sequence[int] | None
Real = float  # inside Tensor, `float` is the method Tensor.float


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """A fresh array for Tensor(data): Python floats become float32, arrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    on_device = is_array(data) and type(data) is not np.ndarray
    # a device array is copied on its device (no trip through the host)
    array = array_module(data).array(data) if on_device else np.array(data)
    if array.dtype.kind not in NUMBER_KINDS:  # checked before any dtype= conversion:
        # NumPy would parse strings ("1.5") or drop imaginary parts on the way
        raise TypeError(
            f"Tensor: cannot make a tensor from {type(data).__name__} data of dtype "
            f"{array.dtype}; expected numbers (bool, int or float)"
        )
    if dtype is not None:
        return array.astype(check_dtype("Tensor", dtype), copy=False)
    if array.dtype == np.float64 and not (on_device or isinstance(data, (np.ndarray, np.generic))):
        array = array.astype(np.float32)  # Python numbers: float32 by default, as PyTorch
    return array


def _axis(axis: Axis, dim: Axis) -> Any:
    """Normalize PyTorch's `dim` alias and lists to the hashable form NumPy takes."""
    if dim is not None:
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis


def _moment_args(op: str, axis: Any, unbiased: Any, correction: Any) -> tuple[Any, int]:
    """(axis, correction) from var's and std's arguments, read as PyTorch reads them:
    (dim, unbiased, keepdim) positionally, a lone bool as unbiased (x.var(False)), and
    correction= instead of unbiased, not both."""
    if type(axis) is bool:  # torch's var(unbiased) overload
        axis, unbiased = None, axis
    if unbiased is not None and type(unbiased) is not bool:
        raise TypeError(f"{op}: unbiased must be True or False, got {unbiased!r} (the "
                        "second argument is unbiased, as in PyTorch; keepdim comes third)")
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return axis, correction


def _index(index: Any, like: Any) -> Any:
    """Tensors and lists inside an index become arrays; host index arrays move to the
    device of `like` (the indexed array), where indexing happens. Index arrays are
    copied: the op keeps its index for backward, and a tensor or array changed in place
    afterwards must not send the gradient elsewhere."""
    if isinstance(index, tuple):
        return tuple(_index(i, like) for i in index)
    if isinstance(index, Tensor):
        index = index.data.copy()
    elif isinstance(index, list):
        index = np.asarray(index)
    elif type(index) is np.ndarray:
        index = index.copy()
    if type(index) is np.ndarray and type(like) is not np.ndarray:
        return transfer(index, backend_of(like).name)
    return index


class Tensor:
    """An n-dimensional array that records the ops applied to it for backward."""

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "retains_grad", "grad_hooks",
                 "view_of", "view_born", "version_log", "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor calls Tensor.__radd__, not NumPy's

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _to_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn: engine.Function | None = None
        self.retains_grad = False
        self.grad_hooks: dict[int, Callable] | None = None
        self.view_of: Tensor | None = None  # the tensor whose memory this one shares
        self.view_born = 0  # the in-place count when this view was made (engine.mark_view)
        self.version_log: list[int] | None = None  # engine.record_inplace's record
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def wrap(data: Any, ctx: engine.Function | None = None) -> Tensor:
        """A plain Tensor around `data` without copying, made by `ctx` when given.

        The engine's constructor (it cannot import this class, so it calls this
        method on the tensors it is handed); user code calls `from_numpy`.
        """
        t = Tensor.__new__(Tensor)
        t.data = data if type(data) is np.ndarray else as_array(data)  # NumPy scalars too
        t.grad = None
        t.grad_fn = ctx
        t.requires_grad = ctx is not None
        t.retains_grad = False
        t.grad_hooks = None
        t.view_of = None
        t.view_born = 0
        t.version_log = None
        return t

    # -- introspection -----------------------------------------------------
    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (PyTorch's name)."""
        return engine.version_of(self)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (their .grad is kept)."""
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> Any:
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied: detach semantics, as PyTorch); a
        tensor on another device gives a NumPy copy (the explicit way off the device)."""
        return self.data if type(self.data) is np.ndarray else to_host(self.data)

    def item(self) -> Real | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor can be converted to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if type(self.data) is not np.ndarray:  # as PyTorch: no implicit copy off a device
            raise TypeError(
                f"cannot convert a tensor on device '{self.device}' to a NumPy array "
                "implicitly; use .cpu() or .numpy() first")
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"bool value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> Real:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # == is elementwise, so hash by identity as PyTorch

    def __repr__(self) -> str:
        body = np.array2string(to_host(self.data), separator=", ", prefix="tensor(",
                               precision=4)
        extras = []
        if type(self.data) is not np.ndarray:
            extras.append(f"device='{self.device}'")
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -- autograd ------------------------------------------------------------
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate the gradient of this tensor into the .grad of every leaf."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; "
                "use .detach() to get a tensor that does not require grad"
            )
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"requires_grad_: only floating point tensors can require gradients, "
                f"this one has dtype {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward (leaves always keep it)."""
        self.retains_grad = self.grad_fn is not None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` each time this tensor's gradient has been computed, before
        it is used further or stored in `.grad`; a returned Tensor replaces the
        gradient (as torch.Tensor.register_hook). `handle.remove()` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that does not require grad"
            )
        if self.grad_hooks is None:
            self.grad_hooks = {}
        return add_hook(self.grad_hooks, hook)

    # -- in-place changes ------------------------------------------------------
    def _inplace(self, op: str, compute: Callable[..., Tensor], *others: Tensor) -> Tensor:
        """Write `compute(self, *others)` into this tensor's own memory.

        Outside the graph (no_grad, or nothing requires grad) this is a plain write.
        Inside it the result is computed from a copy of the old values and this
        tensor becomes the output of that op, so gradients flow through the change;
        ops recorded earlier that need the old values refuse to run backward later
        (engine.record_inplace and Function.check_versions). An operand that is this
        tensor itself (x.add_(x)) is read as the old values too. A leaf that requires
        grad cannot be changed in grad mode, as in PyTorch.
        """
        recording = engine.is_grad_enabled() and (
            self.requires_grad or any(o.requires_grad for o in others))
        if recording and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {tuple(self.shape)}) cannot "
                "be changed in place while gradients are recorded; change it inside "
                "no_grad() (as optimizers do), or change a .clone() of it"
            )
        if recording and self._sliced_base() is not None:
            return self._inplace_through_base(op, compute, others)
        if recording:
            old_node, result = self._compute_from_old(compute, others)
        else:
            with engine.no_grad():
                result = compute(self, *others)
        self._write(op, result.data)
        if recording:
            self.grad_fn = result.grad_fn
            self.requires_grad = result.requires_grad
        engine.record_inplace(self)
        if recording:
            engine.mark_rewired(self, old_node)
        return self

    def _compute_from_old(self, compute: Callable[..., Tensor],
                          others: tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        """(this tensor's node before the change, compute's result) for a recorded
        in-place change: compute reads a clone of the old values, so the graph keeps
        them; for a constant the old node is those values (no gradient goes there)."""
        before = Tensor.wrap(self.data, self.grad_fn)  # the old node of the graph
        before.view_of = engine.owner_of(self)  # shares the memory about to change
        source = Clone.apply(before) if before.requires_grad else Tensor.wrap(self.data.copy())
        # self as an operand would become its own input once rewired
        result = compute(source, *[source if o is self else o for o in others])
        return (before if before.requires_grad else source), result

    def _sliced_base(self) -> Tensor | None:
        """The tensor this one is a slice of (x = base[index], sharing its memory), when
        that base is the memory's owner and still the node the slice was read from."""
        ctx, base = self.grad_fn, self.view_of
        if base is None or not isinstance(ctx, GetItem) or ctx.parents[0] is not base:
            return None
        return base if engine.inputs_of(ctx)[0] is base else None

    def _inplace_through_base(self, op: str, compute: Callable[..., Tensor],
                              others: tuple[Tensor, ...]) -> Tensor:
        """An in-place change of a slice, recorded as a change of its base (as PyTorch
        does): base becomes base with base[index] = the new values, and the slice a
        fresh base[index], so the base and the slice both carry the change."""
        base, index = self.view_of, self.grad_fn.params["index"]  # type: ignore[union-attr]
        assert base is not None
        old_node, result = self._compute_from_old(compute, others)
        self._check_storable(op, result.data)  # shape, dtype, writeable: before any write
        base._inplace(op, lambda b, v: SetItem.apply(b, v, index=index), result)
        fresh = GetItem.apply(base, index=index)
        self.grad_fn, self.requires_grad = fresh.grad_fn, fresh.requires_grad
        engine.mark_rewired(self, old_node)
        return self

    def update_(self, op: str, compute: Callable[..., Tensor], *others: Tensor) -> Tensor:
        """Write `compute(self, *others)` into this tensor's memory, with gradients
        flowing through the change as for the built-in in-place ops (add_, relu_, ...);
        `op` names the change in errors; compute must read `others` through its
        arguments. For in-place versions of composites, e.g. F.leaky_relu(x, inplace=True)."""
        return self._inplace(op, compute, *others)

    def _write(self, op: str, values: np.ndarray) -> None:
        """Copy `values` into this tensor's memory, or raise before writing anything."""
        self._check_storable(op, values)
        array_module(self.data).copyto(self.data, values, casting="same_kind")

    def _check_storable(self, op: str, values: np.ndarray) -> None:
        """Raise unless `values` can be written into this tensor's memory."""
        if values.shape != self.shape:
            raise RuntimeError(
                f"{op}: the result has shape {tuple(values.shape)} but an in-place op "
                f"must keep the tensor's shape {tuple(self.shape)}"
            )
        if not np.can_cast(values.dtype, self.dtype, casting="same_kind"):
            raise RuntimeError(
                f"{op}: the result has dtype {values.dtype}, which cannot be stored "
                f"in place in a tensor of dtype {self.dtype}"
            )
        if not writeable(self.data):
            raise RuntimeError(
                f"{op}: this tensor (shape {tuple(self.shape)}) is a read-only view, e.g. "
                "made by expand(); change a .clone() of it instead"
            )

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        other = self._operand(other)
        return self._inplace("add_", lambda x, o: x + (o if alpha == 1 else o * alpha), other)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        other = self._operand(other)
        return self._inplace("sub_", lambda x, o: x - (o if alpha == 1 else o * alpha), other)

    def mul_(self, other: Any) -> Tensor:
        other = self._operand(other)
        return self._inplace("mul_", lambda x, o: x * o, other)

    def div_(self, other: Any) -> Tensor:
        other = self._operand(other)
        return self._inplace("div_", lambda x, o: x / o, other)

    def pow_(self, exponent: Any) -> Tensor:
        exponent = self._operand(exponent)
        return self._inplace("pow_", lambda x, e: x ** e, exponent)

    def clamp_(self, min: Real | None = None, max: Real | None = None) -> Tensor:  # noqa: A002
        return self._inplace("clamp_", lambda x: x.clamp(min, max))

    clip_ = clamp_

    def neg_(self) -> Tensor:
        return self._inplace("neg_", lambda x: -x)

    def relu_(self) -> Tensor:
        return self._inplace("relu_", lambda x: x.relu())

    def sigmoid_(self) -> Tensor:
        return self._inplace("sigmoid_", lambda x: x.sigmoid())

    def tanh_(self) -> Tensor:
        return self._inplace("tanh_", lambda x: x.tanh())

    def fill_(self, value: Any) -> Tensor:
        value = self._operand(value)
        if value.numel() != 1:
            raise RuntimeError(f"fill_: expected a single value, got shape {tuple(value.shape)}")
        return self._inplace(
            "fill_", lambda x, v: SetItem.apply(x, v.reshape(()), index=Ellipsis), value)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        """Copy `src` (broadcast to this shape, cast to this dtype) into this tensor."""
        src = self._operand(src)
        if type(src.data) is not type(self.data) and src.device != self.device:
            src = src.to(self.device)  # copy_ is PyTorch's explicit copy between devices
        try:
            np.broadcast_shapes(src.shape, self.shape)
            fits = np.broadcast_shapes(src.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast to "
                f"this tensor's shape {tuple(self.shape)}"
            )
        if src.dtype != self.dtype and src.dtype.kind == "f" and self.dtype.kind == "f":
            src = src.cast(self.dtype)  # differentiable between float dtypes
        elif src.dtype != self.dtype:
            src = Tensor.wrap(src.data.astype(self.dtype))
        return self._inplace("copy_", lambda x, s: SetItem.apply(x, s, index=Ellipsis), src)

    def normal_(self, mean: Real = 0.0, std: Real = 1.0) -> Tensor:
        """Fill with draws from N(mean, std**2) from the seeded generator."""
        draws = self._generator().normal(mean, std, self.shape).astype(self.dtype)
        return self._inplace("normal_", lambda x: Tensor.wrap(draws))

    def uniform_(self, a: Real = 0.0, b: Real = 1.0) -> Tensor:
        """Fill with draws from U[a, b) from the seeded generator."""
        draws = self._generator().uniform(a, b, self.shape).astype(self.dtype)
        return self._inplace("uniform_", lambda x: Tensor.wrap(draws))

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and the version count)."""
        out = Tensor.wrap(self.data)
        engine.mark_view(out, self, detached=True)
        return out

    def _generator(self) -> Any:
        """The random stream of this tensor's device (the seeded one, for the CPU)."""
        return device_generator(backend_of(self.data).name)

    def _local(self, array: np.ndarray) -> Any:
        """A host array made for an op with this tensor, moved to this tensor's device."""
        if type(self.data) is np.ndarray:
            return array
        return transfer(array, backend_of(self.data).name)

    # -- conversions -------------------------------------------------------
    def _operand(self, other: Any) -> Tensor:
        """`other` as a Tensor for a binary op with this one. A plain number takes the
        dtype of the pair's result (ops/dtypes.py), so `x * 2.0` stays float32 and
        `int8_tensor + 100` stays int8. Numbers and host data land on this tensor's device."""
        if isinstance(other, Tensor):
            return other
        if type(other) in (float, int, bool):  # hot: x * 2.0 in most backward rules
            array = number_array(other, with_number(self.data.dtype, other))
        elif is_number(other):
            array = number_array(other, result_type(self, other))
        elif is_array(other) and type(other) is not np.ndarray:
            return Tensor.wrap(array_module(other).array(other))  # a device array, copied
        else:
            # arrays are copied, as PyTorch does: changing the array later must not
            # change a gradient computed from it
            array = np.array(other)
            if array.dtype.kind not in NUMBER_KINDS:
                raise TypeError(
                    f"cannot combine a tensor of dtype {self.dtype} with "
                    f"{type(other).__name__} data of dtype {array.dtype}; expected numbers "
                    "(bool, int or float)"
                )
        return Tensor.wrap(array if type(self.data) is np.ndarray else self._local(array))

    def _promoted(self, other: Any, true_divide: bool = False) -> tuple[Tensor, Tensor]:
        """(self, other) as tensors of the dtype of their result, by PyTorch's promotion
        rules (ops/dtypes.py); `/` of ints gives float32."""
        dtype = self.data.dtype
        if isinstance(other, Tensor):
            if other.data.dtype is dtype and (not true_divide or dtype.kind == "f"):
                return self, other  # the hot path: one dtype already
        elif type(other) in (float, int, bool) and dtype.kind == "f":  # with_number's answer
            if type(self.data) is np.ndarray:
                return self, Tensor.wrap(np.array(other, dtype=dtype))
            return self, Tensor.wrap(full_like_scalar(other, dtype, self.data))
        else:
            other = self._operand(other)
        dtype = result_type(self, other)
        if true_divide and dtype.kind != "f":
            dtype = promote_types(dtype, np.float32)
        arrays: tuple[Any, Any] = (self.data, other.data)
        if type(arrays[0]) is not np.ndarray or type(arrays[1]) is not np.ndarray:
            arrays = (self.data.dtype, other.data.dtype)  # NumPy reads dtypes only
        if np.result_type(*arrays) == dtype:
            return self, other  # NumPy reaches the same dtype itself (float32 * a bool mask)
        return self.cast(dtype), other.cast(dtype)

    def cast(self, dtype: Any) -> Tensor:
        """This tensor in another dtype; differentiable between float dtypes."""
        dtype = check_dtype("cast", dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind != "f" or self.dtype.kind != "f":  # ints and bools carry no gradient
            return Tensor.wrap(self.data.astype(dtype))
        return Cast.apply(self, dtype=dtype)

    def double(self) -> Tensor:
        return self.cast(np.float64)

    def float(self) -> Tensor:
        return self.cast(np.float32)

    def long(self) -> Tensor:
        return self.cast(np.int64)

    # -- elementwise bindings ---------------------------------------------------
    def add(self, other: Any) -> Tensor:
        return Add.apply(*self._promoted(other))

    def sub(self, other: Any) -> Tensor:
        return Sub.apply(*self._promoted(other))

    def mul(self, other: Any) -> Tensor:
        return Mul.apply(*self._promoted(other))

    def div(self, other: Any) -> Tensor:
        return Div.apply(*self._promoted(other, true_divide=True))

    def pow(self, exponent: Any) -> Tensor:
        return Pow.apply(*self._promoted(exponent))

    def neg(self) -> Tensor:
        return Neg.apply(self)

    def exp(self) -> Tensor:
        return Exp.apply(self)

    def log(self) -> Tensor:
        return Log.apply(self)

    def sqrt(self) -> Tensor:
        return Sqrt.apply(self)

    def abs(self) -> Tensor:
        return Abs.apply(self)

    def relu(self) -> Tensor:
        return Relu.apply(self)

    def sigmoid(self) -> Tensor:
        return Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        return Tanh.apply(self)

    def erf(self) -> Tensor:
        return Erf.apply(self)

    def maximum(self, other: Any) -> Tensor:
        return Maximum.apply(*self._promoted(other))

    def minimum(self, other: Any) -> Tensor:
        return Minimum.apply(*self._promoted(other))

    def where(self, condition: Any, other: Any) -> Tensor:
        """Elements of self where `condition` is true, else of `other` (as torch.Tensor.where)."""
        if not isinstance(condition, Tensor):
            # copied, as _operand copies arrays: a condition array changed after this
            # call must not change the gradient
            if is_array(condition) and type(condition) is not np.ndarray:  # on a device
                condition = Tensor.wrap(array_module(condition).array(condition))
            else:
                condition = Tensor.wrap(self._local(np.array(condition)))
        if condition.dtype != np.bool_:
            condition = Tensor.wrap(condition.data.astype(bool))
        return Where.apply(condition, *self._promoted(other))

    def clip(self, min: Real | None = None, max: Real | None = None) -> Tensor:  # noqa: A002
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return Clip.apply(self, low=min, high=max)

    clamp = clip

    # written out, not aliased, so that type checkers pair them with += and friends
    def __add__(self, other: Any) -> Tensor:
        return Add.apply(*self._promoted(other))

    def __sub__(self, other: Any) -> Tensor:
        return Sub.apply(*self._promoted(other))

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(*self._promoted(other))

    def __truediv__(self, other: Any) -> Tensor:
        return Div.apply(*self._promoted(other, true_divide=True))

    __pow__ = pow
    __neg__ = neg

    def remainder(self, other: Any) -> Tensor:
        """x % y with the sign of y, as Python and PyTorch (differentiable)."""
        return Remainder.apply(*self._promoted(other))

    def __mod__(self, other: Any) -> Tensor:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Tensor:
        x, y = self._promoted(other)
        return Remainder.apply(y, x)

    def floor_divide(self, other: Any) -> Tensor:
        """floor(x / y), as x // y. Its derivative is 0 wherever it exists, so the result
        carries no gradient (PyTorch records it and fails in backward)."""
        x, y = self._promoted(other)
        return Tensor.wrap(array_module(x.data).floor_divide(x.data, y.data))

    def __floordiv__(self, other: Any) -> Tensor:
        return self.floor_divide(other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        x, y = self._promoted(other)
        return Tensor.wrap(array_module(x.data).floor_divide(y.data, x.data))

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element; its gradient is 0."""
        return Sign.apply(self)

    # x += y changes x in place, as in PyTorch (see _inplace)
    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __radd__(self, other: Any) -> Tensor:
        x, y = self._promoted(other)
        return Add.apply(y, x)

    def __rsub__(self, other: Any) -> Tensor:
        x, y = self._promoted(other)
        return Sub.apply(y, x)

    def __rmul__(self, other: Any) -> Tensor:
        x, y = self._promoted(other)
        return Mul.apply(y, x)

    def __rtruediv__(self, other: Any) -> Tensor:
        x, y = self._promoted(other, true_divide=True)
        return Div.apply(y, x)

    def __rpow__(self, other: Any) -> Tensor:
        x, y = self._promoted(other)
        return Pow.apply(y, x)

    # -- comparisons (no gradient: the result is a bool tensor) ------------------
    def _compare(self, other: Any, name: str) -> Tensor:
        """The comparison ufunc `name` (numpy's name) on this tensor's device."""
        if isinstance(other, Tensor):
            if type(other.data) is not type(self.data):
                devices.check_same(name, (self.data, other.data))
            other = other.data
        elif isinstance(other, (list, np.ndarray)):
            other = self._local(np.asarray(other))
        return Tensor.wrap(getattr(array_module(self.data), name)(self.data, other))

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, "less")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, "less_equal")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, "greater")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, "greater_equal")

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, "equal")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, "not_equal")

    def __invert__(self) -> Tensor:
        if self.dtype != np.bool_:
            raise TypeError(f"~ (logical not) needs a bool tensor, got dtype {self.dtype}")
        return Tensor.wrap(~self.data)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    any = tensor_misc.any
    all = tensor_misc.all

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> Tensor:
        """Index of the largest element (no gradient)."""
        axis = _axis(axis, dim)
        keep = keepdims if keepdim is None else keepdim
        return Tensor.wrap(self.data.argmax(axis=axis, keepdims=keep).astype(np.int64))

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> Tensor:
        """Index of the smallest element (no gradient)."""
        axis = _axis(axis, dim)
        keep = keepdims if keepdim is None else keepdim
        return Tensor.wrap(self.data.argmin(axis=axis, keepdims=keep).astype(np.int64))

    # -- reductions ---------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        keep = keepdims if keepdim is None else keepdim
        return Sum.apply(self, axis=_axis(axis, dim), keepdims=bool(keep))

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None,
             axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        """The product over one dim, or of all elements (as torch.prod)."""
        axis = dim if axis is None else axis
        keep = keepdim if keepdims is None else keepdims
        x = self if dtype is None else self.cast(dtype)
        if axis is not None:
            axis = x._check_dim("prod", axis)
        return Prod.apply(x, axis=axis, keepdims=bool(keep))

    def amax(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
             keepdim: bool | None = None) -> Tensor:
        """Largest values over one or more dims (ties share the gradient evenly)."""
        keep = keepdims if keepdim is None else keepdim
        return Max.apply(self, axis=_axis(axis, dim), keepdims=bool(keep))

    def amin(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
             keepdim: bool | None = None) -> Tensor:
        """Smallest values over one or more dims (ties share the gradient evenly)."""
        keep = keepdims if keepdim is None else keepdim
        return Min.apply(self, axis=_axis(axis, dim), keepdims=bool(keep))

    # max()/min() the value, max(dim) (values, indices), max(other) elementwise
    max = tensor_reduce.max
    min = tensor_reduce.min

    # -- movement -------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        shape = shape_args(shape, "reshape")
        if shape == self.shape:
            return self
        return Reshape.apply(self, shape=shape)

    view = reshape

    def permute(self, *dims: Any) -> Tensor:
        order = shape_args(dims, "permute")
        if len(order) != self.ndim:
            raise RuntimeError(
                f"permute: got {len(order)} dims {order} for a tensor with {self.ndim} dims "
                f"(shape {tuple(self.shape)}); give each dim once")
        if order and not -len(order) <= min(order) <= max(order) < len(order):
            for d in order:  # names the first dim out of range
                self._check_dim("permute", d)
        return Permute.apply(self, dims=order)

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to `shape` without copying; -1 keeps an axis as it is."""
        shape = shape_args(shape, "expand")
        offset = len(shape) - self.ndim
        shape = tuple(
            self.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(shape)
        )
        if shape == self.shape:
            return self
        return Expand.apply(self, shape=shape)

    def __getitem__(self, index: Any) -> Tensor:
        return GetItem.apply(self, index=_index(index, self.data))

    def __setitem__(self, index: Any, value: Any) -> None:
        """x[index] = value, in place (see `_inplace` for what that means for autograd)."""
        index = _index(index, self.data)
        value = self._operand(value)
        self._inplace("setitem", lambda x, v: SetItem.apply(x, v, index=index), value)

    def scatter_add_into(self, shape: Sequence[int], index: Any) -> Tensor:
        """A zero tensor of `shape` with this tensor added at `index` (indexing's adjoint)."""
        return ScatterAdd.apply(self, shape=tuple(shape), index=_index(index, self.data))

    def pad(self, widths: Sequence[Sequence[int]], value: Real = 0.0) -> Tensor:
        """Constant padding with one (before, after) pair per axis, as numpy.pad."""
        widths = tuple((int(b), int(a)) for b, a in widths)
        return Pad.apply(self, widths=widths, value=value)

    def cat(self, others: Sequence[Tensor], axis: int = 0) -> Tensor:
        """This tensor followed by `others` along `axis`."""
        return Cat.apply(self, *others, axis=axis)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        n = self.data.ndim
        if type(dim0) is int and type(dim1) is int and -n <= dim0 < n and -n <= dim1 < n:
            dim0, dim1 = dim0 % n, dim1 % n  # the usual call: dims known good, no checks
        else:
            dim0, dim1 = self._check_dim("transpose", dim0), self._check_dim("transpose", dim1)
            if n == 0:
                return self
        dims = list(range(n))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return Permute.apply(self, dims=tuple(dims))

    @property
    def T(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """All axes reversed (the matrix transpose for 2-D)."""
        return Permute.apply(self, dims=tuple(range(self.data.ndim - 1, -1, -1)))

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Drop size-1 axes (all of them, or the given ones that have size 1)."""
        axis = _axis(axis, dim)
        if axis is None:
            drop = {i for i, s in enumerate(self.shape) if s == 1}
        else:
            axes = axis if isinstance(axis, tuple) else (axis,)
            axes = tuple(self._check_dim("squeeze", a) for a in axes)
            drop = {a for a in axes if self.ndim and self.shape[a] == 1}
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if i not in drop))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 axis at `dim` (negative counts from the end of the new shape)."""
        shape = self.data.shape
        rank = len(shape) + 1
        if type(dim) is int and -rank <= dim < rank:
            dim %= rank  # the usual call: no check_dim
        else:
            dim = self._check_dim("unsqueeze", dim, rank)
        return Reshape.apply(self, shape=shape[:dim] + (1,) + shape[dim:])

    def flip(self, *dims: Any) -> Tensor:
        """The elements in reverse order along `dims` (a copy, as torch.flip)."""
        out = self
        for d in shape_args(dims, "flip"):
            axis = self._check_dim("flip", d)
            out = out[(slice(None),) * axis + (np.arange(self.shape[axis] - 1, -1, -1),)]
        return out if out is not self else self.clone()

    def clone(self) -> Tensor:
        """A copy in fresh memory that stays in the graph (gradients pass through)."""
        return Clone.apply(self)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sums along `dim` (as torch.cumsum; ints sum in int64)."""
        x = self if dtype is None else self.cast(dtype)
        if dtype is None and x.dtype.kind in "biu":
            x = x.cast(np.int64)
        return Cumsum.apply(x, axis=int(dim))

    def _scalar_after_dim_check(self, op: str, axis: Any) -> bool:
        """Check each dim in `axis` (an error names op, dim and rank); True for a 0-d
        tensor, whose one element PyTorch reduces over dim 0 or -1."""
        for d in axis if isinstance(axis, tuple) else (axis,):
            self._check_dim(op, d)
        return self.ndim == 0

    def _check_dim(self, op: str, dim: int, ndim: int | None = None) -> int:
        """`dim` as a non-negative axis, or an IndexError naming the op and the rank."""
        return check_dim(op, dim, self.shape, ndim)

    # -- linear algebra ---------------------------------------------------------
    def matmul(self, other: Any) -> Tensor:
        return MatMul.apply(self, self._operand(other))

    __matmul__ = matmul

    def mm(self, other: Tensor) -> Tensor:
        """A 2-d matrix product (as torch.mm: no broadcasting)."""
        if self.ndim != 2 or getattr(other, "ndim", None) != 2:
            raise RuntimeError(f"mm: expected two 2-d tensors, got shapes {tuple(self.shape)} "
                               f"and {tuple(getattr(other, 'shape', ()))}")
        return self.matmul(other)

    def bmm(self, other: Tensor) -> Tensor:
        """A batch of matrix products of two 3-d tensors with the same batch size."""
        shapes = (tuple(self.shape), tuple(getattr(other, "shape", ())))
        if self.ndim != 3 or len(shapes[1]) != 3 or shapes[0][0] != shapes[1][0]:
            raise RuntimeError(f"bmm: expected two 3-d tensors with the same batch size, got "
                               f"shapes {shapes[0]} and {shapes[1]}")
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return MatMul.apply(self._operand(other), self)

    # -- composites: built from the bindings above, no backward of their own -----
    def _reduced_count(self, axis: Any) -> int:
        return reduced_size(self.data.shape, axis)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
             keepdim: bool | None = None) -> Tensor:
        axis = _axis(axis, dim)
        keep = keepdims if keepdim is None else keepdim
        return self.sum(axis, keep) / self._reduced_count(axis)

    def _fused_moments(self, axis: Any) -> bool:
        """True when var and std can be one op: floating point values, and dims that
        name distinct axes (anything else keeps the composite and its errors)."""
        if self.data.dtype.kind != "f":
            return False
        if axis is None or type(axis) is int:
            return True
        return type(axis) is tuple and self.data.ndim > 0 and all(
            type(a) is int for a in axis) and len({a % self.data.ndim for a in axis}) == len(axis)

    def var(self, axis: Axis = None, unbiased: bool | None = None, keepdims: bool = False,
            *, correction: int | None = None, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        """Variance with Bessel's correction by default (correction=1), as torch.var,
        with its arguments: (dim, unbiased, keepdim), or correction= (unbiased=False is
        correction=0).

        With `correction` >= the number of values the divisor is 0, so the result is
        inf (nan where all values are equal, or none are given), as PyTorch."""
        axis, correction = _moment_args("var", axis, unbiased, correction)
        axis = _axis(axis, dim)
        keep = keepdims if keepdim is None else keepdim
        count = max(self._reduced_count(axis) - correction, 0)
        if count > 0 and self._fused_moments(axis):
            return Var.apply(self, axis=axis, keepdims=bool(keep), correction=correction)
        if count > 0:
            centered = self - self.mean(axis, keepdims=True)
            return (centered * centered).sum(axis, keep) / count
        warnings.warn("var(): degrees of freedom is <= 0 (correction >= the number of "
                      "values), so the result is inf or nan", stacklevel=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            centered = self - self.mean(axis, keepdims=True)
            return (centered * centered).sum(axis, keep) / count

    def std(self, axis: Axis = None, unbiased: bool | None = None, keepdims: bool = False,
            *, correction: int | None = None, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        """Standard deviation, the square root of var (the same arguments)."""
        axis, correction = _moment_args("std", axis, unbiased, correction)
        axis = _axis(axis, dim)
        if self._fused_moments(axis) and self._reduced_count(axis) > correction:
            keep = keepdims if keepdim is None else keepdim
            return Std.apply(self, axis=axis, keepdims=bool(keep), correction=correction)
        variance = self.var(axis, keepdims=keepdims, correction=correction, keepdim=keepdim)
        # sqrt has an infinite slope at 0: where all values are equal, use the
        # subgradient 0 (as PyTorch) instead of letting inf * 0 become nan; a nan
        # variance (nan input, too few values) stays nan
        spread = variance != 0
        return variance.where(spread, 1.0).sqrt().where(spread, 0.0)

    def logsumexp(self, axis: int = -1, keepdims: bool = False, *, dim: int | None = None,
                  keepdim: bool | None = None) -> Tensor:
        """log(sum(exp(x))) along `axis`, computed stably at any magnitude."""
        if self._scalar_after_dim_check("logsumexp", _axis(axis, dim)):
            return self.reshape(1).logsumexp(0).reshape(())
        keep = keepdims if keepdim is None else keepdim
        return LogSumExp.apply(self, axis=_axis(axis, dim), keepdims=bool(keep))

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        if self._scalar_after_dim_check("softmax", _axis(axis, dim)):
            return self.reshape(1).softmax(0).reshape(())
        return Softmax.apply(self, axis=_axis(axis, dim))

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """(x - max) - log(sum(exp(x - max))): the shifted logits are exact, so a loss
        at logits of 1e5 in float32 is exact too."""
        if self._scalar_after_dim_check("log_softmax", _axis(axis, dim)):
            return self.reshape(1).log_softmax(0).reshape(())
        return LogSoftmax.apply(self, axis=_axis(axis, dim))

    def leaky_relu(self, negative_slope: Real = 0.01) -> Tensor:
        return LeakyRelu.apply(self, negative_slope=float(negative_slope))

    def square(self) -> Tensor:
        return self * self

    # -- more elementwise math (tensor_math.py) ------------------------------------
    log1p, expm1, log2, log10, exp2 = (tensor_math.log1p, tensor_math.expm1, tensor_math.log2,
                                       tensor_math.log10, tensor_math.exp2)
    reciprocal, rsqrt = tensor_math.reciprocal, tensor_math.rsqrt
    floor, ceil, trunc, fix, frac = (tensor_math.floor, tensor_math.ceil, tensor_math.trunc,
                                     tensor_math.fix, tensor_math.frac)
    round = tensor_math.round
    isnan, isinf, isfinite = tensor_math.isnan, tensor_math.isinf, tensor_math.isfinite
    isclose = tensor_math.isclose
    clamp_min, clamp_max = tensor_math.clamp_min, tensor_math.clamp_max
    logical_and, logical_or = tensor_math.logical_and, tensor_math.logical_or
    logical_xor, logical_not = tensor_math.logical_xor, tensor_math.logical_not
    clamp_min_, clamp_max_ = tensor_math.clamp_min_, tensor_math.clamp_max_
    sqrt_, abs_, exp_, log_ = (tensor_math.sqrt_, tensor_math.abs_, tensor_math.exp_,
                               tensor_math.log_)
    square_, reciprocal_ = tensor_math.square_, tensor_math.reciprocal_
    floor_, ceil_, round_, trunc_ = (tensor_math.floor_, tensor_math.ceil_,
                                     tensor_math.round_, tensor_math.trunc_)
    lerp, lerp_, fmod = tensor_math.lerp, tensor_math.lerp_, tensor_math.fmod
    logaddexp, logaddexp2 = tensor_math.logaddexp, tensor_math.logaddexp2
    nan_to_num, logit = tensor_math.nan_to_num, tensor_math.logit
    nansum, nanmean = tensor_reduce.nansum, tensor_reduce.nanmean
    count_nonzero = tensor_reduce.count_nonzero

    # -- products with an added term, and the trace (tensor_linalg.py) ---------------
    mv, addmm, addmv = tensor_linalg.mv, tensor_linalg.addmm, tensor_linalg.addmv
    baddbmm, addbmm, trace = tensor_linalg.baddbmm, tensor_linalg.addbmm, tensor_linalg.trace

    # -- picking and rearranging (tensor_select.py), small helpers (tensor_misc.py) --
    index_select, narrow, unbind = (tensor_select.index_select, tensor_select.narrow,
                                    tensor_select.unbind)
    diagonal, diag, roll = tensor_select.diagonal, tensor_select.diag, tensor_select.roll
    repeat_interleave, cumprod = tensor_select.repeat_interleave, tensor_select.cumprod
    nonzero, unique, bincount = (tensor_select.nonzero, tensor_select.unique,
                                 tensor_select.bincount)
    outer, dot, type_as = tensor_misc.outer, tensor_misc.dot, tensor_misc.type_as
    element_size, ndimension, stride = (tensor_misc.element_size, tensor_misc.ndimension,
                                        tensor_misc.stride)
    nbytes = property(tensor_misc.nbytes)
    detach_ = tensor_misc.detach_

    # -- shape and layout (tensor_shape.py) ---------------------------------------
    flatten = tensor_shape.flatten
    view_as = reshape_as = tensor_shape.view_as
    expand_as = tensor_shape.expand_as
    t = tensor_shape.t
    split = tensor_shape.split
    chunk = tensor_shape.chunk
    repeat = tensor_shape.repeat
    tril = tensor_shape.tril
    triu = tensor_shape.triu
    movedim = moveaxis = tensor_shape.movedim
    swapaxes = swapdims = tensor_shape.swapaxes
    mT = property(tensor_shape.matrix_transpose)  # noqa: N815 (PyTorch's name)
    unflatten = tensor_shape.unflatten
    ravel = tensor_shape.ravel
    tile = tensor_shape.tile
    broadcast_to = tensor_shape.broadcast_to
    select = tensor_shape.select

    def dim(self) -> int:
        """The number of dims (PyTorch's name for ndim)."""
        return self.ndim

    def contiguous(self) -> Tensor:
        """This tensor: NumPy handles any memory layout, so no copy is needed."""
        return self

    def is_contiguous(self) -> bool:
        """True: every op accepts any layout, so code that asks never needs to copy."""
        return True

    # -- picking by index tensors (tensor_index.py) and by rank (tensor_sort.py) ----
    gather = tensor_index.gather
    scatter_add = tensor_index.scatter_add
    masked_fill = tensor_index.masked_fill
    sort = tensor_sort.sort
    argsort = tensor_sort.argsort
    topk = tensor_sort.topk
    norm = tensor_reduce.norm

    def scatter_add_(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """scatter_add in place (see `_inplace`)."""
        return self._inplace("scatter_add_", lambda x, s: x.scatter_add(dim, index, s), src)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """masked_fill in place; the mask must broadcast to this tensor's shape."""
        others = (value,) if isinstance(value, Tensor) else ()
        return self._inplace("masked_fill_",
                             lambda x, *v: x.masked_fill(mask, v[0] if v else value), *others)

    # -- device and dtype (tensor_convert.py; devices are devices.py's business) --------
    @property
    def device(self) -> devices.device:
        """Where the numbers live: the device of the array (devices.py)."""
        return devices.of_array(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    to = tensor_convert.to
    cpu = tensor_convert.cpu
    cuda = tensor_convert.cuda
    new_zeros = tensor_convert.new_zeros
    new_ones = tensor_convert.new_ones
    new_full = tensor_convert.new_full
    new_tensor = tensor_convert.new_tensor
    __index__ = tensor_convert.index

    # Last in the class: these names shadow the builtins int, bool and type for the
    # annotations of everything after them in the class body (see `Real`).
    def half(self) -> Tensor:
        return self.cast(np.float16)

    def int(self) -> Tensor:
        return self.cast(np.int32)

    def bool(self) -> Tensor:
        return self.cast(np.bool_)

    type = tensor_convert.type_


# -- functions that take several tensors -------------------------------------------


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing axis."""
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    return tensors[0].cat(tensors[1:], axis=dim if axis is None else axis)


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along a new axis (each gets a size-1 axis, then cat)."""
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    dim = dim if axis is None else axis
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    first = tensors[0]
    rank = first.ndim + 1
    if not (type(dim) is int and -rank <= dim < rank):
        dim = first._check_dim("unsqueeze", dim, rank)  # the error unsqueeze gave
    return Stack.apply(*tensors, axis=dim)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of x where condition is true, else of y."""
    if not isinstance(x, Tensor):
        x = y._operand(x) if isinstance(y, Tensor) else Tensor(x)
    return x.where(condition, y)


def maximum(x: Tensor, y: Any) -> Tensor:
    return x.maximum(y)


def minimum(x: Tensor, y: Any) -> Tensor:
    return x.minimum(y)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with a NumPy array (as torch.from_numpy): writes to
    one show in the other. The dtype is kept; no copy is made."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"from_numpy: cannot make a tensor of dtype {array.dtype}; expected bool, "
            "int or float"
        )
    return Tensor.wrap(array)
