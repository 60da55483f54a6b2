/* The flow page: its DAG, a Run form generated from its Parameters, recent runs. */
"use strict";

(() => {
  const flowId = document.body.dataset.id;
  const $ = (id) => document.getElementById(id);
  let fields = [];

  /* The JSON type a parameter's value must have, from its default (null: any). */
  function jsonType(value) {
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value; // string, boolean, object
  }

  function typeOk(type, value) {
    switch (type) {
      case null: return true;
      case "integer": return typeof value === "number" && Number.isInteger(value);
      case "number": return typeof value === "number";
      case "array": return Array.isArray(value);
      case "object": return value !== null && typeof value === "object" && !Array.isArray(value);
      default: return typeof value === type;
    }
  }

  function fieldHtml(p, i) {
    const id = "param-" + i, type = jsonType(p.default);
    const hint = p.required ? "Required · any JSON value" :
      (type === "string" ? "Text" : "JSON" + (type ? " " + type : "")) + " · default " + JSON.stringify(p.default);
    let input;
    if (type === "string") {
      input = '<input type="text" id="' + id + '" name="' + W.esc(p.name) + '" value="' + W.esc(p.default) + '"';
    } else if (type === "boolean") {
      input = '<select id="' + id + '" name="' + W.esc(p.name) + '"><option value="true"' + (p.default ? " selected" : "") +
        '>true</option><option value="false"' + (p.default ? "" : " selected") + ">false</option></select>";
    } else {
      const text = p.required && p.default === null ? "" : JSON.stringify(p.default);
      input = '<textarea id="' + id + '" name="' + W.esc(p.name) + '" rows="1" spellcheck="false" class="mono">' + W.esc(text) + "</textarea>";
    }
    if (input.startsWith("<input")) input += ' aria-describedby="' + id + '-hint ' + id + '-error" autocomplete="off">';
    else input = input.replace(' name=', ' aria-describedby="' + id + "-hint " + id + '-error" name=');
    return '<div class="field" data-param="' + W.esc(p.name) + '"><label for="' + id + '">' + W.esc(p.name) +
      (p.required ? ' <span aria-hidden="true">*</span>' : "") + "</label>" + input +
      '<p class="hint" id="' + id + '-hint">' + W.esc(hint) + '</p><p class="field-error" id="' + id +
      '-error" hidden></p></div>';
  }

  function setFieldError(field, message) {
    const input = $(field.id), box = $(field.id + "-error");
    setError(input, box, message);
  }

  function setError(input, box, message) {
    if (message) {
      input.setAttribute("aria-invalid", "true");
      box.textContent = message;
      box.hidden = false;
    } else {
      input.removeAttribute("aria-invalid");
      box.textContent = "";
      box.hidden = true;
    }
  }

  /* The field's value, or throws a sentence saying what is wrong with it. */
  function readField(field) {
    const input = $(field.id), p = field.param;
    if (field.type === "string") return input.value;
    if (field.type === "boolean") return input.value === "true";
    const text = input.value.trim();
    if (!text) {
      if (p.required) throw new Error(p.name + " is required: enter a JSON value.");
      return null;
    }
    let value;
    try { value = JSON.parse(text); } catch (_e) {
      throw new Error("Not valid JSON" + (field.type ? "; enter " + (field.type === "integer" ? "an integer" : "a JSON " + field.type) : "") + ", e.g. " + JSON.stringify(p.default ?? "text") + ".");
    }
    if (value !== null && !typeOk(field.type, value)) {
      throw new Error("Expected " + (field.type === "integer" ? "an integer" : "a JSON " + field.type) + ", got " + JSON.stringify(value) + ".");
    }
    return value;
  }

  function fieldFor(path) {
    if (!path) return null;
    const name = path.replace(/^body\./, "").replace(/^parameters\./, "");
    return fields.find((f) => f.param.name === name) || null;
  }

  /* A 422's location(s), mapped to the form's fields; the rest shown above the button. */
  function showServerErrors(err) {
    let mapped = false;
    const locs = [];
    if (err.field) locs.push([err.field, err.message]);
    if (err.body && Array.isArray(err.body.detail)) {
      for (const d of err.body.detail) locs.push([(d.loc || []).join("."), d.msg]);
    }
    for (const [path, message] of locs) {
      if (/^(body\.)?parameters\./.test(path)) {
        const f = fieldFor(path);
        if (f) { setFieldError(f, message); mapped = true; continue; }
      }
      if (/^(body\.)?name$/.test(path)) {
        setError($("run-name"), $("run-name-error"), message);
        mapped = true;
      }
    }
    if (!mapped) W.showError(err, $("form-error"));
    const first = document.querySelector('#run-form [aria-invalid="true"]');
    if (first) first.focus();
  }

  async function submit(event) {
    event.preventDefault();
    W.showError(null, $("form-error"));
    setError($("run-name"), $("run-name-error"), null);
    const parameters = {};
    let firstBad = null;
    for (const f of fields) {
      try {
        parameters[f.param.name] = readField(f);
        setFieldError(f, null);
      } catch (err) {
        setFieldError(f, err.message);
        firstBad = firstBad || f;
      }
    }
    if (firstBad) { $(firstBad.id).focus(); return; }
    const body = { flow_id: flowId, parameters };
    const name = $("run-name").value.trim();
    if (name) body.name = name;
    const button = $("run-submit");
    button.disabled = true;
    try {
      const run = await W.api("/flow_runs", { method: "POST", body });
      location.assign("/flow-runs/" + run.id);
    } catch (err) {
      if (err.status === 422) showServerErrors(err); else W.showError(err, $("form-error"));
      button.disabled = false;
    }
  }

  async function loadRuns() {
    const runs = await W.api("/flow_runs?flow_id=" + flowId + "&limit=20");
    $("recent-runs").innerHTML = W.table([
      ["Run", W.runLink],
      ["State", (r) => W.badge(r.state.type)],
      ["Start", (r) => W.when(r.start_time)],
      ["Took", (r) => r.started_at ? W.esc(W.duration((r.ended_at || Date.now() / 1000) - r.started_at)) : "—"],
    ], runs, "No runs yet: start one with the Run form.");
  }

  /* The history grid (as Airflow's): one row per task, one column per recent run (oldest
     left), each cell the task's state in that run, linking to it. */
  async function loadGrid(flow) {
    const grid = await W.api("/ui/flows/" + flowId + "/grid?runs=25");
    const box = $("history-grid");
    if (!grid.runs.length) { box.innerHTML = '<p class="muted">No runs yet.</p>'; return; }
    const runs = grid.runs.slice().reverse();
    const tasks = (flow.serialized_flow.tasks || []).filter((t) => !t.is_parameter);
    const names = WeirDag.labels(flow.serialized_flow.tasks || []);
    const known = new Set((flow.serialized_flow.tasks || []).map((t) => t.slug));
    const others = new Set();  // tasks of other versions of the flow
    runs.forEach((r) => Object.keys(grid.cells[r.id] || {}).forEach((slug) => { if (!known.has(slug)) others.add(slug); }));
    const slugs = [...tasks.map((t) => t.slug), ...[...others].sort()];
    const cell = (r, slug) => {
      const c = (grid.cells[r.id] || {})[slug];
      const state = c ? c.state : null;
      const counts = c && Object.keys(c.counts).length ? " (" + W.STATE_ORDER.filter((s) => c.counts[s])
        .map((s) => c.counts[s] + " " + s).join(", ") + ")" : "";
      const label = (names.get(slug) || slug) + " in " + r.name + ": " + (state || "did not run") + counts;
      return '<td><a class="cell st-' + W.esc(state || "none") + '" href="/flow-runs/' + W.esc(r.id) +
        "?task=" + encodeURIComponent(slug) + '" title="' + W.esc(label) + '" aria-label="' + W.esc(label) +
        '" data-state="' + W.esc(state || "") + '"><span aria-hidden="true">' + (state ? W.icon(state) : "") + "</span></a></td>";
    };
    box.innerHTML = '<div class="table-wrap"><table class="grid-table"><thead><tr><th scope="col">Task</th>' +
      runs.map((r) => '<th scope="col"><a class="cell st-' + W.esc(r.state.type) + '" href="/flow-runs/' + W.esc(r.id) +
        '" title="' + W.esc(r.name + ": " + r.state.type + ", created " + W.time(r.created)) + '" aria-label="' +
        W.esc(r.name + ": " + r.state.type) + '"><span aria-hidden="true">' + W.icon(r.state.type) + "</span></a></th>").join("") +
      "</tr></thead><tbody>" + slugs.map((slug) => '<tr><th scope="row">' + W.esc(names.get(slug) || slug) + "</th>" +
        runs.map((r) => cell(r, slug)).join("") + "</tr>").join("") + "</tbody></table></div>";
  }

  /* Links to every version of this flow (the one shown is marked current). */
  async function loadVersions(flow) {
    const all = await W.api("/flows?include_archived=true&limit=1000&name=" +
      encodeURIComponent(flow.name) + "&project=" + encodeURIComponent(flow.project));
    if (all.length < 2) return;
    const links = all.map((f) => f.id === flow.id ?
      '<a href="/flows/' + W.esc(f.id) + '" aria-current="page"><strong>v' + W.esc(f.version) + "</strong></a>" :
      '<a href="/flows/' + W.esc(f.id) + '">v' + W.esc(f.version) + "</a>");
    $("flow-meta").insertAdjacentHTML("beforeend", ' · <span id="versions">versions ' + links.join(" ") + "</span>");
  }

  async function init() {
    const flow = await W.api("/flows/" + flowId);
    const sf = flow.serialized_flow;
    document.title = flow.name + " · weir";
    $("flow-name").textContent = flow.name;
    $("flow-meta").innerHTML = "Project <code>" + W.esc(flow.project) + "</code> · version " +
      W.esc(flow.version) + (flow.archived ? " (archived)" : "") + " · " + (sf.tasks || []).length + " tasks" +
      " · schedule " + (flow.has_schedule ? (flow.schedule_active ? "on" : "off") : "none") +
      (flow.labels.length ? " · labels " + flow.labels.map((l) => "<code>" + W.esc(l) + "</code>").join(" ") : "");
    loadVersions(flow).catch((err) => W.showError(err));
    $("flow-runs-link").href = "/flow-runs?flow=" + encodeURIComponent(flow.name);
    W.poll(() => loadGrid(flow), 5000);
    const params = sf.parameters || [];
    fields = params.map((p, i) => ({ param: p, id: "param-" + i, type: p.required && p.default === null ? null : jsonType(p.default) }));
    $("param-fields").innerHTML = params.length ? params.map(fieldHtml).join("") :
      '<p class="muted">This flow has no parameters.</p>';
    const dagBox = $("dag");
    WeirDag.draw(dagBox, sf);
    dagBox.dataset.ready = "true";
    $("run-form").addEventListener("submit", submit);
    W.poll(loadRuns, 3000);
  }

  init().catch((err) => W.showError(err));
})();
