"""Loss weights in PyTorch's argument order: cross_entropy and nll_loss with per-class
weights and ignore_index, mse_loss and binary_cross_entropy_with_logits with element
weights; values and gradients against PyTorch on hypothesis-drawn batches, finite
differences in float64, the loss modules' buffers, and the errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812

torch = pytest.importorskip("torch")
TF = torch.nn.functional
IGNORED = -100


@st.composite
def batches(draw, ignore=IGNORED):
    """(logits (N, C), class targets with some ignored, class weights or None)."""
    rows, classes = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(rows, classes)) * 3
    target = rng.integers(0, classes, rows)
    target[rng.random(rows) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = ignore
    weight = rng.uniform(0.1, 2.0, classes) if draw(st.booleans()) else None
    return logits, target, weight


def theirs(fn, logits, target, weight, **kwargs):
    x = torch.tensor(logits, requires_grad=True)
    w = None if weight is None else torch.tensor(weight)
    out = fn(x, torch.tensor(target), weight=w, **kwargs)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def ours(fn, logits, target, weight, **kwargs):
    x = tg.tensor(logits, requires_grad=True)
    w = None if weight is None else tg.tensor(weight)
    out = fn(x, tg.tensor(target), weight=w, **kwargs)
    out.sum().backward()
    return out.numpy(), x.grad.numpy()


def assert_same(mine, reference):
    for m, r in zip(mine, reference):
        np.testing.assert_allclose(m, r, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=40, deadline=None)
@given(batch=batches(), smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_weight_and_ignore_index_match_pytorch(reduction, batch, smoothing):
    logits, target, weight = batch
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    assert_same(ours(F.cross_entropy, logits, target, weight, **kwargs),
                theirs(TF.cross_entropy, logits, target, weight, **kwargs))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=40, deadline=None)
@given(batch=batches(ignore=2))
def test_nll_loss_weight_and_ignore_index_match_pytorch(reduction, batch):
    logits, target, weight = batch
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    kwargs = dict(reduction=reduction, ignore_index=2)
    assert_same(ours(F.nll_loss, logp, target, weight, **kwargs),
                theirs(TF.nll_loss, logp, target, weight, **kwargs))


@settings(max_examples=20, deadline=None)
@given(batch=batches())
def test_weighted_probability_targets_match_pytorch(batch):
    logits, _, weight = batch
    probs = np.random.default_rng(0).dirichlet(np.ones(logits.shape[1]), logits.shape[0])
    assert_same(ours(F.cross_entropy, logits, probs, weight),
                theirs(TF.cross_entropy, logits, probs, weight))


def test_spatial_targets_with_weight_and_ignore_index_match_pytorch():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 3, 4, 5))
    target = rng.integers(0, 3, (2, 4, 5))
    target[0, 1] = IGNORED
    weight = np.array([0.5, 1.0, 2.0])
    assert_same(ours(F.cross_entropy, logits, target, weight),
                theirs(TF.cross_entropy, logits, target, weight))


@settings(max_examples=15, deadline=None)
@given(batch=batches(), smoothing=st.sampled_from([0.0, 0.2]))
def test_weighted_cross_entropy_gradients_first_and_second_order(batch, smoothing):
    logits, target, weight = batch
    if not (target != IGNORED).any():
        return  # the mean over nothing is nan: nothing to differentiate
    w = None if weight is None else tg.tensor(weight)
    t = tg.tensor(target)

    def fn(x):
        return F.cross_entropy(x, t, weight=w, label_smoothing=smoothing)

    x = tg.tensor(logits, requires_grad=True)
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])


def test_everything_ignored_gives_nan_mean_and_zero_sum_as_pytorch():
    logits, target = np.zeros((3, 4)), np.full(3, IGNORED)
    for reduction in ("mean", "sum"):
        for fn, tfn in ((F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)):
            assert_same(ours(fn, logits, target, None, reduction=reduction),
                        theirs(tfn, logits, target, None, reduction=reduction))


def test_loss_modules_keep_the_weight_as_a_buffer():
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0, 0.5], ignore_index=1, label_smoothing=0.1)
    assert "weight" in loss.state_dict() and loss.weight.dtype == np.float32
    assert repr(loss) == "CrossEntropyLoss(ignore_index=1)"
    logits, target = np.random.default_rng(2).normal(size=(4, 3)), np.array([0, 1, 2, 2])
    reference = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]),
                                          ignore_index=1, label_smoothing=0.1)
    mine = loss(tg.tensor(logits, dtype=tg.float32), tg.tensor(target))
    expected = reference(torch.tensor(logits, dtype=torch.float32), torch.tensor(target))
    np.testing.assert_allclose(mine.item(), expected.item(), rtol=1e-6)
    nll = nn.NLLLoss([2.0, 1.0, 1.0])  # the weight first, as PyTorch
    assert np.array_equal(nll.weight.numpy(), [2.0, 1.0, 1.0])
    moved = loss.to("standin")
    assert moved.weight.device.type == "standin"


def test_bad_arguments_are_named():
    x, t = tg.zeros(2, 3), tg.tensor([0, 1])
    with pytest.raises(TypeError, match=r"cross_entropy: weight must be a tensor of 3 class "
                                        r"weights, got 'sum'; pass reduction by keyword"):
        F.cross_entropy(x, t, "sum")
    with pytest.raises(ValueError, match=r"weight must hold one number per class, shape "
                                         r"\(3,\), got shape \(2,\)"):
        F.cross_entropy(x, t, weight=tg.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"ignore_index=0 applies to class indices only"):
        F.cross_entropy(x, tg.zeros(2, 3), ignore_index=0)
    with pytest.raises(TypeError, match=r"size_average and reduce are PyTorch's deprecated"):
        F.nll_loss(x, t, size_average=False)
    with pytest.raises(IndexError, match=r"\[0, 3\) .* \(or equal ignore_index=-1\), got "
                                         r"values from 0 to 5"):
        F.cross_entropy(tg.zeros(3, 3), tg.tensor([0, 5, -1]), ignore_index=-1)
    with pytest.raises(RuntimeError, match=r"weight is on standin but the input is on cpu"):
        F.cross_entropy(x, t, weight=tg.ones(3).to("standin"))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 5), columns=st.integers(1, 4))
def test_weighted_mse_and_bce_match_pytorch(reduction, seed, rows, columns):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(rows, columns)) * 2, rng.random((rows, columns))
    weight = rng.uniform(0.1, 2.0, (rows, columns))
    column_weight, pos_weight = rng.uniform(0.1, 2.0, columns), rng.uniform(0.5, 2.0, columns)
    cases = [
        (F.mse_loss, TF.mse_loss, dict(weight=weight)),
        (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
         dict(weight=column_weight, pos_weight=pos_weight)),
    ]
    for fn, tfn, extra in cases:
        mx, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        mine = fn(mx, tg.tensor(y), reduction=reduction,
                  **{k: tg.tensor(v) for k, v in extra.items()})
        ref = tfn(tx, torch.tensor(y), reduction=reduction,
                  **{k: torch.tensor(v) for k, v in extra.items()})
        mine.sum().backward()
        ref.sum().backward()
        assert_same((mine.numpy(), mx.grad.numpy()),
                    (ref.detach().numpy(), tx.grad.numpy()))


def test_bce_module_keeps_weight_and_pos_weight_as_buffers():
    loss = nn.BCEWithLogitsLoss(weight=[1.0, 2.0], pos_weight=[3.0, 0.5], reduction="sum")
    assert set(loss.state_dict()) == {"weight", "pos_weight"}
    x, y = np.array([[0.3, -1.2], [2.0, 0.1]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    reference = torch.nn.BCEWithLogitsLoss(weight=torch.tensor([1.0, 2.0]),
                                           pos_weight=torch.tensor([3.0, 0.5]),
                                           reduction="sum")
    expected = reference(torch.tensor(x, dtype=torch.float32),
                         torch.tensor(y, dtype=torch.float32))
    mine = loss(tg.tensor(x, dtype=tg.float32), tg.tensor(y, dtype=tg.float32))
    np.testing.assert_allclose(mine.item(), expected.item(), rtol=1e-6)


def test_a_reduction_in_the_weight_slot_is_named():
    x = tg.zeros(2, 3)
    with pytest.raises(TypeError, match=r"binary_cross_entropy_with_logits: weight must be .*"
                                        r"got 'sum'; pass reduction by keyword"):
        F.binary_cross_entropy_with_logits(x, x, "sum")
    with pytest.raises(TypeError, match=r"mse_loss: size_average and reduce are PyTorch's "
                                        r"deprecated spellings"):
        F.mse_loss(x, x, "sum")
    with pytest.raises(ValueError, match=r"mse_loss: weight of shape \(3,\) must have the "
                                         r"input's shape \(2, 3\)"):
        F.mse_loss(x, x, weight=tg.ones(3))
    with pytest.raises(TypeError, match=r"MSELoss: size_average and reduce"):
        nn.MSELoss("sum")
