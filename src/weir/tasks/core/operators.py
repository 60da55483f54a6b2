"""``weir.tasks.core.operators``: the tasks Python operators on tasks build."""

from weir.core.builtins import GetItem
from weir.core.operators import *  # noqa: F403
from weir.core.operators import __all__ as _operators

__all__ = ["GetItem", *_operators]
