"""cross_entropy with class indices reads each row's target entry in the fused op (no
one-hot rows are built); with class weights, label smoothing or an ignored target it
takes the weighted form. Both forms must give the same numbers, first and second order,
and an ignore_index that is a real class must still be honoured."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.ops.reduce import row_reduced


@st.composite
def logits_and_targets(draw):
    rows, classes = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    return rng.normal(size=(rows, classes)) * 3, rng.integers(0, classes, rows)


def value_grad_and_second(logits, target, reduction):
    """The loss, d loss/d logits, and d(sum of squared first gradients)/d logits."""
    x = tg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, target, reduction=reduction)
    (g,) = tg.grad(loss.sum(), x, create_graph=True)
    (gg,) = tg.grad((g * g).sum(), x)
    x.grad = None
    F.cross_entropy(x, target, reduction=reduction).sum().backward()  # unrecorded path
    return loss.numpy(), g.numpy(), x.grad.numpy(), gg.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=60, deadline=None)
@given(batch=logits_and_targets())
def test_class_indices_give_the_numbers_of_one_hot_probabilities(reduction, batch):
    logits, target = batch
    one_hot = np.eye(logits.shape[1])[target]
    by_index = value_grad_and_second(logits, tg.tensor(target), reduction)
    by_rows = value_grad_and_second(logits, tg.tensor(one_hot), reduction)
    for mine, reference in zip(by_index, by_rows):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-14)
    # recorded and unrecorded backward agree too
    np.testing.assert_allclose(by_index[1], by_index[2], rtol=1e-12, atol=1e-14)


def test_class_indices_reach_the_op_as_they_are():
    x = tg.zeros(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([0, 2, 1, 2]))
    ctx = loss.grad_fn
    assert type(ctx).__name__ == "CrossEntropy"
    targets = ctx.parents[1]
    assert targets.shape == (4,) and targets.dtype == np.int64  # not (4, 3) one-hot rows
    assert loss.item() == pytest.approx(np.log(3.0))


@pytest.mark.parametrize("ignore_index", [0, 2])
def test_an_ignore_index_that_is_a_class_is_left_out(ignore_index):
    logits = np.random.default_rng(0).normal(size=(5, 3))
    target = np.array([0, 1, 2, ignore_index, 1])
    kept = target != ignore_index
    x = tg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor(target), ignore_index=ignore_index)
    loss.backward()
    y = tg.tensor(logits[kept], requires_grad=True)
    expected = F.cross_entropy(y, tg.tensor(target[kept]))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad.numpy()[kept], y.grad.numpy(), rtol=1e-12)
    assert not x.grad.numpy()[~kept].any()


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_targets_outside_the_classes_are_refused(name):
    # both losses check the indices before their op, which would wrap a negative one
    x = tg.zeros(3, 3, requires_grad=True)
    for bad in ([0, 3, 1], [0, -1, 1]):
        with pytest.raises(IndexError, match=rf"{name}: target class indices must lie "
                                             r"in \[0, 3\)"):
            getattr(F, name)(x, tg.tensor(bad))


@pytest.mark.parametrize("how", ["max", "sum"])
@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 70), classes=st.integers(1, 40), seed=st.integers(0, 2**31 - 1),
       special=st.sampled_from([None, np.nan, -np.inf, np.inf]))
def test_row_reductions_match_numpys_on_either_layout(how, rows, classes, seed, special):
    """The loss reduces each row through a transposed copy where that is faster; max must
    be NumPy's exactly (nan and -inf kept), sum NumPy's to rounding."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, classes)).astype(np.float32) * 10
    if special is not None:
        x[rng.integers(0, rows), rng.integers(0, classes)] = special
    got = row_reduced(x, how)
    expected = getattr(x, how)(axis=1, keepdims=True)
    assert got.shape == (rows, 1) and got.dtype == x.dtype
    if how == "max":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
