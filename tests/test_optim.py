"""Optimizers and schedulers against their update formulas, written out in NumPy here.

Each optimizer runs 3 steps on fixed gradients; the expected parameters are
computed step by step from the published formulas (PyTorch's forms).
Runtime: about 2 s.
"""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim

RNG = np.random.default_rng(0)
P0 = RNG.standard_normal((2, 3))
GRADS = [RNG.standard_normal((2, 3)) for _ in range(3)]


def run(make_optimizer, grads=GRADS, p0=P0):
    """Parameters after each step of make_optimizer([p]) fed `grads`."""
    p = nn.Parameter(Tensor(p0, dtype=np.float64))
    opt = make_optimizer([p])
    history = []
    for g in grads:
        p.grad = Tensor(g)
        opt.step()
        history.append(p.data.copy())
    return history


def assert_steps(actual, expected):
    for step, (a, e) in enumerate(zip(actual, expected), start=1):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14, err_msg=f"after step {step}")


# -- SGD ---------------------------------------------------------------------------------


@pytest.mark.parametrize("momentum, dampening, weight_decay, nesterov", [
    (0.0, 0.0, 0.0, False),
    (0.0, 0.0, 0.1, False),
    (0.9, 0.0, 0.0, False),
    (0.9, 0.3, 0.05, False),
    (0.8, 0.0, 0.1, True),
])
def test_sgd_matches_formula(momentum, dampening, weight_decay, nesterov):
    lr = 0.1
    p, buf, expected = P0.copy(), None, []
    for g in GRADS:
        d = g + weight_decay * p
        if momentum:
            # first step: buffer = gradient (no dampening), as PyTorch
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        expected.append(p)
    actual = run(lambda ps: optim.SGD(ps, lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))
    assert_steps(actual, expected)


def test_sgd_first_step_by_hand():
    # p = 1, g = 0.5, lr = 0.1, momentum 0.9: buffer = 0.5, p = 1 - 0.05
    assert run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), [np.array([0.5])],
               np.array([1.0]))[0][0] == pytest.approx(0.95)


# -- RMSprop ------------------------------------------------------------------------------


@pytest.mark.parametrize("centered, momentum, weight_decay", [
    (False, 0.0, 0.0), (True, 0.0, 0.0), (False, 0.9, 0.0), (True, 0.9, 0.1),
])
def test_rmsprop_matches_formula(centered, momentum, weight_decay):
    lr, alpha, eps = 0.01, 0.9, 1e-6
    p = P0.copy()
    v, m, buf, expected = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for g in GRADS:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        if centered:
            m = alpha * m + (1 - alpha) * g
            avg = np.sqrt(v - m**2) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        expected.append(p)
    actual = run(lambda ps: optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps, centered=centered,
                                          momentum=momentum, weight_decay=weight_decay))
    assert_steps(actual, expected)


# -- Adam and AdamW -------------------------------------------------------------------------


def adam_reference(lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled):
    p = P0.copy()
    m, v, vmax, expected = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)  # bias corrections
        vmax = np.maximum(vmax, v)
        v_hat = (vmax if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(p)
    return expected


@pytest.mark.parametrize("weight_decay, amsgrad", [(0.0, False), (0.1, False), (0.0, True),
                                                   (0.1, True)])
def test_adam_matches_formula(weight_decay, amsgrad):
    expected = adam_reference(0.01, 0.8, 0.9, 1e-8, weight_decay, amsgrad, decoupled=False)
    actual = run(lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.9), eps=1e-8,
                                       weight_decay=weight_decay, amsgrad=amsgrad))
    assert_steps(actual, expected)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_decays_weights_decoupled_from_the_gradient(amsgrad):
    expected = adam_reference(0.01, 0.9, 0.999, 1e-8, 0.05, amsgrad, decoupled=True)
    actual = run(lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.05, amsgrad=amsgrad))
    assert_steps(actual, expected)
    assert optim.AdamW([nn.Parameter(tg.zeros(1))]).defaults["weight_decay"] == 0.01


def test_adam_first_step_moves_each_weight_by_lr():
    # bias correction makes the first step lr * g / (|g| + eps'): about lr in size
    p = run(lambda ps: optim.Adam(ps, lr=0.01), [np.array([3.0, -0.002])], np.zeros(2))[0]
    np.testing.assert_allclose(p, [-0.01, 0.01], rtol=1e-5)


# -- mechanics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.RMSprop(ps, centered=True, momentum=0.5),
    lambda ps: optim.Adam(ps),
    lambda ps: optim.AdamW(ps, amsgrad=True),
])
def test_step_updates_in_place_builds_no_graph_and_skips_missing_grads(make):
    model = nn.Linear(3, 2)
    weight_array, bias_before = model.weight.data, model.bias.data.copy()
    opt = make(model.parameters())
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    model(x).sum().backward()
    model.bias.grad = None  # no gradient: must be left untouched
    opt.step()
    assert model.weight.data is weight_array  # updated in place
    assert model.weight.dtype == np.float32
    assert model.weight.grad_fn is None and model.weight.is_leaf and model.weight.requires_grad
    assert np.array_equal(model.bias.data, bias_before)
    assert model.bias not in opt.state
    assert not np.array_equal(weight_array, bias_before)
    opt.zero_grad()
    assert model.weight.grad is None


def test_training_reduces_the_loss():
    tg.manual_seed(0)
    x = Tensor(np.random.default_rng(1).standard_normal((64, 4)).astype(np.float32))
    y = (x.data @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32))[:, None]
    model = nn.Linear(4, 1)
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), Tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


def test_param_groups_have_their_own_options():
    a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    a.grad, b.grad = Tensor(np.ones(2, np.float32)), Tensor(np.ones(2, np.float32))
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    c = nn.Parameter(tg.ones(1))
    opt.add_param_group({"params": c, "lr": 0.5})
    assert opt.param_groups[2]["momentum"] == 0.0 and opt.param_groups[2]["lr"] == 0.5
    with pytest.raises(ValueError, match="more than one group"):
        opt.add_param_group({"params": [a]})


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="invalid learning rate"):
        optim.Adam([nn.Parameter(tg.ones(1))], lr=-1.0)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta2"):
        optim.Adam([nn.Parameter(tg.ones(1))], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([nn.Parameter(tg.ones(1)) * 2], lr=0.1)
    with pytest.raises(TypeError, match="unknown option"):
        optim.SGD([{"params": [nn.Parameter(tg.ones(1))], "betas": (0.9, 0.9)}], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.01),
])
def test_state_dict_round_trip_continues_identically(make, tmp_path):
    grads = [RNG.standard_normal((2, 3)) for _ in range(6)]

    def fresh(p0):
        p = nn.Parameter(Tensor(p0, dtype=np.float64))
        return p, make([p])

    p, opt = fresh(P0)
    for g in grads[:3]:
        p.grad = Tensor(g)
        opt.step()
    nn.save({"params": p.data, "optimizer": opt.state_dict()}, tmp_path / "ckpt.npz")
    checkpoint = nn.load(tmp_path / "ckpt.npz")
    q, resumed = fresh(checkpoint["params"])
    resumed.param_groups[0]["lr"] = 123.0  # overwritten by load_state_dict
    resumed.load_state_dict(checkpoint["optimizer"])
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for g in grads[3:]:
        p.grad, q.grad = Tensor(g), Tensor(g)
        opt.step()
        resumed.step()
        assert np.array_equal(p.data, q.data)


def test_state_dict_shape_is_pytorchs():
    a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(3))
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}])
    a.grad = Tensor(np.ones(2, np.float32))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.1
    assert list(sd["state"]) == [0]  # b has no gradient yet, so no state
    assert sd["state"][0]["step"] == 1
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    sd["state"][0]["exp_avg"][...] = 99.0  # a copy: the optimizer is not affected
    assert opt.state[a]["exp_avg"][0] != 99.0
    with pytest.raises(ValueError, match="param groups"):
        optim.Adam([a]).load_state_dict(sd)


# -- schedulers ----------------------------------------------------------------------------------


def lr_sequence(scheduler_cls, epochs, **kwargs):
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.5)
    scheduler = scheduler_cls(opt, **kwargs)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
        assert scheduler.get_last_lr() == [lrs[-1]]
    return lrs


def test_step_lr_sequence():
    lrs = lr_sequence(optim.StepLR, 9, step_size=3, gamma=0.1)
    expected = [0.5] * 3 + [0.05] * 3 + [0.005] * 3 + [0.0005]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_cosine_annealing_sequence():
    lrs = lr_sequence(optim.CosineAnnealingLR, 14, T_max=10, eta_min=0.1)
    expected = [0.1 + (0.5 - 0.1) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(15)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert lrs[10] == pytest.approx(0.1) and lrs[5] == pytest.approx(0.3)


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=1.0)
    scheduler = optim.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        scheduler.step()
    state = scheduler.state_dict()
    assert state["last_epoch"] == 3 and "optimizer" not in state
    opt2 = optim.SGD([nn.Parameter(tg.ones(1))], lr=1.0)
    other = optim.StepLR(opt2, step_size=2, gamma=0.5)
    other.load_state_dict(state)
    scheduler.step()
    other.step()
    assert other.get_last_lr() == scheduler.get_last_lr() == [0.25]


# -- optional cross-check against PyTorch ----------------------------------------------------------


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
])
def test_against_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    t = torch.tensor(P0, requires_grad=True)
    reference = getattr(torch.optim, name)([t], **kwargs)
    expected = []
    for g in GRADS:
        t.grad = torch.tensor(g)
        reference.step()
        expected.append(t.detach().numpy().copy())
    assert_steps(run(lambda ps: getattr(optim, name)(ps, **kwargs)), expected)
