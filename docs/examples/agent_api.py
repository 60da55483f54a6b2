"""An agent from Python: one pass against a server (here a throwaway one on loopback)."""

from __future__ import annotations

from weir.agent import LocalAgent
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database

with temporary_database("sqlite") as db:
    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
    with LiveServer(app) as server:
        # Without api_url, the agent reads WEIR_API_URL / WEIR_API_KEY.
        agent = LocalAgent(
            api_url=server.url, name="etl-agent", labels=["etl"], max_runs=4, grace_period=60
        )
        launched = agent.run_once(wait=0.1)  # register, heartbeat, claim (nothing is due)
        print("launched:", launched)
        (seen,) = agent.client.list_agents()
        print("registered:", seen.name, seen.labels)
        agent.shutdown(grace_period=0)  # what SIGTERM does: stop, wait, hand back
