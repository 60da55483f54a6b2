"""``weir.utilities.logging``: Prefect 1's ``get_logger``, on weir's ``weir`` logger."""

from __future__ import annotations

import logging

from weir.masking import MASKING_FILTER

__all__ = ["get_logger"]


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``weir`` logger, or its child ``weir.<name>``, which logs INFO and up by default.

    Records logged while a task runs go to that run's log (the server's, under an
    agent), whichever logger emits them. A child whose level was never set gets
    INFO, like Prefect 1's configured ``prefect`` logger; the ``weir`` logger
    itself is left as the application configured it. Secret values read in this
    process are masked in its records (see ``weir.masking``).
    """
    root = logging.getLogger("weir")
    if name is None:
        return root
    logger = root.getChild(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    # A secret's value a task logs is masked wherever the record goes.
    if MASKING_FILTER not in logger.filters:
        logger.addFilter(MASKING_FILTER)
    return logger
