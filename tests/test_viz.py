"""tinygrad_edu.viz: graph drawings, backward steps, explain, the HTML animation, the CLI.

Expected structures come from walking the traced graph here (ctx.parents), expected
numbers from calculus by hand and NumPy. Rendering uses the real Graphviz `dot` and
the animation runs in headless Chromium; both tests skip, saying why, when the
program is missing (CI installs them). Runtime: about 5 s.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.viz import (
    GraphTooLargeError,
    GraphvizNotFoundError,
    backward_steps,
    draw_graph,
    save_backward_animation,
    save_graph,
)
from tinygrad_edu.viz.command import add_graph_arguments, run_graph
from tinygrad_edu.viz.format import value_cells
from tinygrad_edu.viz.recorder import last_call

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed (apt-get install graphviz)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# ---------------------------------------------------------------------------
# helpers: read a Digraph's source back, walk a graph independently
# ---------------------------------------------------------------------------

NODE = re.compile(r"^\t+(\w+) \[(.*)\]$", re.S)
EDGE = re.compile(r"^\t+(\w+) -> (\w+)")


def parse(graph) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node id -> attribute text, and the edges, from a Digraph (or its source)."""
    nodes, edges = {}, []
    source = graph if isinstance(graph, str) else graph.source
    for line in source.splitlines():
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif (m := NODE.match(line)) and m.group(1) not in ("node", "edge", "graph"):
            nodes[m.group(1)] = m.group(2)
    return nodes, edges


def label_text(attrs: str) -> str:
    """The visible text of an HTML label: tags dropped, cells separated by spaces."""
    label = re.search(r"label=<(.*)>", attrs, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", label).split())


def ops_of(nodes: dict[str, str]) -> dict[str, str]:
    return {k: label_text(v).split()[0] for k, v in nodes.items() if k.startswith("op")}


def walk(root) -> tuple[list, set]:
    """Every recorded op (ctx) and every tensor behind root, found through ctx.parents."""
    ctxs, tensors, stack = [], {id(root): root}, [root]
    seen = set()
    while stack:
        t = stack.pop()
        if t.grad_fn is None or id(t.grad_fn) in seen:
            continue
        seen.add(id(t.grad_fn))
        ctxs.append(t.grad_fn)
        for p in t.grad_fn.parents:
            tensors[id(p)] = p
            stack.append(p)
    return ctxs, set(tensors)


def check_against_walk(graph, root) -> None:
    """The drawing has one node per tensor and per op, and one edge per op input
    plus one per op output, with the op names of the walked graph."""
    nodes, edges = parse(graph)
    edges = [(t, h) for t, h in edges if not t.startswith("in")]  # unrecorded inputs' feeds
    ctxs, tensors = walk(root)
    tensor_nodes = [k for k in nodes if re.fullmatch(r"t\d+", k)]
    assert len(tensor_nodes) == len(tensors)
    assert sorted(ops_of(nodes).values()) == sorted(c.name for c in ctxs)
    assert len(edges) == sum(len(c.parents) for c in ctxs) + len(ctxs)
    heads = {}
    for tail, head in edges:
        heads.setdefault(head, []).append(tail)
    for op_id in ops_of(nodes):  # each op reads tensors and makes exactly one
        assert all(re.fullmatch(r"t\d+", t) for t in heads[op_id])
        made = [h for t, h in edges if t == op_id]
        assert len(made) == 1 and made[0].startswith("t")


def neuron():
    x1, x2 = tg.tensor(2.0), tg.tensor(-1.0)
    w1, w2 = tg.tensor(0.5, requires_grad=True), tg.tensor(1.5, requires_grad=True)
    b = tg.tensor(0.25, requires_grad=True)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n, "o": o}


def mlp(batch: int = 4):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    x = tg.rand(batch, 784)
    y = tg.tensor(np.arange(batch, dtype=np.int64) % 10)
    loss = nn.functional.cross_entropy(model(x), y)
    return loss, model, x


def small_cnn():
    """conv -> relu -> conv -> relu -> linear; the second conv's im2col (unfold) is
    recorded (the first one's input needs no grad)."""
    tg.manual_seed(0)
    x = tg.rand(2, 1, 6, 6)
    y = tg.tensor(np.array([1, 3], dtype=np.int64))
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, 3), nn.ReLU(),
                          nn.Flatten(), nn.Linear(8, 4))
    return nn.functional.cross_entropy(model(x), y), model


# ---------------------------------------------------------------------------
# drawing
# ---------------------------------------------------------------------------


def test_importing_the_package_does_not_import_graphviz():
    code = "import sys, tinygrad_edu, tinygrad_edu.viz; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_neuron_graph_nodes_edges_values_and_styles():
    o, names = neuron()
    o.backward()
    graph = draw_graph(o, names)
    nodes, edges = parse(graph)
    check_against_walk(graph, o)
    by_name = {label_text(a).split()[0]: k for k, a in nodes.items() if k.startswith("t")}
    assert set(names) <= set(by_name)
    ops = ops_of(nodes)
    assert sorted(ops.values()) == ["add", "add", "mul", "mul", "tanh"]

    def inputs(op_id):
        return [t for t, h in edges if h == op_id]

    def output(op_id):
        return next(h for t, h in edges if t == op_id)

    tanh = next(k for k, v in ops.items() if v == "tanh")
    assert inputs(tanh) == [by_name["n"]] and output(tanh) == by_name["o"]
    mul_inputs = sorted(sorted(inputs(k)) for k, v in ops.items() if v == "mul")
    assert mul_inputs == sorted([sorted([by_name["x1"], by_name["w1"]]),
                                 sorted([by_name["x2"], by_name["w2"]])])
    # values and gradients, computed by hand: do/dw1 = x1 * (1 - tanh(n)^2)
    n = 2.0 * 0.5 + (-1.0) * 1.5 + 0.25
    slope = 1 - math.tanh(n) ** 2
    w1 = label_text(nodes[by_name["w1"]])
    assert "scalar float32" in w1 and "data 0.5" in w1 and f"grad {2.0 * slope:.4g}" in w1
    assert f"grad {-1.0 * slope:.4g}" in label_text(nodes[by_name["w2"]])
    assert f"data {math.tanh(n):.4g}" in label_text(nodes[by_name["o"]])
    assert "grad" not in label_text(nodes[by_name["x1"]])  # constants get no gradient
    # leaves that require grad, constants and the output look different
    assert "dashed" in nodes[by_name["x1"]] and "dashed" not in nodes[by_name["w1"]]
    fills = {k: re.search(r'fillcolor="([^"]+)"', nodes[by_name[k]]).group(1)
             for k in ("w1", "x1", "n", "o")}
    assert len(set(fills.values())) == 4
    # without values or grads only names and shapes remain
    bare = parse(draw_graph(o, names, show_values=False, show_grads=False))[0]
    assert all("data" not in label_text(a) and "grad" not in label_text(a)
               for k, a in bare.items() if k.startswith("t"))


def test_values_small_in_full_large_summarized():
    small = np.array([[1.0, 2.5], [-3.25, 1e-5]])
    assert value_cells(small) == ["[[1, 2.5],", " [-3.25, 1e-05]]"]  # a matrix row by row
    assert value_cells(np.arange(16.0)) == ["[0, 1, 2, 3, 4, 5, 6, 7,",
                                            " 8, 9, 10, 11, 12, 13, 14, 15]"]
    assert len(value_cells(np.arange(17.0))) == 3  # more than 16 elements: min, mean, max
    assert value_cells(np.array([1.0, 0.1 + 0.2 - 0.3])) == ["[1, 0]"]  # float noise is 0
    big = np.random.default_rng(0).normal(size=(128, 784)).astype(np.float32)
    expected = [f"{v:.4g}" for v in (big.min(), big.astype(np.float64).mean(), big.max())]
    assert value_cells(big) == expected
    assert value_cells(small, "summary") == ["-3.25", f"{small.mean():.4g}", "2.5"]
    assert value_cells(np.array([1.0, np.nan, 3.0]), "summary")[2] == "3 (1 nan/inf)"


def test_mlp_graph_matches_the_traced_graph_with_names_shapes_and_clusters():
    loss, model, x = mlp()
    loss.backward()
    graph = draw_graph(loss, [model, {"images": x}])
    check_against_walk(graph, loss)
    nodes, _ = parse(graph)
    labels = {k: label_text(a) for k, a in nodes.items()}
    for name, p in model.named_parameters():
        node = next(k for k, text in labels.items() if text.startswith(name + " "))
        shape = "(" + ", ".join(map(str, p.shape)) + ("," if p.ndim == 1 else "") + ")"
        assert f"{shape} float32" in labels[node]
        grad = p.grad.data.astype(np.float64)
        if p.data.size > 16:
            assert f"grad {grad.min():.4g} {grad.mean():.4g} {grad.max():.4g}" in labels[node]
        else:  # small tensors in full, 8 values a line
            expected = "grad [" + ", ".join(f"{g:.4g}" for g in grad) + "]"
            assert "".join(expected.split()) in "".join(labels[node].split())
    assert any(t.startswith("images (4, 784) float32") for t in labels.values())
    last = "t" + str(len([k for k in nodes if k[0] == "t"]) - 1)  # the root comes last
    # the output too carries its gradient (1), computed when drawing
    assert labels[last] == f"output scalar float32 data {loss.item():.4g} grad 1"
    assert "penwidth=2" in nodes[last]
    source = graph.source
    assert "subgraph cluster_m_0" in source and "subgraph cluster_m_2" in source
    assert "0 · Linear" in source and "2 · Linear" in source
    # collapsed: one node per Linear, still connected to the rest
    collapsed = draw_graph(loss, model, collapse_modules=True)
    cnodes, cedges = parse(collapsed)
    assert {"m_0", "m_2"} <= set(cnodes)
    assert "weight (128, 784) float32" in label_text(cnodes["m_0"])
    assert any(t == "m_0" for t, _ in cedges) and any(h == "m_2" for _, h in cedges)
    assert len(cnodes) < len(nodes)


def test_raw_op_mlp_clusters_from_dotted_names():
    """x @ W.T + b by hand: the layer's cluster holds permute, matmul and add, not relu."""
    rng = np.random.default_rng(1)
    w1 = tg.tensor(rng.normal(size=(5, 3)), requires_grad=True, dtype=np.float32)
    b1 = tg.tensor(rng.normal(size=5), requires_grad=True, dtype=np.float32)
    w2 = tg.tensor(rng.normal(size=(2, 5)), requires_grad=True, dtype=np.float32)
    x = tg.tensor(rng.normal(size=(4, 3)), dtype=np.float32)
    out = ((x @ w1.T + b1).relu() @ w2.T).sum()
    graph = draw_graph(out, {"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2})
    check_against_walk(graph, out)
    clusters = dict(re.findall(r"subgraph cluster_m_(\w+) \{(.*?)\n\t\}", graph.source, re.S))
    assert sorted(clusters) == ["fc1", "fc2"]

    def cluster_ops(text):
        return sorted(label_text(a).split()[0] for k, a in parse_block(text) if k.startswith("op"))

    assert cluster_ops(clusters["fc1"]) == ["add", "matmul", "permute"]
    assert cluster_ops(clusters["fc2"]) == ["matmul", "permute"]


def parse_block(text: str) -> list[tuple[str, str]]:
    found = re.finditer(r"^\t+(\w+) \[(.*?)\]$", text, re.M | re.S)
    return [(m.group(1), m.group(2)) for m in found]


def test_cnn_graph_matches_the_traced_graph():
    loss, params = small_cnn()
    loss.backward()
    graph = draw_graph(loss, params)
    check_against_walk(graph, loss)
    nodes, _ = parse(graph)
    names = {ctx.name for ctx in walk(loss)[0]}
    assert set(ops_of(nodes).values()) == names
    assert "unfold" in names
    labels = " | ".join(label_text(a) for a in nodes.values())
    for shape in ("(3, 1, 3, 3)", "(2, 3, 3, 3)", "(2, 3, 4, 4)", "(2, 2, 2, 2)"):
        assert f"{shape} float32" in labels


def cluster_contents(graph) -> dict[str, tuple[list[str], list[str]]]:
    """module id -> (sorted op names, sorted tensor labels) drawn inside its cluster."""
    clusters = re.findall(r"subgraph cluster_(m_\w+) \{(.*?)\n\t\}", graph.source, re.S)
    found = {}
    for module_id, text in clusters:
        entries = parse_block(text)
        ops = sorted(label_text(a).split()[0] for k, a in entries if k.startswith("op"))
        tensors = sorted(label_text(a) for k, a in entries if k.startswith("t"))
        found[module_id] = (ops, tensors)
    return found


def test_every_module_of_a_cnn_gets_exactly_its_own_ops():
    """Layers without parameters are boxed too; each box holds the ops of that layer's
    forward pass (written out here from what each layer computes)."""
    tg.manual_seed(0)
    x = tg.rand(2, 1, 8, 8)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4))
    loss = nn.functional.cross_entropy(model(x), tg.tensor(np.array([0, 3])))
    graph = draw_graph(loss, model)
    check_against_walk(graph, loss)
    boxes = cluster_contents(graph)
    assert sorted(boxes) == [f"m_{i}" for i in range(7)] + ["m_cross_entropy__"]
    ops = {k: v[0] for k, v in boxes.items()}
    # the first conv's input needs no grad, so its im2col is a constant, not an op
    assert set(ops["m_0"]) == {"reshape", "matmul", "permute", "add"}
    assert set(ops["m_3"]) == {"unfold", "permute", "reshape", "matmul", "add"}
    assert ops["m_1"] == ops["m_4"] == ["relu"]
    assert ops["m_5"] == ["reshape"] and ops["m_6"] == ["linear"]
    assert "maxpool2d" in ops["m_2"]  # one primitive: the max of each window
    # constants a layer makes for itself (the first conv's im2col) are drawn in its box
    assert any(t.startswith("constant from 0 · Conv2d (9, 128)") for t in boxes["m_0"][1])
    # the loss is computed outside the model, in a box of its own (its named_scope)
    model_ops = [o for k, v in ops.items() if k != "m_cross_entropy__" for o in v]
    loss_ops = sorted(ctx.name for ctx in walk(loss)[0])
    for op in model_ops:
        loss_ops.remove(op)
    assert sorted(ops["m_cross_entropy__"]) == loss_ops and "crossentropy" in loss_ops


def test_ops_of_a_parent_module_between_its_children_are_boxed_as_the_parent():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(3, 5), nn.Linear(5, 2)

        def forward(self, x):
            return self.fc2(self.fc1(x).tanh())  # tanh is the block's own op

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()

        def forward(self, x):
            return self.block(x).sigmoid()  # the model's own op: in no box

    tg.manual_seed(0)
    net = Net()
    out = net(tg.rand(4, 3)).sum()
    boxes = cluster_contents(draw_graph(out, net))
    assert {k: v[0] for k, v in boxes.items()} == {
        "m_block_fc1": ["linear"], "m_block_fc2": ["linear"], "m_block": ["tanh"]}


def test_the_recorder_remembers_a_modules_latest_call_weakly():
    import copy
    import gc
    import pickle

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    x = tg.rand(4, 3)
    out = model(x)
    got_out, got_inputs = last_call(model[1])
    assert got_out is out and got_inputs[0] is last_call(model[0]).output
    assert last_call(model[0]).inputs == (x,)
    pickle.loads(pickle.dumps(model))  # the record is not part of the model
    copy.deepcopy(model)
    assert sorted(model.state_dict()) == ["0.bias", "0.weight"]
    assert not any(k.startswith("_forward") for k in vars(model[0]))
    del out, got_out, got_inputs
    gc.collect()
    assert last_call(model[1]) is None  # the graph was not kept alive
    with tg.no_grad():
        model(x)  # nothing recorded, nothing remembered
    assert last_call(model[1]) is None


def test_the_recorder_sees_keyword_tensors_and_forgets_dead_modules():
    import gc

    class Scale(nn.Module):
        def forward(self, x, *, by):
            return x * by

    x, by = tg.rand(2, requires_grad=True), tg.rand(2)
    module = Scale()
    out = module(x, by=by)
    assert last_call(module).inputs == (x, by) and last_call(module).output is out
    from tinygrad_edu.viz.recorder import RECORDER

    count = len(RECORDER)
    del module
    gc.collect()
    assert len(RECORDER) == count - 1  # its record went with it

LECTURE = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
LECTURE_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5,
                 "x1w1": 0.5, "x2w2": 0.5, "x1w1+x2w2": 0.5, "o": 1.0}


def lecture_neuron():
    """Karpathy's micrograd lecture neuron, every leaf requiring grad."""
    t = {k: tg.tensor(v, requires_grad=True) for k, v in LECTURE.items()}
    x1w1, x2w2 = t["x1"] * t["w1"], t["x2"] * t["w2"]
    s = x1w1 + x2w2
    n = s + t["b"]
    o = n.tanh()
    return o, {**t, "x1w1": x1w1, "x2w2": x2w2, "x1w1+x2w2": s, "n": n, "o": o}


def grads_in(graph) -> dict[str, float]:
    """Tensor title -> the grad its label shows."""
    found = {}
    for key, attrs in parse(graph)[0].items():
        text = label_text(attrs)
        m = re.search(r" grad (\S+)", text)
        if key.startswith("t") and m:
            found[text.split()[0]] = float(m.group(1))
    return found


def test_after_backward_every_node_shows_its_gradient():
    o, names = lecture_neuron()
    assert grads_in(draw_graph(o, names)) == {}  # before backward: no gradients ...
    before = grads_in(draw_graph(o, names, show_grads=True))  # ... unless asked
    assert before == pytest.approx(LECTURE_GRADS, abs=1e-6)
    o.backward()  # no retain_grad anywhere
    got = grads_in(draw_graph(o, names))
    assert len(got) == 10 and got == pytest.approx(LECTURE_GRADS, abs=1e-6)
    # drawing kept nothing: intermediates still have no .grad, leaves theirs
    assert all(names[k].grad is None for k in ("x1w1", "x2w2", "x1w1+x2w2", "n", "o"))
    assert names["w1"].grad.item() == pytest.approx(1.0)
    assert grads_in(draw_graph(o, names, show_grads=False)) == {}
    with pytest.raises(ValueError, match="show_grads"):
        draw_graph(o, names, show_grads="yes")


def test_after_an_optimizer_step_only_the_stored_grads_are_drawn():
    o, names = lecture_neuron()
    o.backward()
    tg.optim.SGD([names[k] for k in LECTURE], lr=0.1).step()  # the graph is stale now
    got = grads_in(draw_graph(o, names))
    assert set(got) == set(LECTURE) and got["x1"] == pytest.approx(-1.5)


def boxes_of(graph) -> dict[str, list[str]]:
    return {k: v[0] for k, v in cluster_contents(graph).items()}


def test_named_scopes_are_boxed_and_collapse_like_modules():
    tg.manual_seed(0)
    logits = tg.rand(3, 4, requires_grad=True)
    loss = nn.functional.cross_entropy(logits, tg.tensor(np.array([0, 1, 3])))
    graph = draw_graph(loss, {"logits": logits})
    ctxs, _ = walk(loss)
    assert boxes_of(graph) == {"m_cross_entropy__": sorted(c.name for c in ctxs)}
    assert "label=\"cross_entropy()\"" in graph.source
    collapsed = parse(draw_graph(loss, {"logits": logits}, collapse_modules=True))[0]
    assert not any(k.startswith("op") for k in collapsed)  # one box for all of it
    assert "cross_entropy()" in label_text(collapsed["m_cross_entropy__"])
    # the output stays a node of its own, with its value
    assert any(label_text(a).startswith("output scalar") for a in collapsed.values())
    # the class indices the op reads are a constant made in the box, titled so
    titles = [label_text(a) for k, a in parse(graph)[0].items() if k.startswith("t")]
    assert any(t.startswith("constant from cross_entropy() (3,) int64") for t in titles)


def test_a_loss_module_called_after_the_model_gets_a_box():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    criterion = nn.CrossEntropyLoss()
    loss = criterion(model(tg.rand(5, 3)), tg.tensor(np.array([0, 1, 1, 0, 1])))
    boxes = boxes_of(draw_graph(loss, model))
    assert sorted(boxes) == ["m_0", "m_1", "m_2", "m_CrossEntropyLoss"]
    assert "crossentropy" in set(boxes["m_CrossEntropyLoss"])  # one fused op
    assert "CrossEntropyLoss · cross_entropy()" in draw_graph(loss, model).source


def test_constants_are_titled_by_what_made_them():
    x = tg.tensor(1.0, requires_grad=True)
    y = (x * 1.01 + tg.tensor([1.0, 2.0])).sum()
    titles = [label_text(a) for k, a in parse(draw_graph(y))[0].items() if k.startswith("t")]
    assert any(t.startswith("constant 1.01 scalar float32") for t in titles)
    assert any(t.startswith("constant, input of add (2,) float32") for t in titles)


def test_the_cnn_input_keeps_its_name_and_node_when_collapsed():
    tg.manual_seed(0)
    images = tg.rand(2, 1, 6, 6)  # needs no grad: the first conv's im2col is not recorded
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    loss = nn.functional.cross_entropy(model(images), tg.tensor(np.array([0, 2])))
    loss.backward()
    for collapse in (False, True):
        nodes, edges = parse(draw_graph(loss, [model, {"images": images}],
                                        collapse_modules=collapse))
        node = next(k for k, a in nodes.items() if label_text(a).startswith("images "))
        assert "(2, 1, 6, 6) float32" in label_text(nodes[node])
        heads = [h for t, h in edges if t == node]
        assert heads == (["m_0"] if collapse else heads) and heads


def test_layout_direction_follows_the_depth():
    o, names = lecture_neuron()
    assert "rankdir=LR" in draw_graph(o, names).source
    deep = tg.tensor([1.0], requires_grad=True)
    for _ in range(12):
        deep = deep.tanh()
    assert "rankdir=TB" in draw_graph(deep).source  # deep: fits a notebook's width
    loss, model, x = mlp()
    assert "rankdir=LR" in draw_graph(loss, model, collapse_modules=True).source
    assert "rankdir=RL" in draw_graph(loss, model, rankdir="RL").source
    with pytest.raises(ValueError, match="preset"):
        draw_graph(o, preset="poster")


@needs_dot
def test_the_slide_preset_is_16_by_9_with_large_text(tmp_path):
    from PIL import Image

    o, names = lecture_neuron()
    o.backward()
    loss, model, _ = mlp()
    loss.backward()
    for graph in (draw_graph(o, names, preset="slide"), draw_graph(loss, model, preset="slide")):
        assert "POINT-SIZE=\"15.4\"" in graph.source  # 11 pt titles drawn at 15.4 pt
        size = Image.open(save_graph(graph, tmp_path / "slide.png")).size
        assert size[0] / size[1] == pytest.approx(16 / 9, rel=0.06), size
    assert "m_0" in parse(draw_graph(loss, model, preset="slide"))[0]  # modules collapsed


def test_the_notebook_display_says_how_to_install_dot(tmp_path, monkeypatch):
    o, names = lecture_neuron()
    graph = draw_graph(o, names)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere
    bundle = graph._repr_mimebundle_()  # what Jupyter calls to show the graph
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert "brew install graphviz" in bundle["text/html"] and "<pre" in bundle["text/html"]
    assert type(graph.copy()) is type(graph)  # save_graph copies it


@needs_dot
def test_animate_shows_itself_in_a_notebook(tmp_path):
    from tinygrad_edu.viz import animate

    o, names = lecture_neuron()
    anim = animate(o, names)
    shown = anim._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;svg" in shown
    assert anim.save(tmp_path / "a.html").read_text() == anim.html


def test_graph_larger_than_max_nodes_gives_a_clear_error():
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.01
    # x, 30 products, 30 constants 1.01 and 30 ops
    with pytest.raises(GraphTooLargeError, match=r"91 nodes .* max_nodes=20; pass max_nodes=91"):
        draw_graph(y, max_nodes=20)
    assert len(parse(draw_graph(y, max_nodes=91))[0]) == 91  # the legend is the graph's label
    loss, model, _ = mlp()
    with pytest.raises(GraphTooLargeError, match="collapse_modules=True"):
        draw_graph(loss, model, max_nodes=10)
    full = len(parse(draw_graph(loss, model, legend=False))[0])
    limit = full - 1
    draw_graph(loss, model, max_nodes=limit, collapse_modules=True)  # fits once collapsed


def test_bad_options_are_named():
    o, _ = neuron()
    with pytest.raises(ValueError, match="show_values"):
        draw_graph(o, show_values="some")
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(o, rankdir="UP")
    with pytest.raises(ValueError, match="extension"):
        save_graph(draw_graph(o), "graph.jpeg")


# ---------------------------------------------------------------------------
# rendering with the real dot, and without it
# ---------------------------------------------------------------------------


@needs_dot
def test_svg_from_dot_parses_and_holds_the_labels(tmp_path):
    o, names = neuron()
    o.backward()
    path = save_graph(draw_graph(o, names), tmp_path / "neuron.svg")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]
    for expected in ("w1", "x2", "tanh", "mul", "scalar float32", "grad"):
        assert expected in texts
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {"op9", "t9"} <= ids
    assert "grad = d(output)/d(tensor)" in texts  # the legend
    png = save_graph(draw_graph(o, names), tmp_path / "neuron.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_missing_dot_writes_the_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere
    o, names = neuron()
    graph = draw_graph(o, names)  # building needs no dot
    with pytest.raises(GraphvizNotFoundError, match=r"apt-get install graphviz") as error:
        save_graph(graph, tmp_path / "neuron.svg")
    assert "brew install graphviz" in str(error.value)
    assert not (tmp_path / "neuron.svg").exists()
    assert (tmp_path / "neuron.dot").read_text() == graph.source
    with pytest.raises(GraphvizNotFoundError, match="`dot` was not found"):
        save_backward_animation(o, tmp_path / "anim.html")
    assert save_graph(graph, tmp_path / "g.dot").read_text() == graph.source


def known_function():
    """L = (x*y + x)^2 at x=2, y=3: u = 8, dL/dx = 2u(y + 1) = 64, dL/dy = 2ux = 32."""
    x = tg.tensor(2.0, requires_grad=True)
    y = tg.tensor(3.0, requires_grad=True)
    z = x * y
    u = z + x
    return u * u, x, y, z, u


# ---------------------------------------------------------------------------
# the HTML animation
# ---------------------------------------------------------------------------

NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def network_references(page: str) -> list[str]:
    """Every URL in the page that is not an XML namespace name (xmlns="...")."""
    def keep_name(m: re.Match) -> str:
        return "" if m.group(2) in NAMESPACES else m.group(0)

    rest = re.sub(r'xmlns(:\w+)?="([^"]*)"', keep_name, page)
    return re.findall(r"(?i)(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s\"'<>)]*", rest)


@needs_dot
def test_animation_is_self_contained(tmp_path):
    o, names = neuron()
    path = save_backward_animation(o, tmp_path / "anim.html", names)
    page = path.read_text()
    assert network_references(page) == []
    assert "http://www.w3.org/2000/svg" in page  # the namespace is there, as a name only
    for pattern in (r"<link\b", r"\bsrc\s*=", r"@import", r"url\("):
        assert not re.search(pattern, page, re.I), pattern
    assert page.count("<svg") == 1 and "<!DOCTYPE svg" not in page
    data = re.search(r'<script id="steps" type="application/json">(.*?)</script>', page, re.S)
    frames = __import__("json").loads(data.group(1))["frames"]
    assert len(frames) == len(backward_steps(o)) + 2
    assert o.grad is None and names["w1"].grad is None


def test_network_reference_check_catches_urls():
    found = network_references('<img src="https://example.org/x.png">')
    assert found == ["https://example.org/x.png"]
    found = network_references("<script src='//cdn.example.com/d3.js'>")
    assert found == ["//cdn.example.com/d3.js"]
    assert network_references("a = 1;  // keep it short") == []
    assert network_references('<svg xmlns="http://www.w3.org/2000/svg">') == []
    assert network_references('<a href="http://www.w3.org/2000/svg">') != []


@needs_dot
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_animation_steps_through_all_frames_in_a_headless_browser(tmp_path):
    loss, x, y, z, u = known_function()
    path = save_backward_animation(loss, tmp_path / "anim.html", {"x": x, "y": y})
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=10000", "--dump-dom", path.resolve().as_uri() + "#selftest"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    result = re.search(r'<div id="result">(.*?)</div>', out.stdout)
    assert result is not None, out.stderr[-2000:]
    frames = len(backward_steps(loss)) + 2
    # every frame forwards, back and played; the active node in view at every frame,
    # fitted to the window and at full size; the fitted text at least 75% of full size
    assert result.group(1) == f"ok frames={frames} missing=0 errors=0 follow=1 readable=1"


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_graph_arguments(parser)
    return run_graph(parser.parse_args(list(argv)))


def test_cli_writes_graphs(tmp_path, capsys):
    assert run_cli("--model", "neuron", "--out", str(tmp_path / "n.dot")) == 0
    source = (tmp_path / "n.dot").read_text()
    assert "tanh" in source and "w1" in source
    assert run_cli("--model", "mlp", "--no-values", "--out", str(tmp_path / "m.dot")) == 0
    nodes = parse((tmp_path / "m.dot").read_text())[0]
    labels = [label_text(a) for k, a in nodes.items() if k.startswith("t")]
    assert any("(128, 784) float32" in text for text in labels)
    assert not any("data" in text or "grad" in text for text in labels)
    assert "d(output)/d(tensor)" not in (tmp_path / "m.dot").read_text()  # legend: no grads
    assert run_cli("--model", "neuron", "--out", str(tmp_path / "n.txt")) == 2
    assert "extension" in capsys.readouterr().err
    assert run_cli("--model", "cnn", "--out", str(tmp_path / "c.dot")) == 0
    assert "unfold" in (tmp_path / "c.dot").read_text()
    assert run_cli("--model", "cnn", "--slide", "--out", str(tmp_path / "s.dot")) == 0
    slide = (tmp_path / "s.dot").read_text()
    assert 'size="13.33,7.5!"' in slide and "m_0" in slide


@needs_dot
def test_cli_renders_svg_and_html(tmp_path):
    assert run_cli("--model", "neuron", "--out", str(tmp_path / "n.svg")) == 0
    ET.parse(tmp_path / "n.svg")
    assert run_cli("--model", "neuron", "--out", str(tmp_path / "n.html")) == 0
    assert network_references((tmp_path / "n.html").read_text()) == []


def test_example_script_runs(tmp_path):
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, str(root / "examples" / "draw_graph.py"), "--out-dir", str(tmp_path),
           "--format", "dot"]
    # the script's own folder comes first on sys.path: point it at this checkout's package
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "neuron.dot").exists() and (tmp_path / "mlp.dot").exists()
