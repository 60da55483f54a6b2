"""``weir.tasks.core``: Prefect 1's ``prefect.tasks.core`` (constants and function tasks)."""
