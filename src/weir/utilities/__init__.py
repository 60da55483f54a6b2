"""``weir.utilities``: helpers at Prefect 1's ``prefect.utilities`` paths."""


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
