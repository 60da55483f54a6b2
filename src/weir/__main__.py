"""``python -m weir`` is the ``weir`` command (the agent starts flow runs this way)."""

from weir.cli.main import cli

if __name__ == "__main__":
    cli()
