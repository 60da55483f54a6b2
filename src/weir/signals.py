"""``weir.signals``: the signals a task raises to pick its state (see weir.engine.signals)."""

from weir.engine.signals import *  # noqa: F403
from weir.engine.signals import __all__  # noqa: F401
