"""Every registered op, first and second order, on inputs drawn from its own domain.

A new op is covered the moment it is defined: the registry is walked here and each
op goes through `check_op`, the public check students run on their own ops; the
meta-test fails if the op declares no domain or its Tensor binding does not reach it.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_edu import gradcheck
from tinygrad_edu.engine import Function
from tinygrad_edu.testing import check_op, op_samples, sample_tensors

OPS = sorted(Function.registry.values(), key=lambda op: op.__name__)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _ops_in_graph(out):
    """The op classes recorded in the graph behind `out`."""
    seen, stack, found = set(), [out], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t.grad_fn is None:
            continue
        seen.add(id(t))
        found.add(type(t.grad_fn))
        stack.extend(t.grad_fn.parents)
    return found


def test_registry_has_the_core_ops():
    names = {op.__name__ for op in OPS}
    expected = {"Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Sqrt", "Abs", "Relu",
                "Sigmoid", "Tanh", "Maximum", "Minimum", "Where", "Clip", "Cast", "Sum", "Max",
                "Min", "Reshape", "Permute", "Expand", "GetItem", "ScatterAdd", "Pad", "Cat",
                "MatMul"}
    assert expected <= names, f"missing ops: {sorted(expected - names)}"


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_op_declares_domain_and_binding(op):
    assert op.__doc__ and op.__doc__.strip(), f"{op.__name__} has no docstring with its rule"
    assert callable(getattr(op, "domain", None)), f"{op.__name__} declares no domain"

    @SETTINGS
    @given(st.data())
    def reaches_op(data):
        sample = data.draw(op_samples(op))
        out = sample.call(*sample_tensors(sample))
        assert op in _ops_in_graph(out), (
            f"{op.__name__}: its domain's call does not reach the op through a Tensor binding"
        )

    reaches_op()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_first_and_second_order(op):
    # the very check a student runs on an op of their own (tinygrad_edu.testing.check_op)
    assert check_op(op, examples=25) >= 25


def test_gradcheck_catches_a_wrong_backward():
    """The generic test can fail: an op with a deliberately wrong rule is caught."""
    from tinygrad_edu import Tensor

    class _WrongSquare(Function):  # underscore: kept out of the registry
        def forward(ctx, x):
            return x * x

        def backward(ctx, grad):
            return grad * ctx.parents[0]  # missing the factor 2

    x = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert not gradcheck(lambda t: _WrongSquare.apply(t), [x], raise_exception=False)
