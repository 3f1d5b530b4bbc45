"""gradcheck as a teaching tool: it passes correct ops and its report pinpoints wrong ones."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.engine import Function


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _op(forward, backward):
    """A throwaway op with the given rules (underscore name: not registered)."""

    class _Custom(Function):
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x)

        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return backward(x, grad)

    return lambda t: _Custom.apply(t)


def _report(fn, x, **kwargs):
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(fn, [x], **kwargs)
    return str(info.value)


def test_correct_functions_pass():
    x, w = leaf([[0.3, -1.2], [2.0, 0.7]]), leaf([0.5, -0.25])
    assert tg.gradcheck(lambda a, b: ((a * b).tanh() @ b).exp(), [x, w])
    assert tg.gradgradcheck(lambda a, b: ((a * b).tanh() @ b).exp(), [x, w])


def test_report_names_input_element_values_and_tolerance():
    # wrong only for the last element: every element must be checked
    wrong_last = _op(lambda x: x ** 2,
                     lambda x, g: g * x * 2.0 + g * Tensor(np.array([0.0, 0.0, 1.0])))
    message = _report(wrong_last, leaf([0.5, 1.0, 1.5]), names=["x"])
    assert "input 0 ('x')[2]" in message
    assert "analytic (backward):    4" in message
    assert "numeric (central diff): 3" in message
    assert "1 of 9 Jacobian entries disagree" in message
    assert "relative error 0.333" in message


def test_report_suspects_a_kink():
    message = _report(lambda t: t.relu(), leaf([0.0, 1.0]))
    assert "kink" in message and "left of the point is 0 and right of it 1" in message


def test_report_suspects_a_missing_gradient_path():
    message = _report(lambda t: t * t.detach(), leaf([1.0, 2.0]))
    # d(x * const)/dx = const, but the true derivative is 2x: half of it is missing
    assert "factor of 2" in message
    message = _report(_op(lambda x: x * 3.0, lambda x, g: g * 0.0), leaf([1.0]))
    assert "no gradient" in message


def test_report_suspects_a_sign_error():
    message = _report(_op(lambda x: np.sin(x), lambda x, g: -g * Tensor(np.cos(x.data))),
                      leaf([0.3]))
    assert "sign is flipped" in message


def test_report_suspects_leaving_the_domain():
    # d sqrt(x)/dx = 1 / (2 sqrt(x)) divides by zero at 0, and NumPy says so
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        message = _report(lambda t: t.sqrt(), leaf([0.0]))
    assert "not finite" in message or "kink" in message


def test_raise_exception_false_returns_false():
    assert tg.gradcheck(lambda t: t.relu(), [leaf([0.0])], raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    # backward uses .data (a constant), so the second derivative is lost
    cube = _op(lambda x: x ** 3, lambda x, g: g * Tensor(3.0 * x.data ** 2))
    x = leaf([0.7, -1.1])
    assert tg.gradcheck(cube, [x])
    with pytest.raises(tg.GradcheckError, match="no gradient"):
        tg.gradgradcheck(cube, [x])


def test_gradcheck_leaves_inputs_unchanged():
    x = leaf([[0.25, 1.5], [-0.75, 2.0]])
    before = x.data.copy()
    tg.gradcheck(lambda t: (t * t).sum(), [x])
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_gradcheck_handles_outputs_that_view_their_input():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    assert tg.gradcheck(lambda t: t.T, [x])
    assert tg.gradcheck(lambda t: t[0], [x])


def test_random_weighting_catches_a_backward_that_forgets_grad_on_a_scalar_output():
    # the one-hot seed of a scalar output is 1, so `2 * x` and `grad * 2 * x` agree there
    forgets = _op(lambda x: x * x, lambda x, g: 2.0 * x)
    message = _report(forgets, leaf(0.75))
    assert "not for a random upstream weighting" in message
    assert "suspect: missing chain-rule factor" in message
    assert tg.gradcheck(_op(lambda x: x * x, lambda x, g: g * 2.0 * x), [leaf(0.75)])
    # behind a reduction the upstream gradient is the reduction's: caught the same way
    message = _report(lambda t: forgets(t).sum(), leaf([0.5, -1.0]))
    assert "missing chain-rule factor" in message


def test_relative_error_is_capped_not_astronomical():
    tiny_slope = _op(lambda x: 1e-9 * x, lambda x, g: g * 1.0)
    message = _report(tiny_slope, leaf([0.5]))
    assert "relative error > 1e+06" in message and "e+299" not in message
    flat = _op(lambda x: 0.0 * x, lambda x, g: g * 1.0)
    assert "relative error undefined (numeric is 0)" in _report(flat, leaf([0.5]))


def test_second_order_failures_say_so():
    cube = _op(lambda x: x ** 3, lambda x, g: g * Tensor(3.0 * x.data ** 2))
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradgradcheck(cube, [leaf([0.7])])
    assert str(info.value).startswith("gradcheck failed, second order (gradgradcheck)")
    assert "d (grad of input 0) / d input 0" in str(info.value)
    assert "first order" in _report(_op(np.sin, lambda x, g: g * 2.0), leaf([0.3]))


def test_suspects_mean_instead_of_sum_and_a_constant_factor():
    class _MeanBackSum(Function):
        def forward(ctx, x):
            return np.asarray(x.sum())

        def backward(ctx, grad):
            (x,) = ctx.parents
            return grad.expand(x.shape) / 3.0

    message = _report(lambda t: _MeanBackSum.apply(t), leaf([0.5, 1.0, 2.0]))
    assert "mean instead of sum" in message and "1/3" in message
    message = _report(_op(lambda x: x ** 3, lambda x, g: g * 2.0 * x * x), leaf([0.5, 1.5]))
    assert "constant factor: analytic = 0.6667 * numeric everywhere" in message
    # small blocks are printed whole, analytic above numeric
    assert "analytic (rows: output elements" in message
    assert "[[0.5 0. ]\n     [0.  4.5]]" in message and "[[0.75 0.  ]\n     [0.   6.75]]" in message


def test_engine_shape_errors_become_a_report_naming_unbroadcast():
    class _NoUnbroadcast(Function):
        def forward(ctx, x, y):
            return x + y

        def backward(ctx, grad):
            return grad, grad

    x, y = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([1.0, 2.0])
    with pytest.raises(tg.GradcheckError) as info:
        tg.gradcheck(lambda a, b: _NoUnbroadcast.apply(a, b), [x, y])
    message = str(info.value)
    assert "backward returned a gradient of shape (2, 2) for input 1 of shape (2,)" in message
    assert "suspect: missing unbroadcast" in message
    assert not tg.gradcheck(lambda a, b: _NoUnbroadcast.apply(a, b), [x, y],
                            raise_exception=False)
