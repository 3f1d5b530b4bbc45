"""tinygrad_edu.viz: graph drawings, backward steps, explain, the HTML animation, the CLI.

Expected structures come from walking the traced graph here (ctx.parents), expected
numbers from calculus by hand and NumPy. Rendering uses the real Graphviz `dot` and
the animation runs in headless Chromium; both tests skip, saying why, when the
program is missing (CI installs them). Runtime: about 5 s.
"""

from __future__ import annotations

import argparse
import io
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
    explain,
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
    assert value_cells(small) == ["[[1, 2.5], [-3.25, 1e-05]]"]
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
        assert f"grad {grad.min():.4g} {grad.mean():.4g} {grad.max():.4g}" in labels[node]
    assert any(t.startswith("images (4, 784) float32") for t in labels.values())
    last = "t" + str(len([k for k in nodes if k[0] == "t"]) - 1)  # the root comes last
    assert labels[last] == f"output scalar float32 data {loss.item():.4g}"
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
    assert sorted(boxes) == [f"m_{i}" for i in range(7)]
    ops = {k: v[0] for k, v in boxes.items()}
    # the first conv's input needs no grad, so its im2col is a constant, not an op
    assert set(ops["m_0"]) == {"reshape", "matmul", "permute", "add"}
    assert set(ops["m_3"]) == {"unfold", "permute", "reshape", "matmul", "add"}
    assert ops["m_1"] == ops["m_4"] == ["relu"]
    assert ops["m_5"] == ["reshape"] and ops["m_6"] == ["linear"]
    assert {"mul", "sum"} <= set(ops["m_2"])  # window values times the winners' mask
    # constants a layer makes for itself (the max-pool mask) are drawn in its box
    assert any(" bool " in t for t in boxes["m_2"][1])
    # the loss is computed outside the model: its ops are in no box
    loss_ops = {ctx.name for ctx in walk(loss)[0]} - {o for v in ops.values() for o in v}
    assert "crossentropy" in loss_ops  # one fused op (ops/nn_ops.py)


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

def test_graph_larger_than_max_nodes_gives_a_clear_error():
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 1.01
    # x, 30 products, 30 constants 1.01 and 30 ops
    with pytest.raises(GraphTooLargeError, match=r"91 nodes .* max_nodes=20; pass max_nodes=91"):
        draw_graph(y, max_nodes=20)
    assert len(parse(draw_graph(y, max_nodes=91))[0]) == 92  # + the legend
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
    assert {"op9", "t9", "legend"} <= ids
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


# ---------------------------------------------------------------------------
# backward steps and explain
# ---------------------------------------------------------------------------


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
    loss, model, _ = mlp()
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


def test_explain_prints_the_chain_rule_with_numbers():
    w1 = tg.tensor(0.5, requires_grad=True)
    z = w1 * 3.0
    loss = z * 0.25
    out = io.StringIO()
    explain(loss, {"w1": w1, "z": z}, file=out)
    text = out.getvalue()
    assert "dL/dw1 = dL/dz · dz/dw1 = 0.25 · 3 = 0.75" in text
    assert "rule: d(x * y)/dx = y, d(x * y)/dy = x." in text
    loss2, x, y, z2, u = known_function()
    out = io.StringIO()
    explain(loss2, {"x": x, "y": y, "z": z2, "u": u}, file=out)
    text = out.getvalue()
    assert "dL/du = 8 + 8 = 16  (summed over its 2 uses)" in text
    assert "dL/dx = 16 + 48 = 64" in text and "dL/dy = 32" in text
    assert x.grad is None


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
    assert result.group(1) == f"ok frames={frames} missing=0 errors=0"


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
    assert "d(output)/d(tensor)" not in label_text(nodes["legend"])
    assert run_cli("--model", "neuron", "--out", str(tmp_path / "n.txt")) == 2
    assert "extension" in capsys.readouterr().err
    assert run_cli("--model", "cnn", "--out", str(tmp_path / "c.dot")) == 0
    assert "unfold" in (tmp_path / "c.dot").read_text()


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
