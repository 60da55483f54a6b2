"""``weir.utilities.edges``: the markers for task arguments (unmapped, mapped, flatten)."""

from weir.core.mapping import flatten, mapped, unmapped

__all__ = ["flatten", "mapped", "unmapped"]
