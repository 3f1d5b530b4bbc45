"""Training diagnostics (tinygrad_edu.diagnostics, the plots, the fit callback).

The numbers are checked against hand-made arrays, NumPy computed here, and PyTorch;
the vanishing-gradient test is the classic one: a deep sigmoid MLP at PyTorch's
default init loses orders of magnitude of gradient per layer, a ReLU MLP with He init
does not.
"""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.diagnostics import (
    SATURATION,
    ActivationRecord,
    activation_stats,
    gradient_stats,
    informative,
    record_activations,
    snapshot_gradients,
    weight_stats,
)
from tinygrad_edu.diagnostics_callback import GradientDiagnostics
from tinygrad_edu.nn import functional as F  # noqa: N812
from tinygrad_edu.rng import manual_seed
from tinygrad_edu.tensor import Tensor, from_numpy

DEPTH, WIDTH, IN, CLASSES = 10, 64, 32, 10


def deep_mlp(activation: type[nn.Module], he: bool = False,
             depth: int = DEPTH) -> nn.Sequential:
    """`depth` Linear layers with `activation` between them (default init unless he)."""
    widths = [IN] + [WIDTH] * (depth - 1)
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        linear = nn.Linear(fan_in, fan_out)
        if he:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
    layers.append(nn.Linear(WIDTH, CLASSES))
    return nn.Sequential(*layers)


def batch(seed: int, n: int = 64) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    return (from_numpy(rng.standard_normal((n, IN)).astype(np.float32)),
            from_numpy(rng.integers(0, CLASSES, n)))


def backward_once(model: nn.Module, seed: int) -> None:
    x, y = batch(seed)
    F.cross_entropy(model(x), y).backward()


# -- gradient flow ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_sigmoid_gradients_shrink_layer_by_layer(seed):
    manual_seed(seed)
    model = deep_mlp(nn.Sigmoid)
    backward_once(model, seed)
    layers = gradient_stats(model)
    assert [layer.name for layer in layers] == [str(2 * i) for i in range(DEPTH)]
    mean = np.array([layer.grad_mean_abs for layer in layers])
    # input side first: every layer gets less than the one after it...
    assert np.all(mean[:-1] < mean[1:]), mean
    # ...by a factor of about 0.25 x the weights' scale per layer: 1e-8 over ten layers
    assert mean[0] / mean[-1] < 1e-5
    ratio = np.array([layer.grad_to_weight for layer in layers])
    assert ratio[0] / ratio[-1] < 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_with_he_init_keeps_its_gradients(seed):
    manual_seed(seed)
    model = deep_mlp(nn.ReLU, he=True)
    backward_once(model, seed)
    mean = np.array([layer.grad_mean_abs for layer in gradient_stats(model)])
    hidden = mean[:-1]  # the output layer sees the loss directly
    assert hidden.max() / hidden.min() < 10, mean
    assert mean[0] / mean[-1] > 1e-2


def test_gradient_stats_pool_weight_and_bias_by_hand():
    layer = nn.Linear(2, 2)
    layer.weight.data[...] = [[3.0, 0.0], [0.0, 4.0]]
    layer.bias.data[...] = [0.0, 0.0]
    layer.weight.grad = from_numpy(np.array([[1.0, -1.0], [0.0, 2.0]], dtype=np.float32))
    layer.bias.grad = from_numpy(np.array([-2.0, 0.0], dtype=np.float32))
    (stats,) = gradient_stats(layer)
    assert stats.name == "Linear" and stats.kind == "Linear"  # the root has no name
    assert stats.grad_mean_abs == pytest.approx(6 / 6)  # |1|+|-1|+|0|+|2|+|-2|+|0|
    assert stats.grad_max_abs == 2
    assert stats.grad_norm == pytest.approx(math.sqrt(10))
    assert stats.weight_norm == pytest.approx(5)
    assert stats.grad_to_weight == pytest.approx(math.sqrt(10) / 5)
    weight, bias = stats.params
    assert (weight.name, weight.shape, bias.name) == ("weight", (2, 2), "bias")
    assert weight.grad_mean_abs == pytest.approx(1.0) and bias.grad_mean_abs == 1.0
    assert math.isinf(bias.grad_to_weight)  # a zero bias: no finite ratio
    assert stats.to_dict()["params"][1]["grad_to_weight"] is None  # JSON has no inf


def test_gradient_stats_name_nested_layers_and_mark_missing_gradients():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
            self.head = nn.Linear(4, 2)

    net = Net()
    net.head.weight.grad = from_numpy(np.ones((2, 4), dtype=np.float32))
    layers = gradient_stats(net)
    assert [(layer.name, layer.kind) for layer in layers] == [("body.0", "Linear"),
                                                              ("head", "Linear")]
    assert math.isnan(layers[0].grad_mean_abs)  # no gradient reached it
    assert layers[1].grad_mean_abs == 1.0  # head.bias has none: the weight alone counts
    assert [p.name for p in layers[1].params] == ["head.weight", "head.bias"]


def test_gradient_stats_errors():
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match=r"no parameter of Sequential has a gradient.*backward"):
        gradient_stats(model)
    with pytest.raises(ValueError, match=r"gradients for \['1.weight'\].*'0.weight'"):
        gradient_stats(model, {"1.weight": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"gradient of 0.weight has shape \(3, 2\)"):
        gradient_stats(model, {"0.weight": np.zeros((3, 2))})
    with pytest.raises(TypeError, match="expected an nn.Module, got ndarray"):
        gradient_stats(np.zeros(3))  # type: ignore[arg-type]


def test_snapshot_is_a_copy():
    model = nn.Sequential(nn.Linear(3, 2))
    backward_once_small(model)
    snap = snapshot_gradients(model)
    before = snap["0.weight"].copy()
    model[0].weight.grad.data[...] = 0
    assert np.array_equal(snap["0.weight"], before) and sorted(snap) == ["0.bias", "0.weight"]


def backward_once_small(model: nn.Module) -> None:
    x = from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
    (model(x) ** 2).sum().backward()


def test_gradient_stats_match_pytorch():
    torch = pytest.importorskip("torch")
    manual_seed(0)
    model = deep_mlp(nn.Tanh)
    x, y = batch(5)
    F.cross_entropy(model(x), y).backward()
    ours = gradient_stats(model)

    linears = [m for m in model if isinstance(m, nn.Linear)]
    ref_layers = []
    for i, m in enumerate(linears):
        ref = torch.nn.Linear(m.in_features, m.out_features)
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(m.weight.data))
            ref.bias.copy_(torch.from_numpy(m.bias.data))
        ref_layers += [ref] + ([torch.nn.Tanh()] if i < len(linears) - 1 else [])
    ref_model = torch.nn.Sequential(*ref_layers)
    torch.nn.functional.cross_entropy(ref_model(torch.from_numpy(x.data)),
                                      torch.from_numpy(y.data)).backward()
    for stats, ref in zip(ours, [m for m in ref_model if isinstance(m, torch.nn.Linear)]):
        grads = torch.cat([ref.weight.grad.flatten(), ref.bias.grad.flatten()]).double()
        weights = torch.cat([ref.weight.flatten(), ref.bias.flatten()]).detach().double()
        assert stats.grad_mean_abs == pytest.approx(grads.abs().mean().item(), rel=1e-4)
        assert stats.grad_max_abs == pytest.approx(grads.abs().max().item(), rel=1e-4)
        assert stats.grad_to_weight == pytest.approx(
            (grads.norm() / weights.norm()).item(), rel=1e-4)


# -- weights -------------------------------------------------------------------------------


def test_weight_stats_scale_tells_the_init_apart():
    manual_seed(0)
    default, he = nn.Linear(256, 256), nn.Linear(256, 256)
    nn.init.kaiming_normal_(he.weight, nonlinearity="relu")
    (w_default,) = weight_stats(default, include_bias=False)
    (w_he,) = weight_stats(he, include_bias=False)
    # PyTorch's default draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)): std 1/sqrt(3 fan_in)
    assert w_default.scale == pytest.approx(1 / math.sqrt(3), rel=0.02)
    assert w_he.scale == pytest.approx(math.sqrt(2), rel=0.02)
    assert w_default.std == pytest.approx(np.std(default.weight.data), rel=1e-5)
    assert sum(w_default.histogram.counts) == 256 * 256
    names = [w.name for w in weight_stats(default)]
    assert names == ["weight", "bias"] and math.isnan(weight_stats(default)[1].scale)
    with pytest.raises(ValueError, match="weight_stats: bins must be a positive int, got 0"):
        weight_stats(default, bins=0)


# -- activations -------------------------------------------------------------------------


def test_record_activations_captures_every_layer_and_removes_its_hooks():
    manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))
    x = from_numpy(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    with record_activations(model) as record:
        out = model(x)
    assert record.names == ["0", "1", "2", "3"]
    assert record.kinds == ["Flatten", "Linear", "ReLU", "Linear"]
    linear = model[1]
    expected = x.data.reshape(5, 6) @ linear.weight.data.T + linear.bias.data
    np.testing.assert_allclose(record.activations["1"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(record.activations["2"], np.maximum(expected, 0))
    np.testing.assert_array_equal(record.activations["3"], out.data)
    assert all(not m._forward_hooks for m in model.modules())
    model(x)  # after the block nothing is recorded any more
    assert len(record.arrays) == 4


def test_record_activations_removes_hooks_on_error_and_numbers_repeated_calls():
    relu = nn.ReLU()
    model = nn.Sequential(nn.Linear(2, 2), relu, relu)
    with pytest.raises(RuntimeError, match="boom"):
        with record_activations(model) as record:
            model(from_numpy(np.ones((1, 2), dtype=np.float32)))
            raise RuntimeError("boom")
    assert all(not m._forward_hooks for m in model.modules())
    # a shared module is named once by named_modules and is called twice
    assert record.names == ["0", "1", "1 (call 2)"]
    with pytest.raises(TypeError, match="record_activations: expected an nn.Module"):
        with record_activations("model"):  # type: ignore[arg-type]
            pass


def test_activation_stats_saturation_dead_units_and_slope_by_hand():
    tanh = np.array([[0.0, 0.5], [0.98, -0.99]])
    sigmoid = np.array([[0.001, 0.5], [0.999, 0.6]])
    relu = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])  # unit 0 is zero for both samples
    images = np.zeros((2, 3, 2, 2))
    images[0, 1, 0, 0] = images[1, 2, 1, 1] = 1.0  # channel 0 never fires
    stats = activation_stats([("t", "Tanh", tanh), ("s", "Sigmoid", sigmoid),
                              ("r", "ReLU", relu), ("c", "ReLU", images),
                              ("l", "Linear", tanh)], bins=4)
    t, s, r, c, lin = stats
    assert SATURATION == 0.97
    assert t.saturated == 0.5 and s.saturated == 0.5
    assert t.mean_slope == pytest.approx(np.mean([1, 0.75, 1 - 0.98**2, 1 - 0.99**2]))
    assert s.mean_slope == pytest.approx(np.mean([0.001 * 0.999, 0.25, 0.999 * 0.001, 0.24]))
    assert r.dead == pytest.approx(1 / 3) and r.zero_fraction == 0.5
    assert r.mean_slope == 0.5 and math.isnan(r.saturated)
    assert c.dead == pytest.approx(1 / 3)
    assert math.isnan(lin.saturated) and math.isnan(lin.dead) and math.isnan(lin.mean_slope)
    # the bounded activations' histograms span their whole range
    assert (t.histogram.edges[0], t.histogram.edges[-1]) == (-1.0, 1.0)
    assert s.histogram.edges == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert s.histogram.counts == [1, 0, 2, 1]
    assert json.loads(json.dumps(lin.to_dict()))["dead"] is None


def test_sigmoid_layers_scale_gradients_by_at_most_a_quarter():
    manual_seed(0)
    model = deep_mlp(nn.Sigmoid)
    with record_activations(model) as record:
        model(batch(0)[0])
    shown = informative(record.stats())
    assert [s.kind for s in shown] == ["Sigmoid"] * (DEPTH - 1)
    assert all(0.2 < s.mean_slope <= 0.25 for s in shown)
    # not saturation: at default init the units sit near 0.5, the slope's peak
    assert all(s.saturated < 0.01 for s in shown)


# -- plots ---------------------------------------------------------------------------------


def is_png(path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
        return image.format == "PNG" and min(image.size) > 200


def test_the_three_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("PIL")
    from tinygrad_edu import plots

    manual_seed(0)
    model = deep_mlp(nn.Sigmoid, depth=3)  # few panels: drawing is the slow part
    x, y = batch(0)
    with record_activations(model) as record:
        F.cross_entropy(model(x), y).backward()
    paths = [plots.plot_gradient_flow(model, tmp_path / "grad.png"),
             plots.plot_gradient_flow(gradient_stats(model), tmp_path / "grad_stats.png"),
             plots.plot_activation_histograms(record, tmp_path / "act.png"),
             plots.plot_weight_histograms(model, tmp_path / "weights.png")]
    assert all(is_png(p) for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    with pytest.raises(ValueError, match="plot_activation_histograms: no layer outputs"):
        plots.plot_activation_histograms(ActivationRecord(), tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


# -- the callback --------------------------------------------------------------------------


def train_by_hand(model, callback, epochs, steps=3, lr=0.1, step_hook=True):
    """What fit does with callbacks: step, on_step_end after it, on_epoch_end."""
    from tinygrad_edu import optim

    optimizer = optim.SGD(model.parameters(), lr=lr)
    written = []
    for epoch in range(1, epochs + 1):
        for step in range(steps):
            x, y = batch(100 * epoch + step, n=16)
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            if step_hook:
                callback.on_step_end(step, model, {})
        written.append(callback.on_epoch_end(epoch, model, {}))
    return written


def test_callback_writes_files_each_epoch_from_the_last_step(tmp_path):
    pytest.importorskip("matplotlib")
    manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, CLASSES))
    callback = GradientDiagnostics(tmp_path / "diag", batch=batch(7, n=32))
    written = train_by_hand(model, callback, epochs=2)
    names = sorted(p.name for p in (tmp_path / "diag").iterdir())
    assert names == sorted(f"{kind}_epoch{e:03d}.{ext}" for e in (1, 2) for kind, ext in (
        ("diagnostics", "json"), ("gradient_flow", "png"), ("activations", "png"),
        ("weights", "png")))
    assert set(written[0]) == {"json", "gradient_flow", "weights", "activations"}
    report = json.loads(written[1]["json"].read_text())
    assert report["epoch"] == 2 and report["gradient_source"] == "last training step"
    # the numbers are those of the last step's gradients, still on the parameters
    first = model[0]
    grads = np.concatenate([first.weight.grad.data.ravel(), first.bias.grad.data.ravel()])
    assert report["gradients"][0]["name"] == "0"
    assert report["gradients"][0]["grad_mean_abs"] == pytest.approx(np.abs(grads).mean(),
                                                                    rel=1e-5)
    kinds = {a["kind"] for a in report["activations"]}
    assert kinds == {"Linear", "Tanh"} and len(report["weights"]) == 6


def test_callback_with_only_on_epoch_end_uses_its_batch(tmp_path):
    manual_seed(0)
    model = deep_mlp(nn.Sigmoid)
    model.eval()
    x, y = batch(3, n=32)
    callback = GradientDiagnostics(tmp_path, batch=(x.data, y.data), plots=False)
    paths = callback.on_epoch_end(1, model, {})
    assert list(paths) == ["json"] and sorted(p.name for p in tmp_path.iterdir()) == [
        "diagnostics_epoch001.json"]
    report = json.loads(paths["json"].read_text())
    assert report["gradient_source"] == "fixed batch"
    assert all(p.grad is None for p in model.parameters())  # nothing accumulated
    assert not model.training  # the mode it had
    F.cross_entropy(model(x), y).backward()
    expected = [layer.grad_mean_abs for layer in gradient_stats(model)]
    got = [layer["grad_mean_abs"] for layer in report["gradients"]]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[0] / got[-1] < 1e-5  # the vanishing gradient, in the JSON too


def test_callback_every_and_errors(tmp_path):
    manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, CLASSES))
    callback = GradientDiagnostics(tmp_path, every=2, plots=False)
    written = train_by_hand(model, callback, epochs=3, steps=1)
    assert [sorted(w) for w in written] == [[], ["json"], []]
    with pytest.raises(ValueError, match="every must be a positive int, got 0"):
        GradientDiagnostics(tmp_path, every=0)
    with pytest.raises(ValueError, match=r"batch must be an \(inputs, targets\) pair"):
        GradientDiagnostics(tmp_path, batch=np.zeros(3))  # type: ignore[arg-type]
    lonely = GradientDiagnostics(tmp_path / "none", plots=False)
    with pytest.raises(ValueError, match="no gradients to report.*batch=\\(x, y\\)"):
        lonely.on_epoch_end(1, nn.Sequential(nn.Linear(2, 2)), {})


def test_fit_drives_the_callback(tmp_path):
    from tinygrad_edu import optim
    from tinygrad_edu.train import fit
    from tinygrad_edu.utils.data import DataLoader, TensorDataset

    if "callbacks" not in inspect.signature(fit).parameters:
        pytest.skip("train.fit takes no callbacks yet")
    manual_seed(0)
    model = deep_mlp(nn.ReLU, he=True)
    x, y = batch(0, n=64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    callback = GradientDiagnostics(tmp_path, plots=False)
    fit(model, optim.SGD(model.parameters(), lr=0.01), loader, 2, progress=False, log=None,
        callbacks=[callback])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "diagnostics_epoch001.json", "diagnostics_epoch002.json"]
