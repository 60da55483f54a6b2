"""The weir server: REST API, database and services (see docs/concepts/server.md).

Layout::

    app.py          create_app(): routers under /api/v1, error handlers, services
    api/            one thin router per resource (parse, one transaction, call a model)
    models/         the logic, as functions taking a Session (no FastAPI in there)
    database/       typed SQLAlchemy models (orm.py), engines and sessions, Alembic
    services/       the scheduler and lazarus, LoopServices with run_once()
    settings.py     ServerSettings from WEIR_* variables
    testing.py      a throwaway database and a live server for tests

Routes and model functions are synchronous: FastAPI runs them on its thread
pool and SQLAlchemy's sync sessions (pysqlite, psycopg 3) are the fastest and
simplest path to both databases. Only the claim long poll is ``async``, so that
thousands of waiting agents hold no threads.

The server imports nothing of the engine but its state vocabulary
(``weir.engine.state``), and nothing of the client; the two share ``weir.schemas``.
"""
