"""The backward pass as one self-contained HTML page that steps through the drawn graph.

The page holds the graph's SVG (rendered by Graphviz's `dot`), the steps as JSON and
a small script: next / previous / play buttons and the arrow keys move between
frames; the op being processed is highlighted and gradients fill in as they arrive.
Nothing is loaded from the network.

`page.html#frame=3` opens at frame 3. Opening the page with `#selftest` steps through
every frame by itself and writes
`ok frames=N missing=M errors=E` into `<div id="result">` (used by the tests).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..files import write_text
from .draw import DEFAULT_MAX_NODES, build_digraph, check_options, check_size
from .format import value_cells
from .render import render
from .steps import chain_rule


def _frames(text: Any, mode: Any) -> tuple[list[dict], dict[str, list[str]]]:
    """One frame for the seed, one per step, one for the end; and each tensor's final
    gradient cells (they size the boxes before the numbers arrive)."""
    trace, steps, names = text.trace, text.steps, text.names
    root = trace.root
    totals: dict[str, np.ndarray] = {}
    seed = steps[0].upstream if steps else np.ones_like(trace.tensors[root].tensor.data)
    totals[root] = seed
    frames = [{
        "title": f"Start: d{names[root]}/d{names[root]} = 1",
        "lines": text.intro + ["Press → (or Next) to send the gradient back one op at a time."],
        "active": [root], "targets": [], "edges": [],
        "grads": {root: value_cells(seed, mode)},
    }]
    for step, lines in zip(steps, text.blocks):
        changed = {}
        for flow in step.inputs:
            previous = totals.get(flow.node)
            totals[flow.node] = flow.grad if previous is None else previous + flow.grad
            changed[flow.node] = value_cells(totals[flow.node], mode)
        frames.append({
            "title": f"Step {step.index + 1} of {len(steps)}: {step.op}",
            "lines": lines,
            "active": [step.op_node, step.node],
            "targets": [flow.node for flow in step.inputs],
            "edges": [f"e_{step.op_node}_{flow.position}" for flow in step.inputs]
            + [f"e_{step.op_node}_out"],
            "grads": changed,
        })
    frames.append({
        "title": "Done: every leaf that requires grad has its gradient",
        "lines": text.summary or ["No leaf requires grad."],
        "active": [], "targets": [], "edges": [], "grads": {},
    })
    return frames, {node: value_cells(total, mode) for node, total in totals.items()}


def backward_animation_html(loss: Any, params: Any = None, gradient: Any = None,
                            show_values: Any = "auto", rankdir: str = "LR",
                            max_nodes: int = DEFAULT_MAX_NODES, title: str | None = None) -> str:
    """The page that `save_backward_animation` writes, as a string."""
    check_options(show_values, rankdir, max_nodes)
    text = chain_rule(loss, params, gradient)
    check_size(text.trace, False, max_nodes)
    mode = "auto" if show_values is False else show_values
    frames, final = _frames(text, mode)
    dot = build_digraph(text.trace, show_values, final, rankdir, legend=True)
    svg = render(dot, "svg", "save_backward_animation").decode("utf-8")
    svg = _inline_svg(svg)
    data = json.dumps({"frames": frames, "gradNodes": sorted(final)}, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a JSON string must not close the <script>
    heading = title or f"Backward pass of {text.names[text.trace.root]}"
    return (_PAGE.replace("__TITLE__", html.escape(heading))
            .replace("__SVG__", svg).replace("__DATA__", data))


def _inline_svg(svg: str) -> str:
    """The SVG element alone: no XML declaration or DOCTYPE (whose DTD address is a
    URL), ready to sit inside HTML."""
    start = svg.index("<svg")
    return re.sub(r"<!--.*?-->\n?", "", svg[start:], flags=re.S)


def save_backward_animation(loss: Any, path: str | Path, params: Any = None,
                            gradient: Any = None, show_values: Any = "auto",
                            rankdir: str = "LR", max_nodes: int = DEFAULT_MAX_NODES,
                            title: str | None = None) -> Path:
    """Write one self-contained HTML file that steps through the backward pass of
    `loss` on its drawn graph (next / previous / play, arrow keys), highlighting the
    op being processed and filling in gradients as they arrive.

    Needs Graphviz's `dot` to lay out the graph (GraphvizNotFoundError otherwise).
    Nothing of the graph or of any `.grad` changes."""
    page = backward_animation_html(loss, params, gradient, show_values, rankdir, max_nodes,
                                   title)
    return write_text(path, page)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  body { margin: 0; font: 14px/1.45 Helvetica, Arial, sans-serif; color: #0f172a;
         background: #f8fafc; }
  header { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px;
           align-items: center; padding: 10px 16px; background: #fff;
           border-bottom: 1px solid #e2e8f0; }
  header h1 { font-size: 16px; margin: 0 16px 0 0; }
  button { font: inherit; padding: 4px 12px; border: 1px solid #cbd5e1; border-radius: 6px;
           background: #fff; cursor: pointer; }
  button:hover { background: #f1f5f9; }
  button:disabled { opacity: .4; cursor: default; }
  #counter { color: #64748b; min-width: 110px; }
  .hint { color: #94a3b8; font-size: 12px; }
  main { display: flex; gap: 16px; padding: 16px; align-items: flex-start; }
  #graph { flex: 1 1 auto; overflow: auto; background: #fff; border: 1px solid #e2e8f0;
           border-radius: 8px; padding: 8px; max-height: calc(100vh - 110px); }
  #graph svg { display: block; height: auto; }
  #graph.fit svg { max-width: 100%; }
  #panel { flex: 0 0 360px; background: #fff; border: 1px solid #e2e8f0; border-radius: 8px;
           padding: 12px 16px; position: sticky; top: 70px; }
  #panel h2 { font-size: 15px; margin: 0 0 8px; }
  #panel pre { margin: 0; white-space: pre-wrap;
               font: 12.5px/1.5 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
  g.node, g.edge { transition: opacity .2s; }
  g.active > polygon, g.active > ellipse, g.active > path, g.active a > polygon,
  g.active a > ellipse, g.active a > path { stroke: #dc2626; stroke-width: 3.5px; }
  g.target > polygon, g.target > path, g.target a > polygon,
  g.target a > path { stroke: #ea580c; stroke-width: 3px; }
  g.flow > path { stroke: #dc2626; stroke-width: 2.5px; }
  g.flow > polygon { stroke: #dc2626; fill: #dc2626; }
  text.pending { opacity: .3; }
  text.fresh { font-weight: bold; }
  @media (max-width: 900px) {
    main { flex-direction: column; }
    #panel { flex: none; width: auto; position: static; }
  }
</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <button id="first" title="first frame (Home)">&#xAB; First</button>
  <button id="prev" title="previous (&#x2190;)">&#x25C0; Prev</button>
  <button id="play" title="play / pause (space)">&#x25B6; Play</button>
  <button id="next" title="next (&#x2192;)">Next &#x25B6;</button>
  <button id="last" title="last frame (End)">Last &#xBB;</button>
  <button id="zoom" title="fit the graph to the window, or show it at full size">Full size</button>
  <span id="counter"></span>
  <span class="hint">keys: &#x2190; &#x2192; space Home End</span>
</header>
<main>
  <div id="graph" class="fit">__SVG__</div>
  <aside id="panel"><h2 id="step-title"></h2><pre id="step-text"></pre></aside>
</main>
<div id="result" hidden></div>
<script id="steps" type="application/json">__DATA__</script>
<script>
(function () {
  "use strict";
  var errors = 0;
  window.addEventListener("error", function () { errors += 1; });
  var data = JSON.parse(document.getElementById("steps").textContent);
  var frames = data.frames;
  var current = 0, timer = null, missing = 0;

  // the value cells of each tensor's "grad" row: the text elements after the label
  var cells = {};
  data.gradNodes.forEach(function (id) {
    var group = document.getElementById(id);
    if (!group) { missing += 1; return; }
    var texts = Array.prototype.slice.call(group.querySelectorAll("text"));
    var at = -1;
    texts.forEach(function (t, i) { if (t.textContent === "grad") { at = i; } });
    if (at < 0) { missing += 1; return; }
    var row = texts.slice(at);
    row.forEach(function (t, i) {
      if (i > 0 && t.getAttribute("text-anchor") !== "middle") {
        // keep numbers right-aligned when their width changes
        var end = parseFloat(t.getAttribute("x")) + t.getComputedTextLength();
        t.setAttribute("text-anchor", "end");
        t.setAttribute("x", String(end));
      }
    });
    cells[id] = row;
  });

  function mark(ids, cls) {
    Array.prototype.forEach.call(document.querySelectorAll("g." + cls), function (g) {
      g.classList.remove(cls);
    });
    ids.forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.classList.add(cls); } else { missing += 1; }
    });
  }

  function show(index) {
    current = Math.max(0, Math.min(frames.length - 1, index));
    var state = {};
    for (var i = 0; i <= current; i++) {
      var changed = frames[i].grads;
      for (var id in changed) { state[id] = { values: changed[id], fresh: i === current }; }
    }
    for (var node in cells) {
      var row = cells[node], got = state[node];
      row.forEach(function (t, k) {
        if (k === 0) { t.classList.toggle("pending", !got); return; }
        t.classList.toggle("pending", !got);
        t.classList.toggle("fresh", !!(got && got.fresh));
        t.textContent = got ? (got.values[k - 1] !== undefined ? got.values[k - 1] : "") : "?";
      });
    }
    var frame = frames[current];
    mark(frame.active, "active");
    mark(frame.targets, "target");
    mark(frame.edges, "flow");
    document.getElementById("step-title").textContent = frame.title;
    document.getElementById("step-text").textContent = frame.lines.join("\\n");
    document.getElementById("counter").textContent =
      "frame " + (current + 1) + " / " + frames.length;
    document.getElementById("prev").disabled = current === 0;
    document.getElementById("first").disabled = current === 0;
    document.getElementById("next").disabled = current === frames.length - 1;
    document.getElementById("last").disabled = current === frames.length - 1;
    var focus = frame.active.length ? document.getElementById(frame.active[0]) : null;
    if (focus && focus.scrollIntoView && !selftest) {
      focus.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    document.getElementById("play").innerHTML = "&#x25B6; Play";
  }

  function play(interval, done) {
    if (timer !== null) { stop(); return; }
    if (current === frames.length - 1) { show(0); }
    document.getElementById("play").innerHTML = "&#x2016; Pause";
    timer = setInterval(function () {
      if (current >= frames.length - 1) { stop(); if (done) { done(); } return; }
      show(current + 1);
    }, interval);
  }

  document.getElementById("first").onclick = function () { stop(); show(0); };
  document.getElementById("prev").onclick = function () { stop(); show(current - 1); };
  document.getElementById("next").onclick = function () { stop(); show(current + 1); };
  document.getElementById("last").onclick = function () { stop(); show(frames.length - 1); };
  document.getElementById("play").onclick = function () { play(1200); };
  document.getElementById("zoom").onclick = function () {
    var fit = document.getElementById("graph").classList.toggle("fit");
    this.textContent = fit ? "Full size" : "Fit to window";
  };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { stop(); show(current + 1); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); }
    else if (e.key === "Home") { stop(); show(0); }
    else if (e.key === "End") { stop(); show(frames.length - 1); }
    else if (e.key === " ") { play(1200); }
    else { return; }
    e.preventDefault();
  });

  var selftest = location.hash === "#selftest";
  var start = /^#frame=([0-9]+)$/.exec(location.hash);  // a link to one frame, 1-based
  show(start ? parseInt(start[1], 10) - 1 : 0);
  if (selftest) {
    // every frame forwards with Next, back with Prev, then once more with Play
    var visited = 1;
    for (var k = 1; k < frames.length; k++) {
      document.getElementById("next").click();
      visited += 1;
    }
    var atEnd = current === frames.length - 1;
    for (var j = 1; j < frames.length; j++) { document.getElementById("prev").click(); }
    var atStart = current === 0;
    play(10, function () {
      var result = document.getElementById("result");
      var ok = atEnd && atStart && current === frames.length - 1 && visited === frames.length;
      result.textContent = (ok ? "ok" : "failed") + " frames=" + frames.length +
        " missing=" + missing + " errors=" + errors;
      result.hidden = false;
    });
  }
})();
</script>
</body>
</html>
"""
