"""``weir.tasks.core.collections``: the tasks that collect results into a list, tuple, set, dict."""

from weir.core.builtins import Dict, List, Set, Tuple

__all__ = ["Dict", "List", "Set", "Tuple"]
