"""Numerics at the edges (nan, inf, zero, empty, huge logits): PyTorch's answers."""

import math
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F  # noqa: N812
from tinygrad_edu import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional
NAN, INF = math.nan, math.inf


def same(actual, expected, rtol=1e-6, atol=1e-7):
    """Equal values, nan where nan, inf of the same sign where inf."""
    a = actual.data if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def quietly(fn, *args, **kwargs):
    """fn(*args, **kwargs) with the degrees-of-freedom warnings (PyTorch gives them too)
    hidden."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# -- 1. var and std ------------------------------------------------------------------

VAR_CASES = [  # (values, keyword arguments)
    ([1.0, NAN], {}), ([1.0, INF], {}), ([3.0], {}), ([], {}), ([], {"correction": 0}),
    ([1.0, 2.0], {"correction": 2}), ([1.0, 2.0], {"correction": 5}),
    ([1.0, 1.0], {"correction": 2}), ([[1.0, 2.0], [3.0, 3.0]], {"dim": 1, "correction": 2}),
    ([2.0, 2.0, 2.0], {}), ([1.0, 2.0, 4.0], {"correction": 0}),
]


@pytest.mark.parametrize("values, kwargs", VAR_CASES)
def test_var_and_std_edge_cases_match_pytorch(values, kwargs):
    data = np.array(values, dtype=np.float32)
    for name in ("var", "std"):
        mine = quietly(getattr(Tensor(data), name), **kwargs)
        theirs = quietly(getattr(torch.tensor(data), name), **kwargs)
        same(mine, theirs)


def test_std_gradients_at_the_edges_match_pytorch():
    for values in ([3.0], [1.0, INF], [2.0, 2.0, 2.0], [1.0, 2.0, 4.0]):
        x = Tensor(np.array(values), requires_grad=True)
        tx = torch.tensor(values, requires_grad=True)
        quietly(x.std).backward()
        quietly(tx.std).backward()
        same(x.grad, tx.grad)


def test_var_with_too_few_values_warns_like_pytorch():
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        Tensor([1.0]).var()


# -- 2. a masked class (logit -inf) in cross_entropy and nll_loss -----------------------

@pytest.mark.parametrize("target, smoothing", [(1, 0.0), (0, 0.0), (1, 0.1), (2, 0.0)])
def test_cross_entropy_with_a_masked_class_matches_pytorch(target, smoothing):
    logits = np.array([[-INF, 2.0, 1.0], [0.5, -INF, 0.0]], dtype=np.float32)
    targets = np.array([target, 0])
    x = Tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(targets), label_smoothing=smoothing)
    expected = TF.cross_entropy(tx, torch.tensor(targets), label_smoothing=smoothing)
    loss.backward()
    expected.backward()
    same(loss, expected)
    same(x.grad, tx.grad)
    if target == 1 and smoothing == 0.0:
        assert loss.item() == pytest.approx((0.3132616 + 0.474077) / 2, rel=1e-6)
        assert np.isfinite(x.grad.data).all() and x.grad.data[0, 0] == 0.0


def test_nll_loss_with_a_masked_class_matches_pytorch():
    logits = np.array([[-INF, 2.0, 1.0]], dtype=np.float32)
    for reduction in ("mean", "sum", "none"):
        x = Tensor(logits, requires_grad=True)
        tx = torch.tensor(logits, requires_grad=True)
        loss = F.nll_loss(x.log_softmax(1), Tensor([1]), reduction=reduction)
        expected = TF.nll_loss(tx.log_softmax(1), torch.tensor([1]), reduction=reduction)
        loss.sum().backward()
        expected.sum().backward()
        same(loss, expected)
        assert loss.data.ravel()[0] == pytest.approx(0.3132617, rel=1e-6)
        same(x.grad, tx.grad)


# -- 3. the fused cross_entropy: exact at huge logits, correct derivatives -------------

@pytest.mark.parametrize("scale", [1e4, 1e5])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_is_exact_at_huge_float32_logits(scale, reduction):
    # ties make losses of log 2: the composite lost them to float32 rounding at 1e4
    logits = np.array([[1.0, 1.0, -1.0], [0.0, 1.0, 1.0], [0.3, -0.2, 1.0]],
                      dtype=np.float32) * scale
    targets = np.array([0, 2, 1])
    x = Tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(targets), reduction=reduction)
    expected = TF.cross_entropy(tx, torch.tensor(targets), reduction=reduction)
    assert loss.dtype == np.float32
    same(loss, expected, rtol=1e-7, atol=0)
    loss.sum().backward()
    expected.sum().backward()
    same(x.grad, tx.grad, rtol=1e-6, atol=1e-7)


def test_cross_entropy_matches_pytorch_for_every_target_form():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 5, 3))  # (N, C, d1)
    indices = rng.integers(0, 5, (4, 3))
    probs = rng.dirichlet(np.ones(5), (4, 3)).transpose(0, 2, 1)
    for target in (indices, probs):
        for smoothing in (0.0, 0.2):
            for reduction in ("mean", "sum", "none"):
                x = Tensor(logits, requires_grad=True)
                tx = torch.tensor(logits, requires_grad=True)
                loss = F.cross_entropy(x, Tensor(target), reduction=reduction,
                                       label_smoothing=smoothing)
                expected = TF.cross_entropy(tx, torch.tensor(target), reduction=reduction,
                                            label_smoothing=smoothing)
                loss.sum().backward()
                expected.sum().backward()
                same(loss, expected, rtol=1e-10, atol=1e-12)
                same(x.grad, tx.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_first_and_second_order(reduction, smoothing):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    target = Tensor(np.array([0, 3, 1]))
    def fn(t):
        return F.cross_entropy(t, target, reduction=reduction, label_smoothing=smoothing)
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])
    # the second derivative, against PyTorch's double backward
    tx = torch.tensor(x.data, requires_grad=True)
    (g,) = tg.grad(fn(x).sum(), x, create_graph=True)
    (tg_,) = torch.autograd.grad(TF.cross_entropy(tx, torch.tensor(target.data),
                                                  reduction=reduction,
                                                  label_smoothing=smoothing).sum(),
                                 tx, create_graph=True)
    (gg,) = tg.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg_ * tg_).sum(), tx)
    same(gg, tgg, rtol=1e-9, atol=1e-12)


def test_cross_entropy_is_one_op():
    x = Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    loss = F.cross_entropy(x, Tensor([0, 1]))
    assert type(loss.grad_fn).__name__ == "CrossEntropy"


# -- 4. pow at a zero base ------------------------------------------------------------

POW_POINTS = [(0.0, 0.0), (0.0, 1.0), (0.0, 2.0), (0.0, 0.5), (0.0, -1.0), (0.0, -0.5),
              (-2.0, 0.0), (2.0, 0.0), (-2.0, 2.0), (1.5, -1.0)]


@pytest.mark.parametrize("base, exponent", POW_POINTS)
def test_pow_gradients_at_a_zero_base_match_pytorch(base, exponent):
    x, y = Tensor(base, requires_grad=True), Tensor(exponent, requires_grad=True)
    tx, ty = torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    with np.errstate(all="ignore"):
        (x ** y).backward()
    (tx ** ty).backward()
    same(x.grad, tx.grad)
    same(y.grad, ty.grad)
    # with a Python number on one side
    x = Tensor(base, requires_grad=True)
    tx = torch.tensor(base, requires_grad=True)
    with np.errstate(all="ignore"):
        (x ** exponent).backward()
    (tx ** exponent).backward()
    same(x.grad, tx.grad)
    if base == 0.0:
        y = Tensor(exponent, requires_grad=True)
        ty = torch.tensor(exponent, requires_grad=True)
        with np.errstate(all="ignore"):
            (0.0 ** y).backward()
        (0.0 ** ty).backward()
        same(y.grad, ty.grad)


# -- 5. empty batches, nan through relu/abs, inf in softmax, inf gradients -------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_of_an_empty_batch_match_pytorch(reduction):
    x = Tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    tx = torch.zeros((0, 3), requires_grad=True)
    empty = np.zeros(0, np.int64)
    for mine, theirs in [(F.cross_entropy(x, Tensor(empty), reduction=reduction),
                          TF.cross_entropy(tx, torch.tensor(empty), reduction=reduction)),
                         (F.nll_loss(x, Tensor(empty), reduction=reduction),
                          TF.nll_loss(tx, torch.tensor(empty), reduction=reduction)),
                         (F.cross_entropy(x, Tensor(np.zeros((0, 3))), reduction=reduction),
                          TF.cross_entropy(tx, torch.zeros((0, 3)), reduction=reduction))]:
        assert mine.shape == tuple(theirs.shape)
        same(mine, theirs)
        mine.sum().backward()
        assert x.grad.shape == (0, 3)


def test_relu_and_abs_gradients_at_nan_match_pytorch():
    values = [NAN, 1.5, -1.5, 0.0]
    for name in ("relu", "abs"):
        x = Tensor(np.array(values), requires_grad=True)
        tx = torch.tensor(values, requires_grad=True)
        out, expected = getattr(x, name)(), getattr(tx, name)()
        out.backward(tg.ones(4, dtype=np.float64))
        expected.backward(torch.ones(4, dtype=torch.float64))
        same(out, expected)
        same(x.grad, tx.grad)


@pytest.mark.parametrize("row", [[INF, 1.0, 0.0], [INF, INF, 0.0], [-INF, -INF, -INF],
                                 [-INF, 1.0, 0.0], [NAN, 1.0, 0.0], [1e4, -1e4, 0.0]])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_with_infinities_matches_pytorch(row, name):
    x = Tensor(np.array(row), requires_grad=True)
    tx = torch.tensor(row, requires_grad=True)
    with np.errstate(all="ignore"):
        out = getattr(x, name)(0)
        out.backward(Tensor(np.linspace(1.0, 2.0, out.data.size).reshape(out.shape)))
    expected = getattr(tx, name)(0)
    expected.backward(torch.linspace(1.0, 2.0, expected.numel(),
                                     dtype=torch.float64).reshape(expected.shape))
    same(out, expected)
    same(x.grad, tx.grad)


@pytest.mark.parametrize("name", ["relu", "clip", "maximum", "minimum"])
def test_an_inf_gradient_gives_the_unchosen_side_zero_not_nan(name):
    values = [-1.0, 2.0]
    x = Tensor(np.array(values), requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    ours = {"relu": lambda t: t.relu(), "clip": lambda t: t.clip(0.0, 1.0),
            "maximum": lambda t: t.maximum(t * 0.5), "minimum": lambda t: t.minimum(t * 0.5)}
    theirs = {"relu": lambda t: t.relu(), "clip": lambda t: t.clamp(0.0, 1.0),
              "maximum": lambda t: t.maximum(t * 0.5), "minimum": lambda t: t.minimum(t * 0.5)}
    grad = np.array([INF, INF])
    ours[name](x).backward(Tensor(grad))
    theirs[name](tx).backward(torch.tensor(grad))
    same(x.grad, tx.grad)
