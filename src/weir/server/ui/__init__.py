"""The web UI: server-rendered page shells (Jinja2) and small hand-written JS/CSS.

``mount(app)`` adds the pages (``/``, ``/flows``, ``/flows/{id}``,
``/flow-runs/{id}``, ``/agents``, ``/login``) and the static files
(``/ui/static``). A page carries no data of its own: its script reads the same
REST API as the CLI (``/api/v1``, plus the read-only views under
``/api/v1/ui``) and sends the API key kept in the browser as
``Authorization: Bearer``. So the HTML needs no key and nothing secret is ever
rendered into it, and auth is checked in exactly one place, the API.
See docs/concepts/ui.md.
"""

from __future__ import annotations

from weir.server.ui.pages import mount

__all__ = ["mount"]
