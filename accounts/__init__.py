"""Accounts: the API's token login, and login throttling for it and the admin.

- `client_ip`: the client's address behind trusted proxies (DJANGO_TRUSTED_PROXIES).
- `api`: POST /api/v1/auth/token/.
- `gate`: at most LOGIN_CONCURRENCY password checks at once per worker.
- `lockout`, `signals`, `metrics`: what django-axes' lockouts answer, log and count.
"""
