"""Learning-rate schedulers: closed forms by hand, and the same lr sequences as PyTorch
over 50 steps (two param groups), including state_dict round trips mid-schedule.
Runtime: about 1 s.
"""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.optim import lr_scheduler

STEPS = 50
# A validation loss that improves, stalls, wobbles and improves again.
METRICS = [1.0 / (1 + e) if e < 15 else 0.07 + 0.001 * ((e * 7) % 5) if e < 35
           else 0.07 - 0.002 * (e - 34) for e in range(STEPS)]


def make_optimizer(framework, kind="SGD"):
    """Two param groups (lr 0.5 and 0.1), in tinygrad_edu or in torch."""
    if framework is optim:
        a, b = nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(3))
    else:
        a, b = framework.zeros(2, requires_grad=True), framework.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.1}]
    if kind == "SGD":
        return framework.optim.SGD(groups, lr=0.5, momentum=0.9) if framework is not optim \
            else optim.SGD(groups, lr=0.5, momentum=0.9)
    cls = getattr(framework.optim if framework is not optim else optim, kind)
    return cls(groups, lr=0.5)


def optim_module(framework):
    return optim if framework is optim else framework.optim


def history(opt, scheduler, steps, metrics=None):
    """(lrs, momentum or beta1) of both groups after construction and after each step."""
    def snapshot():
        groups = opt.param_groups
        moms = [g["betas"][0] if "betas" in g else g.get("momentum") for g in groups]
        return [g["lr"] for g in groups] + moms

    out = [snapshot()]
    for epoch in range(steps):
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        assert scheduler.get_last_lr() == [g["lr"] for g in opt.param_groups]
        out.append(snapshot())
    return np.array(out, dtype=float)


CASES = {
    "step": (lambda m, o: m.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), "SGD", False),
    "multistep": (lambda m, o: m.lr_scheduler.MultiStepLR(o, [5, 12, 12, 30], gamma=0.3),
                  "SGD", False),
    "exponential": (lambda m, o: m.lr_scheduler.ExponentialLR(o, gamma=0.93), "SGD", False),
    "cosine_periods": (lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
                       "SGD", False),
    "cosine_long": (lambda m, o: m.lr_scheduler.CosineAnnealingLR(o, T_max=50), "Adam", False),
    "lambda": (lambda m, o: m.lr_scheduler.LambdaLR(o, lambda e: 0.95**e / (1 + e % 3)),
               "SGD", False),
    "lambda_per_group": (lambda m, o: m.lr_scheduler.LambdaLR(
        o, [lambda e: 1 / (1 + e), lambda e: min(1.0, (e + 1) / 10)]), "SGD", False),
    "onecycle_cos": (lambda m, o: m.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 0.3],
                                                             total_steps=STEPS), "SGD", False),
    "onecycle_linear_adam": (lambda m, o: m.lr_scheduler.OneCycleLR(
        o, max_lr=0.01, epochs=5, steps_per_epoch=10, anneal_strategy="linear",
        pct_start=0.25), "Adam", False),
    "onecycle_three_phase": (lambda m, o: m.lr_scheduler.OneCycleLR(
        o, max_lr=2.0, total_steps=STEPS + 3, three_phase=True, base_momentum=0.8,
        max_momentum=[0.9, 0.99], div_factor=10.0, final_div_factor=100.0), "SGD", False),
    "onecycle_no_momentum": (lambda m, o: m.lr_scheduler.OneCycleLR(
        o, max_lr=1.0, total_steps=STEPS, cycle_momentum=False), "Adagrad", False),
    "plateau_min_rel": (lambda m, o: m.lr_scheduler.ReduceLROnPlateau(o, patience=2), "SGD",
                        True),
    "plateau_min_abs_cooldown": (lambda m, o: m.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=1, threshold=0.01, threshold_mode="abs", cooldown=3,
        min_lr=[0.1, 0.02]), "SGD", True),
    "plateau_max": (lambda m, o: m.lr_scheduler.ReduceLROnPlateau(
        o, mode="max", factor=0.7, patience=0, min_lr=0.05, eps=1e-3), "Adam", True),
}


def run_case(framework, name, steps=STEPS):
    make, kind, plateau = CASES[name]
    opt = make_optimizer(framework, kind)
    scheduler = make(optim_module(framework), opt)
    metrics = [-m for m in METRICS] if name == "plateau_max" else METRICS
    return opt, scheduler, (metrics if plateau else None)


def full_history(framework, name):
    opt, scheduler, metrics = run_case(framework, name)
    return history(opt, scheduler, STEPS, metrics)


@pytest.mark.parametrize("name", list(CASES))
def test_same_lr_sequence_as_pytorch(name):
    torch = pytest.importorskip("torch")
    ours = full_history(optim, name)
    theirs = full_history(torch, name)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len(np.unique(ours[:, 0])) > 2  # the schedule really moved


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip_mid_schedule(name, tmp_path):
    torch = pytest.importorskip("torch")
    opt, scheduler, metrics = run_case(optim, name)
    first = history(opt, scheduler, 20, metrics)
    nn.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()},
            tmp_path / "ckpt.npz")
    checkpoint = nn.load(tmp_path / "ckpt.npz")
    opt2, scheduler2, _ = run_case(optim, name)  # a fresh run, then resumed
    opt2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    rest = history(opt2, scheduler2, STEPS - 20, metrics and metrics[20:])
    theirs = full_history(torch, name)
    np.testing.assert_allclose(np.concatenate([first, rest[1:]]), theirs, rtol=1e-12,
                               atol=1e-15)


def test_state_dict_is_a_copy():
    opt, scheduler, _ = run_case(optim, "multistep")
    state = scheduler.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 0
    state["base_lrs"].append(9.0)
    state["milestones"][5] = 99
    scheduler.load_state_dict(state)
    state["base_lrs"].clear()
    assert scheduler.base_lrs == [0.5, 0.1, 9.0] and scheduler.milestones[5] == 99


def test_two_schedulers_chain_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for framework in (optim, torch):
        module = optim_module(framework)
        opt = make_optimizer(framework)
        first = module.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        second = module.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
        lrs = []
        for _ in range(20):
            opt.step()
            first.step()
            second.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        results.append(lrs)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_closed_forms_by_hand():
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.5)
    scheduler = optim.StepLR(opt, step_size=3, gamma=0.1)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(9):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.5] * 3 + [0.05] * 3 + [0.005] * 3 + [0.0005], rtol=1e-12)
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=0.5)
    scheduler = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(14):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    expected = [0.1 + 0.4 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(15)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert scheduler.base_lrs == [0.5] and scheduler.last_epoch == 14


def test_plateau_by_hand():
    opt = optim.SGD([nn.Parameter(tg.ones(1))], lr=1.0)
    scheduler = optim.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for loss in [1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1]:
        scheduler.step(tg.tensor(loss))  # a one-element Tensor works as the metric
    # bad epochs 2 and 3 -> halve; bad epochs 4 and 5 -> halve again; 0.1 improves
    assert scheduler.get_last_lr() == [0.25] and scheduler.best == pytest.approx(0.1)


def test_module_names():
    from tinygrad_edu.optim.lr_scheduler import StepLR
    from tinygrad_edu.optim.schedulers import StepLR as OldStepLR
    assert StepLR is OldStepLR is optim.StepLR is lr_scheduler.StepLR
    assert isinstance(optim.ReduceLROnPlateau(optim.SGD([nn.Parameter(tg.ones(1))], lr=1.0)),
                      lr_scheduler.LRScheduler)


def sgd():
    return optim.SGD([nn.Parameter(tg.ones(1))], lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda: optim.StepLR(sgd(), step_size=0), "StepLR: step_size"),
    (lambda: optim.StepLR(sgd(), step_size=2.5), "StepLR: step_size"),  # type: ignore[arg-type]
    (lambda: optim.StepLR(sgd(), step_size=2, gamma=0), "StepLR: gamma"),
    (lambda: optim.MultiStepLR(sgd(), [3, -1]), "MultiStepLR: milestones"),
    (lambda: optim.MultiStepLR(sgd(), [3], gamma=-0.5), "MultiStepLR: gamma"),
    (lambda: optim.ExponentialLR(sgd(), gamma=0.0), "ExponentialLR: gamma"),
    (lambda: optim.CosineAnnealingLR(sgd(), T_max=0), "CosineAnnealingLR: T_max"),
    (lambda: optim.CosineAnnealingLR(sgd(), T_max=5, eta_min=-1), "CosineAnnealingLR: eta_min"),
    (lambda: optim.LambdaLR(sgd(), [lambda e: 1.0] * 2), "LambdaLR: expected 1"),
    (lambda: optim.OneCycleLR(sgd(), max_lr=-1.0, total_steps=5), "OneCycleLR: max_lr"),
    (lambda: optim.OneCycleLR(sgd(), max_lr=1.0), "OneCycleLR: give total_steps"),
    (lambda: optim.OneCycleLR(sgd(), max_lr=1.0, total_steps=5, anneal_strategy="exp"),
     "OneCycleLR: anneal_strategy"),
    (lambda: optim.OneCycleLR(sgd(), max_lr=1.0, total_steps=5, pct_start=1.5),
     "OneCycleLR: pct_start"),
    (lambda: optim.OneCycleLR(optim.Adagrad([nn.Parameter(tg.ones(1))]), max_lr=1.0,
                              total_steps=5), "OneCycleLR: cycle_momentum"),
    (lambda: optim.ReduceLROnPlateau(sgd(), mode="minimum"), "ReduceLROnPlateau: mode"),
    (lambda: optim.ReduceLROnPlateau(sgd(), threshold_mode="pct"),
     "ReduceLROnPlateau: threshold_mode"),
    (lambda: optim.ReduceLROnPlateau(sgd(), factor=1.0), "ReduceLROnPlateau: factor"),
    (lambda: optim.ReduceLROnPlateau(sgd(), patience=-1), "ReduceLROnPlateau: patience"),
    (lambda: optim.ReduceLROnPlateau(sgd(), min_lr=[0.1, 0.2]), "ReduceLROnPlateau: expected 1"),
    (lambda: optim.ReduceLROnPlateau(sgd(), min_lr=-0.1), "ReduceLROnPlateau: min_lr"),
    (lambda: optim.StepLR(sgd(), step_size=2, last_epoch=-2), "StepLR: last_epoch"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_other_errors():
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer"):
        optim.StepLR("sgd", step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        optim.StepLR(sgd(), step_size=2, last_epoch=4)
    opt = sgd()
    scheduler = optim.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="more than total_steps=3"):
        scheduler.step()
