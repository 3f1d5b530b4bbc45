"""nn.utils (gradient clipping, parameter vectors) and nn.init against PyTorch: clipping
exactly in float64; initializers by their bounds and statistics (different generators).
Runtime: about 1 s.
"""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn import init
from tinygrad_edu.nn import utils as nn_utils

RNG = np.random.default_rng(3)
GRADS = [RNG.standard_normal((3, 4)), RNG.standard_normal(5), 10 * RNG.standard_normal((2, 2))]


def with_grads(grads, dtype=np.float64):
    params = [nn.Parameter(Tensor(np.zeros(g.shape), dtype=dtype)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = Tensor(g, dtype=dtype)
    return params


def torch_with_grads(torch, grads):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 5.0, 1e4])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = with_grads(GRADS), torch_with_grads(torch, GRADS)
    total = nn_utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, Tensor) and total.shape == ()
    assert float(total) == pytest.approx(float(expected), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_by_hand():
    (p,) = with_grads([np.array([3.0, 4.0])])
    total = nn_utils.clip_grad_norm_(p, max_norm=1.0)  # a single Tensor works too
    assert float(total) == 5.0
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8], rtol=1e-5)
    (q,) = with_grads([np.array([3.0, -4.0])], np.float32)
    assert float(nn_utils.clip_grad_norm_([q], 10.0, norm_type="inf")) == 4.0
    assert q.grad.dtype == np.float32
    np.testing.assert_array_equal(q.grad.data, [3.0, -4.0])  # under max_norm: unchanged


def test_clip_grad_norm_skips_missing_grads_and_rejects_nonfinite():
    a, b = with_grads([np.ones(4), np.ones(2)])
    b.grad = None
    assert float(nn_utils.clip_grad_norm_([a, b], 1.0)) == pytest.approx(2.0)
    assert b.grad is None
    assert float(nn_utils.clip_grad_norm_([b], 1.0)) == 0.0
    (c,) = with_grads([np.array([1.0, np.inf])])
    with pytest.raises(RuntimeError, match="clip_grad_norm_|get_total_norm"):
        nn_utils.clip_grad_norm_([c], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type"):
        nn_utils.clip_grad_norm_([a], 1.0, norm_type=-1)
    with pytest.raises(TypeError, match="expected Tensors"):
        nn_utils.clip_grad_norm_([np.ones(2)], 1.0)


def test_clipping_a_gradient_array_shared_by_two_leaves_scales_each_once():
    a = nn.Parameter(Tensor(np.zeros(2)))
    b = nn.Parameter(Tensor(np.zeros(2)))
    (a + b).backward(Tensor(np.array([3.0, 4.0])))
    nn_utils.clip_grad_norm_([a, b], max_norm=1.0)  # total norm sqrt(50)
    scale = 1.0 / (math.sqrt(50) + 1e-6)
    np.testing.assert_allclose(a.grad.data, [3 * scale, 4 * scale], rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, [3 * scale, 4 * scale], rtol=1e-12)


def test_clip_grad_value_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = with_grads(GRADS), torch_with_grads(torch, GRADS)
    assert nn_utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
    assert max(np.abs(p.grad.data).max() for p in ours) == 0.7
    with pytest.raises(ValueError, match="clip_value"):
        nn_utils.clip_grad_value_(ours, -1.0)


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    params = list(model.parameters())
    vec = nn_utils.parameters_to_vector(params)
    assert vec.shape == (sum(p.numel() for p in params),)
    np.testing.assert_array_equal(vec.data, np.concatenate([p.data.ravel() for p in params]))
    (vec * Tensor(np.arange(vec.shape[0], dtype=np.float32))).sum().backward()
    assert params[0].grad is not None  # differentiable, as PyTorch
    np.testing.assert_array_equal(params[0].grad.data.ravel(), np.arange(12))
    new = Tensor(np.arange(vec.shape[0], dtype=np.float64))
    nn_utils.vector_to_parameters(new, params)
    assert params[1].dtype == np.float32 and params[1].shape == (4,)
    np.testing.assert_array_equal(params[1].data, [12, 13, 14, 15])
    new.data[:] = -1  # the parameters hold copies
    assert params[1].data[0] == 12
    with pytest.raises(ValueError, match=r"vector_to_parameters: vec of shape \(5,\)"):
        nn_utils.vector_to_parameters(Tensor(np.zeros(5)), params)
    with pytest.raises(TypeError, match="vector_to_parameters"):
        nn_utils.vector_to_parameters(np.zeros(26), params)


# -- nn.init ----------------------------------------------------------------------------------


def empty(*shape, dtype=np.float32):
    return Tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("name, kwargs, bounded", [
    ("uniform_", dict(a=-0.5, b=2.0), True),
    ("normal_", dict(mean=1.0, std=0.3), False),
    ("trunc_normal_", dict(mean=0.5, std=1.0, a=-1.0, b=1.5), True),
    ("trunc_normal_", dict(), True),
    ("xavier_uniform_", dict(gain=2.0), True),
    ("xavier_normal_", dict(), False),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), True),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu"), False),
    ("orthogonal_", dict(gain=1.5), False),
])
@pytest.mark.parametrize("shape", [(200, 300), (64, 32, 3, 3)])
def test_init_statistics_match_pytorch(name, kwargs, bounded, shape):
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    torch.manual_seed(0)
    ours = getattr(init, name)(empty(*shape), **kwargs).data
    theirs = getattr(torch.nn.init, name)(torch.empty(shape), **kwargs).numpy()
    assert ours.dtype == np.float32 and ours.shape == shape
    if bounded:  # the same support: with this many draws both come within 0.1% of its ends
        reach = 1e-3 * (theirs.max() - theirs.min())
        assert abs(ours.min() - theirs.min()) < reach and abs(ours.max() - theirs.max()) < reach
    # five standard errors of the difference of two sample means
    standard_error = float(theirs.std()) * math.sqrt(2 / ours.size)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=5 * standard_error)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)


def test_trunc_normal_bounds_and_errors():
    t = init.trunc_normal_(empty(10000), mean=0.0, std=1.0, a=-0.5, b=2.0)
    assert t.data.min() >= -0.5 and t.data.max() <= 2.0
    assert t.data.min() < -0.49 and t.data.max() > 1.9
    with pytest.raises(ValueError, match="trunc_normal_"):
        init.trunc_normal_(empty(3), a=1.0, b=0.0)
    with pytest.raises(ValueError, match="trunc_normal_"):
        init.trunc_normal_(empty(3), a=20.0, b=21.0)


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (6, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = init.orthogonal_(empty(*shape, dtype=np.float64), gain=2.0).data.reshape(shape[0], -1)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal_: needs a tensor with at least 2 dims"):
        init.orthogonal_(empty(3))


def test_deterministic_fills():
    t = empty(2, 3)
    assert init.eye_(t) is t
    np.testing.assert_array_equal(t.data, np.eye(2, 3))
    init.constant_(t, 0.25)
    assert (t.data == 0.25).all() and t.dtype == np.float32
    init.ones_(t)
    assert (t.data == 1).all()
    init.zeros_(t)
    assert (t.data == 0).all()
    with pytest.raises(ValueError, match="eye_: expected a 2-D tensor"):
        init.eye_(empty(2, 2, 2))
    assert init.calculate_fan_in_and_fan_out(empty(4, 3, 5)) == (15, 20)


def test_seeded_and_explicit_generators_reproduce():
    tg.manual_seed(11)
    a = init.kaiming_normal_(empty(4, 5)).data.copy()
    tg.manual_seed(11)
    b = init.kaiming_normal_(empty(4, 5)).data.copy()
    np.testing.assert_array_equal(a, b)
    c = init.orthogonal_(empty(4, 5), generator=np.random.default_rng(1)).data.copy()
    d = init.orthogonal_(empty(4, 5), generator=np.random.default_rng(1)).data.copy()
    np.testing.assert_array_equal(c, d)


def test_init_works_on_parameters_without_recording_a_graph():
    layer = nn.Linear(3, 2)
    init.xavier_uniform_(layer.weight)
    init.zeros_(layer.bias)
    assert layer.weight.grad_fn is None and layer.weight.requires_grad
    assert (layer.bias.data == 0).all()
