"""``weir.utilities``: helpers at Prefect 1's ``prefect.utilities`` paths."""
