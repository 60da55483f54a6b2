/* The runs page: every run, newest first, filtered and paged by key. The filters and
   the page live in the URL (?flow=etl&state=Failed&before=...), so a view can be shared. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const LIMIT = 50;

  /* A datetime-local value (the browser's zone) as seconds since the epoch, or null. */
  function seconds(value) {
    if (!value) return null;
    const t = new Date(value).getTime();
    return isNaN(t) ? null : t / 1000;
  }

  /* The form as the URL says; the flow asked for is a choice before the list of flows
     comes (and stays one if it is archived or unknown). */
  function fillForm() {
    $("f-state").insertAdjacentHTML("beforeend", W.STATE_ORDER.map((s) =>
      '<option value="' + W.esc(s) + '">' + W.esc(s) + "</option>").join(""));
    const flow = params.get("flow") || "";
    if (flow) {
      $("f-flow").insertAdjacentHTML("beforeend", '<option value="' + W.esc(flow) + '">' + W.esc(flow) + "</option>");
    }
    $("f-flow").value = flow;
    $("f-state").value = params.get("state") || "";
    $("f-since").value = params.get("since") || "";
    $("f-until").value = params.get("until") || "";
    $("f-label").value = params.getAll("label").join(", ");
    $("f-q").value = params.get("q") || "";
    $("zone-hint").textContent = "Times are in " + W.ZONE + ".";
  }

  /* The form's filters as the page's own URL (paging starts again from the newest). */
  function submit(event) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ["flow", "state", "since", "until", "q"]) {
      const value = $("f-" + name).value.trim();
      if (value) next.set(name, value);
    }
    $("f-label").value.split(",").map((l) => l.trim()).filter(Boolean)
      .forEach((l) => next.append("label", l));
    location.assign("/flow-runs" + (next.toString() ? "?" + next : ""));
  }

  /* The API query for the URL's filters and page. */
  function apiQuery() {
    const q = new URLSearchParams({ limit: String(LIMIT) });
    for (const name of ["flow", "state", "q", "before", "after"]) {
      if (params.get(name)) q.set(name, params.get(name));
    }
    for (const name of ["since", "until"]) {
      const s = seconds(params.get(name));
      if (s !== null) q.set(name, String(s));
    }
    params.getAll("label").forEach((l) => q.append("label", l));
    return q;
  }

  function pageLink(el, key, cursor) {
    if (!cursor) { el.hidden = true; return; }
    const next = new URLSearchParams(params);
    next.delete("before");
    next.delete("after");
    next.set(key, cursor);
    el.href = "/flow-runs?" + next;
    el.hidden = false;
  }

  function took(r) {
    if (!r.started_at) return "—";
    return W.esc(W.duration((r.ended_at || Date.now() / 1000) - r.started_at));
  }

  /* Mark the table drawn once the browser has painted it; bench/ui_bench.py reads
     data-ready-ms, the milliseconds from navigation to then. */
  function markReady(box) {
    if (box.dataset.ready) return;
    requestAnimationFrame(() => setTimeout(() => {
      box.dataset.readyMs = String(Math.round(performance.now()));
      box.dataset.ready = "true";
    }, 0));
  }

  async function load() {
    const page = await W.api("/ui/runs?" + apiQuery());
    $("runs").innerHTML = W.table([
      ["Run", W.runLink],
      ["Flow", (r) => '<a href="/flows/' + W.esc(r.flow_id) + '">' + W.esc(r.flow_name) + "</a>"],
      ["State", (r) => W.badge(r.state.type)],
      ["Created", (r) => W.stamp(r.created)],
      ["Scheduled", (r) => W.stamp(r.scheduled_start_time)],
      ["Took", took],
      ["Labels", (r) => r.labels.map((l) => "<code>" + W.esc(l) + "</code>").join(" ")],
    ], page.runs, "No run matches these filters.");
    pageLink($("older"), "before", page.older);
    pageLink($("newer"), "after", page.newer);
    markReady(document.getElementById("main"));
  }

  // The runs first: the flow list only fills the form's choices, so it need not hold them up.
  W.poll(load, 5000);
  fillForm();
  $("run-filters").addEventListener("submit", submit);
  W.api("/flows?limit=1000").then((flows) => {
    const names = [...new Set(flows.map((f) => f.name))].sort();
    const chosen = $("f-flow").value;
    $("f-flow").querySelectorAll("option:not([value=''])").forEach((o) => o.remove());
    $("f-flow").insertAdjacentHTML("beforeend", names.concat(chosen && !names.includes(chosen) ? [chosen] : [])
      .map((n) => '<option value="' + W.esc(n) + '">' + W.esc(n) + "</option>").join(""));
    $("f-flow").value = chosen;
  }).catch((err) => W.showError(err));
})();
