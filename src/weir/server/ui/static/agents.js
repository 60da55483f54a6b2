/* The agents list: online while it heartbeats, stopped once it said so, silent when it
   went quiet without saying; a stopped or silent agent can be removed (admin keys). */
"use strict";

(() => {
  const STALE = 60;
  const box = document.getElementById("agents");

  /* online / stopped / silent, each with an icon and a word (colour is never the only cue). */
  function status(a, now) {
    if (a.stopped_at) return '<span class="badge st-Cancelled" data-status="stopped"><span aria-hidden="true">■</span> stopped</span>';
    if (a.last_heartbeat && now - a.last_heartbeat < STALE) {
      return '<span class="badge st-Success" data-status="online"><span aria-hidden="true">●</span> online</span>';
    }
    return '<span class="badge st-Retrying" data-status="silent"><span aria-hidden="true">○</span> silent</span>';
  }

  async function load() {
    const agents = await W.api("/agents?limit=1000");
    const now = Date.now() / 1000;
    box.innerHTML = W.table([
      ["Agent", (a) => W.esc(a.name)],
      ["Type", (a) => W.esc(a.type)],
      ["Status", (a) => status(a, now)],
      ["Last heartbeat", (a) => W.when(a.last_heartbeat)],
      ["Stopped", (a) => a.stopped_at ? W.stamp(a.stopped_at) : ""],
      ["Labels", (a) => a.labels.map((l) => "<code>" + W.esc(l) + "</code>").join(" ") || '<span class="muted">none</span>'],
      ["Registered", (a) => W.stamp(a.created)],
      ["", (a) => a.stopped_at || !a.last_heartbeat || now - a.last_heartbeat >= STALE ?
        '<button type="button" class="danger" data-remove="' + W.esc(a.id) + '" data-name="' + W.esc(a.name) +
        '">Remove</button>' : ""],
    ], agents, "No agent has registered; start one with `weir agent start`.");
  }

  box.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-remove]");
    if (!button) return;
    if (!confirm("Remove agent " + button.dataset.name + "? Its runs keep their history.")) return;
    button.disabled = true;
    try {
      await W.api("/agents/" + button.dataset.remove, { method: "DELETE" });
      await load();
    } catch (err) {
      W.showError(err);
      button.disabled = false;
    }
  });

  W.poll(load, 5000);
})();
