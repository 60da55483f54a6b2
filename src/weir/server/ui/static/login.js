/* Log in: check the key against the API, then keep it in this browser (localStorage).
   The key may come in the URL's fragment (/login#key=…, the link `weir up` prints):
   browsers never send a fragment to the server, and it is wiped from the address bar
   and history at once. */
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

  /* Where to go after logging in: a page of this server only, never another site. */
  function nextPath(next) {
    if (!next) return "/";
    try {
      const url = new URL(next, location.origin);
      return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
    } catch (_e) {
      return "/";
    }
  }

  async function logIn(key) {
    try {
      await W.api("/flows?limit=1", { key, noRedirect: true });
    } catch (err) {
      fail(err.status === 401 ? "The server does not accept this key: " + err.message : err.message);
      return;
    }
    W.setKey(key);
    location.assign(nextPath(new URLSearchParams(location.search).get("next")));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) { fail("Enter an API key."); return; }
    logIn(key);
  });

  /* The link's key (also when the link is opened on this very page: no reload then). */
  function fromLink() {
    const key = new URLSearchParams(location.hash.slice(1)).get("key");
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    if (key) logIn(key.trim());
  }

  window.addEventListener("hashchange", fromLink);
  fromLink();
})();
