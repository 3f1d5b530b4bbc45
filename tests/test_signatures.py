"""Arguments a PyTorch user passes by position land where PyTorch puts them: for every
function, module and optimizer both libraries have, our positional parameters are
PyTorch's, in PyTorch's order (as far as ours go). A loss that put `reduction` third
took PyTorch's `weight` as a reduction; this keeps that from coming back."""

import inspect

import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F  # noqa: N812

torch = pytest.importorskip("torch")

# our name for the first argument of elementwise functions; PyTorch calls it input
SAME_NAME = {"x": "input"}


def positional(fn):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [SAME_NAME.get(p.name, p.name) for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"]


def shared(ours, theirs):
    for name in sorted(dir(ours)):
        if name.startswith("_") or not hasattr(theirs, name):
            continue
        mine, reference = getattr(ours, name), getattr(theirs, name)
        if not callable(mine):
            continue
        if isinstance(mine, type):
            if not isinstance(reference, type):
                continue
            mine, reference = mine.__init__, reference.__init__
        yield name, mine, reference


NAMESPACES = [("F", F, torch.nn.functional), ("nn", tg.nn, torch.nn),
              ("optim", tg.optim, torch.optim), ("tinygrad_edu", tg, torch),
              ("Tensor", tg.Tensor, torch.Tensor), ("init", tg.nn.init, torch.nn.init),
              ("nn.utils", tg.nn.utils, torch.nn.utils),
              ("utils.data", tg.utils.data, torch.utils.data),
              ("lr_scheduler", tg.optim.lr_scheduler, torch.optim.lr_scheduler),
              ("autograd", tg.autograd, torch.autograd)]
# where ours is a documented departure: torch.load's third parameter is pickle_module,
# which a loader that never unpickles has no use for
KNOWN = {("tinygrad_edu", "load")}


@pytest.mark.parametrize(("label", "ours", "theirs"), NAMESPACES,
                         ids=[n[0] for n in NAMESPACES])
def test_positional_parameters_follow_pytorchs_order(label, ours, theirs):
    wrong = []
    for name, mine, reference in shared(ours, theirs):
        a, b = positional(mine), positional(reference)
        if a is None or b is None or (label, name) in KNOWN:
            continue
        a = [p for p in a if not (label == "Tensor" and p == "input")]  # methods' self
        n = min(len(a), len(b))
        if a[:n] != b[:n]:
            wrong.append(f"{label}.{name}: ours {a[:n]}, PyTorch's {b[:n]}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_wrong_order():
    def cross_entropy(input, target, reduction="mean", label_smoothing=0.0):  # noqa: A002
        return None

    a = positional(cross_entropy)
    b = positional(torch.nn.functional.cross_entropy)
    assert a[:3] != b[:3]
