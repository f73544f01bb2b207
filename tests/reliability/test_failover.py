"""A failover that already finished costs no failed request.

Every server process of the app's database is terminated (`pg_terminate_backend`), as a
restart or a failover does to the connections a worker keeps; then each of 20 API requests
must succeed, on the first try, on every worker, with the pool and with persistent
connections alike.
"""

import psycopg
import pytest
from django.db import connections

from tests.servers import free_port, gunicorn, http_get, migrated_database_url, server_env

pytestmark = pytest.mark.postgres


def terminate_every_backend_of(database: str) -> int:
    """What a database restart does to every open connection; returns how many it ended."""
    settings = connections["default"].settings_dict
    with psycopg.connect(
        dbname="postgres",
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        autocommit=True,
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    connections.close_all()  # the test's own connection was one of them
    return len(rows)


@pytest.mark.parametrize("pool", ["true", "false"], ids=["pool", "persistent"])
def test_no_request_fails_after_every_connection_was_terminated(pool, server_token):
    env = server_env(DATABASE_URL=migrated_database_url(), DB_POOL_ENABLED=pool)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/leads/"
    headers = {"Authorization": f"Token {server_token}"}
    with gunicorn(env, port, workers=2):
        # Both workers hold connections (the pool's, or a persistent one each).
        assert {http_get(url, headers)[0] for _ in range(20)} == {200}
        terminated = terminate_every_backend_of(connections["default"].settings_dict["NAME"])
        assert terminated >= 2
        statuses = [http_get(url, headers)[0] for _ in range(20)]
    assert statuses == [200] * 20
