/* The flow run page: polls the run's overview every second while it goes and
   redraws the DAG states, the timeline, the state history and new log lines. */
"use strict";

(() => {
  const runId = document.body.dataset.id;
  const $ = (id) => document.getElementById(id);
  const LEVELS = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };
  const RESTARTABLE = W.RESTARTABLE;
  const MAX_ROWS = 300, MAX_LOG_LINES = 5000, LOG_PAGE = 1000;
  let flow = null, dag = null, lastVersion = -1, logCursor = 0, stop = null, paramsShown = false;
  let finishedPolls = 0, rounds = 0, asOf = 0;
  const summaries = new Map();  // slug -> the task's latest summary
  let openTask = null;  // the slug whose details are shown, if any
  let taskNames = new Map();

  function levelName(n) { return LEVELS[n] || "L" + n; }

  function renderHeader(run) {
    document.title = run.name + " · weir";
    $("run-name").textContent = run.name;
    const badge = $("run-state");  // kept, not replaced, so its live region announces changes
    if (badge.dataset.state !== run.state.type) {
      badge.className = "badge st-" + run.state.type;
      badge.dataset.state = run.state.type;
      badge.innerHTML = '<span aria-hidden="true">' + W.icon(run.state.type) + "</span> " +
        W.esc(run.state.type);
    }
    $("run-message").textContent = run.state.message || "";
    const end = run.ended_at || (W.FINISHED.has(run.state.type) ? run.state.timestamp : null);
    const took = run.started_at ? W.duration((end || Date.now() / 1000) - run.started_at) : "—";
    $("run-meta").innerHTML = "Flow version " + W.esc(run.flow_version) +
      " · scheduled " + W.when(run.scheduled_start_time) +
      " · started " + (run.started_at ? W.when(run.started_at) : "not yet") +
      " · took " + W.esc(took) +
      (run.labels.length ? " · labels " + run.labels.map((l) => "<code>" + W.esc(l) + "</code>").join(" ") : "") +
      (run.cancel_requested && !W.FINISHED.has(run.state.type) ? " · cancellation requested" : "");
    const finished = W.FINISHED.has(run.state.type);
    $("cancel").disabled = finished || run.state.type === "Cancelling";
    $("restart").disabled = !RESTARTABLE.has(run.state.type);
    $("live").textContent = finished ? "" : "Live: updating every second";
  }

  function renderTotals(totals) {
    $("task-totals").innerHTML = W.STATE_ORDER.filter((s) => totals[s])
      .map((s) => W.badge(s, "× " + totals[s])).join("");
  }

  function renderParameters(run) {
    const rows = Object.entries(run.parameters || {});
    $("parameters").innerHTML = W.table([
      ["Name", (r) => "<code>" + W.esc(r[0]) + "</code>"],
      ["Value", (r) => "<pre>" + W.fmtJson(r[1]) + "</pre>"],
    ], rows, "This run has no parameters.");
  }

  async function renderHistory() {
    const items = await W.api("/flow_runs/" + runId + "/states");
    $("history").innerHTML = W.table([
      ["State", (h) => W.badge(h.state.type)],
      ["When", (h) => W.esc(W.time(h.state.timestamp))],
      ["Message", (h) => W.esc(h.state.message || "")],
    ], items.slice().reverse(), "No states yet.");
  }

  /* The Gantt: one row per task (mapped: the span of its children), the run's
     lifecycle events as marked lines, and a list of those events below. */
  function renderTimeline(run, tasks, lifecycle) {
    const now = Date.now() / 1000;
    const rows = tasks.filter((t) => t.start !== null).sort((a, b) => a.start - b.start);
    const times = [run.started_at, ...lifecycle.map((e) => e.timestamp), ...rows.map((r) => r.start)]
      .filter((v) => v !== null && v !== undefined);
    const box = $("timeline");
    if (!times.length) {
      box.innerHTML = '<p class="muted">Nothing has run yet.</p>';
      return;
    }
    const t0 = Math.min(...times);
    const ends = [run.ended_at, ...rows.map((r) => r.end), ...lifecycle.map((e) => e.timestamp)]
      .filter((v) => v !== null && v !== undefined);
    const finished = W.FINISHED.has(run.state.type);
    const t1 = Math.max(t0 + 0.001, ...ends, finished ? t0 : now);
    const shown = rows.slice(0, MAX_ROWS);
    const LABEL = 170, RH = 22, TOP = 60, width = Math.max(box.clientWidth - 4, 560);
    const span = width - LABEL - 60;
    const X = (t) => LABEL + ((t - t0) / (t1 - t0)) * span;
    const height = TOP + shown.length * RH + 10;
    const p = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + width + '" height="' + height +
      '" role="img" aria-label="Timeline of ' + shown.length + ' tasks">'];
    for (let i = 0; i <= 4; i++) {
      const t = t0 + ((t1 - t0) * i) / 4, x = X(t);
      p.push('<line class="axis" x1="' + x + '" y1="' + (TOP - 8) + '" x2="' + x + '" y2="' + height + '"/>');
      p.push('<text class="axis-label" x="' + x + '" y="' + (TOP - 12) + '" text-anchor="middle">+' +
        W.esc(W.duration(t - t0)) + "</text>");
    }
    // Each label goes on the first of three lines where it overlaps no other; a label
    // with no room is left out (the table below lists every event).
    const lineEnds = [-Infinity, -Infinity, -Infinity];
    lifecycle.forEach((e) => {
      const x = X(e.timestamp), row = lineEnds.findIndex((end) => x > end + 4);
      const ly = 6 + Math.max(row, 0) * 11;
      p.push('<line class="event" x1="' + x + '" y1="' + (ly + 2) + '" x2="' + x + '" y2="' + height +
        '"><title>' + W.esc(e.kind) + " at +" + W.esc(W.duration(e.timestamp - t0)) + "</title></line>");
      p.push('<circle class="event-dot" cx="' + x + '" cy="' + (ly + 2) + '" r="2.5"/>');
      if (row < 0) return;
      const wide = e.kind.length * 6, left = x + 4 + wide > width; // no room on the right
      lineEnds[row] = left ? x : x + 4 + wide;
      p.push('<text class="event-label" x="' + (left ? x - 4 : x + 4) + '" y="' + (ly + 4) +
        (left ? '" text-anchor="end">' : '">') + W.esc(e.kind) + "</text>");
    });
    shown.forEach((r, i) => {
      const y = TOP + i * RH;
      const state = r.children ? (Object.keys(r.counts).length === 1 ? Object.keys(r.counts)[0] : r.state || "Running") : r.state || "Running";
      const end = r.end !== null && W.FINISHED.has(state) ? r.end : finished ? t1 : now;
      const x1 = X(r.start), x2 = Math.max(X(end), x1 + 2);
      const name = taskNames.get(r.slug) || r.slug;
      p.push('<text class="row-label" x="4" y="' + (y + 14) + '">' + W.esc(name.length > 24 ? name.slice(0, 23) + "…" : name) +
        (r.children ? " ⋔" + r.children : "") + "</text>");
      p.push('<rect class="seg st-' + W.esc(state) + '" x="' + x1 + '" y="' + (y + 4) + '" width="' +
        (x2 - x1) + '" height="' + (RH - 8) + '" rx="3"><title>' + W.esc(name) + ": " + W.esc(state) +
        ", " + W.esc(W.duration(end - r.start)) + "</title></rect>");
      p.push('<text class="row-label" x="' + (x2 + 4) + '" y="' + (y + 14) + '">' + W.icon(state) + " " +
        W.esc(state) + "</text>");
    });
    p.push("</svg>");
    let html = p.join("");
    if (rows.length > shown.length) {
      html += '<p class="muted">Showing the first ' + shown.length + " of " + rows.length + " tasks that started.</p>";
    }
    html += lifecycle.length ? W.table([
      ["Event", (e) => "<code>" + W.esc(e.kind) + "</code>"],
      ["At", (e) => "+" + W.esc(W.duration(e.timestamp - t0))],
      ["Details", (e) => Object.keys(e.data || {}).length ? "<code>" + W.fmtJson(e.data) + "</code>" : ""],
    ], lifecycle) : "";
    box.innerHTML = html;
  }

  /* Fetch the log lines after the cursor (a few pages at most per round); true when
     more are waiting. */
  async function loadLogs() {
    for (let round = 0; round < 5; round++) {
      const count = await loadLogPage();
      if (count < LOG_PAGE) return false;
    }
    return true;
  }

  async function loadLogPage() {
    const level = $("log-level").value;
    const page = await W.api("/flow_runs/" + runId + "/logs?after_id=" + logCursor +
      "&min_level=" + level + "&limit=" + LOG_PAGE);
    logCursor = page.next_after_id;
    if (!page.logs.length) return 0;
    const box = $("logs");
    const html = page.logs.map((l) => {
      const lvl = levelName(l.level);
      const where = l.task_slug ? l.task_slug + (l.map_index !== null && l.map_index >= 0 ? "[" + l.map_index + "]" : "") : "flow";
      return '<div class="log lvl-' + W.esc(lvl) + '" data-task="' + W.esc(l.task_slug || "") + '"' +
        (taskFilter() !== null && taskFilter() !== (l.task_slug || "") ? " hidden" : "") + '><span class="ts" title="' + W.esc(W.time(l.timestamp)) + '">' + W.esc(W.clock(l.timestamp)) +
        '</span><span class="lvl">' + W.esc(lvl) + '</span><span class="src" title="' + W.esc(l.name) + '">' +
        W.esc(where) + '</span><span class="msg">' + W.esc(l.message) + "</span></div>";
    }).join("");
    const empty = box.querySelector(".muted");
    if (empty) empty.remove();
    box.insertAdjacentHTML("beforeend", html);
    while (box.childElementCount > MAX_LOG_LINES) box.firstElementChild.remove();
    if ($("log-follow").checked) box.scrollTop = box.scrollHeight;
    return page.logs.length;
  }

  /* Mark the DAG drawn once the browser has painted it; bench/ui_bench.py reads
     data-ready-ms, the milliseconds from navigation to then. */
  function markReady(box) {
    box.dataset.ready = "pending";
    requestAnimationFrame(() => setTimeout(() => {
      box.dataset.readyMs = String(Math.round(performance.now()));
      box.dataset.ready = "true";
    }, 0));
  }

  /* The task whose log lines alone are shown ("" for the flow's own), or null for all. */
  function taskFilter() {
    const value = $("log-task").value;
    return value === "" ? null : value === "(flow)" ? "" : value;
  }

  function fillTaskFilter(tasks) {
    const options = ['<option value="(flow)">the flow itself</option>'];
    for (const t of tasks) {
      if (!t.is_parameter) options.push('<option value="' + W.esc(t.slug) + '">' + W.esc(taskNames.get(t.slug)) + "</option>");
    }
    $("log-task").insertAdjacentHTML("beforeend", options.join(""));
  }

  function applyTaskFilter() {
    const only = taskFilter();
    $("logs").querySelectorAll(".log").forEach((line) => {
      line.hidden = only !== null && line.dataset.task !== only;
    });
  }

  /* The open task's state, and its children that failed or have not finished first. */
  async function loadTask() {
    if (openTask === null) return;
    const slug = openTask;
    const d = await W.api("/ui/flow_runs/" + runId + "/task?limit=50&slug=" + encodeURIComponent(slug));
    if (slug !== openTask) return;
    const s = d.summary;
    $("task-h").textContent = "Task " + (taskNames.get(slug) || slug);
    if (!s) {
      $("task-detail").innerHTML = '<p class="muted">This task has not run yet.</p>';
      return;
    }
    const end = s.end !== null ? s.end : null;
    let html = "<p>" + W.badge(s.state) + " <code>" + W.esc(slug) + "</code>" +
      (s.run_count > 1 ? " · run " + W.esc(s.run_count) : "") +
      (s.start !== null ? " · started " + W.when(s.start) : "") +
      (s.start !== null && end !== null ? " · took " + W.esc(W.duration(end - s.start)) : "") + "</p>" +
      (s.message ? "<pre>" + W.esc(s.message) + "</pre>" : "");
    if (s.children) {
      html += '<p class="totals">' + W.STATE_ORDER.filter((st) => s.counts[st])
        .map((st) => W.badge(st, "× " + s.counts[st])).join("") + "</p>";
      html += '<p class="muted">' + d.children.length + " of " + s.children +
        " children, those that failed or have not finished first:</p>";
      html += W.table([
        ["Index", (c) => W.esc(c.map_index)],
        ["State", (c) => W.badge(c.state.type)],
        ["Message", (c) => c.state.message ? "<pre>" + W.esc(c.state.message) + "</pre>" : ""],
      ], d.children);
    }
    $("task-detail").innerHTML = html;
  }

  async function refresh() {
    // After the first answer, ask only for the tasks written since the last one
    // (a full answer every 30 rounds, in case anything slipped through).
    const full = !flow || rounds % 30 === 0;
    const query = !flow ? "?include_flow=true" : full ? "" : "?changed_after=" + asOf;
    const overview = await W.api("/ui/flow_runs/" + runId + query);
    rounds += 1;
    asOf = overview.as_of;
    if (overview.complete) summaries.clear();
    for (const t of overview.tasks) summaries.set(t.slug, t);
    const tasks = [...summaries.values()];
    const run = overview.run;
    if (!flow) {
      performance.mark("weir:overview");
      flow = overview.flow;
      $("flow-link").textContent = flow.name;
      $("flow-link").href = "/flows/" + flow.id;
      taskNames = WeirDag.labels(flow.serialized_flow.tasks || []);
      fillTaskFilter(flow.serialized_flow.tasks || []);
      dag = WeirDag.draw($("dag"), flow.serialized_flow);
      performance.mark("weir:drawn");
    }
    renderHeader(run);
    renderTotals(dag.update(tasks));
    const dagBox = $("dag");
    dagBox.dataset.runState = run.state.type;
    if (!dagBox.dataset.ready) {
      performance.mark("weir:coloured");
      markReady(dagBox);
    }
    if (!paramsShown) { renderParameters(run); paramsShown = true; }
    renderTimeline(run, tasks, overview.lifecycle);
    if (run.version !== lastVersion) {
      lastVersion = run.version;
      await renderHistory();
    }
    const moreLogs = await loadLogs();
    await loadTask();
    if (!$("logs").childElementCount) $("logs").innerHTML = '<p class="muted">No log lines yet.</p>';
    // A finished run will not change again (until restarted): stop polling after a
    // few more rounds, which pick up the last log lines its runner flushes.
    finishedPolls = W.FINISHED.has(run.state.type) && !moreLogs ? finishedPolls + 1 : 0;
    return finishedPolls < 3;
  }

  function startPolling() {
    if (stop) stop();
    finishedPolls = 0;
    stop = W.poll(refresh, 1000);
  }

  async function act(path, label) {
    const box = $("action-error");
    W.showError(null, box);
    try {
      await W.api("/flow_runs/" + runId + path, { method: "POST" });
      startPolling();
    } catch (err) {
      W.showError(new Error(label + " failed: " + err.message), box);
    }
  }

  $("cancel").addEventListener("click", () => act("/cancel", "Cancel"));
  $("restart").addEventListener("click", () => act("/restart", "Restart"));
  $("log-level").addEventListener("change", () => {
    logCursor = 0;
    $("logs").innerHTML = "";
    loadLogs().catch((err) => W.showError(err));
  });
  // Choosing a task here also opens its details: the keyboard's way to what a click
  // on the graph shows.
  $("log-task").addEventListener("change", () => {
    applyTaskFilter();
    const value = $("log-task").value;
    if (value === "" || value === "(flow)") return;
    openTask = value;
    $("task-panel").hidden = false;
    loadTask().catch((err) => W.showError(err));
  });
  // A click on a task in the graph opens its details and filters the logs to it.
  $("dag").addEventListener("click", (event) => {
    const node = event.target.closest("g.node");
    if (!node || !taskNames.has(node.dataset.slug)) return;
    openTask = node.dataset.slug;
    $("task-panel").hidden = false;
    loadTask().catch((err) => W.showError(err));
    const select = $("log-task");
    if ([...select.options].some((o) => o.value === openTask)) {
      select.value = openTask;
      applyTaskFilter();
    }
    $("task-h").scrollIntoView({ behavior: "smooth", block: "start" });
    $("task-close").focus({ preventScroll: true });
  });
  $("task-close").addEventListener("click", () => {
    openTask = null;
    $("task-panel").hidden = true;
    $("dag").focus();
  });
  $("log-follow").addEventListener("change", () => {
    if ($("log-follow").checked) $("logs").scrollTop = $("logs").scrollHeight;
  });
  startPolling();
})();
