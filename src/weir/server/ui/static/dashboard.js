/* The dashboard: runs by state over time, running, late, failed and upcoming runs, agents. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const AGENT_STALE = 60; // seconds without a heartbeat before an agent shows as silent
  const tickFmt = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });

  function chart(runs) {
    const buckets = runs.buckets;
    const states = W.STATE_ORDER.filter((s) => runs.totals[s]);
    const max = Math.max(1, ...buckets.map((b) => Object.values(b.counts).reduce((a, n) => a + n, 0)));
    const box = $("run-chart");
    const width = Math.max(box.clientWidth - 4, 300), H = 140, LEFT = 30, BOTTOM = 20;
    const bw = (width - LEFT) / buckets.length;
    const p = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + width + '" height="' + (H + BOTTOM) +
      '" role="img" aria-label="Runs by state per time bucket">'];
    p.push('<text class="axis-label" x="2" y="12">' + max + "</text>");
    p.push('<line class="axis" x1="' + LEFT + '" y1="' + H + '" x2="' + width + '" y2="' + H + '"/>');
    buckets.forEach((b, i) => {
      let y = H;
      const x = LEFT + i * bw + 1;
      for (const s of states) {
        const n = b.counts[s] || 0;
        if (!n) continue;
        const h = (n / max) * (H - 10);
        y -= h;
        p.push('<rect class="seg st-' + s + '" x="' + x + '" y="' + y + '" width="' + Math.max(bw - 2, 1) +
          '" height="' + h + '"><title>' + n + " " + s + " from " + W.esc(W.time(b.start)) + "</title></rect>");
      }
    });
    const ticks = [[0, "start"], [buckets.length, "end"]];
    if (width > 520) ticks.push([Math.floor(buckets.length / 2), "middle"]);
    ticks.forEach(([i, anchor]) => {
      const t = runs.since + i * runs.bucket_seconds;
      p.push('<text class="axis-label" x="' + Math.min(LEFT + i * bw, width - 2) + '" y="' + (H + 14) +
        '" text-anchor="' + anchor + '">' + W.esc(tickFmt.format(new Date(t * 1000))) + "</text>");
    });
    p.push("</svg>");
    box.innerHTML = p.join("");
    $("state-totals").innerHTML = states.length ?
      states.map((s) => W.badge(s, "× " + runs.totals[s])).join("") :
      '<span class="muted">No runs in this period.</span>';
  }

  const runColumns = (timeHeading, timeOf) => [
    ["Run", W.runLink],
    ["Flow", (r) => '<a href="/flows/' + W.esc(r.flow_id) + '">' + W.esc(r.flow_name) + "</a>"],
    ["State", (r) => W.badge(r.state.type)],
    [timeHeading, (r) => W.when(timeOf(r))],
  ];

  function agentsTable(agents) {
    const now = Date.now() / 1000;
    return W.table([
      ["Agent", (a) => W.esc(a.name)],
      ["Status", (a) => a.stopped_at ? '<span class="badge st-Cancelled"><span aria-hidden="true">■</span> stopped</span>' :
        a.last_heartbeat && now - a.last_heartbeat < AGENT_STALE ?
        '<span class="badge st-Success"><span aria-hidden="true">●</span> online</span>' :
        '<span class="badge st-Retrying"><span aria-hidden="true">○</span> silent</span>'],
      ["Last heartbeat", (a) => W.when(a.last_heartbeat)],
      ["Labels", (a) => a.labels.map((l) => "<code>" + W.esc(l) + "</code>").join(" ")],
    ], agents, "No agent has registered; start one with `weir agent start`.");
  }

  async function refresh() {
    const hours = $("hours").value;
    const d = await W.api("/ui/dashboard?hours=" + hours + "&buckets=24");
    chart(d.runs);
    $("running").innerHTML = W.table(runColumns("Started", (r) => r.started_at || r.start_time), d.running, "Nothing is running.");
    $("late").innerHTML = W.table(runColumns("Due", (r) => r.start_time), d.late, "No late runs.");
    $("failed").innerHTML = W.table(runColumns("Failed", (r) => r.state.timestamp), d.failed, "No failures in this period.");
    $("upcoming").innerHTML = W.table(runColumns("Starts", (r) => r.start_time), d.upcoming, "Nothing scheduled.");
    $("agents").innerHTML = agentsTable(d.agents);
    document.getElementById("main").dataset.ready = "true";
  }

  let stop = W.poll(refresh, 5000);
  $("hours").addEventListener("change", () => { stop(); stop = W.poll(refresh, 5000); });
})();
