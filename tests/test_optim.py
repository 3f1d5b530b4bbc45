"""Optimizers against their update formulas, written out in NumPy here, and against
PyTorch in float64; parameter groups and state dicts. (Schedulers: test_lr_scheduler.py.)

Each optimizer runs 3 steps on fixed gradients; the expected parameters are
computed step by step from the published formulas (PyTorch's forms).
Runtime: about 2 s.
"""


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
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([nn.Parameter(tg.ones(1))], rho=1.5)
    with pytest.raises(ValueError, match="lr_decay"):
        optim.Adagrad([nn.Parameter(tg.ones(1))], lr_decay=-0.1)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optim.Adagrad([nn.Parameter(tg.ones(1))], initial_accumulator_value=-1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({nn.Parameter(tg.ones(1))}, lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(nn.Parameter(tg.ones(1)), lr=0.1)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.01),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    lambda ps: optim.Adadelta(ps, weight_decay=0.01),
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
    assert isinstance(sd["state"][0]["exp_avg"], Tensor)
    sd["state"][0]["exp_avg"].data[...] = 99.0  # a copy: the optimizer is not affected
    assert opt.state[a]["exp_avg"].data[0] != 99.0
    with pytest.raises(ValueError, match="param groups"):
        optim.Adam([a]).load_state_dict(sd)


# -- Adagrad and Adadelta ------------------------------------------------------------------


@pytest.mark.parametrize("lr_decay, weight_decay, initial", [(0.0, 0.0, 0.0), (0.05, 0.1, 0.3)])
def test_adagrad_matches_formula(lr_decay, weight_decay, initial):
    lr, eps = 0.1, 1e-10
    p, total, expected = P0.copy(), np.full_like(P0, initial), []
    for t, g in enumerate(GRADS, start=1):
        g = g + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
        expected.append(p)
    actual = run(lambda ps: optim.Adagrad(ps, lr=lr, lr_decay=lr_decay, eps=eps,
                                          weight_decay=weight_decay,
                                          initial_accumulator_value=initial))
    assert_steps(actual, expected)


def test_adagrad_first_step_by_hand():
    # s = 0 + 2**2 = 4, p = 1 - 0.1 * 2 / sqrt(4) = 0.9
    assert run(lambda ps: optim.Adagrad(ps, lr=0.1), [np.array([2.0])],
               np.array([1.0]))[0][0] == pytest.approx(0.9)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adadelta_matches_formula(weight_decay):
    lr, rho, eps = 0.5, 0.8, 1e-6
    p, v, u, expected = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for g in GRADS:
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d
        expected.append(p)
    actual = run(lambda ps: optim.Adadelta(ps, lr=lr, rho=rho, eps=eps,
                                           weight_decay=weight_decay))
    assert_steps(actual, expected)


def test_adagrad_has_state_before_the_first_step_as_pytorch():
    p = nn.Parameter(tg.ones(3))
    opt = optim.Adagrad([p], initial_accumulator_value=0.5)
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 0
    np.testing.assert_array_equal(sd["state"][0]["sum"].data, [0.5] * 3)


# -- against PyTorch, float64, many steps ------------------------------------------------------

N_STEPS = 25
TORCH_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.2,
                     eps=1e-8)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-5, weight_decay=0.02, maximize=True)),
]


def quadratic_grads(p, target):
    """The gradient of sum((p - target)**4) / 4 + sum(p**2): the same problem for both."""
    return (p - target) ** 3 + 2 * p


@pytest.mark.parametrize("name, kwargs", TORCH_CASES)
def test_against_pytorch(name, kwargs):
    """Both frameworks minimize the same function for N_STEPS steps; the gradients come from
    each framework's own parameters, so any drift would grow, not hide."""
    torch = pytest.importorskip("torch")
    target = RNG.standard_normal((2, 3))
    t = torch.tensor(P0, requires_grad=True)
    reference = getattr(torch.optim, name)([t], **kwargs)
    p = nn.Parameter(Tensor(P0, dtype=np.float64))
    opt = getattr(optim, name)([p], **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize -f: the same descent
    for step in range(N_STEPS):
        t.grad = torch.tensor(sign * quadratic_grads(t.detach().numpy(), target))
        p.grad = Tensor(sign * quadratic_grads(p.data, target))
        reference.step()
        opt.step()
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name} after step {step + 1}")
    assert np.isfinite(p.data).all() and not np.allclose(p.data, P0)


@pytest.mark.parametrize("name, kwargs", TORCH_CASES)
def test_state_dict_matches_pytorchs_layout(name, kwargs):
    torch = pytest.importorskip("torch")
    a, b = nn.Parameter(Tensor(P0, dtype=np.float64)), nn.Parameter(Tensor(P0[0], dtype=np.float64))
    ta, tb = torch.tensor(P0, requires_grad=True), torch.tensor(P0[0], requires_grad=True)
    opt = getattr(optim, name)([{"params": [a]}, {"params": [b], "lr": 0.5}], **kwargs)
    ref = getattr(torch.optim, name)([{"params": [ta]}, {"params": [tb], "lr": 0.5}], **kwargs)
    for _ in range(2):
        a.grad, ta.grad = Tensor(GRADS[0]), torch.tensor(GRADS[0])
        opt.step()
        ref.step()
    ours, theirs = opt.state_dict(), ref.state_dict()
    assert list(ours["state"]) == list(theirs["state"])
    for index, entries in theirs["state"].items():
        assert set(ours["state"][index]) == {k for k, v in entries.items() if v is not None}
        for key, value in entries.items():
            if key == "step":
                assert ours["state"][index][key] == int(value)
            elif value is not None:
                np.testing.assert_allclose(ours["state"][index][key].data, value.numpy(),
                                           rtol=1e-12)
    torch_only = {"foreach", "capturable", "differentiable", "fused"}
    for mine, ref_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert mine == {k: v for k, v in ref_group.items() if k not in torch_only}


# -- parameter groups ---------------------------------------------------------------------------


class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def test_param_groups_as_in_the_pytorch_docs():
    model = TwoLayers()
    opt = optim.SGD([{"params": model.fc1.parameters()},
                     {"params": model.fc2.parameters(), "lr": 1e-3}], lr=0.1, momentum=0.9)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    for group in opt.param_groups:  # every option filled in
        assert set(group) == {"params", "lr", "momentum", "dampening", "weight_decay",
                              "nesterov", "maximize"}
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1e-3]
    assert opt.param_groups[1]["momentum"] == 0.9


def test_param_groups_match_pytorch_and_read_options_each_step():
    torch = pytest.importorskip("torch")
    w, b = RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    ours = [nn.Parameter(Tensor(w)), nn.Parameter(Tensor(b))]
    theirs = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    opt = optim.Adam([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.1, "betas": (0.5, 0.9)}],
                     lr=0.01)
    ref = torch.optim.Adam([{"params": theirs[:1]},
                            {"params": theirs[1:], "lr": 0.1, "betas": (0.5, 0.9)}], lr=0.01)
    for step in range(10):
        if step == 5:  # options are read from the group at every step
            for o in (opt, ref):
                o.param_groups[0]["lr"] = 0.05
                o.param_groups[1]["weight_decay"] = 0.1
        for p, t in zip(ours, theirs):
            g = np.sin(p.data * (step + 1))
            p.grad, t.grad = Tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12)


def test_add_param_group_and_duplicates():
    a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(2))
    opt = optim.Adagrad([a], lr=0.5)
    opt.add_param_group({"params": [b], "lr_decay": 0.1, "name": "head"})
    group = opt.param_groups[1]
    assert group["lr"] == 0.5 and group["lr_decay"] == 0.1
    assert group["name"] == "head"  # extra keys are kept, as PyTorch
    assert b in opt.state  # Adagrad's state is made with the group
    with pytest.raises(ValueError, match="more than one group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(ValueError, match="invalid learning rate"):
        opt.add_param_group({"params": [nn.Parameter(tg.ones(1))], "lr": -1})
    assert len(opt.param_groups) == 2  # failed additions left nothing behind


# -- load_state_dict: validation, all or nothing, copies -------------------------------------------


def trained_adam(steps=2):
    a, b = nn.Parameter(Tensor(P0)), nn.Parameter(Tensor(P0[0]))
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01)
    for _ in range(steps):
        a.grad, b.grad = Tensor(GRADS[0]), Tensor(GRADS[1][0])
        opt.step()
    return opt


@pytest.mark.parametrize("damage, message", [
    (lambda sd: sd["param_groups"].pop(), "param groups"),
    (lambda sd: sd["param_groups"][1]["params"].append(2), "has 2 parameters"),
    (lambda sd: sd["state"][1].__setitem__("exp_avg", Tensor(np.zeros(4))), r"shape \(4,\)"),
    (lambda sd: sd["state"].__setitem__(7, {}), "index 7"),
    (lambda sd: sd["param_groups"][1].__setitem__("betas", (0.9, 2.0)), "beta2"),
    (lambda sd: sd["state"][0].__setitem__("exp_avg", "zeros"), "got str"),
    (lambda sd: sd.pop("state"), "'state' and 'param_groups'"),
])
def test_load_state_dict_checks_everything_before_changing_anything(damage, message):
    source, target = trained_adam(3), trained_adam(1)
    before = target.state_dict()
    sd = source.state_dict()
    sd["param_groups"][0]["lr"] = 0.5  # a change that must not be applied on failure
    damage(sd)
    with pytest.raises((ValueError, TypeError), match=message):
        target.load_state_dict(sd)
    after = target.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index in before["state"]:
        assert after["state"][index]["step"] == 1
        assert np.array_equal(after["state"][index]["exp_avg"].data,
                              before["state"][index]["exp_avg"].data)


def test_load_state_dict_copies_and_casts():
    sd = trained_adam().state_dict()
    a32 = nn.Parameter(Tensor(P0.astype(np.float32)))
    b32 = nn.Parameter(Tensor(P0[0].astype(np.float32)))
    opt = optim.Adam([{"params": [a32]}, {"params": [b32]}])
    opt.load_state_dict(sd)
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["params"] == [b32]
    assert opt.state[a32]["exp_avg"].dtype == np.float32  # the parameter's dtype, as PyTorch
    sd["state"][0]["exp_avg"].data[...] = 42.0  # the loaded state does not alias the dict
    sd["param_groups"][0]["lr"] = 42.0
    assert (opt.state[a32]["exp_avg"].data != 42.0).all()
    assert opt.param_groups[0]["lr"] == 0.01
    a32.grad, b32.grad = Tensor(np.ones((2, 3), np.float32)), Tensor(np.ones(3, np.float32))
    opt.step()
    assert opt.state[a32]["step"] == 3 and a32.dtype == np.float32


def test_state_dict_saves_with_nn_save(tmp_path):
    sd = trained_adam().state_dict()
    nn.save(sd, tmp_path / "opt.npz")
    loaded = nn.load(tmp_path / "opt.npz")
    assert loaded["param_groups"] == sd["param_groups"]
    assert isinstance(loaded["state"][0]["exp_avg"], Tensor)
    opt = trained_adam(0)
    opt.load_state_dict(loaded)
    assert opt.state_dict()["state"][1]["step"] == 2
