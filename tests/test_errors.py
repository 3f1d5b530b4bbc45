"""Bad input gets a clear error that names the op, the shapes and what was expected."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def test_elementwise_shape_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((2, 3))) + Tensor(np.ones((4,)))
    message = str(info.value)
    assert message.startswith("add:")
    assert "(2, 3)" in message and "(4,)" in message and "broadcast" in message


@pytest.mark.parametrize("op", ["sub", "mul", "div", "maximum"])
def test_every_binary_op_reports_its_own_name(op):
    a, b = Tensor(np.ones((3,))), Tensor(np.ones((2,)))
    with pytest.raises(ValueError, match=rf"^{op}: .*\(3,\).*\(2,\)"):
        getattr(a, op)(b)


def test_matmul_mismatch_names_op_shapes_and_axes():
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    message = str(info.value)
    assert message.startswith("matmul:")
    assert "(2, 3)" in message and "(4, 5)" in message
    assert "(3)" in message and "(4)" in message


def test_matmul_scalar_operand_is_rejected():
    with pytest.raises(ValueError, match="matmul: both operands need at least 1 dimension"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_matmul_batch_axes_must_broadcast():
    with pytest.raises(ValueError, match=r"matmul: batch axes.*\(2, 3, 4\).*\(5, 4, 1\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 1)))


def test_backward_on_non_scalar_says_to_pass_gradient():
    y = Tensor(np.ones((2, 2)), requires_grad=True) * 3.0
    with pytest.raises(RuntimeError, match=r"shape \(2, 2\).*scalar.*gradient="):
        y.backward()


def test_backward_twice_without_retain_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_log_of_negative_is_nan_like_numpy_not_a_crash():
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    with np.errstate(all="raise"):  # we must not leak floating point warnings/errors either
        y = x.log()
    assert np.isnan(y.data[0]) and y.data[1] == -np.inf and y.data[2] == 0.0
    with np.errstate(divide="ignore"):
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, np.inf, 1.0])  # d log x = 1/x, as NumPy


def test_indexing_out_of_range():
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of bounds.*\(3, 2\)"):
        Tensor(np.ones((3, 2)))[5]


def test_indexing_too_many_indices():
    with pytest.raises(IndexError, match=r"getitem: .*\(3,\)"):
        Tensor(np.ones(3))[0, 1]


@pytest.mark.parametrize(("method", "op"), [("sum", "sum"), ("amax", "max"), ("amin", "min"),
                                          ("mean", "sum")])
def test_invalid_axis(method, op):
    with pytest.raises(ValueError, match=rf"{op}: axis 2 .*\(2, 3\)"):
        getattr(Tensor(np.ones((2, 3))), method)(axis=2)


def test_reshape_to_wrong_size():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .*\(2, 3\).*6 elements.*\(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)


@pytest.mark.parametrize("call, op", [
    (lambda x: x.reshape(2.5, 2), "reshape"),
    (lambda x: x.reshape(6.0), "reshape"),
    (lambda x: x.view((3, 2.0)), "reshape"),
    (lambda x: x.expand(2, 3.0), "expand"),
    (lambda x: x.permute(1.0, 0), "permute"),
    (lambda x: x.new_zeros(2.0), "new_zeros"),
    (lambda x: tg.zeros(2, 1.5), "zeros"),
    (lambda x: tg.ones((2.0,)), "ones"),
])
def test_a_float_size_is_an_error_not_truncated(call, op):
    # as PyTorch: int(2.5) would silently make a (2, 2) tensor out of a typo or a division
    with pytest.raises(TypeError, match=rf"{op}: expected integer sizes, got .*float"):
        call(Tensor(np.ones((2, 3))))


def test_integer_sizes_of_every_kind_are_accepted():
    x = Tensor(np.ones((2, 3)))
    assert x.reshape(np.int64(3), 2).shape == (3, 2)
    assert x.reshape(tg.tensor(6)).shape == (6,)
    assert x.reshape([3, -1]).shape == (3, 2)


def test_permute_with_wrong_dims():
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0\) are not a permutation"):
        Tensor(np.ones((2, 3))).permute(0, 0)


def test_expand_to_incompatible_shape():
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(3,\) to \(2, 4\)"):
        Tensor(np.ones(3)).expand(2, 4)


def test_cat_mismatched_shapes():
    with pytest.raises(ValueError, match=r"cat: .*\(2, 3\).*\(2, 4\)"):
        tg.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], dim=0)


def test_tensor_from_strings_is_rejected():
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor from"):
        Tensor(["a", "b"])


def test_item_of_many_elements():
    with pytest.raises(ValueError, match=r"item: only a one-element tensor.*\(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_bool_of_many_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_gradcheck_rejects_float32_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="float64.*double"):
        tg.gradcheck(lambda t: t * 2.0, [x])
