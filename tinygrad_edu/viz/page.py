"""The HTML page of the backward animation: layout, style and the script that steps
through the frames (animation.py fills in the title, the SVG and the frames).

Zoom: "Fit" scales the graph to the window but never below READABLE (text stays
readable on a 1400x900 window) and then follows the active node; "Full size" shows
it unscaled and scrolls to the active node too.
"""

PAGE = """<!DOCTYPE html>
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
  #graph svg { display: block; height: auto; max-width: none; }
  #panel { flex: 0 0 340px; background: #fff; border: 1px solid #e2e8f0; border-radius: 8px;
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
  <button id="zoom" title="fit the graph to the window (never below a readable size),
    or show it at full size">Full size</button>
  <span id="counter"></span>
  <span class="hint">keys: &#x2190; &#x2192; space Home End</span>
</header>
<main>
  <div id="graph">__SVG__</div>
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
  var READABLE = 0.75;  // fit never shrinks text below this: it follows the active node
  var box = document.getElementById("graph");
  var svg = box.querySelector("svg");
  var natural = { w: svg.width.baseVal.value, h: svg.height.baseVal.value };
  var fit = true, scale = 1;

  function applyZoom() {
    scale = 1;
    if (fit) {
      var w = (box.clientWidth - 16) / natural.w, h = (box.clientHeight - 16) / natural.h;
      var room = window.innerHeight - box.getBoundingClientRect().top - 24;
      h = Math.max(h, room / natural.h);
      scale = Math.max(READABLE, Math.min(1, w, h));
    }
    svg.style.width = (natural.w * scale) + "px";
    svg.style.height = (natural.h * scale) + "px";
  }

  // scroll the graph's box so that `el` sits in its middle
  function follow(el) {
    var r = el.getBoundingClientRect(), c = box.getBoundingClientRect();
    box.scrollLeft += (r.left + r.width / 2) - (c.left + c.width / 2);
    box.scrollTop += (r.top + r.height / 2) - (c.top + c.height / 2);
    var top = r.top + r.height / 2;  // and the page, when the box is taller than the window
    if (top < 0 || top > window.innerHeight) { window.scrollBy(0, top - window.innerHeight / 2); }
  }

  function visible(el) {
    var r = el.getBoundingClientRect(), c = box.getBoundingClientRect();
    var x = r.left + r.width / 2, y = r.top + r.height / 2;
    return x >= c.left && x <= c.right && y >= c.top && y <= c.bottom;
  }

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
    if (focus) { follow(focus); }
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
    fit = !fit;
    this.textContent = fit ? "Full size" : "Fit to window";
    applyZoom();
    show(current);  // scrolls to the active node
  };
  window.addEventListener("resize", function () { if (fit) { applyZoom(); show(current); } });
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
  applyZoom();
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
    // the active node is in view at every frame, fitted and at full size
    var followed = 1, readable = scale >= READABLE ? 1 : 0;
    [true, false].forEach(function (fitted) {
      if (fit !== fitted) { document.getElementById("zoom").click(); }
      for (var f = 0; f < frames.length; f++) {
        show(f);
        var el = frames[f].active.length ? document.getElementById(frames[f].active[0]) : null;
        if (el && !visible(el)) { followed = 0; }
      }
    });
    document.getElementById("zoom").click();  // back to fit
    show(0);
    play(10, function () {
      var result = document.getElementById("result");
      var ok = atEnd && atStart && current === frames.length - 1 && visited === frames.length;
      result.textContent = (ok ? "ok" : "failed") + " frames=" + frames.length +
        " missing=" + missing + " errors=" + errors + " follow=" + followed +
        " readable=" + readable;
      result.hidden = false;
    });
  }
})();
</script>
</body>
</html>
"""
