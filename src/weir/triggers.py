"""``weir.triggers``: when a task may run (see weir.engine.triggers)."""

from weir.engine.triggers import *  # noqa: F403
from weir.engine.triggers import __all__  # noqa: F401
