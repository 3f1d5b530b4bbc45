"""viz.backward_steps and viz.explain: the backward pass step by step, in words and numbers.

Expected numbers come from calculus by hand (Karpathy's micrograd lecture neuron) and
from PyTorch (skipped cleanly when torch is missing). explain's text is parsed back:
`name = ... = value` lines give each tensor's forward value and each gradient.
"""

from __future__ import annotations

import ast
import io
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.viz import backward_steps, explain

LECTURE = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
# the lecture's gradients; "x1w1 + x2w2" is the unnamed sum, named by explain
LECTURE_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5,
                 "x1w1": 0.5, "x2w2": 0.5, "x1w1 + x2w2": 0.5, "o": 1.0}


def lecture_neuron(lib=tg, dtype=None):
    """o = tanh(x1*w1 + x2*w2 + b), every leaf requiring grad (as the lecture's torch part)."""
    leaves = {k: lib.tensor(v, requires_grad=True, dtype=dtype) for k, v in LECTURE.items()}
    x1w1 = leaves["x1"] * leaves["w1"]
    x2w2 = leaves["x2"] * leaves["w2"]
    s = x1w1 + x2w2
    n = s + leaves["b"]
    o = n.tanh()
    return o, {**leaves, "x1w1": x1w1, "x2w2": x2w2, "n": n, "o": o}, s


def explained(loss, params=None, **kwargs) -> str:
    out = io.StringIO()
    explain(loss, params, file=out, **kwargs)
    return out.getvalue()


def value(text: str):
    """A number or a nested list as explain writes it."""
    return np.array(ast.literal_eval(text.strip()), dtype=np.float64)


def totals(text: str) -> dict[str, np.ndarray]:
    """dL/d(name) -> its complete value: lines `dL/dname = ... = value` (not the
    contributions, which are labelled as such)."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"\s*dL/d(\(.*?\)|\S+) (?:=|is \(.*?\) =) (.*)$", line)
        if not m or "pushed back" in line and "=" not in m.group(2):
            continue
        name = m.group(1).strip("()")
        rhs = re.sub(r"\s+\(shape .*$|\s+\(total: .*$|\s+\(the seed\)$", "", m.group(2))
        found[name] = value(rhs.rsplit(" = ", 1)[-1])
    return found


def forwards(text: str) -> dict[str, np.ndarray]:
    """name -> the forward value explain printed."""
    found = {}
    for m in re.finditer(r"forward: (.+?) (?:=|is .*? =) (?:.* = )?(\S.*)$", text, re.M):
        found[m.group(1)] = value(m.group(2))
    return found


def test_the_lecture_neuron_step_by_step():
    o, names, _ = lecture_neuron()
    text = explained(o, names)
    assert "forward: o = tanh(0.8814) = 0.7071" in text
    # the local derivative as a formula, then evaluated, then the product
    assert "local: ∂o/∂n = 1 − tanh(n)² = 1 − 0.7071² = 0.5" in text
    assert "dL/dn = dL/do · ∂o/∂n = 1 · 0.5 = 0.5" in text
    assert "local: ∂x1w1/∂x1 = w1 = -3" in text
    assert "dL/dx1 = dL/dx1w1 · ∂x1w1/∂x1 = 0.5 · (-3) = -1.5" in text
    assert "dL/do = 1  (the seed)" in text
    assert "do/dn" not in text and "do/do" not in text  # one symbol for one thing
    got = totals(text)
    for name, expected in LECTURE_GRADS.items():
        assert got[name] == pytest.approx(expected, abs=1e-6), name
    assert all(t.grad is None for t in names.values())  # explain changes nothing


def test_the_neuron_matches_pytorch():
    torch = pytest.importorskip("torch")
    o, names, s = lecture_neuron(tg, dtype=np.float64)
    text = explained(o, names)
    to, tnames, ts = lecture_neuron(torch, dtype=torch.float64)
    for t in [*tnames.values(), ts]:
        if t.grad_fn is not None:
            t.retain_grad()
    to.backward()
    got, values = totals(text), forwards(text)
    for name, t in {**tnames, "x1w1 + x2w2": ts}.items():
        assert got[name] == pytest.approx(t.grad.item(), rel=1e-3, abs=1e-6), name
        if t.grad_fn is not None:
            assert values[name] == pytest.approx(t.item(), rel=1e-3), name


def test_a_2_2_2_mlp_matches_pytorch():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    x = tg.tensor([[0.5, -1.0], [2.0, 0.25]])
    target = tg.tensor(np.array([1, 0]))
    loss = nn.functional.cross_entropy(model(x), target)
    text = explained(loss, model)
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 2))
    with torch.no_grad():
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            tp.copy_(torch.tensor(p.data))
    tloss = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x.data)),
                                              torch.tensor(target.data))
    tloss.backward()
    got = totals(text)
    summary = text.split("Gradients of the leaves")[1]
    for (name, _), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(got[name], tp.grad.numpy(), rtol=2e-3, atol=1e-6)
        assert f"dL/d{name} = " in summary
    assert f"{tloss.item():.4g}" in text  # the forward value of the loss
    # tensor steps say their shapes, and what unbroadcast summed (the bias)
    assert re.search(r"dL/d0\.bias = dL/dlinear1 pushed back through linear = .*\(shape \(2,\): "
                     r"0\.bias was broadcast to \(2, 2\), so unbroadcast summed axis 0\)", text)
    assert "c1 is a constant (2, 2) float32 = [[0.5, -1], [2, 0.25]]" in text  # the input


def test_contributions_are_labelled_and_the_total_stated_once():
    x = tg.tensor(2.0, requires_grad=True)
    y = tg.tensor(3.0, requires_grad=True)
    z = x * y
    u = z + x
    loss = u * u  # dL/du = 2u = 16, dL/dx = 16 + 16 * 3 = 64, dL/dy = 32
    text = explained(loss, {"x": x, "y": y, "z": z, "u": u})
    assert "contribution 1 of 2 to dL/du (via input 1 of mul): dL/dL · ∂L/∂u = 1 · 8 = 8" in text
    assert "dL/du = 8 + 8 = 16  (total: all 2 contributions in)" in text
    assert "contribution 1 of 2 to dL/dx (via input 2 of add)" in text
    assert "dL/dx = 16 + 48 = 64  (total: all 2 contributions in)" in text
    # a partial sum is never written under the total's name
    assert not re.search(r"^\s+dL/dx = dL/du", text, re.M)
    assert text.count("dL/dx = 16 + 48 = 64") == 1
    assert re.search(r"^\s+dL/dy = 32$", text, re.M)  # in the leaves' summary


def test_constants_are_shown_with_their_values_and_noise_as_zero():
    w = tg.tensor(0.5, requires_grad=True)
    c = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    loss = (w * c).sum() * 3.0
    text = explained(loss, {"w": w})
    assert "= mul(sum1, 3)" in text  # a Python number, by value
    assert "c1 is a constant (2, 2) float32 = [[1, 2], [3, 4]]" in text
    a = tg.tensor(1.0, requires_grad=True, dtype=np.float64)
    noise = a * (0.1 + 0.2) + a * -0.3  # dL/da = 0.30000000000000004 - 0.3
    text = explained(noise, {"a": a})
    assert "dL/da = -0.3 + 0.3 = 0  (total: all 2 contributions in)" in text


def test_max_steps_says_how_many_were_left_out():
    o, names, _ = lecture_neuron()
    text = explained(o, names, max_steps=2)
    assert "step 2:" in text and "step 3:" not in text
    assert "... 3 more step(s) left out (max_steps=2); the totals below include them." in text
    assert re.search(r"^\s+dL/dw1 = 1$", text, re.M)
    with pytest.raises(ValueError, match="max_steps"):
        explained(o, names, max_steps=-1)


def known_function():
    """L = (x*y + x)^2 at x=2, y=3: u = 8, dL/dx = 2u(y + 1) = 64, dL/dy = 2ux = 32."""
    x = tg.tensor(2.0, requires_grad=True)
    y = tg.tensor(3.0, requires_grad=True)
    z = x * y
    u = z + x
    return u * u, x, y, z, u


def test_backward_steps_order_gradients_and_no_side_effects():
    loss, x, y, z, u = known_function()
    steps = backward_steps(loss)
    assert [s.op for s in steps] == ["mul", "add", "mul"]
    assert [s.output for s in steps] == [loss, u, z]
    assert [float(s.upstream) for s in steps] == [1.0, 16.0, 16.0]
    assert steps[0].rule == "d(x * y)/dx = y, d(x * y)/dy = x."
    sent = [[(f.tensor, float(f.grad)) for f in s.inputs] for s in steps]
    assert sent[0] == [(u, 8.0), (u, 8.0)]
    assert sent[1] == [(z, 16.0), (x, 16.0)]
    assert sent[2] == [(x, 48.0), (y, 32.0)]
    assert [float(f.local) for f in steps[2].inputs] == [3.0, 2.0]
    # nothing of the user's changed: no grads, and the graph still backprops
    assert x.grad is None and y.grad is None
    loss.backward()
    assert float(x.grad.data) == 64.0 and float(y.grad.data) == 32.0
    # after backward freed the saved arrays the steps are still there, unchanged
    again = backward_steps(loss)
    assert [[float(f.grad) for f in s.inputs] for s in again] == [[8, 8], [16, 16], [48, 32]]
    assert float(x.grad.data) == 64.0


def test_backward_steps_of_tensors_match_backward():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    loss = nn.functional.cross_entropy(model(tg.rand(4, 6)), tg.tensor(np.array([0, 1, 2, 0])))
    steps = backward_steps(loss)
    totals: dict[int, np.ndarray] = {}
    for step in steps:
        for f in step.inputs:
            totals[id(f.tensor)] = totals.get(id(f.tensor), 0) + f.grad
    loss.backward()
    for p in model.parameters():
        np.testing.assert_allclose(totals[id(p)], p.grad.data, rtol=1e-6, atol=1e-9)
    with pytest.raises(RuntimeError, match="gradient"):
        backward_steps(loss.reshape(1).expand(3))


def test_explain_names_the_local_derivative_apart_from_the_gradient():
    w1 = tg.tensor(0.5, requires_grad=True)
    z = w1 * 3.0
    loss = z * 0.25
    text = explained(loss, {"w1": w1, "z": z})
    assert "dL/dw1 = dL/dz · ∂z/∂w1 = 0.25 · 3 = 0.75" in text
    assert "rule: d(x * y)/dx = y, d(x * y)/dy = x." in text
