"""Convolution, pooling, unfold/fold and BatchNorm2d against PyTorch (when importable).

An independent check of tests/test_conv.py's loop references: values and gradients of
every input, on hypothesis-drawn settings, in float64. Max pooling is drawn on inputs
with many ties (small integers), where "the first maximum takes the gradient" matters.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F  # noqa: N812

torch = pytest.importorskip("torch")
TF = torch.nn.functional
SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def windows(draw, pool=False):
    """kernel, stride, padding, dilation and an (H, W) that fits at least one window."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)  # PyTorch's pooling limit
    size = tuple(max(dd * (kk - 1) + 1 - 2 * pp, 1) + draw(st.integers(0, 3))
                 for kk, pp, dd in zip(k, p, d))
    return k, s, p, d, size


def every_window_sees_the_image(k, s, p, d, size):
    """False when some window lies entirely on the padding: PyTorch's max pooling then
    returns -inf, tinygrad_edu refuses (tested in test_conv.py)."""
    for kk, ss, pp, dd, n in zip(k, s, p, d, size):
        windows = (n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
        for w in range(windows):
            if not any(0 <= w * ss + i * dd - pp < n for i in range(kk)):
                return False
    return True


def both(array):
    """The same float64 values as a tinygrad_edu leaf and a PyTorch leaf."""
    return (tg.tensor(array, dtype=np.float64, requires_grad=True),
            torch.tensor(array, dtype=torch.float64, requires_grad=True))


def backward_both(ours, theirs, rng):
    """Backpropagate the same random upstream gradient through both outputs."""
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(ours.shape))
    ours.backward(tg.tensor(g, dtype=np.float64))
    theirs.backward(torch.tensor(g))


def assert_grads(pairs):
    for name, (a, b) in pairs.items():
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"gradient of {name}")


@SETTINGS
@given(windows(), st.integers(1, 2), st.sampled_from([(1, 1), (2, 2), (4, 2), (3, 3)]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_conv2d_matches_pytorch(setting, n, channels_groups, with_bias, seed):
    (k, s, p, d, size), (channels, groups) = setting, channels_groups
    rng = np.random.default_rng(seed)
    out_channels = 2 * groups
    x, tx = both(rng.standard_normal((n, channels) + size))
    w, tw = both(rng.standard_normal((out_channels, channels // groups) + k))
    b, tb = both(rng.standard_normal(out_channels)) if with_bias else (None, None)
    ours = F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=groups)
    theirs = TF.conv2d(tx, tw, tb, stride=s, padding=p, dilation=d, groups=groups)
    backward_both(ours, theirs, rng)
    assert_grads({"input": (x, tx), "weight": (w, tw)} | ({"bias": (b, tb)} if with_bias else {}))


@SETTINGS
@given(windows(pool=True), st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_max_pool2d_with_ties_matches_pytorch(setting, n, seed):
    k, s, p, d, size = setting
    assume(every_window_sees_the_image(k, s, p, d, size))
    rng = np.random.default_rng(seed)
    x, tx = both(rng.integers(0, 3, (n, 2) + size).astype(np.float64))  # ties everywhere
    ours, our_index = F.max_pool2d(x, k, s, p, d, return_indices=True)
    theirs, their_index = TF.max_pool2d(tx, k, s, p, d, return_indices=True)
    np.testing.assert_array_equal(our_index.numpy(), their_index.numpy())
    backward_both(ours, theirs, rng)
    assert_grads({"input": (x, tx)})


@SETTINGS
@given(windows(pool=True), st.booleans(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_matches_pytorch(setting, count_include_pad, seed):
    k, s, p, _, size = setting
    rng = np.random.default_rng(seed)
    x, tx = both(rng.standard_normal((2, 3) + size))
    ours = F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad)
    theirs = TF.avg_pool2d(tx, k, s, p, count_include_pad=count_include_pad)
    backward_both(ours, theirs, rng)
    assert_grads({"input": (x, tx)})


@SETTINGS
@given(windows(), st.integers(0, 2**32 - 1))
def test_unfold_and_fold_match_pytorch(setting, seed):
    k, s, p, d, size = setting
    rng = np.random.default_rng(seed)
    x, tx = both(rng.standard_normal((2, 2) + size))
    cols, tcols = F.unfold(x, k, d, p, s), TF.unfold(tx, k, d, p, s)
    backward_both(cols, tcols, rng)
    assert_grads({"unfold input": (x, tx)})
    c, tc = both(rng.standard_normal(tuple(cols.shape)))
    image, timage = F.fold(c, size, k, d, p, s), TF.fold(tc, size, k, d, p, s)
    backward_both(image, timage, rng)
    assert_grads({"fold input": (c, tc)})


def test_batchnorm_in_eval_mode_passes_gradients_like_pytorch():
    # eval mode folds weight and bias into the per-channel scale and shift: the input,
    # the weight and the bias must still get PyTorch's gradients (fine-tuning with
    # frozen statistics)
    rng = np.random.default_rng(1)
    ours, theirs = nn.BatchNorm2d(3, dtype=np.float64), torch.nn.BatchNorm2d(3).double()
    stats = rng.standard_normal(3), rng.random(3) + 0.5
    params = rng.standard_normal(3), rng.standard_normal(3)
    for module in (ours, theirs):
        module.eval()
    with torch.no_grad():
        for mine, other, value in zip((ours.running_mean, ours.running_var, ours.weight,
                                       ours.bias),
                                      (theirs.running_mean, theirs.running_var, theirs.weight,
                                       theirs.bias), stats + params):
            mine.data[...] = value
            other.copy_(torch.from_numpy(value))
    x, tx = both(rng.standard_normal((2, 3, 4, 4)))
    backward_both(ours(x), theirs(tx), rng)
    assert_grads({"input": (x, tx), "weight": (ours.weight, theirs.weight),
                  "bias": (ours.bias, theirs.bias)})


def test_batchnorm2d_training_and_eval_match_pytorch():
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm2d(3, dtype=np.float64), torch.nn.BatchNorm2d(3).double()
    for step in range(3):
        x, tx = both(rng.standard_normal((4, 3, 5, 5)) * (step + 1) + step)
        backward_both(ours(x), theirs(tx), rng)
        assert_grads({"input": (x, tx), "weight": (ours.weight, theirs.weight),
                      "bias": (ours.bias, theirs.bias)})
        ours.zero_grad()
        theirs.zero_grad()
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    x, tx = both(rng.standard_normal((2, 3, 5, 5)))
    np.testing.assert_allclose(ours(x).numpy(), theirs(tx).detach().numpy(), rtol=1e-12)
