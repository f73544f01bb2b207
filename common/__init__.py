"""The pieces every app's HTTP surface shares, at the bottom of the layering: imports nothing of
the project.

- `problems.py`: the error contract (RFC 9457 problem details), domain errors, the handlers.
- `schema.py`: the OpenAPI shapes of those problems (drf-spectacular).
- `parsers.py`, `pagination.py`: DRF's, with the project's limits.
- `database.py`: bounded connections, compiled lookups, what "unavailable" means.
- `wsgi.py`: two WSGI-level repairs around Django (chunked bodies, HEAD).
- `compat.py`: the project's few uses of Django internals, each checked against its version.
"""
