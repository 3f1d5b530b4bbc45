"""In-place ops: version counting, refused backward through changed tensors, autograd
through in-place changes, and nothing half-applied."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import engine, nn, optim


def test_version_counts_in_place_changes_shared_by_views_and_detach():
    x = tg.zeros(2, 3)
    view, detached = x[0], x.detach()
    assert x._version == 0
    x.add_(1)
    view.mul_(3)  # changes x's memory: x's count moves too
    detached.zero_()
    assert x._version == view._version == detached._version == 3
    assert np.all(x.numpy() == 0)


def test_backward_through_a_changed_saved_tensor_names_op_shape_and_versions():
    x = tg.tensor([0.5, -1.0], requires_grad=True)
    y = x.tanh()  # tanh saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: the output of "
                       r"tanh \(a tensor of shape \(2,\)\) is at version 1; expected version 0"):
        y.sum().backward()


def test_backward_through_a_changed_input_is_refused_as_in_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        h = w * 1.0
        out = (h * h).sum()  # mul saves h
        with lib.no_grad():
            h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()


def test_long_training_keeps_a_bounded_record_of_changes():
    # every optimizer step changes every parameter in place: the record of changes must
    # not grow with the steps (it did, by about 40 bytes per parameter per step)
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.01)
    x = tg.ones(4, 3)
    steps = 5 * engine.KEPT_CHANGES + 7
    for _ in range(steps):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    assert model.weight._version == steps
    assert len(model.weight.version_log) <= 2 * engine.KEPT_CHANGES + 1


def test_versions_in_the_error_stay_right_after_changes_are_forgotten():
    w = tg.tensor([1.0, 2.0])
    with tg.no_grad():
        for _ in range(3 * engine.KEPT_CHANGES):
            w.add_(1)
    x = tg.tensor([1.0, 1.0], requires_grad=True)
    recent = (x * w).sum()  # mul reads w for x's gradient
    with tg.no_grad():
        w.add_(1)
    version = 3 * engine.KEPT_CHANGES + 1
    with pytest.raises(RuntimeError, match=f"is at version {version}; expected version "
                       f"{version - 1} instead"):
        recent.backward()
    old = tg.tensor([1.0, 1.0], requires_grad=True)
    ancient = (old * w).sum()
    with tg.no_grad():
        for _ in range(3 * engine.KEPT_CHANGES):
            w.add_(1)
    # the changes before the op's own may be forgotten by now: the error says so
    with pytest.raises(RuntimeError, match=r"expected version at most \d+ instead"):
        ancient.backward()


def test_leaf_that_requires_grad_cannot_change_in_grad_mode():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 5.0
    assert w.tolist() == [1.0, 2.0] and w._version == 0
    with tg.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 3.0] and w._version == 1


def test_optimizer_step_spoils_a_graph_built_before_it():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = tg.ones(4, 3, requires_grad=True)  # its gradient reads the weight
    loss = model(x).pow(2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()  # would silently use the updated weights otherwise


def test_a_step_does_not_spoil_gradients_that_never_read_the_weights():
    # as PyTorch: with a constant input, the weight's gradient reads only the input and
    # the upstream gradient, so a second backward gives the first one's numbers again
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = model(tg.ones(4, 3)).pow(2).sum()
    loss.backward(retain_graph=True)
    first = model.weight.grad.numpy().copy()
    opt.step()
    opt.zero_grad()
    loss.backward()
    np.testing.assert_array_equal(model.weight.grad.numpy(), first)


def test_numpy_operand_changed_later_does_not_change_the_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([3.0, 4.0], dtype=np.float32)
    y = (x * arr).sum()
    arr[:] = -1
    y.backward()
    assert x.grad.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("case", ["add_", "mul_", "div_", "setitem", "copy_", "iadd", "clamp_"])
def test_gradients_through_in_place_changes_match_pytorch(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3) + 2.0
    results = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)
        h = x * 2.0
        if case == "add_":
            h.add_(y, alpha=0.5)
        elif case == "mul_":
            h.mul_(y)
        elif case == "div_":
            h.div_(y)
        elif case == "setitem":
            h[1] = y * 3.0
        elif case == "copy_":
            h.copy_(y)
        elif case == "iadd":
            h += y
        else:
            h.clamp_(-0.5, 0.5)
        (h * h).sum().backward()
        results.append((h.detach().numpy().copy(), x.grad.numpy().copy(),
                        None if y.grad is None else y.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_in_place_keeps_identity_and_memory():
    x = tg.zeros(3)
    memory = x.numpy()
    same = x
    x += 1
    assert x is same and memory.tolist() == [1.0, 1.0, 1.0]


def test_assigning_a_graph_value_into_a_constant_buffer_flows_gradients():
    w = tg.tensor([2.0], requires_grad=True)
    buf = tg.zeros(3)
    buf[1] = w * 5.0
    assert buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    assert w.grad.tolist() == [5.0]


def test_failing_in_place_ops_leave_the_tensor_as_it_was():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    before = x.numpy().copy()
    with pytest.raises(RuntimeError, match=r"copy_: the source of shape \(3,\)"):
        x.copy_(tg.ones(3))
    with pytest.raises(RuntimeError, match="must keep the tensor's shape"):
        x.add_(tg.ones(3, 2, 2))
    ints = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="cannot be stored in place in a tensor of dtype int64"):
        ints.mul_(tg.tensor([0.5, 0.5]))
    with pytest.raises(RuntimeError, match="read-only view"):
        tg.ones(3).expand(2, 3).add_(1)
    np.testing.assert_array_equal(x.numpy(), before)
    assert ints.tolist() == [1, 2] and x._version == 0 and ints._version == 0


def test_fill_zero_normal_uniform():
    tg.manual_seed(0)
    x = tg.empty(1000) if hasattr(tg, "empty") else tg.zeros(1000)
    x.normal_(2.0, 0.5)
    assert abs(float(x.mean()) - 2.0) < 0.05 and abs(float(x.std()) - 0.5) < 0.05
    x.uniform_(-1.0, 1.0)
    assert -1.0 <= float(x.amin()) and float(x.amax()) < 1.0
    x.fill_(7)
    assert set(x.tolist()) == {7.0}
    x.zero_()
    assert x._version == 4 and not x.numpy().any()
    with pytest.raises(RuntimeError, match="fill_: expected a single value"):
        x.fill_(tg.ones(2))


CONSUMERS = {
    "add": lambda h: h + 1.0,
    "clone": lambda h: h.clone(),
    "relu": lambda h: h.relu(),
    "sum": lambda h: h.sum(),
    "getitem": lambda h: h[1:],  # views: they share the memory that changes
    "reshape": lambda h: h.reshape(2, 1),
}
CHANGES = {"mul_": lambda h, x: h.mul_(2.0), "relu_": lambda h, x: h.relu_(),
           "copy_": lambda h, x: h.copy_(x * 3.0)}


def consumer_then_change(lib, consumer, change):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    h = x * 1.0
    z = CONSUMERS[consumer](h)  # recorded before h changes
    CHANGES[change](h, x)
    (z.sum() + (h * h).sum()).backward()
    return np.asarray(x.grad.tolist())


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_op_recorded_before_an_in_place_change_reads_the_old_node(consumer, change):
    # as PyTorch, whose graph points at nodes: the consumer's gradient goes to what h
    # was when it ran; a view of h, whose values did change, is refused instead
    if consumer in ("getitem", "reshape"):
        with pytest.raises(RuntimeError, match="shares its memory with a tensor that was "
                                               "changed in place"):
            consumer_then_change(tg, consumer, change)
        return
    ours = consumer_then_change(tg, consumer, change)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours, consumer_then_change(torch, consumer, change))


def test_every_leaf_grad_has_its_own_memory():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]


def test_changing_a_slice_in_place_changes_its_base_as_in_pytorch():
    # the slice's change is recorded as base[index] = new values (PyTorch's CopySlices)
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    h = x * 1.0
    view = h[1:]
    view.mul_(1.5)
    assert h.numpy().tolist() == [1.0, 3.0, 4.5, 6.0]  # the memory did change
    ((h * h).sum() + (view * view).sum()).backward()
    # h = [x0, 1.5 x1, 1.5 x2, 1.5 x3]: d/dx = 2 x0, then 2 * 2 * 1.5**2 x_i
    assert x.grad.numpy().tolist() == [2.0, 18.0, 27.0, 36.0]
    y = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = y * 1.0
    g[1:] *= 2  # Python's g.__setitem__(s, g[s].__imul__(2))
    (g * g).sum().backward()
    assert y.grad.numpy().tolist() == [2.0, 16.0, 24.0]


def test_other_views_of_a_changed_base_are_refused_not_silent():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1.0
    view = h[1:]  # made before h changes
    h.mul_(2.0)
    assert view.numpy().tolist() == [4.0, 6.0]
    with pytest.raises(RuntimeError, match=r"mul: input 0 \(shape \(2,\)\) shares its memory "
                                           r"with a tensor that was changed in place"):
        view * view


def test_detach_and_no_grad_views_made_after_a_change_are_not_stale():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    h = x * 1.0
    h.relu_()
    detached = h.detach()
    with tg.no_grad():
        view = h[0:1]
    assert (detached * 2).numpy().tolist() == [2.0, 0.0]
    assert (view * 2).numpy().tolist() == [2.0]
    (detached * h).sum().backward()  # detached: a constant, as in PyTorch
    assert x.grad.numpy().tolist() == [1.0, 0.0]


def test_a_constant_base_changed_through_its_view_is_refused_not_silent():
    # PyTorch would make the base part of the graph; here it would stay a constant
    # holding graph values, so using it is refused (a detach() of it is fine)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([1.0, 2.0, 3.0])
    detached = c.detach()
    c[1:].add_(x * 1.0)
    assert c.numpy().tolist() == [1.0, 3.0, 5.0]
    with pytest.raises(RuntimeError, match="shares its memory with a tensor that was"):
        c * 2
    assert (detached * 2).numpy().tolist() == [2.0, 6.0, 10.0]


INDEXED = {  # ops that keep an index (a tensor, or a NumPy array) for their backward
    "gather": lambda x, i: x.gather(1, i),
    "getitem, a tensor": lambda x, i: x[i[1]],
    "getitem, two tensors": lambda x, i: x[i[1], i[0]],
    "getitem, a NumPy array": lambda x, i: x[i.data[1]],
    "index_select": lambda x, i: x.index_select(1, i[0]),
    "embedding": lambda x, i: tg.nn.functional.embedding(i[1], x),
    "scatter_add": lambda x, i: tg.zeros(2, 3, dtype=tg.float64).scatter_add(1, i, x[:, :2]),
    "setitem": lambda x, i: (lambda c: (c.__setitem__(i[1], x[:1] * 2), c)[1])(x.clone()),
}
RETURNING_INDICES = {"sort": lambda x: x.sort(1), "topk": lambda x: x.topk(2, 1),
                     "max(dim)": lambda x: x.max(1), "min(dim)": lambda x: x.min(1)}


def _gradient(out, x):
    weights = np.arange(1.0, 1.0 + out.numel()).reshape(out.shape)  # tells positions apart
    (out * tg.tensor(weights)).sum().backward()
    return x.grad.numpy().tolist()


def _leaf():
    return tg.tensor(np.array([[3.0, 1.0, 2.0], [5.0, 4.0, 6.0]]), requires_grad=True)


@pytest.mark.parametrize("name", list(INDEXED))
def test_an_index_changed_after_the_op_leaves_the_gradient_alone(name):
    # the op keeps a copy of its index, so the backward is as if nothing had changed
    # (PyTorch refuses it instead, for a tensor; a NumPy index it copies too)
    gradients = []
    for change in (False, True):
        x, index = _leaf(), tg.tensor(np.array([[1, 2], [0, 1]]))
        out = INDEXED[name](x, index)
        if change:
            with tg.no_grad():
                index.mul_(0)  # the NumPy index of one case is this tensor's memory
        gradients.append(_gradient(out, x))
    assert gradients[0] == gradients[1]


@pytest.mark.parametrize("name", list(RETURNING_INDICES))
def test_returned_indices_changed_in_place_leave_the_values_gradient_alone(name):
    gradients = []
    for change in (False, True):
        x = _leaf()
        values, indices = RETURNING_INDICES[name](x)
        if change:
            with tg.no_grad():
                indices.mul_(0)
        gradients.append(_gradient(values, x))
    assert gradients[0] == gradients[1]


@pytest.mark.parametrize("name", ["where", "masked_fill", "getitem"])
def test_a_numpy_condition_changed_after_the_op_leaves_the_gradient_alone(name):
    ops = {"where": lambda x, c: tg.where(c, x, 0.0), "masked_fill": lambda x, c:
           x.masked_fill(c, 0.0), "getitem": lambda x, c: x[c]}
    gradients = []
    for change in (False, True):
        x, condition = tg.tensor([1.0, 2.0, 3.0], requires_grad=True), np.array([1, 0, 1]) > 0
        out = ops[name](x, condition)
        if change:
            condition[:] = False
        gradients.append(_gradient(out, x))
    assert gradients[0] == gradients[1]
