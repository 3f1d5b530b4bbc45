"""nn: Module bookkeeping, layers, initialization, dropout, batch norm and losses.

References are written out in NumPy here (never by calling the code under
test); gradients are checked against finite differences in float64.
Runtime: about 10 s.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck, gradgradcheck, nn
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.nn import init
from tinygrad_edu.testing import HypothesisPicker, arrays, assert_close, shapes

GRAD_SETTINGS = settings(max_examples=15, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


def f64(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- NumPy references ---------------------------------------------------------------


def np_log_softmax(x, axis=1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_reduce(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def np_cross_entropy(x, t, reduction="mean", smoothing=0.0):
    logp = np_log_softmax(x)
    n, c = x.shape
    picked = -logp[np.arange(n), t]
    uniform = -logp.mean(axis=1)
    return np_reduce((1 - smoothing) * picked + smoothing * uniform, reduction)


def np_bce_with_logits(x, y, reduction="mean"):
    # the textbook form (fine for moderate x): -[y log s + (1 - y) log(1 - s)]
    s = 1 / (1 + np.exp(-x))
    return np_reduce(-(y * np.log(s) + (1 - y) * np.log(1 - s)), reduction)


# -- Module bookkeeping -------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.heads = [nn.Linear(4, 2), nn.Linear(4, 1, bias=False)]
        self.by_name = {"extra": nn.Linear(2, 2)}
        self.scale = nn.Parameter(tg.ones(1))
        self.tied = self.block.fc  # the same layer under a second name
        self.not_a_param = tg.zeros(3)  # a plain Tensor attribute is neither param nor buffer
        self.register_buffer("counter", tg.zeros(1))

    def forward(self, x):
        h = self.block.act(self.block.fc(x))
        return self.heads[0](h)


def test_parameters_are_found_in_nested_modules_lists_and_dicts_once_each():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["scale", "block.fc.weight", "block.fc.bias", "heads.0.weight",
                     "heads.0.bias", "heads.1.weight", "by_name.extra.weight",
                     "by_name.extra.bias"]
    params = list(net.parameters())
    assert len(params) == len({id(p) for p in params}) == 8
    assert sum(p.numel() for p in params) == 1 + 12 + 4 + 8 + 2 + 4 + 2 + 4


def test_shared_parameter_counts_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_buffers_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == ["counter"]
    # tied is a direct child too, though modules() lists its layer once
    assert [n for n, _ in net.named_children()] == ["block", "heads.0", "heads.1",
                                                     "by_name.extra", "tied"]
    kinds = [type(m).__name__ for m in net.modules()]
    assert kinds == ["Net", "Block", "Linear", "ReLU", "Linear", "Linear", "Linear"]
    bn = nn.BatchNorm1d(3)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]


def test_state_dict_holds_copies_in_order_and_includes_buffers():
    net = Net()
    sd = net.state_dict()
    assert list(sd)[:3] == ["scale", "counter", "block.fc.weight"]
    assert "tied.weight" in sd  # as PyTorch, a module under two names is saved under both
    assert all(isinstance(v, Tensor) and not v.requires_grad for v in sd.values())
    sd["scale"].data[...] = 42.0
    assert net.scale.data[0] == 1.0


def test_train_eval_propagate_to_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_sets_grads_to_none_and_call_runs_forward():
    net = Net()
    net(Tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    assert net.block.fc.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_repr_is_nested_like_pytorch():
    model = nn.Sequential(nn.Linear(784, 10), nn.ReLU(),
                          nn.Sequential(nn.Dropout(0.25), nn.LeakyReLU(0.1)),
                          nn.BatchNorm1d(10), nn.Flatten(), nn.Softmax(dim=1))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=10, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.25, inplace=False)\n"
        "    (1): LeakyReLU(negative_slope=0.1)\n"
        "  )\n"
        "  (3): BatchNorm1d(10, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Softmax(dim=1)\n"
        ")"
    )


def test_containers_index_len_iterate_and_slice():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = Tensor(np.arange(4, dtype=np.float32).reshape(2, 2))
    expected = layers[2](layers[1](layers[0](x)))
    assert_close(seq(x), expected)
    mlist = nn.ModuleList([nn.Linear(1, 1)])
    mlist.append(nn.Linear(1, 2))
    assert [n for n, _ in mlist.named_parameters()] == ["0.weight", "0.bias", "1.weight",
                                                         "1.bias"]
    mdict = nn.ModuleDict({"a": nn.Linear(1, 1)})
    assert "a" in mdict and [n for n, _ in mdict.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    with pytest.raises(TypeError, match="expected a Module"):
        nn.ModuleList([3])


def test_parameter_defaults():
    p = nn.Parameter(tg.zeros(2, 3))
    assert p.requires_grad and p.is_leaf and p.dtype == np.float32
    assert isinstance(p, Tensor)
    lin = nn.Linear(3, 2)
    assert lin.weight.dtype == np.float32 and lin.weight.shape == (2, 3)
    assert lin.bias.shape == (2,)
    # ops on a Parameter give plain Tensors
    assert type(lin.weight * 2) is Tensor


# -- Linear and initialization ------------------------------------------------------------


def test_linear_computes_x_wt_plus_b():
    lin = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    expected = x @ lin.weight.data.T + lin.bias.data
    assert_close(lin(Tensor(x)), expected, atol=1e-6)
    batched = np.stack([x, 2 * x])  # leading batch axes work too
    assert_close(lin(Tensor(batched)), batched @ lin.weight.data.T + lin.bias.data, atol=1e-5)
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    assert_close(no_bias(Tensor(x)), x @ no_bias.weight.data.T, atol=1e-6)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    tg.manual_seed(0)
    lin = nn.Linear(400, 500)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.data, lin.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # fills the range, not a narrower one
    # U(-a, a) has mean 0 and std a / sqrt(3); 200,000 draws pin both to ~0.3%
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape, fan_in, fan_out", [((300, 200), 200, 300),
                                                     ((64, 32, 3, 3), 288, 576)])
def test_init_functions_follow_their_formulas(shape, fan_in, fan_out):
    tg.manual_seed(1)
    t = Tensor(np.zeros(shape, dtype=np.float32))

    def assert_uniform(bound):
        assert np.abs(t.data).max() <= bound * (1 + 1e-6)
        assert t.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)

    assert init.kaiming_uniform_(t, nonlinearity="relu") is t
    assert_uniform(math.sqrt(2) * math.sqrt(3 / fan_in))
    init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")
    assert_uniform(math.sqrt(2) * math.sqrt(3 / fan_out))
    init.xavier_uniform_(t, gain=2.0)
    assert_uniform(2.0 * math.sqrt(6 / (fan_in + fan_out)))
    init.kaiming_normal_(t, a=0.2)
    assert t.data.std() == pytest.approx(math.sqrt(2 / 1.04) / math.sqrt(fan_in), rel=0.02)
    init.xavier_normal_(t)
    assert t.data.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    init.normal_(t, mean=3.0, std=0.5)
    assert t.data.mean() == pytest.approx(3.0, abs=0.01)
    assert t.data.std() == pytest.approx(0.5, rel=0.02)
    init.uniform_(t, -1.0, 2.0)
    assert t.data.min() >= -1.0 and t.data.max() <= 2.0
    assert t.data.mean() == pytest.approx(0.5, abs=0.02)
    init.ones_(t)
    assert (t.data == 1).all()
    init.zeros_(t)
    assert (t.data == 0).all()
    assert t.dtype == np.float32


def test_init_is_reproducible_and_rejects_1d_fans():
    tg.manual_seed(5)
    a = nn.Linear(4, 3).weight.data.copy()
    tg.manual_seed(5)
    assert np.array_equal(nn.Linear(4, 3).weight.data, a)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(tg.zeros(5))


# -- Dropout ----------------------------------------------------------------------------


def test_dropout_statistics_scaling_and_eval_identity():
    tg.manual_seed(0)
    x = Tensor(np.full((200, 500), 2.0, dtype=np.float32))
    drop = nn.Dropout(0.3)
    y = drop(x).data
    zeros = (y == 0).mean()
    assert zeros == pytest.approx(0.3, abs=0.005)  # 100,000 Bernoulli draws
    assert np.allclose(y[y != 0], 2.0 / 0.7)
    assert y.mean() == pytest.approx(2.0, rel=0.01)  # inverted dropout keeps the mean
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).data, x.data)
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0).data == 0).all()


def test_dropout_is_reproducible_under_manual_seed():
    x = Tensor(np.ones((50, 50), dtype=np.float32))
    tg.manual_seed(7)
    a = F.dropout(x, 0.5).data
    tg.manual_seed(7)
    b = F.dropout(x, 0.5).data
    c = F.dropout(x, 0.5).data
    assert np.array_equal(a, b) and not np.array_equal(b, c)


def test_dropout_gradient_is_the_mask():
    tg.manual_seed(3)
    x = Tensor(np.ones((10, 10), dtype=np.float32), requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    assert np.array_equal(x.grad.data, y.data)  # x = 1, so y is exactly the scaled mask


# -- BatchNorm1d ----------------------------------------------------------------------------


def np_batch_norm_train(x, mean_run, var_run, w, b, momentum, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    n = x.size / x.shape[1]
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    out = out * w.reshape(shape) + b.reshape(shape)
    new_mean = (1 - momentum) * mean_run + momentum * mean
    new_var = (1 - momentum) * var_run + momentum * var * n / (n - 1)
    return out, new_mean, new_var


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm1d_train_and_eval_match_numpy(shape):
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3).double()
    bn.weight.data[...] = [1.0, 2.0, -0.5]
    bn.bias.data[...] = [0.0, 1.0, 3.0]
    mean_run, var_run = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal(shape) * 3 + 2
        expected, mean_run, var_run = np_batch_norm_train(
            x, mean_run, var_run, bn.weight.data, bn.bias.data, 0.1, 1e-5)
        assert_close(bn(f64(x, False)), expected, atol=1e-10)
    assert_close(bn.running_mean, mean_run, atol=1e-12)
    assert_close(bn.running_var, var_run, atol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 3
    bn.eval()
    x = rng.standard_normal(shape)
    shape_c = (1, -1) + (1,) * (len(shape) - 2)
    expected = ((x - mean_run.reshape(shape_c)) / np.sqrt(var_run.reshape(shape_c) + 1e-5)
                * bn.weight.data.reshape(shape_c) + bn.bias.data.reshape(shape_c))
    assert_close(bn(f64(x, False)), expected, atol=1e-10)
    assert_close(bn.running_mean, mean_run, atol=0)  # eval leaves the statistics alone


def test_batchnorm_variants():
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((6, 2)), rng.standard_normal((6, 2)) + 5
    cumulative = nn.BatchNorm1d(2, momentum=None).double()
    cumulative(f64(x1, False))
    cumulative(f64(x2, False))
    n = 6
    expected_mean = (x1.mean(0) + x2.mean(0)) / 2
    expected_var = (x1.var(0) * n / (n - 1) + x2.var(0) * n / (n - 1)) / 2
    assert_close(cumulative.running_mean, expected_mean, atol=1e-12)
    assert_close(cumulative.running_var, expected_var, atol=1e-12)
    plain = nn.BatchNorm1d(2, affine=False, track_running_stats=False).double().eval()
    assert list(plain.parameters()) == [] and list(plain.buffers()) == []
    normalized = (x2 - x2.mean(0)) / np.sqrt(x2.var(0) + 1e-5)
    assert_close(plain(f64(x2, False)), normalized, atol=1e-10)  # batch stats even in eval


def test_batchnorm_errors_are_clear():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(4, 2\).*2 channels"):
        bn(tg.zeros(4, 2))
    with pytest.raises(ValueError, match=r"expected 2D \(N, C\) or 3D"):
        bn(tg.zeros(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(tg.zeros(1, 3))


# -- activations, softmax, pad, flatten ------------------------------------------------------


def test_activation_layers_match_numpy():
    x = np.linspace(-3, 3, 13).reshape(1, 13)
    t = f64(x, False)
    assert_close(nn.ReLU()(t), np.maximum(x, 0))
    assert_close(nn.LeakyReLU(0.2)(t), np.where(x > 0, x, 0.2 * x))
    assert_close(nn.Sigmoid()(t), 1 / (1 + np.exp(-x)))
    assert_close(nn.Tanh()(t), np.tanh(x))
    assert_close(nn.Softmax(dim=1)(t), np.exp(x) / np.exp(x).sum())
    assert_close(nn.LogSoftmax(dim=1)(t), np_log_softmax(x))
    assert nn.Identity(5, anything=1)(t) is t
    assert nn.Flatten()(tg.zeros(2, 3, 4)).shape == (2, 12)
    assert F.flatten(tg.zeros(2, 3, 4)).shape == (24,)


def test_pad_uses_pytorchs_last_axis_first_order():
    x = np.arange(6.0).reshape(1, 2, 3)
    out = F.pad(f64(x, False), (1, 2, 0, 1), value=-1.0).data
    expected = np.pad(x, ((0, 0), (0, 1), (1, 2)), constant_values=-1.0)
    assert np.array_equal(out, expected)
    cropped = F.pad(f64(x, False), (-1, 1)).data  # negative widths crop
    assert np.array_equal(cropped, np.pad(x[..., 1:], ((0, 0), (0, 0), (0, 1))))
    with pytest.raises(ValueError, match="even length"):
        F.pad(f64(x, False), (1, 2, 3))


def test_one_hot():
    out = F.one_hot(Tensor(np.array([2, 0, 1])), 4)
    assert out.dtype == np.int64
    assert np.array_equal(out.data, np.eye(4, dtype=np.int64)[[2, 0, 1]])
    assert F.one_hot(np.array([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        F.one_hot(np.array([0, 2]), 2)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(np.array([0.0]), 2)


# -- losses against NumPy ---------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_numpy(reduction, smoothing):
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((7, 5)) * 3, rng.integers(0, 5, 7)
    out = F.cross_entropy(f64(x, False), Tensor(t), reduction=reduction,
                          label_smoothing=smoothing)
    assert_close(out, np_cross_entropy(x, t, reduction, smoothing), atol=1e-12)
    module = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)
    assert_close(module(f64(x, False), t), out.data, atol=0)


def test_cross_entropy_other_target_forms():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3))  # (N, C, L): one class index per (n, l)
    t = rng.integers(0, 4, (2, 3))
    flat_x = x.transpose(0, 2, 1).reshape(6, 4)
    expected = np_cross_entropy(flat_x, t.reshape(6), "none").reshape(2, 3)
    assert_close(F.cross_entropy(f64(x, False), t, reduction="none"), expected, atol=1e-12)
    probs = rng.dirichlet(np.ones(4), size=5)  # soft targets: -sum q log p
    x2 = rng.standard_normal((5, 4))
    assert_close(F.cross_entropy(f64(x2, False), probs),
                 -(probs * np_log_softmax(x2)).sum(1).mean(), atol=1e-12)
    x3 = rng.standard_normal(4)  # unbatched (C,) with a 0-d target
    assert_close(F.cross_entropy(f64(x3, False), np.array(2)), -np_log_softmax(x3[None])[0, 2],
                 atol=1e-12)


def test_cross_entropy_is_stable_at_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, 1e4, -1e4]], dtype=np.float32)
    t = np.array([0, 0, 1])
    logits = Tensor(x, requires_grad=True)
    loss = F.cross_entropy(logits, t, reduction="none")
    # exact values: log(1 + e^-2e4 + e^-1e4) = 0, 2e4 + log(1 + ...) = 2e4, log 2
    assert np.all(np.isfinite(loss.data))
    assert_close(loss, np.array([0.0, 2e4, math.log(2)], dtype=np.float32), atol=1e-3, rtol=1e-6)
    loss.sum().backward()
    # d/dx = softmax - onehot: [1,0,0]-[1,0,0]=0, [0,1,0]-[1,0,0], [.5,.5,0]-[0,1,0]
    expected = np.array([[0, 0, 0], [-1, 1, 0], [0.5, -0.5, 0]], dtype=np.float32)
    assert_close(logits.grad, expected, atol=1e-6)
    smoothed = F.cross_entropy(Tensor(x), t, label_smoothing=0.1)
    assert np.isfinite(smoothed.item())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_mse_bce_match_numpy(reduction):
    rng = np.random.default_rng(4)
    logp = np_log_softmax(rng.standard_normal((6, 3)))
    t = rng.integers(0, 3, 6)
    assert_close(F.nll_loss(f64(logp, False), t, reduction=reduction),
                 np_reduce(-logp[np.arange(6), t], reduction), atol=1e-12)
    assert_close(nn.NLLLoss(reduction=reduction)(f64(logp, False), t),
                 np_reduce(-logp[np.arange(6), t], reduction), atol=1e-12)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    assert_close(F.mse_loss(f64(a, False), f64(b, False), reduction=reduction),
                 np_reduce((a - b) ** 2, reduction), atol=1e-12)
    assert_close(nn.MSELoss(reduction=reduction)(f64(a, False), b),
                 np_reduce((a - b) ** 2, reduction), atol=1e-12)
    x, y = rng.standard_normal((4, 5)) * 3, rng.random((4, 5))
    assert_close(F.binary_cross_entropy_with_logits(f64(x, False), f64(y, False),
                                                    reduction=reduction),
                 np_bce_with_logits(x, y, reduction), atol=1e-10)
    pos_weight = np.array([0.5, 1.0, 2.0, 3.0, 1.5])
    s = 1 / (1 + np.exp(-x))
    weighted = -(pos_weight * y * np.log(s) + (1 - y) * np.log(1 - s))
    module = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=Tensor(pos_weight))
    assert_close(module(f64(x, False), y), np_reduce(weighted, reduction), atol=1e-10)


def test_bce_with_logits_is_stable_and_correct_at_zero():
    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype=np.float32), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.25], dtype=np.float32)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert_close(loss, np.array([0, 0, 1e4, 1e4, math.log(2)], dtype=np.float32), atol=1e-6)
    loss.sum().backward()
    # d/dx = sigmoid(x) - y, also at x = 0 where max(x, 0) and |x| have kinks
    assert_close(x.grad, np.array([0, 0, 1, -1, 0.25], dtype=np.float32), atol=1e-6)


# -- gradients (float64, finite differences) ---------------------------------------------------


@st.composite
def class_problems(draw):
    """(logits, int targets) with N in 1..4 and C in 1..4 classes."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(arrays((n, c), -3.0, 3.0))
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return x, t


@GRAD_SETTINGS
@given(problem=class_problems(), reduction=st.sampled_from(["mean", "sum", "none"]),
       smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_and_nll_gradients(problem, reduction, smoothing):
    x, t = problem
    def ce(logits):
        return F.cross_entropy(logits, t, reduction=reduction, label_smoothing=smoothing)
    assert gradcheck(ce, [f64(x)])
    assert gradgradcheck(ce, [f64(x)])
    nll = lambda logp: F.nll_loss(logp, t, reduction=reduction)  # noqa: E731
    assert gradcheck(nll, [f64(x)])
    assert gradgradcheck(nll, [f64(x)])


@GRAD_SETTINGS
@given(data=st.data())
def test_linear_mse_bce_gradients(data):
    batch = data.draw(st.integers(1, 3))
    n_in, n_out = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = f64(data.draw(arrays((batch, n_in))))
    w, b = f64(data.draw(arrays((n_out, n_in)))), f64(data.draw(arrays((n_out,))))
    assert gradcheck(F.linear, [x, w, b])
    assert gradgradcheck(F.linear, [x, w, b])
    assert gradcheck(lambda x, w: F.linear(x, w), [x, w])
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    target = f64(data.draw(arrays((batch, n_out))))
    y = f64(data.draw(arrays((batch, n_out), 0.0, 1.0)))
    pos_weight = f64(data.draw(arrays((n_out,), 0.5, 2.0)))
    def mse(a, b):
        return F.mse_loss(a, b, reduction=reduction)

    assert gradcheck(mse, [target, y])
    assert gradgradcheck(mse, [target, y])
    def bce(a, b):
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction)

    logits = f64(data.draw(arrays((batch, n_out), -4.0, 4.0)))
    assert gradcheck(bce, [logits, y])
    assert gradgradcheck(bce, [logits, y])
    def weighted(a, b, p):
        return F.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=p)

    assert gradcheck(weighted, [logits, y, pos_weight])


@GRAD_SETTINGS
@given(data=st.data())
def test_batch_norm_training_gradients(data):
    n = data.draw(st.integers(2, 3))
    c = data.draw(st.integers(1, 3))
    tail = data.draw(st.sampled_from([(), (2,)]))
    shape = (n, c) + tail
    # distinct values keep every channel's variance well away from 0
    x = f64(HypothesisPicker(data.draw).distinct(shape))
    w, b = f64(data.draw(arrays((c,), 0.5, 2.0))), f64(data.draw(arrays((c,))))
    running_mean, running_var = f64(np.zeros(c), False), f64(np.ones(c), False)

    def bn(x, w, b):
        return F.batch_norm(x, running_mean, running_var, w, b, training=True)

    assert gradcheck(bn, [x, w, b])
    assert gradgradcheck(bn, [x, w, b])


@GRAD_SETTINGS
@given(shape=shapes(min_dims=1),
       p=st.sampled_from([0.2, 0.5]), data=st.data())
def test_dropout_gradients_with_a_fixed_seed(shape, p, data):
    x = f64(data.draw(arrays(shape)))

    def drop(x):
        tg.manual_seed(11)  # the same mask at every evaluation
        return F.dropout(x, p, training=True)

    assert gradcheck(drop, [x])
    assert gradgradcheck(drop, [x])


# -- clear errors -------------------------------------------------------------------------------


def test_loss_errors_name_the_loss_and_the_shapes():
    x = Tensor(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(TypeError, match=r"cross_entropy: target has dtype float32 and "
                                        r"shape \(4,\): class indices must be an integer"):
        F.cross_entropy(x, np.zeros(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(4, 3\) needs integer "
                                         r"targets of shape \(4,\).*got target shape \(5,\)"):
        F.cross_entropy(x, np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match=r"float targets are class probabilities and must have "
                                         r"the input's shape \(4, 3\), got \(4, 2\)"):
        F.cross_entropy(x, np.zeros((4, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(x, np.zeros(4, dtype=bool))
    with pytest.raises(IndexError, match=r"cross_entropy: target class indices must lie in "
                                         r"\[0, 3\).*got values from 0 to 3"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(IndexError, match=r"\[0, 3\).*from -1"):
        F.cross_entropy(x, np.array([0, 1, 2, -1]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(TypeError, match="nll_loss.*integer"):
        F.nll_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4,\) differs from input "
                                         r"shape \(4, 3\)"):
        F.mse_loss(x, np.zeros(4, dtype=np.float32))
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits: target must be a "
                                        "float tensor"):
        F.binary_cross_entropy_with_logits(x, np.zeros((4, 3), dtype=np.int64))


def test_linear_error_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=2\): input of "
                                         r"shape \(4, 5\) must have 3 features"):
        nn.Linear(3, 2)(tg.zeros(4, 5))
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 5\) does not fit weight "
                                         r"of shape \(2, 3\)"):
        F.linear(tg.zeros(4, 5), tg.zeros(2, 3))
    with pytest.raises(ValueError, match="probability p must be between 0 and 1"):
        nn.Dropout(1.5)
