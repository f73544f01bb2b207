"""Login throttling (django-axes; accounts/): failure limits, lockouts and client addresses."""

import ipaddress
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from intelliflow.settings.environment import env

# --- Login throttling (django-axes; accounts/) -------------------------------------------------
# Failed logins, on the admin and on POST /api/v1/auth/token/ alike, are counted in the database
# (shared by every worker and pod) per client address and per username; either reaching
# LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES locks it out until that long after its last
# counted failure. A locked-out attempt is refused before any password is hashed. Setting names
# as django-axes 8.3.1 reads them (axes/conf.py).

# Addresses (or networks) of our own reverse proxies, e.g. nginx: only a connection from one of
# them may name the client in X-Forwarded-For (accounts/client_ip.py). Empty: REMOTE_ADDR.
try:
    TRUSTED_PROXIES = [
        str(ipaddress.ip_network(proxy.strip()))
        for proxy in env.list("DJANGO_TRUSTED_PROXIES", default=[])
        if proxy.strip()
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {error}") from None
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Password checks (half a second of CPU each) at once per worker process; more attempts meanwhile
# are answered 429 at once (accounts/gate.py), so a flood cannot take every thread and core.
LOGIN_CONCURRENCY = env.int("LOGIN_CONCURRENCY", default=2)
if min(LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES, LOGIN_CONCURRENCY) < 1:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES and LOGIN_CONCURRENCY must be at least 1."
    )

# AxesStandaloneBackend first: it refuses a locked-out attempt before ModelBackend hashes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Each entry locks out on its own: the address, or the username, whichever reaches the limit.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Attempts refused during a lockout are not recorded: retrying does not prolong the lockout,
# and a refusal updates no row.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# accounts.signals forgets a username's failures from the address it then logs in from, and no
# others (axes' own reset would also clear other usernames' failures from that address).
AXES_RESET_ON_SUCCESS = False
# No row per successful login (axes' access log), which would grow without bound; each user's
# last_login says when they last logged in.
AXES_DISABLE_ACCESS_LOG = True
