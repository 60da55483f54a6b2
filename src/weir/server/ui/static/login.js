/* Log in: check the key against the API, then keep it in this browser (localStorage). */
"use strict";

(() => {
  const form = document.getElementById("login-form");
  if (!form) return;
  const input = document.getElementById("api-key");
  const error = document.getElementById("api-key-error");

  function fail(message) {
    input.setAttribute("aria-invalid", "true");
    error.textContent = message;
    error.hidden = false;
    input.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) { fail("Enter an API key."); return; }
    try {
      await W.api("/flows?limit=1", { key, noRedirect: true });
    } catch (err) {
      fail(err.status === 401 ? "The server does not accept this key: " + err.message : err.message);
      return;
    }
    W.setKey(key);
    const next = new URLSearchParams(location.search).get("next");
    // Only a path on this server, never another site.
    location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
  });
})();
