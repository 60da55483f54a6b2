/* The flow run page: polls the run's overview every second while it goes and
   redraws the DAG states, the timeline, the state history and new log lines. */
"use strict";

(() => {
  const runId = document.body.dataset.id;
  const $ = (id) => document.getElementById(id);
  const LEVELS = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };
  /* Lifecycle events from before the run's own work: the timeline's axis starts after them. */
  const BEFORE_WORK = new Set(["created", "scheduled"]);
  const RESTARTABLE = W.RESTARTABLE;
  const MAX_ROWS = 300, MAX_LOG_LINES = 5000, LOG_PAGE = 1000;
  let flow = null, dag = null, lastVersion = -1, logCursor = 0, stop = null, paramsShown = false;
  let finishedPolls = 0, rounds = 0, asOf = 0;
  const summaries = new Map();  // slug -> the task's latest summary
  let openTask = null;  // the slug whose details are shown, if any
  let taskNames = new Map();
  let failuresShown = "";  // the failures last drawn, so an open <details> stays open
  const TR_PAGE = 200;
  const trView = { sort: "name", desc: false, offset: 0 };  // the task-runs table's view
  const childView = { slug: null, state: "", offset: 0, key: "" };  // the open task's children
  const CHILD_PAGE = 100;

  /* The last line of a message that has any: an exception's own line ("ValueError: no"),
     not the traceback above it. */
  function lastLine(message) {
    const lines = String(message || "").split("\n").map((l) => l.trim()).filter(Boolean);
    return lines.length ? lines[lines.length - 1] : "";
  }

  function taskLabel(slug, index) {
    return (taskNames.get(slug) || slug) + (index !== null && index >= 0 ? "[" + index + "]" : "");
  }

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
    // A Paused run waits for a person: Resume approves what waits (Prefect 1's Resume).
    $("resume").hidden = run.state.type !== "Paused";
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

  /* A flow of flows: the run that started this one, and the runs this one started. */
  let relatedShown = "";
  function renderRelated(parent, children) {
    const key = JSON.stringify([parent, children.map((c) => [c.id, c.state.type])]);
    if (key === relatedShown) return;
    relatedShown = key;
    const link = (r) => '<a href="/flow-runs/' + W.esc(r.id) + '">' + W.esc(r.name) + "</a>";
    $("run-parent").hidden = !parent;
    if (parent) $("run-parent").innerHTML = "Started by " + link(parent) + " (flow " +
      W.esc(parent.flow_name) + ") " + W.badge(parent.state.type);
    $("children").hidden = !children.length;
    $("children-list").innerHTML = W.table([
      ["Run", link],
      ["Flow", (c) => W.esc(c.flow_name)],
      ["State", (c) => W.badge(c.state.type)],
      ["Created", (c) => W.esc(W.when(c.created))],
    ], children, "");
  }

  /* A failed run says why before anything else: its failed task runs and their messages,
     causes before consequences (TriggerFailed). */
  function renderFailures(failures) {
    const key = JSON.stringify(failures || []);
    if (key === failuresShown) return;
    failuresShown = key;
    $("failures").hidden = !failures || !failures.length;
    if (!failures || !failures.length) return;
    $("failure-list").innerHTML = '<ul class="failure-list">' + failures.map((f) => {
      const full = f.message || "";
      const head = lastLine(full) || "(no message)";
      return "<li>" + W.badge(f.state) + ' <a href="?task=' + encodeURIComponent(f.slug) +
        '" data-task="' + W.esc(f.slug) + '" data-index="' + W.esc(f.map_index) + '"><strong>' +
        W.esc(taskLabel(f.slug, f.map_index)) + '</strong></a> <span class="reason">' + W.esc(head) +
        "</span>" + (full.trim() !== head ? "<details><summary>Whole message</summary><pre>" +
        W.esc(full) + "</pre></details>" : "") + "</li>";
    }).join("") + "</ul>";
  }

  /* A task run's own name (its task's task_run_name), beside its task's. */
  function runName(r) {
    return r.name ? ' <span class="muted task-run-name">' + W.esc(r.name) + "</span>" : "";
  }

  /* The task runs table: every task run of the run (a page of TR_PAGE), sorted by the
     server so that a page of a run with thousands is a page of the whole. */
  async function loadTaskRuns() {
    const q = new URLSearchParams({ sort: trView.sort, desc: String(trView.desc),
      limit: String(TR_PAGE), offset: String(trView.offset) });
    const d = await W.api("/ui/flow_runs/" + runId + "/task_runs?" + q);
    const box = $("taskruns");
    $("taskruns-count").textContent = d.total + " task run" + (d.total === 1 ? "" : "s");
    if (!d.total) { box.innerHTML = '<p class="muted">No task has run yet.</p>'; return; }
    const cols = [["name", "Task"], [null, "Map index"], ["state", "State"], ["started", "Started"],
      ["duration", "Duration"], ["attempts", "Attempts"]];
    const head = cols.map(([key, label]) => {
      if (!key) return '<th scope="col">' + label + "</th>";
      const on = trView.sort === key;
      return '<th scope="col" aria-sort="' + (on ? (trView.desc ? "descending" : "ascending") : "none") +
        '"><button type="button" class="sort" data-sort="' + key + '">' + label +
        (on ? (trView.desc ? " ▼" : " ▲") : "") + "</button></th>";
    }).join("");
    const body = d.rows.map((r) => "<tr data-id=\"" + W.esc(r.id) + '"><td data-label="Task"><a href="?task=' +
      encodeURIComponent(r.slug) + '" data-task="' + W.esc(r.slug) + '">' + W.esc(taskNames.get(r.slug) || r.slug) +
      "</a>" + runName(r) + '</td><td data-label="Map index">' + (r.map_index >= 0 ? W.esc(r.map_index) : "—") +
      '</td><td data-label="State">' + W.badge(r.state) + '</td><td data-label="Started">' + W.stamp(r.started_at) +
      '</td><td data-label="Duration">' + W.esc(W.duration(r.duration)) + '</td><td data-label="Attempts">' +
      (r.attempts ? W.esc(r.attempts) : "—") + "</td></tr>").join("");
    const last = Math.min(trView.offset + TR_PAGE, d.total);
    const pager = d.total > TR_PAGE ? '<p class="pager">' + (trView.offset > 0 ?
      '<button type="button" data-page="-1">Previous</button> ' : "") + "<span>" + (trView.offset + 1) +
      "–" + last + " of " + d.total + "</span>" + (last < d.total ?
      ' <button type="button" data-page="1">Next</button>' : "") + "</p>" : "";
    box.innerHTML = '<div class="table-wrap"><table class="sortable"><thead><tr>' + head +
      "</tr></thead><tbody>" + body + "</tbody></table></div>" + pager;
  }

  /* What a lifecycle event's data says, with times as times. */
  function eventDetails(data) {
    const entries = Object.entries(data || {});
    if (!entries.length) return "";
    return '<dl class="details">' + entries.map(([k, v]) => {
      const isTime = typeof v === "number" && v > 1e9 && v < 1e11 && /time|_at$|^at$|timestamp|deadline|since/.test(k);
      const shown = isTime ? W.stamp(v) : typeof v === "object" && v !== null ?
        "<code>" + W.fmtJson(v) + "</code>" : W.esc(v);
      return "<dt>" + W.esc(k.replace(/_/g, " ")) + "</dt><dd>" + shown + "</dd>";
    }).join("") + "</dl>";
  }

  /* The Gantt: one row per task (mapped: the span of its children), the run's
     lifecycle events as marked lines, and a list of those events below. */
  function renderTimeline(run, tasks, lifecycle) {
    const now = Date.now() / 1000;
    const rows = tasks.filter((t) => t.start !== null).sort((a, b) => a.start - b.start);
    // The axis starts where the run's own work does (its claim, its process, its first
    // task), not at its creation or schedule, which may be hours before.
    const work = lifecycle.filter((e) => !BEFORE_WORK.has(e.kind));
    const times = [run.started_at, ...work.map((e) => e.timestamp), ...rows.map((r) => r.start)]
      .filter((v) => v !== null && v !== undefined);
    const box = $("timeline");
    if (!times.length) {
      box.innerHTML = '<p class="muted">Nothing has run yet.</p>';
      return;
    }
    const t0 = Math.min(...times);
    const ends = [run.ended_at, ...rows.map((r) => r.end), ...work.map((e) => e.timestamp)]
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
    // Each label goes on the first of three lines where its extent (right of its line,
    // or left of it near the edge) overlaps no other label's; a label with no room is
    // left out (the table below lists every event).
    const placed = [[], [], []];
    const free = (line, a, b) => line.every(([c, d]) => b + 4 < c || a > d + 4);
    work.forEach((e) => {
      const x = X(e.timestamp), wide = e.kind.length * 6.5 + 4;
      const left = x + wide > width;  // no room on the right
      const a = left ? x - wide : x, b = left ? x : x + wide;
      const row = placed.findIndex((line) => free(line, a, b));
      const ly = 6 + Math.max(row, 0) * 13;  // a 10px label is 12px high
      p.push('<line class="event" x1="' + x + '" y1="' + (ly + 2) + '" x2="' + x + '" y2="' + height +
        '"><title>' + W.esc(e.kind) + " at +" + W.esc(W.duration(e.timestamp - t0)) + "</title></line>");
      p.push('<circle class="event-dot" cx="' + x + '" cy="' + (ly + 2) + '" r="2.5"/>');
      if (row < 0) return;
      placed[row].push([a, b]);
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
      ["At", (e) => W.stamp(e.timestamp) + ' <span class="muted">(' + (e.timestamp < t0 ? "−" : "+") +
        W.esc(W.duration(Math.abs(e.timestamp - t0))) + ")</span>"],
      ["Details", (e) => eventDetails(e.data)],
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

  /* One log line: time of day (the whole time, with its zone, in its tooltip), level,
     where (the task's name and map index, `fetch[3]`, or "flow") and message. */
  function logLine(l, hidden) {
    const lvl = levelName(l.level);
    const where = l.task_slug ? taskLabel(l.task_slug, l.map_index) : "flow";
    return '<div class="log lvl-' + W.esc(lvl) + '" data-task="' + W.esc(l.task_slug || "") + '"' +
      (hidden ? " hidden" : "") + '><span class="ts" title="' + W.esc(W.time(l.timestamp)) + '">' +
      W.esc(W.clock(l.timestamp)) + '</span><span class="lvl">' + W.esc(lvl) +
      '</span><span class="src" title="' + W.esc(l.name) + '">' + W.esc(where) +
      '</span><span class="msg">' + W.esc(l.message) + "</span></div>";
  }

  async function loadLogPage() {
    const level = $("log-level").value;
    const page = await W.api("/flow_runs/" + runId + "/logs?after_id=" + logCursor +
      "&min_level=" + level + "&limit=" + LOG_PAGE);
    logCursor = page.next_after_id;
    if (!page.logs.length) return 0;
    const box = $("logs");
    const only = taskFilter();
    const html = page.logs.map((l) => logLine(l, only !== null && only !== (l.task_slug || ""))).join("");
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

  /* The open task's state and message; for a mapped task its children, filtered by state. */
  async function loadTask() {
    if (openTask === null) return;
    const slug = openTask;
    const d = await W.api("/ui/flow_runs/" + runId + "/task?limit=1&slug=" + encodeURIComponent(slug));
    if (slug !== openTask) return;
    const s = d.summary;
    $("task-h").textContent = "Task " + (taskNames.get(slug) || slug);
    if (!s) {
      $("task-summary").innerHTML = '<p class="muted">This task has not run yet.</p>';
      $("task-children").innerHTML = "";
      return;
    }
    const end = s.end !== null ? s.end : null;
    $("task-summary").innerHTML = "<p>" + W.badge(s.state) + " <code>" + W.esc(slug) + "</code>" +
      (s.run_count > 1 ? " · run " + W.esc(s.run_count) : "") +
      (s.start !== null ? " · started " + W.stamp(s.start) : "") +
      (s.start !== null && end !== null ? " · took " + W.esc(W.duration(end - s.start)) : "") + "</p>" +
      (s.message ? "<pre>" + W.esc(s.message) + "</pre>" : "");
    if (!s.children) { $("task-children").innerHTML = ""; return; }
    if (childView.slug !== slug) Object.assign(childView, { slug, state: "", offset: 0, key: "" });
    await loadChildren(s);
  }

  /* The mapped children: one button per state they are in (and All), a page of them with
     each one's message and a button for its own log lines. Redrawn only when it changed,
     so an open child's logs stay open while the run goes on. */
  async function loadChildren(s) {
    const q = new URLSearchParams({ slug: childView.slug, limit: String(CHILD_PAGE), offset: String(childView.offset) });
    if (childView.state) q.set("state", childView.state);
    const d = await W.api("/ui/flow_runs/" + runId + "/task_runs?" + q);
    const key = JSON.stringify([s.counts, childView.state, childView.offset, d.rows.map((r) => [r.id, r.state])]);
    if (key === childView.key) return;
    childView.key = key;
    const states = W.STATE_ORDER.filter((st) => s.counts[st]);
    const filters = '<div class="state-filter" role="group" aria-label="Show children in state">' +
      '<button type="button" data-child-state="" aria-pressed="' + (childView.state === "") + '">All × ' + s.children + "</button>" +
      states.map((st) => '<button type="button" data-child-state="' + W.esc(st) + '" aria-pressed="' +
        (childView.state === st) + '">' + W.badge(st, "× " + s.counts[st]) + "</button>").join("") + "</div>";
    const last = childView.offset + d.rows.length;
    const pager = '<p class="pager">' + (childView.offset > 0 ?
      '<button type="button" data-child-page="-1">Previous</button> ' : "") + '<span class="muted">' +
      (d.total ? (childView.offset + 1) + "–" + last + " of " : "") + d.total + " " +
      (childView.state ? childView.state + " " : "") + "children</span>" + (last < d.total ?
      ' <button type="button" data-child-page="1">Next</button>' : "") + "</p>";
    // The children's names (their task's task_run_name) when they have any.
    const named = d.rows.some((c) => c.name) ? [["Name", (c) => W.esc(c.name || "")]] : [];
    $("task-children").innerHTML = filters + pager + W.table([
      ["Index", (c) => W.esc(c.map_index)],
      ...named,
      ["State", (c) => W.badge(c.state)],
      ["Duration", (c) => W.esc(W.duration(c.duration))],
      ["Attempts", (c) => c.attempts ? W.esc(c.attempts) : "—"],
      ["Message", (c) => c.message ? '<span class="reason" title="' + W.esc(c.message) + '">' + W.esc(lastLine(c.message)) + "</span>" : ""],
      ["Logs", (c) => '<button type="button" data-child-logs="' + W.esc(c.id) + '" data-index="' + W.esc(c.map_index) + '">Logs</button>'],
    ], d.rows, "No child in this state.") + (d.total > CHILD_PAGE ? pager : "") + '<div id="child-logs"></div>';
  }

  /* One child's own log lines, below the children table. */
  async function showChildLogs(taskRunId, index) {
    const page = await W.api("/flow_runs/" + runId + "/logs?limit=1000&task_run_id=" + encodeURIComponent(taskRunId));
    const box = $("child-logs");
    if (!box) return;
    box.innerHTML = "<h3>Logs of " + W.esc(taskLabel(childView.slug, Number(index))) + "</h3>" +
      '<div class="logs" tabindex="0" role="log">' + (page.logs.length ? page.logs.map(logLine).join("") :
        '<p class="muted">This child logged nothing.</p>') + "</div>";
  }

  function openTaskPanel(slug) {
    if (!taskNames.has(slug)) return;
    openTask = slug;
    $("task-panel").hidden = false;
    loadTask().catch((err) => W.showError(err));
    const select = $("log-task");
    if ([...select.options].some((o) => o.value === openTask)) {
      select.value = openTask;
      applyTaskFilter();
    }
    $("task-h").scrollIntoView({ behavior: "smooth", block: "start" });
    $("task-close").focus({ preventScroll: true });
  }

  /* Download every log line of the run as text (with the key, which a plain link lacks). */
  async function downloadLogs() {
    const headers = {};
    const key = W.getKey();
    if (key) headers.Authorization = "Bearer " + key;
    const response = await fetch(W.API + "/ui/flow_runs/" + runId + "/logs.txt", { headers });
    if (!response.ok) throw new Error("The logs could not be downloaded: the server answered " + response.status + ".");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = "weir-run-" + runId + ".log";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
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
      const asked = new URLSearchParams(location.search).get("task");
      if (asked) openTaskPanel(asked);
    }
    renderHeader(run);
    renderFailures(overview.failures);
    renderRelated(overview.parent || null, overview.children || []);
    renderTotals(dag.update(tasks));
    const dagBox = $("dag");
    dagBox.dataset.runState = run.state.type;
    if (!dagBox.dataset.ready) {
      performance.mark("weir:coloured");
      markReady(dagBox);
    }
    if (!paramsShown) { renderParameters(run); paramsShown = true; }
    renderTimeline(run, tasks, overview.lifecycle);
    // The table every round while the run goes, then once more when it has finished.
    if (rounds === 1 || !W.FINISHED.has(run.state.type) || finishedPolls === 0) await loadTaskRuns();
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
  $("resume").addEventListener("click", () => act("/resume", "Resume"));
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
    if (node) openTaskPanel(node.dataset.slug);
  });
  // A task's name in the failures or the task-runs table opens it too (the link works
  // without script as well: ?task=slug).
  for (const id of ["failure-list", "taskruns"]) {
    $(id).addEventListener("click", (event) => {
      const link = event.target.closest("a[data-task]");
      if (!link) return;
      event.preventDefault();
      openTaskPanel(link.dataset.task);
    });
  }
  $("taskruns").addEventListener("click", (event) => {
    const sort = event.target.closest("button[data-sort]");
    const page = event.target.closest("button[data-page]");
    if (sort) {
      const key = sort.dataset.sort;
      trView.desc = trView.sort === key ? !trView.desc : false;
      trView.sort = key;
      trView.offset = 0;
    } else if (page) {
      trView.offset = Math.max(0, trView.offset + Number(page.dataset.page) * TR_PAGE);
    } else return;
    loadTaskRuns().then(() => {
      const again = $("taskruns").querySelector(sort ? '[data-sort="' + trView.sort + '"]' : "[data-page]");
      if (again) again.focus();
    }).catch((err) => W.showError(err));
  });
  $("task-children").addEventListener("click", (event) => {
    const state = event.target.closest("button[data-child-state]");
    const page = event.target.closest("button[data-child-page]");
    const logs = event.target.closest("button[data-child-logs]");
    if (logs) {
      showChildLogs(logs.dataset.childLogs, logs.dataset.index).catch((err) => W.showError(err));
      return;
    }
    if (state) { childView.state = state.dataset.childState; childView.offset = 0; }
    else if (page) childView.offset = Math.max(0, childView.offset + Number(page.dataset.childPage) * CHILD_PAGE);
    else return;
    childView.key = "";
    loadTask().catch((err) => W.showError(err));
  });
  $("log-download").addEventListener("click", () => {
    downloadLogs().catch((err) => W.showError(err));
  });
  $("log-zone").textContent = "Times in " + W.ZONE + "; the whole time is in each time's tooltip.";
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
