/* The agents list, with how long ago each last heartbeat came. */
"use strict";

(() => {
  const STALE = 60;
  W.poll(async () => {
    const agents = await W.api("/agents?limit=1000");
    const now = Date.now() / 1000;
    document.getElementById("agents").innerHTML = W.table([
      ["Agent", (a) => W.esc(a.name)],
      ["Type", (a) => W.esc(a.type)],
      ["Status", (a) => a.last_heartbeat && now - a.last_heartbeat < STALE ?
        '<span class="badge st-Success"><span aria-hidden="true">●</span> online</span>' :
        '<span class="badge st-Cancelled"><span aria-hidden="true">○</span> silent</span>'],
      ["Last heartbeat", (a) => W.when(a.last_heartbeat)],
      ["Labels", (a) => a.labels.map((l) => "<code>" + W.esc(l) + "</code>").join(" ") || '<span class="muted">none</span>'],
      ["Registered", (a) => W.when(a.created)],
    ], agents, "No agent has registered; start one with `weir agent start`.");
  }, 5000);
})();
