"""``weir.client.secrets.Secret``: a named secret, read where the run is (Prefect 1's path).

``Secret(name).get()`` looks, in order:

1. in ``weir.context.secrets`` — a dict given as ``flow.run(context={"secrets":
   {...}})`` or ``with weir.context(secrets={...}):``;
2. in the environment variable ``WEIR__CONTEXT__SECRETS__<NAME>`` (Prefect 1's
   ``PREFECT__CONTEXT__SECRETS__<NAME>`` with the prefix changed);
3. on the weir server, when this process talks to one (``WEIR_API_URL`` is set, as
   an agent sets it for every run): ``weir secret set NAME VALUE`` stores it there.

As in Prefect 1, a value found as text is read as JSON when it is JSON (``'{"a":
1}'`` becomes a dict), else kept as text; and a value read is masked (``****``) in
every log line this process writes afterwards.
"""

from __future__ import annotations

import json
import os
from typing import Any

from weir import masking
from weir.context import context as _context

__all__ = ["Secret", "SecretNotFound"]

ENV_PREFIX = "WEIR__CONTEXT__SECRETS__"


class SecretNotFound(ValueError):
    """No secret of that name is set anywhere this process looks."""


class Secret:
    """A secret by name; ``get()`` returns its value (see the module docstring).

    Args:
        name: the secret's name.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"A secret needs a name (a non-empty string), got {name!r}.")
        self.name = name

    def exists(self) -> bool:
        """Whether ``get()`` would find a value."""
        try:
            self.get()
        except SecretNotFound:
            return False
        return True

    def get(self) -> Any:
        """The secret's value; SecretNotFound (a ValueError) naming where it looked."""
        _refuse_while_building()
        value = self._find()
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (json.JSONDecodeError, ValueError):
                pass
        masking.remember(value)
        return value

    def _find(self) -> Any:
        local = _context.get("secrets") or {}
        if self.name in local:
            return local[self.name]
        for variable in (ENV_PREFIX + self.name, ENV_PREFIX + self.name.upper()):
            if variable in os.environ:
                return os.environ[variable]
        if os.environ.get("WEIR_API_URL"):
            from weir.client import Client
            from weir.exceptions import ObjectNotFound

            try:
                with Client() as client:
                    return client.get_secret(self.name)
            except ObjectNotFound:
                raise SecretNotFound(
                    f'Secret "{self.name}" was not found in the context, in the environment '
                    f"variable {ENV_PREFIX}{self.name} or on the server; set it with "
                    f"`weir secret set {self.name} VALUE`."
                ) from None
        raise SecretNotFound(
            f'Local Secret "{self.name}" was not found: set it in the context '
            f'(flow.run(context={{"secrets": {{"{self.name}": ...}}}})) or in the environment '
            f"variable {ENV_PREFIX}{self.name}."
        )

    def __repr__(self) -> str:
        return f"<Secret: {self.name}>"


def _refuse_while_building() -> None:
    from weir.core.flow import current_flow

    if current_flow() is not None:
        raise ValueError(
            "Secrets are read while a flow runs, not while it is built: use a PrefectSecret "
            "task (weir.tasks.secrets.PrefectSecret) in the flow instead of Secret(...).get()."
        )
