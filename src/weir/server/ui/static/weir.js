/* weir UI: what every page shares. The API helper (Bearer key), state badges,
   time formatting, escaping and a polling loop. No framework, no build step. */
"use strict";

const W = (() => {
  const body = document.body;
  const API = body.dataset.api || "/api/v1";
  const AUTH = body.dataset.auth === "on";
  const KEY_NAME = "weir.apiKey";

  /* Each state: an icon (so colour is never the only cue) and a family for colours. */
  const STATES = {
    Pending: "…", Scheduled: "◷", Retrying: "↻", Paused: "⏸", Submitted: "⇢",
    Running: "▶", Cancelling: "⊘", Success: "✓", Cached: "✓", Mapped: "⋔",
    Skipped: "↷", Failed: "✗", TriggerFailed: "✗", TimedOut: "⧗", Cancelled: "⊘",
    Looped: "⟲",
  };
  const FINISHED = new Set(["Success", "Cached", "Mapped", "Skipped", "Failed",
    "TriggerFailed", "TimedOut", "Cancelled"]);
  const STATE_ORDER = ["Running", "Submitted", "Cancelling", "Retrying", "Pending",
    "Scheduled", "Paused", "Looped", "Success", "Cached", "Mapped", "Skipped",
    "Failed", "TriggerFailed", "TimedOut", "Cancelled"];

  class ApiError extends Error {
    constructor(status, detail, field, body) {
      super(detail);
      this.status = status;
      this.field = field;
      this.body = body;
    }
  }

  function getKey() {
    try { return localStorage.getItem(KEY_NAME); } catch (_e) { return null; }
  }
  function setKey(key) { localStorage.setItem(KEY_NAME, key); }
  function clearKey() { localStorage.removeItem(KEY_NAME); }

  function toLogin() {
    const next = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  }

  /* The server's explanation of a refusal, as one sentence. */
  function detailOf(status, data) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ");
    }
    return "The server answered " + status + ".";
  }

  async function api(path, opts = {}) {
    const headers = { Accept: "application/json" };
    const key = opts.key !== undefined ? opts.key : getKey();
    if (key) headers.Authorization = "Bearer " + key;
    let body;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let response;
    try {
      response = await fetch(API + path, { method: opts.method || "GET", headers, body });
    } catch (_e) {
      throw new ApiError(0, "The server cannot be reached; is `weir server start` running?");
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_e) { data = { detail: text }; }
    }
    if (response.status === 401 && AUTH && !opts.noRedirect) {
      clearKey(); // unknown or revoked: ask for a new one
      toLogin();
      throw new ApiError(401, detailOf(401, data));
    }
    if (!response.ok) {
      throw new ApiError(response.status, detailOf(response.status, data), data && data.field, data);
    }
    return data;
  }

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function icon(state) { return STATES[state] || "•"; }

  function badge(state, extra) {
    if (!state) return '<span class="badge st-none">—</span>';
    return '<span class="badge st-' + esc(state) + '" data-state="' + esc(state) + '">' +
      '<span aria-hidden="true">' + icon(state) + "</span> " + esc(state) +
      (extra ? " " + esc(extra) : "") + "</span>";
  }

  /* Every time shown says its zone (the browser's), as a reader in another zone may share it. */
  const timeFmt = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    timeZoneName: "short",
  });
  const ZONE = (() => {
    const part = timeFmt.formatToParts(new Date()).find((p) => p.type === "timeZoneName");
    const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return (name || "local time") + (part ? " (" + part.value + ")" : "");
  })();

  const clockFmt = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, hour12: false,
  });

  /* A log line's time of day, to the millisecond. */
  function clock(ts) { return clockFmt.format(new Date(ts * 1000)); }

  function time(ts) {
    if (ts === null || ts === undefined) return "—";
    return timeFmt.format(new Date(ts * 1000));
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const s = Math.abs(seconds);
    if (s < 1) return Math.round(s * 1000) + " ms";
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.round((s % 86400) / 3600) + " h";
  }

  function ago(ts) {
    if (ts === null || ts === undefined) return "never";
    const d = Date.now() / 1000 - ts;
    return d >= 0 ? duration(d) + " ago" : "in " + duration(-d);
  }

  /* A time as itself (with its zone), how long ago in its tooltip. */
  function stamp(ts) {
    if (ts === null || ts === undefined) return "—";
    return '<time datetime="' + new Date(ts * 1000).toISOString() + '" title="' + esc(ago(ts)) +
      '">' + esc(time(ts)) + "</time>";
  }

  function when(ts) {
    return '<time datetime="' + (ts ? new Date(ts * 1000).toISOString() : "") + '" title="' +
      esc(time(ts)) + '">' + esc(ago(ts)) + "</time>";
  }

  /* A table: columns are [heading, function(row) -> HTML]. */
  function table(columns, rows, empty) {
    if (!rows.length) return '<p class="muted">' + esc(empty || "Nothing here.") + "</p>";
    const head = columns.map((c) => '<th scope="col">' + esc(c[0]) + "</th>").join("");
    const body = rows.map((r) => "<tr>" + columns.map((c) =>
      '<td data-label="' + esc(c[0]) + '">' + c[1](r) + "</td>").join("") + "</tr>").join("");
    return '<div class="table-wrap"><table><thead><tr>' + head + "</tr></thead><tbody>" +
      body + "</tbody></table></div>";
  }

  function runLink(run) {
    return '<a href="/flow-runs/' + esc(run.id) + '">' + esc(run.name) + "</a>";
  }

  function showError(err, where) {
    const box = where || document.getElementById("page-error");
    if (!box) return;
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = err.message || String(err);
    box.hidden = false;
  }

  /* Call fn every `ms` milliseconds, never overlapping; stop when fn returns false. */
  function poll(fn, ms) {
    let stopped = false;
    async function tick() {
      if (stopped) return;
      let again = true;
      try {
        again = (await fn()) !== false;
        showError(null);
      } catch (err) {
        showError(err);
        // Asking again cannot bring back what does not exist.
        if (err instanceof ApiError && err.status === 404) again = false;
      }
      if (again && !stopped) setTimeout(tick, ms);
    }
    tick();
    return () => { stopped = true; };
  }

  function setupAuthNav() {
    if (!AUTH) return;
    const has = !!getKey();
    document.querySelectorAll(".auth-in").forEach((el) => { el.hidden = !has; });
    document.querySelectorAll(".auth-out").forEach((el) => { el.hidden = has; });
    const out = document.getElementById("logout");
    if (out) out.addEventListener("click", () => { clearKey(); location.assign("/login"); });
    if (!has && body.dataset.page !== "login") toLogin();
  }
  setupAuthNav();

  function fmtJson(value) { return esc(JSON.stringify(value)); }

  return {
    API, AUTH, STATES, FINISHED, STATE_ORDER, ApiError, api, esc, icon, badge, time, clock, ago,
    when, stamp, ZONE, duration, table, runLink, showError, poll, getKey, setKey, clearKey, fmtJson,
  };
})();
