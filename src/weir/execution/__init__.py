"""Running registered flow runs: the API reporter and ``weir execute flow-run``."""
