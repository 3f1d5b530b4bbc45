"""The APIs added in tests/test_api_*.py also run on the stand-in device (arrays that
refuse plain NumPy, as CuPy's do): results stay on the device, and values and
gradients equal the CPU's."""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F  # noqa: N812

ACTIVATIONS = ["elu", "selu", "celu", "softplus", "hardtanh", "relu6", "hardsigmoid",
               "hardswish", "mish", "softsign"]
MATH = ["log1p", "expm1", "log2", "log10", "exp2", "reciprocal", "rsqrt", "floor", "ceil",
        "round", "trunc", "frac"]


def outputs(x):
    """Every differentiable new API applied to x (N, C, H, W), as a dict of tensors."""
    slopes = tg.tensor([0.1, 0.2, 0.3], dtype=tg.float64).to(x.device)
    p = x.sigmoid()
    zero = x.detach() * 0.0
    out = {
        "adaptive_avg_pool2d": F.adaptive_avg_pool2d(x, (3, 2)),
        "normalize": F.normalize(x), "cosine_similarity": F.cosine_similarity(x, x.flip(0)),
        "prelu": F.prelu(x, slopes),
        "binary_cross_entropy": F.binary_cross_entropy(p, p.detach().round()),
        "l1_loss": F.l1_loss(x, zero), "huber_loss": F.huber_loss(x, zero),
        "smooth_l1_loss": F.smooth_l1_loss(x, zero, beta=0.5),
        "kl_div": F.kl_div(x.log_softmax(1), p.detach(), reduction="batchmean"),
        "cumprod": x.cumprod(1), "roll": x.roll(1, 2), "diagonal": x.diagonal(1, 2, 3),
        "repeat_interleave": x.repeat_interleave(2, 1),
        "index_select": x.index_select(1, tg.tensor([0, 2])),
        "outer": tg.outer(x[0, 0, 0], x[1, 1, 1]), "std_mean": tg.std_mean(x, 1)[0],
    }
    out.update({name: getattr(F, name)(x) for name in ACTIVATIONS})
    out.update({name: getattr(x.abs() + 0.1, name)() for name in MATH})
    return out


def test_new_apis_stay_on_the_standin_device_and_match_the_cpu():
    data = np.random.default_rng(0).normal(size=(2, 3, 5, 5))
    cpu = tg.tensor(data, requires_grad=True)
    leaf = tg.tensor(data, requires_grad=True)
    standin = leaf.to("standin")
    mine, reference = outputs(standin), outputs(cpu)
    for name, out in mine.items():
        assert out.device.type == "standin", name
        np.testing.assert_allclose(out.cpu().numpy(), reference[name].numpy(), rtol=1e-12,
                                   err_msg=name)
    sum(o.sum() for o in mine.values()).backward()
    sum(o.sum() for o in reference.values()).backward()
    np.testing.assert_allclose(leaf.grad.numpy(), cpu.grad.numpy(), rtol=1e-10)


def test_non_differentiable_apis_on_the_standin_device():
    x = tg.tensor([[0.0, 2.0], [np.inf, -1.5]]).to("standin")
    for out in (x.isnan(), x.isinf(), x.isfinite(), x.nonzero(), x.any(1), x.all(),
                tg.isclose(x, x), tg.logical_and(x, x), tg.unique(x.clamp(-5, 5).long()),
                tg.bincount(x.clamp(0, 5).long().reshape(-1)),
                F.dropout2d(tg.ones(2, 3, 2, 2).to("standin"), 0.5),
                F.dropout2d(tg.ones(2, 3, 2, 2).to("standin"), 1.0)):
        assert out.device.type == "standin"
    assert x.nonzero().cpu().tolist() == [[0, 1], [1, 0], [1, 1]]
    assert x.stride() == (2, 1)
    y = tg.tensor([4.0, 9.0]).to("standin")
    assert y.sqrt_() is y and y.cpu().tolist() == [2.0, 3.0]
