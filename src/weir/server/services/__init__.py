"""Background services: the scheduler and lazarus, each a LoopService with ``run_once()``."""
