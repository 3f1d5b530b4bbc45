"""Module forward hooks and pre-hooks, per module and global, against PyTorch's.

Each scenario is written once for a namespace (nn, register_module_forward_pre_hook,
register_module_forward_hook, make-a-tensor) and run on both libraries: the recorded
call orders and results must agree, and match the order PyTorch documents.
"""

from __future__ import annotations

import copy
import pickle
import types

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.hooks import RemovableHandle


def ours() -> types.SimpleNamespace:
    return types.SimpleNamespace(
        nn=nn, pre=nn.register_module_forward_pre_hook, post=nn.register_module_forward_hook,
        tensor=lambda v: tg.tensor(v, dtype=tg.float32), numpy=lambda t: t.numpy())


def theirs() -> types.SimpleNamespace:
    torch = pytest.importorskip("torch")
    from torch.nn.modules import module as m

    return types.SimpleNamespace(
        nn=torch.nn, pre=m.register_module_forward_pre_hook, post=m.register_module_forward_hook,
        tensor=lambda v: torch.tensor(v, dtype=torch.float32),
        numpy=lambda t: t.detach().numpy())


def make_scale(lib: types.SimpleNamespace, log: list) -> object:
    class Scale(lib.nn.Module):
        def forward(self, x, by=2.0):
            log.append(("forward", by))
            return x * by

    return Scale()


def order_scenario(lib: types.SimpleNamespace) -> tuple[list, np.ndarray]:
    log: list = []
    module = make_scale(lib, log)
    handles = [
        module.register_forward_hook(lambda m, a, o: log.append("module forward")),
        module.register_forward_pre_hook(lambda m, a: log.append("module pre")),
        module.register_forward_pre_hook(lambda m, a: log.append("module pre first"),
                                         prepend=True),
        module.register_forward_hook(lambda m, a, o: log.append("module forward first"),
                                     prepend=True),
        lib.post(lambda m, a, o: log.append("global forward")),
        lib.pre(lambda m, a: log.append("global pre")),
    ]
    try:
        out = module(lib.tensor([1.0, 2.0]))
    finally:
        for handle in handles:
            handle.remove()
    module(lib.tensor([1.0]))  # every hook is gone
    return log, lib.numpy(out)


def test_hooks_run_in_pytorchs_order():
    expected = ["global pre", "module pre first", "module pre", ("forward", 2.0),
                "global forward", "module forward first", "module forward", ("forward", 2.0)]
    log, out = order_scenario(ours())
    assert log == expected
    np.testing.assert_allclose(out, [2.0, 4.0])
    torch_log, torch_out = order_scenario(theirs())
    assert torch_log == expected
    np.testing.assert_allclose(out, torch_out)


def rewrite_scenario(lib: types.SimpleNamespace) -> list:
    log: list = []
    module = make_scale(lib, log)
    x = lib.tensor([1.0, 2.0])
    results = []
    # a pre-hook's non-tuple return becomes the only argument
    with module.register_forward_pre_hook(lambda m, a: a[0] + 1):
        results.append(lib.numpy(module(x)))
    # with_kwargs: the pre-hook sees and replaces args and kwargs
    seen = []

    def pre_kwargs(m, args, kwargs):
        seen.append(sorted(kwargs))
        return (args[0] * 10,), {"by": 3.0}

    with module.register_forward_pre_hook(pre_kwargs, with_kwargs=True):
        results.append(lib.numpy(module(x, by=5.0)))
    # a forward hook's non-None return replaces the output; with_kwargs sees the kwargs
    with module.register_forward_hook(lambda m, a, kw, o: o + kw["by"], with_kwargs=True):
        results.append(lib.numpy(module(x, by=1.0)))
    with module.register_forward_hook(lambda m, a, o: None):
        results.append(lib.numpy(module(x)))
    return [seen, *[r.tolist() for r in results], log]


def test_hooks_rewrite_arguments_and_outputs_like_pytorch():
    got = rewrite_scenario(ours())
    assert got[0] == [["by"]]
    assert got[1:5] == [[4.0, 6.0], [30.0, 60.0], [2.0, 3.0], [2.0, 4.0]]
    assert got == rewrite_scenario(theirs())


def always_call_scenario(lib: types.SimpleNamespace) -> list:
    log: list = []

    class Broken(lib.nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")

    module = Broken()
    handles = [
        lib.post(lambda m, a, o: log.append(("global always", o)), always_call=True),
        lib.post(lambda m, a, o: log.append("global plain")),
        module.register_forward_hook(lambda m, a, o: log.append(("always", o)),
                                     always_call=True),
        module.register_forward_hook(lambda m, a, o: log.append("plain")),
    ]
    try:
        with pytest.raises(ValueError, match="broken forward"):
            module(lib.tensor([1.0]))
    finally:
        for handle in handles:
            handle.remove()
    return log


def test_always_call_hooks_run_when_forward_raises():
    expected = [("global always", None), ("always", None)]
    assert always_call_scenario(ours()) == expected
    assert always_call_scenario(theirs()) == expected


def test_a_failing_always_call_hook_warns_and_the_forward_error_wins():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")

    def bad_hook(module, args, output):
        raise KeyError("hook")

    module = Broken()
    module.register_forward_hook(bad_hook, always_call=True)
    with pytest.warns(UserWarning, match="always_call"), pytest.raises(ValueError):
        module(tg.tensor([1.0]))


def test_bad_pre_hook_return_with_kwargs_is_named():
    module = nn.Identity()
    module.register_forward_pre_hook(lambda m, a, kw: 3, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"Identity: .*\(new_args, new_kwargs\), got 3"):
        module(tg.tensor([1.0]))


def test_handles_remove_hooks_and_their_flags():
    module = nn.Identity()
    handle = module.register_forward_hook(lambda m, a, kw, o: o * 2, with_kwargs=True,
                                          always_call=True)
    assert isinstance(handle, RemovableHandle)
    np.testing.assert_allclose(module(tg.tensor([1.0])).numpy(), [2.0])
    handle.remove()
    handle.remove()  # harmless, as in PyTorch
    assert not module._forward_hooks and not module._forward_hooks_with_kwargs
    assert not module._forward_hooks_always_called
    np.testing.assert_allclose(module(tg.tensor([1.0])).numpy(), [1.0])
    with pytest.raises(TypeError, match="callable"):
        module.register_forward_hook(3)


def test_hook_dicts_stay_out_of_the_state_and_the_module_tree():
    hook_module = nn.Linear(2, 2)  # a callable Module used as a hook is not a submodule

    model = nn.Sequential(nn.Linear(2, 3))
    model.register_forward_pre_hook(lambda m, a: None)
    model[0].register_forward_hook(lambda m, a, o: None)
    model[0].register_forward_hook(hook_module)
    assert list(model.state_dict()) == ["0.weight", "0.bias"]
    assert [name for name, _ in model.named_modules()] == ["", "0"]
    assert len(list(model.parameters())) == 2


def double_output(module, args, output):
    return output * 2


def test_models_with_picklable_hooks_pickle_and_deepcopy_with_their_hooks():
    tg.manual_seed(0)
    model = nn.Linear(2, 2)
    model.register_forward_hook(double_output)
    x = tg.tensor([[1.0, 2.0]])
    expected = model(x).numpy()
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_allclose(clone(x).numpy(), expected)
    plain = nn.Linear(2, 2)
    assert pickle.loads(pickle.dumps(plain))._forward_hooks == {}  # no dicts until needed


def test_a_module_that_skipped_init_still_calls_and_takes_hooks():
    class Bare(nn.Module):
        def __init__(self):  # no super().__init__(), tolerated as before
            pass

        def forward(self, x):
            return x + 1

    bare = Bare()
    assert bare(tg.tensor(1.0)).item() == 2.0
    bare.register_forward_hook(double_output)
    assert bare(tg.tensor(1.0)).item() == 4.0


def test_global_hooks_see_every_module_and_go_away():
    seen = []
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with nn.register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__)):
        model(tg.rand(1, 2))
    model(tg.rand(1, 2))
    assert seen == ["Linear", "ReLU", "Sequential"]
