"""``SecretBase`` and ``PrefectSecret``: a secret's value as a task's result.

As in Prefect 1, a secret task's result is never checkpointed (it would be
written in the clear where results are kept) and no other result may be given
to it; its value is masked in the run's logs (see ``weir.masking``).
"""

from __future__ import annotations

from typing import Any

from weir.client.secrets import Secret
from weir.core.task import Task

__all__ = ["PrefectSecret", "SecretBase"]


class SecretBase(Task):
    """A task whose result is a secret: never checkpointed, no result of its own.

    Subclass it and override ``run`` to read secrets from another store.
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("result") is not None:
            raise ValueError(
                f"Secret task '{kwargs.get('name') or type(self).__name__}': a secret's "
                "result cannot be configured (it is never written anywhere); drop result=."
            )
        if kwargs.get("checkpoint"):
            raise ValueError(
                f"Secret task '{kwargs.get('name') or type(self).__name__}': a secret is "
                "never checkpointed; drop checkpoint=True."
            )
        kwargs["checkpoint"] = False
        super().__init__(**kwargs)


class PrefectSecret(SecretBase):
    """The value of the secret ``name`` (see ``weir.client.secrets.Secret`` for where it is read).

    Args:
        name: the secret's name; also the task's name unless ``name`` is given at
            call time instead.
        **kwargs: the options every Task takes (``max_retries``, ``tags``, ...).
    """

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.secret_name = name
        super().__init__(name=name, **kwargs)

    #: What the name names, in the message for a task given none.
    named = "secret"

    def run(self, name: str | None = None) -> Any:  # type: ignore[override]
        """Read the secret ``name`` (or the one given at init) and return its value."""
        return Secret(self._name_to_read(name)).get()

    def _name_to_read(self, name: str | None) -> str:
        """``name`` given at call time, else the one given at init; one is needed."""
        name = name if name is not None else self.secret_name
        if name is None:
            kind = type(self).__name__
            raise ValueError(
                f"{kind} '{self.name}' has no {self.named} name: give {kind}('NAME') or "
                "call it with name='NAME' in the flow."
            )
        return name
