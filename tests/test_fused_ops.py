"""Softmax, LogSoftmax and LogSumExp (ops/nn_ops.py), and NllLoss, MseLoss and BceWithLogits
(ops/losses.py) as single ops: values and gradients against float64 references on
every layout the softmax forward treats differently (a short last axis through the
transposed copy, N-d C-ordered arrays reshaped to rows, views that are not C-ordered,
other axes), and each loss's one-op path against its composite path (taken with a
weight of ones): the same numbers, and gradients for the input and the target. Class
indices changed after the loss: an error for a target tensor changed in place (as in
PyTorch), nothing for NumPy data (copied)."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F  # noqa: N812


def reference_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def layouts():
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((128, 10)).astype(np.float32) * 4
    cube = rng.standard_normal((4, 16, 10)).astype(np.float32) * 4
    return {
        "rows, few classes": (rows, -1),
        "rows, axis 1": (rows, 1),
        "rows, axis 0": (rows, 0),
        "transposed view": (rows.T, -1),
        "3-d, last axis": (cube, 2),
        "3-d, middle axis": (cube, 1),
        "3-d permuted view": (cube.transpose(1, 0, 2), -1),
        "wide rows": (rng.standard_normal((8, 100)).astype(np.float32), -1),
    }


@pytest.mark.parametrize("layout", list(layouts()))
def test_softmax_family_values_and_gradients_on_every_layout(layout):
    x, axis = layouts()[layout]
    upstream = np.random.default_rng(1).standard_normal(x.shape)
    x64 = x.astype(np.float64)
    s = reference_softmax(x64, axis)
    logp = np.log(s)
    expected_grads = {
        "softmax": s * (upstream - (upstream * s).sum(axis=axis, keepdims=True)),
        "log_softmax": upstream - s * upstream.sum(axis=axis, keepdims=True),
    }
    for name, values in (("softmax", s), ("log_softmax", logp)):
        t = tg.tensor(x, requires_grad=True)
        out = getattr(t, name)(axis)
        assert out.dtype == np.float32 and out.shape == x.shape
        np.testing.assert_allclose(out.data, values, rtol=2e-6, atol=2e-6, err_msg=name)
        out.backward(tg.tensor(upstream.astype(np.float32)))
        np.testing.assert_allclose(t.grad.data, expected_grads[name], rtol=1e-4, atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("layout", list(layouts()))
def test_logsumexp_values_and_gradients_on_every_layout(layout):
    x, axis = layouts()[layout]
    x64 = x.astype(np.float64)
    upstream = np.random.default_rng(2).standard_normal(np.delete(x.shape, axis % x.ndim))
    expected = np.log(np.exp(x64).sum(axis=axis))  # no overflow at these magnitudes
    t = tg.tensor(x, requires_grad=True)
    out = t.logsumexp(axis)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=2e-6, atol=2e-6)
    out.backward(tg.tensor(upstream.astype(np.float32)))
    gradient = reference_softmax(x64, axis) * np.expand_dims(upstream, axis)
    np.testing.assert_allclose(t.grad.data, gradient, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_second_order_through_the_recorded_backward(name):
    x = tg.tensor(np.random.default_rng(2).standard_normal((5, 3)), requires_grad=True)
    for axis in (0, 1):
        assert tg.gradcheck(lambda t, a=axis: getattr(t, name)(a), [x])
        assert tg.gradgradcheck(lambda t, a=axis: getattr(t, name)(a), [x])


def test_integer_logits_give_float64_probabilities():
    out = tg.tensor([1, 2, 3]).softmax(0)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, reference_softmax(np.array([1.0, 2.0, 3.0]), 0))


def test_empty_rows_and_classes():
    for shape in [(0, 4), (3, 0)]:
        x = tg.zeros(*shape, requires_grad=True)
        for name in ("softmax", "log_softmax"):
            out = getattr(x, name)(-1)
            assert out.shape == shape
            out.sum().backward()
            assert x.grad.shape == shape


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_one_op_path_matches_the_general_path(reduction):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((32, 7))
    target = tg.tensor(rng.integers(0, 7, 32))
    losses, grads = [], []
    # no weight: the one-op path; a weight of ones: the general path, same numbers
    for weight in (None, tg.ones(7, dtype=np.float64)):
        logp = tg.tensor(logits, requires_grad=True)
        loss = F.nll_loss(logp.log_softmax(1), target, weight=weight, reduction=reduction)
        loss.backward(tg.ones_like(loss))
        losses.append(loss.data)
        grads.append(logp.grad.data)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)


def test_log_softmax_then_nll_loss_is_cross_entropy():
    rng = np.random.default_rng(4)
    logits, target = rng.standard_normal((16, 5)), tg.tensor(rng.integers(0, 5, 16))
    a = tg.tensor(logits, requires_grad=True)
    b = tg.tensor(logits, requires_grad=True)
    two_ops = F.nll_loss(F.log_softmax(a, dim=1), target)
    fused = F.cross_entropy(b, target)
    two_ops.backward()
    fused.backward()
    np.testing.assert_allclose(two_ops.data, fused.data, rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-10, atol=1e-15)
    # second order through both ops' recorded backward
    assert tg.gradgradcheck(lambda t: F.nll_loss(t.log_softmax(1), target), [a])


LOSSES = {
    "mse_loss": (F.mse_loss, "weight", lambda shape: np.random.default_rng(5).standard_normal(
        shape)),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, "weight",
                                         lambda shape: np.random.default_rng(5).random(shape)),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_one_op_losses_match_their_composite_path(name, reduction):
    loss_fn, weight_name, make_target = LOSSES[name]
    shape = (16, 5)
    logits = np.random.default_rng(6).standard_normal(shape) * 3
    logits[0, :3] = [0.0, 40.0, -40.0]  # the kink of |x| and saturated sigmoids
    target_values = make_target(shape)
    results = []
    for weight in (None, tg.ones(*shape, dtype=np.float64)):
        x = tg.tensor(logits, requires_grad=True)
        target = tg.tensor(target_values, requires_grad=True)
        extra = {} if weight is None else {weight_name: weight}
        loss = loss_fn(x, target, reduction=reduction, **extra)
        loss.backward(tg.ones_like(loss))
        results.append((loss.data, x.grad.data, target.grad.data))
    for one_op, composite, what in zip(*results, ("loss", "input grad", "target grad")):
        np.testing.assert_allclose(one_op, composite, rtol=1e-12, atol=1e-14, err_msg=what)


def test_one_op_losses_in_float32_at_large_logits():
    x = tg.tensor(np.array([1e4, -1e4, 1e4, -1e4, 0.0], np.float32), requires_grad=True)
    y = tg.tensor(np.array([1.0, 0.0, 0.0, 1.0, 0.25], np.float32))
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, 2e4 + np.log(2), rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [0, 0, 1, -1, 0.25], atol=1e-6)
    a = tg.tensor(np.full(1000, 1e3, np.float32), requires_grad=True)
    mse = F.mse_loss(a, tg.zeros(1000))
    np.testing.assert_allclose(mse.data, 1e6, rtol=1e-6)
    mse.backward()
    np.testing.assert_allclose(a.grad.data, np.full(1000, 2.0), rtol=1e-6)


INDEX_LOSSES = {
    "cross_entropy": F.cross_entropy,
    "nll_loss": F.nll_loss,
    # the composite paths (not one op): they copy the indices they read
    "nll_loss, weighted": lambda x, t: F.nll_loss(x, t, weight=tg.ones(3, dtype=np.float64)),
    "nll_loss, with ignore_index": lambda x, t: F.nll_loss(x, t, ignore_index=1),
}


@pytest.mark.parametrize("name", list(INDEX_LOSSES))
def test_class_indices_changed_in_place_before_backward(name):
    # one op reads the target tensor in backward: an error, as in PyTorch (the gradient
    # would otherwise be that of other targets); a composite path reads its own copy
    loss_fn = INDEX_LOSSES[name]
    for shape, change in [((4,), (0,)), ((2, 2), (0, 0))]:
        x = tg.tensor(np.random.default_rng(8).standard_normal((4, 3)), requires_grad=True)
        x_in = x if len(shape) == 1 else x.reshape(2, 2, 3).permute(0, 2, 1)  # (N, C, d1)
        target = tg.tensor(np.array([0, 1, 2, 1]).reshape(shape))
        loss = loss_fn(x_in, target)
        target[change] = 2
        if "," in name:  # a composite path copies the indices it reads: the gradient
            loss.backward()  # of the loss as it was computed, no error
            fresh = tg.tensor(x.numpy(), requires_grad=True)
            fresh_in = fresh if len(shape) == 1 else fresh.reshape(2, 2, 3).permute(0, 2, 1)
            loss_fn(fresh_in, tg.tensor(np.array([0, 1, 2, 1]).reshape(shape))).backward()
            np.testing.assert_array_equal(x.grad.numpy(), fresh.grad.numpy())
            continue
        with pytest.raises(RuntimeError, match=r"modified by an inplace operation: the input "
                                               r"1 of (crossentropy|nllloss)"):
            loss.backward()


@pytest.mark.parametrize("name", list(INDEX_LOSSES))
def test_class_indices_from_numpy_are_copied(name):
    # NumPy data passed to an op is copied, as PyTorch's tensor() does: changing the array
    # after the loss leaves the gradient that of the targets the loss was computed with
    kept, changed = grads_with_numpy_target_changed(
        INDEX_LOSSES[name], np.random.default_rng(9).standard_normal((4, 3)), [0, 1, 2, 1], 2)
    np.testing.assert_array_equal(kept, changed)


def grads_with_numpy_target_changed(loss_fn, logits, target_values, new_value):
    """The input's gradient of loss_fn(x, target) for a NumPy target: left as it is, and
    set to `new_value` between the loss and backward()."""
    grads = []
    for change in (False, True):
        x = tg.tensor(logits, requires_grad=True)
        target = np.array(target_values)
        loss = loss_fn(x, target)
        if change:
            target[:] = new_value
        loss.backward()
        grads.append(x.grad.numpy())
    return grads


@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits", "l1_loss",
                                  "smooth_l1_loss", "huber_loss"])
def test_targets_from_numpy_are_copied(name):
    kept, changed = grads_with_numpy_target_changed(
        getattr(F, name), np.linspace(-1.0, 1.0, 6), np.linspace(0.1, 0.9, 6), 0.5)
    np.testing.assert_array_equal(kept, changed)


@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_target_tensors_changed_in_place_before_backward_are_an_error(name):
    x = tg.tensor(np.linspace(-1.0, 1.0, 6), requires_grad=True)
    target = tg.tensor(np.linspace(0.1, 0.9, 6))
    loss = getattr(F, name)(x, target)
    target[0] = 0.5
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: the input 1"):
        loss.backward()


@pytest.mark.parametrize("target_dtype", [np.float64, np.float16])
@pytest.mark.parametrize("name", list(LOSSES))
def test_one_op_losses_promote_dtypes_as_their_composites(name, target_dtype):
    # float32 logits and a float64 target: a float64 loss, as PyTorch and the composite
    loss_fn, weight_name, make_target = LOSSES[name]
    logits = np.random.default_rng(10).standard_normal((6, 3)).astype(np.float32)
    target = make_target((6, 3)).astype(target_dtype)
    results = []
    for weight in (None, tg.ones(6, 3)):
        x = tg.tensor(logits, requires_grad=True)
        loss = loss_fn(x, tg.tensor(target), **({} if weight is None else {weight_name: weight}))
        loss.backward()
        results.append((loss, x.grad))
    (one_op, one_grad), (composite, composite_grad) = results
    assert one_op.dtype == composite.dtype == np.promote_types(np.float32, target_dtype)
    assert one_grad.dtype == composite_grad.dtype == np.float32
    np.testing.assert_allclose(one_op.numpy(), composite.numpy(), rtol=1e-6)
    np.testing.assert_allclose(one_grad.numpy(), composite_grad.numpy(), rtol=1e-5, atol=1e-7)
