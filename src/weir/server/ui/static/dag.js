/* The DAG of a flow, drawn as one SVG from the flow's serialized tasks and edges.

   Layout: each task's layer is its longest path from a root (Kahn's order, O(V+E));
   within a layer tasks are ordered by the mean position of their upstreams; a layer
   wider than the view wraps onto several rows. A mapped task is ONE node that shows
   counts of its children per state, so a run of thousands of children stays light.
   Only the part of the graph near the view is in the DOM at any time (see draw).

   This is weir's one graph layout: the run and flow pages draw with it, and so does
   flow.visualize(), whose HTML page inlines this file (weir.visualization.page).
   Layout libraries were measured on the 5,000-task graph of bench/ui_bench.py and
   are far too slow for it (dagre took over 50 s for 1,000 of those tasks, elkjs 37 s
   and ran out of stack at 5,000; this takes milliseconds). */
"use strict";

const WeirDag = (() => {
  const NODE_W = 200, NODE_H = 48, GAP_X = 24, GAP_Y = 44, PAD = 16;
  const FAILED = W.FAILED;
  /* Not finished, in the order a mapped node shows the first one its children are in. */
  const ACTIVE = W.STATE_ORDER.filter((st) => !W.FINISHED.has(st));

  function layout(tasks, edges, cols) {
    const index = new Map(tasks.map((t, i) => [t.slug, i]));
    const ups = tasks.map(() => []);
    const downs = tasks.map(() => []);
    const seen = new Map();
    // One drawn edge per (upstream, downstream): [u, d, mapped, keys].
    const pairs = [];
    for (const e of edges) {
      const u = index.get(e.upstream), d = index.get(e.downstream);
      if (u === undefined || d === undefined) continue;
      const k = u + ":" + d;
      let pair = seen.get(k);
      if (pair === undefined) {
        pair = [u, d, false, []];
        seen.set(k, pair);
        ups[d].push(u);
        downs[u].push(d);
        pairs.push(pair);
      }
      if (e.mapped) pair[2] = true;
      if (e.key) pair[3].push(e.key);
    }
    const indeg = ups.map((u) => u.length);
    const layer = new Array(tasks.length).fill(0);
    const queue = [];
    indeg.forEach((n, i) => { if (n === 0) queue.push(i); });
    for (let qi = 0; qi < queue.length; qi++) {
      const i = queue[qi];
      for (const d of downs[i]) {
        if (layer[i] + 1 > layer[d]) layer[d] = layer[i] + 1;
        if (--indeg[d] === 0) queue.push(d);
      }
    }
    const layers = [];
    // Kahn's order visits upstreams first, so positions of upstreams exist when needed.
    const order = queue.length === tasks.length ? queue : tasks.map((_t, i) => i);
    const posInLayer = new Array(tasks.length).fill(0);
    for (const i of order) (layers[layer[i]] = layers[layer[i]] || []).push(i);
    for (const members of layers) {
      if (!members) continue;
      const key = new Map();
      for (const i of members) {
        const u = ups[i];
        key.set(i, u.length ? u.reduce((s, x) => s + posInLayer[x], 0) / u.length : posInLayer[i]);
      }
      members.sort((a, b) => key.get(a) - key.get(b));
      members.forEach((i, p) => { posInLayer[i] = p; });
    }
    const width = Math.min(cols, Math.max(1, ...layers.map((m) => (m ? m.length : 0))));
    const x = new Array(tasks.length), y = new Array(tasks.length);
    let row = 0;
    for (const members of layers) {
      if (!members) continue;
      for (let start = 0; start < members.length; start += width) {
        const chunk = members.slice(start, start + width);
        const offset = (width - chunk.length) * (NODE_W + GAP_X) / 2;
        chunk.forEach((i, c) => {
          x[i] = PAD + offset + c * (NODE_W + GAP_X);
          y[i] = PAD + row * (NODE_H + GAP_Y);
        });
        row++;
      }
    }
    return {
      x, y, pairs,
      w: PAD * 2 + width * (NODE_W + GAP_X) - GAP_X,
      h: PAD * 2 + row * (NODE_H + GAP_Y) - GAP_Y,
    };
  }

  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  function edgePath(x1, y1, x2, y2) {
    const my = (y1 + y2) / 2;
    return "M" + x1 + " " + y1 + "C" + x1 + " " + my + " " + x2 + " " + my + " " + x2 + " " + y2;
  }

  /* Draw the flow into `container`; returns {update(summaries)}.
     Only the nodes and edges near the visible part of the container are in the DOM
     (re-rendered on scroll), so a graph of thousands of tasks paints as fast as a
     small one; the SVG keeps the whole graph's size, so scrolling reaches all of it. */
  function draw(container, flow) {
    const tasks = flow.tasks || [];
    const cols = Math.max(2, Math.floor(Math.max(container.clientWidth - PAD * 2, NODE_W) / (NODE_W + GAP_X)));
    const L = layout(tasks, flow.edges || [], cols);
    container.innerHTML = '<svg xmlns="http://www.w3.org/2000/svg" width="' + L.w + '" height="' +
      L.h + '" viewBox="0 0 ' + L.w + " " + L.h + '" role="img" aria-label="Flow graph with ' +
      tasks.length + ' tasks"><g class="edges"></g><g class="nodes"></g></svg>';
    const edgeLayer = container.querySelector("g.edges");
    const nodeLayer = container.querySelector("g.nodes");
    const view = tasks.map((t) => ({
      state: null,
      text: t.is_parameter ? "Parameter" : t.mapped ? "mapped · not started" : "not started",
      title: t.name + " (" + t.slug + ")",
    }));
    const index = new Map(tasks.map((t, i) => [t.slug, i]));
    const label = labels(tasks);
    // Tasks in order of their y, to find the visible ones by binary search.
    const byY = tasks.map((_t, i) => i).sort((a, b) => L.y[a] - L.y[b]);
    let shown = "";

    function nodeHtml(i) {
      const t = tasks[i], v = view[i];
      const kind = t.is_parameter ? " param" : t.mapped ? " mapped" : "";
      return '<g class="node st-' + W.esc(v.state || "none") + kind + '" data-slug="' + W.esc(t.slug) +
        '" data-state="' + W.esc(v.state || "") + '" transform="translate(' + L.x[i] + "," + L.y[i] +
        ')"><title>' + W.esc(v.title) + '</title><rect class="box" width="' + NODE_W + '" height="' +
        NODE_H + '" rx="8"/><text class="name" x="10" y="19">' + W.esc(short(label.get(t.slug), 26)) +
        '</text><text class="state" x="10" y="37">' + W.esc(short(v.text, 34)) + "</text></g>";
    }

    function firstAtOrBelow(y) {
      let lo = 0, hi = byY.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (L.y[byY[mid]] + NODE_H < y) lo = mid + 1; else hi = mid;
      }
      return lo;
    }

    function render(force) {
      const margin = Math.max(container.clientHeight, 400);
      const top = container.scrollTop - margin, bottom = container.scrollTop + container.clientHeight + margin;
      const visible = [];
      for (let k = firstAtOrBelow(top); k < byY.length && L.y[byY[k]] <= bottom; k++) visible.push(byY[k]);
      const key = visible.length ? visible[0] + ":" + visible[visible.length - 1] + ":" + visible.length : "";
      if (!force && key === shown) return;
      shown = key;
      const edges = [];
      for (const [u, d, mapped, keys] of L.pairs) {
        const y1 = L.y[u] + NODE_H, y2 = L.y[d];
        if (Math.max(y1, y2) < top || Math.min(y1, y2) > bottom) continue;
        // A mapped edge is dashed; the argument names it feeds are its data-keys.
        edges.push('<path class="edge' + (mapped ? " mapped" : "") + '" d="' +
          edgePath(L.x[u] + NODE_W / 2, y1, L.x[d] + NODE_W / 2, y2) + '"' +
          (keys.length ? ' data-keys="' + W.esc(keys.join(", ")) + '"' : "") + "/>");
      }
      edgeLayer.innerHTML = edges.join("");
      nodeLayer.innerHTML = visible.map(nodeHtml).join("");
    }

    let pending = false;
    container.addEventListener("scroll", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; render(false); });
    });
    render(true);
    return {
      update(summaries) {
        const result = update(tasks, index, view, summaries);
        if (result.changed) render(true);
        return result.totals;
      },
    };
  }

  /* The state a mapped task shows: active while any child is, else the worst outcome. */
  function mappedState(s) {
    const counts = s.counts || {};
    for (const st of ACTIVE) if (counts[st]) return st === "Pending" || st === "Scheduled" ? "Running" : st;
    for (const st of FAILED) if (counts[st]) return st;
    if (counts.Cancelled) return "Cancelled";
    // The parent's own state is Mapped once its children exist; what the reader wants
    // is how the children ended.
    return s.children ? "Success" : s.state;
  }

  /* "✓ 4990 · ✗ 3 · ▶ 7" (names in the node's title); one state alone is named. */
  function countsText(s) {
    const parts = [];
    const present = W.STATE_ORDER.filter((st) => (s.counts || {})[st]);
    for (const st of present) {
      parts.push(W.icon(st) + " " + s.counts[st] + (present.length === 1 ? " " + st : ""));
    }
    return parts.join(" · ");
  }

  function countsTitle(s) {
    return W.STATE_ORDER.filter((st) => (s.counts || {})[st])
      .map((st) => s.counts[st] + " " + st).join(", ");
  }

  /* A mapped task's children finished out of those it will have (26/200), once it
     has mapped; before that, the children that exist. */
  function progress(s) {
    const counts = s.counts || {};
    const done = Object.keys(counts).filter((st) => W.FINISHED.has(st))
      .reduce((n, st) => n + counts[st], 0);
    const total = s.expected != null ? Math.max(s.expected, s.children) : s.children;
    return done + "/" + total;
  }

  /* Fold the summaries into the view model; say whether any node changed. */
  function update(tasks, index, view, summaries) {
    const totals = {};
    let changed = false;
    for (const s of summaries) {
      const i = index.get(s.slug);
      if (i === undefined) continue;
      const task = tasks[i], v = view[i];
      let state, text;
      if (s.children > 0 || s.expected || (task.mapped && s.state === "Mapped")) {
        state = mappedState(s);
        text = "⋔ " + progress(s) + ": " + (countsText(s) || W.icon(state) + " " + state);
      } else {
        state = s.state;
        text = state ? W.icon(state) + " " + state + (s.run_count > 1 ? " (run " + s.run_count + ")" : "") : "not started";
      }
      if (state) totals[state] = (totals[state] || 0) + 1;
      if (state === v.state && text === v.text) continue;
      changed = true;
      v.state = state;
      v.text = text;
      v.title = task.name + ": " + (s.children || s.expected ? progress(s) + " children finished: " + countsTitle(s) : state || "not started") +
        (s.message ? " — " + s.message : "");
    }
    return { totals, changed };
  }

  /* What to call each task: its name, or its slug where several tasks share the name. */
  function labels(tasks) {
    const seen = new Map();
    for (const t of tasks) seen.set(t.name, (seen.get(t.name) || 0) + 1);
    return new Map(tasks.map((t) => [t.slug, seen.get(t.name) > 1 ? t.slug : t.name]));
  }

  return { draw, layout, labels };
})();
