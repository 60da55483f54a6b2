/* The flows list: current versions, schedule on/off, next runs, last run. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function scheduleCell(f) {
    if (!f.has_schedule) return '<span class="muted">no schedule</span>';
    return '<label class="toggle"><input type="checkbox" class="schedule-toggle" data-flow="' + W.esc(f.id) +
      '"' + (f.schedule_active ? " checked" : "") + "> <span>" + (f.schedule_active ? "on" : "off") +
      '</span><span class="visually-hidden"> schedule of ' + W.esc(f.name) + "</span></label>";
  }

  async function refresh() {
    const flows = await W.api("/ui/flows");
    $("flows").innerHTML = W.table([
      ["Flow", (f) => '<a href="/flows/' + W.esc(f.id) + '">' + W.esc(f.name) + "</a>"],
      ["Project", (f) => W.esc(f.project)],
      ["Version", (f) => "v" + W.esc(f.version) + (f.versions > 1 ? ' <span class="muted">(' + f.versions + " versions)</span>" : "")],
      ["Tasks", (f) => W.esc(f.tasks)],
      ["Schedule", scheduleCell],
      ["Next runs", (f) => f.next_runs.length ? f.next_runs.map((t) => W.when(t)).join("<br>") : '<span class="muted">—</span>'],
      ["Last run", (f) => f.last_run ? W.badge(f.last_run.state) + ' <a href="/flow-runs/' + W.esc(f.last_run.id) + '">' +
        W.esc(f.last_run.name) + "</a>" : '<span class="muted">none</span>'],
    ], flows, "No flows yet: register one with `weir register flow.py`.");
  }

  $("flows").addEventListener("change", async (event) => {
    const box = event.target;
    if (!box.classList.contains("schedule-toggle")) return;
    box.disabled = true;
    try {
      await W.api("/flows/" + box.dataset.flow, { method: "PATCH", body: { schedule_active: box.checked } });
      await refresh();
    } catch (err) {
      box.checked = !box.checked;
      box.disabled = false;
      W.showError(err);
    }
  });

  W.poll(refresh, 10000);
})();
