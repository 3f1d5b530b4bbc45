"""Picking and rearranging (tensor_select.py), the small helpers (tensor_misc.py) and
the torch.* functions logsumexp, flip, hstack, vstack, empty, as_tensor: values and
gradients against PyTorch on hypothesis-drawn inputs, and first and second order finite
differences in float64 (these run without PyTorch)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg


def torch_module():
    return pytest.importorskip("torch")


@st.composite
def matrices(draw, min_side=1, zeros=False):
    shape = (draw(st.integers(min_side, 4)), draw(st.integers(min_side, 5)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.normal(size=shape)
    if zeros:
        x[rng.random(shape) < 0.2] = 0.0
    return x


def both(name, x, *args, method=False, **kwargs):
    """(ours, PyTorch's) value and input gradient for a random upstream gradient."""
    torch = torch_module()
    results = []
    for lib in (tg, torch):
        t = lib.tensor(x, requires_grad=True)
        lib_args = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        out = (getattr(t, name)(*lib_args, **kwargs) if method
               else getattr(lib, name)(t, *lib_args, **kwargs))
        if isinstance(out, tuple):
            out = lib.stack(list(out))
        g = np.random.default_rng(0).normal(size=tuple(out.shape))
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), t.grad.numpy()))
    return results


def assert_same(results, rtol=1e-12):
    (mine, my_grad), (theirs, their_grad) = results
    np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(my_grad, their_grad, rtol=rtol, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(x=matrices(), data=st.data())
def test_picking_functions_match_pytorch(x, data):
    rows, cols = x.shape
    dim = data.draw(st.integers(0, 1))
    index = np.array(data.draw(st.lists(st.integers(0, x.shape[dim] - 1), max_size=6)),
                     dtype=np.int64)
    start = data.draw(st.integers(0, x.shape[dim] - 1))
    length = data.draw(st.integers(0, x.shape[dim] - start))
    offset = data.draw(st.integers(-rows, cols))
    shift = data.draw(st.integers(-7, 7))
    repeats = data.draw(st.integers(0, 3))
    counts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=x.shape[dim],
                                         max_size=x.shape[dim])), dtype=np.int64)
    for method in (False, True):
        assert_same(both("index_select", x, dim, index, method=method))
        assert_same(both("narrow", x, dim, start, length, method=method))
        assert_same(both("diagonal", x, offset, method=method))
        assert_same(both("diagonal", x, offset, 1, 0, method=method))
        assert_same(both("diag", x, offset, method=method))
        assert_same(both("diag", x[0], offset, method=method))
        assert_same(both("roll", x, shift, dim, method=method))
        assert_same(both("roll", x, (shift, 1), (0, 1), method=method))
        assert_same(both("repeat_interleave", x, repeats, method=method))
        assert_same(both("repeat_interleave", x, counts, dim, method=method))
        assert_same(both("flip", x, (dim,)))
        assert_same(both("logsumexp", x, dim))
    assert_same(both("roll", x, shift))  # over the flattened tensor
    assert_same(both("unbind", x, dim))


@settings(max_examples=25, deadline=None)
@given(x=matrices(zeros=True), dim=st.integers(-2, 1))
def test_cumprod_matches_pytorch_also_through_zeros(x, dim):
    assert_same(both("cumprod", x, dim))
    assert_same(both("cumprod", x, dim, method=True))


@settings(max_examples=20, deadline=None)
@given(x=matrices(), correction=st.sampled_from([0, 1]), keepdim=st.booleans())
def test_products_and_statistics_match_pytorch(x, correction, keepdim):
    torch = torch_module()
    a, b = x[0], x[-1]
    assert_same(both("outer", a, b[::-1].copy()))
    assert_same(both("dot", a, b))
    for name in ("std_mean", "var_mean"):
        if x.shape[1] > correction:
            mine = getattr(tg, name)(tg.tensor(x), 1, correction=correction, keepdim=keepdim)
            theirs = getattr(torch, name)(torch.tensor(x), 1, correction=correction,
                                          keepdim=keepdim)
            for m, t in zip(mine, theirs):
                np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-12)
    stacks = [x, x * 2]
    for name in ("hstack", "vstack"):
        for arrays in (stacks, [a, b]):
            np.testing.assert_array_equal(
                getattr(tg, name)([tg.tensor(v) for v in arrays]).numpy(),
                getattr(torch, name)([torch.tensor(v) for v in arrays]).numpy())


@settings(max_examples=5, deadline=None)
@given(x=matrices(min_side=2, zeros=True), offset=st.integers(-1, 1))
def test_differentiable_picks_gradcheck_first_and_second_order(x, offset):
    t = tg.tensor(x, requires_grad=True)
    v = tg.tensor(x[0], requires_grad=True)
    for fn in (lambda u: u.cumprod(1), lambda u: u.cumprod(0), lambda u: u.diagonal(offset),
               lambda u: u.roll(1, 1), lambda u: u.repeat_interleave(2, 0),
               lambda u: u.index_select(1, tg.tensor([0, 0, 1])),
               lambda u: tg.std_mean(u, 1)[0] * tg.std_mean(u, 1)[1],
               lambda u: tg.outer(u[0], u[1]) + tg.dot(u[0], u[1])):
        assert tg.gradcheck(fn, [t])
        assert tg.gradgradcheck(fn, [t])
    assert tg.gradcheck(lambda u: tg.diag(u, offset), [v])
    assert tg.gradgradcheck(lambda u: tg.diag(u, offset), [v])


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.integers(0, 6), min_size=1, max_size=12), minlength=st.integers(0, 9),
       weighted=st.booleans())
def test_counting_functions_match_pytorch(values, minlength, weighted):
    torch = torch_module()
    x = np.array(values, dtype=np.int64)
    w = np.linspace(0.5, 2.0, x.size) if weighted else None
    mine = tg.bincount(tg.tensor(x), None if w is None else tg.tensor(w), minlength)
    theirs = torch.bincount(torch.tensor(x), None if w is None else torch.tensor(w), minlength)
    assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)
    for flags in ({}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}):
        m, t = tg.unique(tg.tensor(x), **flags), torch.unique(torch.tensor(x), **flags)
        for a, b in zip(m if flags else [m], t if flags else [t]):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    matrix = x.reshape(-1, 1) * (x.reshape(1, -1) % 2)
    np.testing.assert_array_equal(tg.nonzero(tg.tensor(matrix)).numpy(),
                                  torch.nonzero(torch.tensor(matrix)).numpy())
    for m, t in zip(tg.tensor(matrix).nonzero(as_tuple=True),
                    torch.tensor(matrix).nonzero(as_tuple=True)):
        np.testing.assert_array_equal(m.numpy(), t.numpy())
    for name in ("all", "any"):
        for args in ((), (0,), (1, True), ((0, 1),)):
            if name == "any" and args == ((0, 1),):
                continue
            np.testing.assert_array_equal(getattr(tg, name)(tg.tensor(matrix), *args).numpy(),
                                          getattr(torch, name)(torch.tensor(matrix), *args))
            np.testing.assert_array_equal(getattr(tg.tensor(matrix), name)(*args).numpy(),
                                          getattr(tg, name)(tg.tensor(matrix), *args).numpy())


def test_storage_facts_match_pytorch():
    torch = torch_module()
    x = np.arange(24.0).reshape(2, 3, 4)
    for dtype in (np.float32, np.float64, np.int64):
        mine, theirs = tg.tensor(x.astype(dtype)), torch.tensor(x.astype(dtype))
        assert mine.element_size() == theirs.element_size()
        assert mine.nbytes == theirs.nbytes
        assert mine.ndimension() == theirs.ndimension() == 3
        assert mine.stride() == theirs.stride() and mine.stride(-1) == theirs.stride(-1)
        assert mine.transpose(0, 2).stride() == theirs.transpose(0, 2).stride()
        assert mine[:, :1].expand(2, 5, 4).stride() == theirs[:, :1].expand(2, 5, 4).stride()
    half = tg.tensor([1.5, 2.5])
    assert half.type_as(tg.tensor([1], dtype=tg.int64)).dtype == np.int64
    as_double = half.type_as(tg.zeros(1, dtype=tg.float64))
    assert as_double.dtype == np.float64


def test_creation_empty_and_as_tensor():
    out = tg.empty(2, 3)
    assert out.shape == (2, 3) and out.dtype == np.float32 and not out.requires_grad
    assert tg.empty((4,), dtype=tg.int64, requires_grad=False).dtype == np.int64
    array = np.array([1.0, 2.0])
    shared = tg.as_tensor(array)
    array[0] = 7.0
    assert shared.numpy()[0] == 7.0  # the same memory, as torch.as_tensor
    copied = tg.as_tensor(array, dtype=tg.float32)
    array[1] = 9.0
    assert copied.dtype == np.float32 and copied.numpy()[1] == 2.0
    t = tg.tensor([1.0])
    assert tg.as_tensor(t) is t
    assert tg.as_tensor([1, 2]).dtype == np.int64


def test_detach_in_place_makes_a_leaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    assert (y * 2.0).grad_fn is None


def test_selection_errors_name_the_function_and_the_shapes():
    x = tg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"index_select: index values from 0 to 5 are out "
                                         r"of range for axis 1 of size 3"):
        x.index_select(1, tg.tensor([0, 5]))
    with pytest.raises(IndexError, match=r"narrow: start=2 and length=2 do not fit in axis "
                                         r"1 of size 3"):
        x.narrow(1, 2, 2)
    with pytest.raises(ValueError, match=r"repeat_interleave: repeats has 2 counts but axis "
                                         r"1 has 3 entries"):
        x.repeat_interleave(tg.tensor([1, 2]), 1)
    with pytest.raises(ValueError, match=r"outer: expected two 1-d tensors, got shapes "
                                         r"\(2, 3\) and \(3,\)"):
        tg.outer(x, tg.zeros(3))
    with pytest.raises(ValueError, match=r"bincount: expected a 1-d tensor of non-negative"):
        tg.bincount(tg.tensor([-1, 2]))
    with pytest.raises(NotImplementedError, match=r"unique: dim is not supported"):
        tg.unique(x, dim=0)
