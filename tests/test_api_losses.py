"""The elementwise losses (l1, smooth_l1, huber, binary_cross_entropy, kl_div) and their
modules: values and gradients (of input and target) against PyTorch on hypothesis-drawn
inputs, first and second order finite differences in float64 (these run without
PyTorch), and the errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812

REDUCTIONS = ["mean", "sum", "none"]


def torch_module():
    return pytest.importorskip("torch")


@st.composite
def pairs(draw, kind="real"):
    """(input, target) arrays of one drawn shape: reals, or probabilities for bce, or
    log-probabilities and probabilities for kl_div."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    if kind == "probability":
        x = rng.uniform(0.02, 0.98, shape)
        y = rng.random(shape)
        y[rng.random(shape) < 0.3] = 1.0  # hard labels among the soft ones
        return x, y
    if kind == "distribution":
        logits = rng.normal(size=shape) * 2
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        q = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
        q[rng.random(shape) < 0.2] = 0.0  # zeros in the target add nothing
        return logp, q
    scale = draw(st.sampled_from([0.3, 1.0, 3.0]))
    return rng.normal(size=shape) * scale, rng.normal(size=shape) * scale


def run_both(fn, tfn, x, y, *args, **kwargs):
    """Value and gradients (input, target) of ours and PyTorch's, on the summed loss."""
    torch = torch_module()
    results = []
    for lib, f in ((tg, fn), (torch, tfn)):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(y, requires_grad=True)
        out = f(a, b, *args, **kwargs)
        out.sum().backward()
        results.append([np.asarray(out.detach().numpy()), a.grad.numpy(), b.grad.numpy()])
    return results


def assert_same(mine, theirs):
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=25, deadline=None)
@given(pair=pairs(), beta=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
       delta=st.sampled_from([0.5, 1.0, 2.0]))
def test_l1_smooth_l1_and_huber_match_pytorch(reduction, pair, beta, delta):
    torch = torch_module()
    TF = torch.nn.functional  # noqa: N806
    x, y = pair
    assert_same(*run_both(F.l1_loss, TF.l1_loss, x, y, reduction=reduction))
    assert_same(*run_both(F.smooth_l1_loss, TF.smooth_l1_loss, x, y, reduction=reduction,
                          beta=beta))
    assert_same(*run_both(F.huber_loss, TF.huber_loss, x, y, reduction, delta))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@settings(max_examples=15, deadline=None)
@given(pair=pairs(), seed=st.integers(0, 1000))
def test_weighted_l1_and_huber_match_pytorch(reduction, pair, seed):
    """l1_loss's mean divides by the summed weights, huber_loss's by the count (as PyTorch)."""
    torch = torch_module()
    x, y = pair
    w = np.random.default_rng(seed).uniform(0.1, 2.0, x.shape)
    for name in ("l1_loss", "huber_loss"):
        mine = getattr(F, name)(tg.tensor(x), tg.tensor(y), reduction=reduction,
                                weight=tg.tensor(w))
        ref = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y),
                                                 reduction=reduction, weight=torch.tensor(w))
        np.testing.assert_allclose(mine.item(), ref.item(), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=25, deadline=None)
@given(pair=pairs("probability"), weighted=st.booleans())
def test_binary_cross_entropy_matches_pytorch(reduction, pair, weighted):
    torch = torch_module()
    x, y = pair
    w = np.linspace(0.5, 2.0, x.shape[-1]) if weighted else None
    mine, theirs = [], []
    for lib, fn, out in ((tg, F.binary_cross_entropy, mine),
                         (torch, torch.nn.functional.binary_cross_entropy, theirs)):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        loss = fn(a, b, None if w is None else lib.tensor(w), reduction=reduction)
        loss.sum().backward()
        out += [loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()]
    assert_same(mine, theirs)


def test_binary_cross_entropy_floors_the_logs_at_minus_100_as_pytorch():
    torch = torch_module()
    x, y = np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    mine = F.binary_cross_entropy(tg.tensor(x), tg.tensor(y), reduction="none")
    ref = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y),
                                                   reduction="none")
    np.testing.assert_allclose(mine.numpy(), ref.numpy())
    assert np.array_equal(mine.numpy(), [100.0, 100.0, 0.0, 0.0, 100.0])
    x_grad = tg.tensor(x, requires_grad=True)
    F.binary_cross_entropy(x_grad, tg.tensor(y)).backward()
    assert np.isfinite(x_grad.grad.numpy()).all()  # no 0 * inf from log(0)


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@settings(max_examples=25, deadline=None)
@given(pair=pairs("distribution"), log_target=st.booleans())
def test_kl_div_matches_pytorch(reduction, pair, log_target):
    torch = torch_module()
    logp, q = pair
    if log_target:
        q = np.log(np.where(q == 0, 0.5, q))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that 'mean' is not the KL divergence
        mine, theirs = run_both(F.kl_div, torch.nn.functional.kl_div, logp, q,
                                reduction=reduction, log_target=log_target)
    if not log_target:  # d/dq of q log q at q = 0 is -inf: PyTorch gives nan, left out here
        for result in (mine, theirs):
            result[2] = np.where(q == 0, 0.0, result[2])
    assert_same(mine, theirs)


def test_loss_modules_match_pytorch_and_show_as_pytorch():
    torch = torch_module()
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0.05, 0.95, (3, 4)), rng.random((3, 4))
    w = rng.uniform(0.5, 1.5, 4)
    cases = [("L1Loss", (), dict(reduction="sum")), ("SmoothL1Loss", (), dict(beta=0.3)),
             ("HuberLoss", ("none", 0.4), {}), ("BCELoss", (w,), {}),
             ("KLDivLoss", (), dict(reduction="batchmean", log_target=True))]
    for name, args, kwargs in cases:
        mine = getattr(nn, name)(*[tg.tensor(a) if isinstance(a, np.ndarray) else a
                                   for a in args], **kwargs)
        ref = getattr(torch.nn, name)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a
                                        for a in args], **kwargs)
        np.testing.assert_allclose(mine(tg.tensor(x), tg.tensor(y)).numpy(),
                                   ref(torch.tensor(x), torch.tensor(y)).numpy(),
                                   rtol=1e-10, err_msg=name)
    assert "weight" in nn.BCELoss(tg.tensor(w)).state_dict()
    assert repr(nn.L1Loss()) == "L1Loss()" and repr(nn.KLDivLoss()) == "KLDivLoss()"


# -- finite differences (no PyTorch needed) ------------------------------------------


@settings(max_examples=10, deadline=None)
@given(pair=pairs(), beta=st.sampled_from([0.5, 2.0]))
def test_elementwise_losses_gradcheck_first_and_second_order(pair, beta):
    x, y = pair
    x = np.where(np.abs(np.abs(x - y) - beta) < 1e-3, x + 0.01, x)  # away from the seams
    x = np.where(np.abs(x - y) < 1e-3, x + 0.01, x)  # and from |d| = 0 (l1's kink)
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)
    for fn in (lambda u, v: F.l1_loss(u, v),
               lambda u, v: F.smooth_l1_loss(u, v, beta=beta),
               lambda u, v: F.huber_loss(u, v, "sum", beta)):
        assert tg.gradcheck(fn, [a, b])
        assert tg.gradgradcheck(fn, [a, b])


@settings(max_examples=10, deadline=None)
@given(bce=pairs("probability"), kl=pairs("distribution"), log_target=st.booleans())
def test_bce_and_kl_div_gradcheck_first_and_second_order(bce, kl, log_target):
    x, y = bce
    w = tg.tensor(np.linspace(0.5, 2.0, x.shape[-1]))
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)

    def fn(u, v):
        return F.binary_cross_entropy(u, v, w)

    assert tg.gradcheck(fn, [a, b])
    assert tg.gradgradcheck(fn, [a, b])
    logp, q = kl
    q = np.log(q + 0.1) if log_target else q + 0.1  # the target's gradient needs q > 0
    c, d = tg.tensor(logp, requires_grad=True), tg.tensor(q, requires_grad=True)

    def kl_fn(u, v):
        return F.kl_div(u, v, reduction="batchmean", log_target=log_target)

    assert tg.gradcheck(kl_fn, [c, d])
    assert tg.gradgradcheck(kl_fn, [c, d])


def test_kl_div_zero_target_adds_nothing():
    out = F.kl_div(tg.tensor([-1.0, -2.0]), tg.tensor([0.0, 1.0]), reduction="none")
    assert np.array_equal(out.numpy(), [0.0, 2.0])


def test_loss_errors_name_the_function_and_the_shapes():
    x = tg.tensor([[0.2, 0.5]])
    with pytest.raises(ValueError, match=r"l1_loss: target shape \(2,\) differs from input "
                                         r"shape \(1, 2\)"):
        F.l1_loss(x, tg.tensor([0.1, 0.2]))
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input "
                                           r"\(shape \(1, 2\)\) must be probabilities"):
        F.binary_cross_entropy(x * 3, x)
    with pytest.raises(TypeError, match=r"binary_cross_entropy: weight must be .* got 'sum'"):
        F.binary_cross_entropy(x, x, "sum")
    with pytest.raises(TypeError, match=r"smooth_l1_loss: size_average and reduce"):
        F.smooth_l1_loss(x, x, "sum")
    with pytest.raises(TypeError, match=r"KLDivLoss: size_average and reduce"):
        nn.KLDivLoss(False)
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of .*'batchmean'"):
        F.kl_div(x, x, reduction="average")
    with pytest.raises(ValueError, match=r"huber_loss: reduction must be one of"):
        F.huber_loss(x, x, "batchmean")
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(x, x, beta=-1.0)
