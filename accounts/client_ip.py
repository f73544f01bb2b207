"""The client's address, as far as it can be known: the one rule for login throttling.

A client can send any X-Forwarded-For it likes, so the header is read only when the connection
comes from a proxy listed in TRUSTED_PROXIES (DJANGO_TRUSTED_PROXIES). Every proxy appends the
address it was connected from, so walking the header from the right, past our own proxies,
the first address that is not one of them is the one our outermost proxy saw: the client.
Anything further left was written by the client and is never believed.

- No trusted proxies (the default), or a connection from elsewhere: REMOTE_ADDR.
- From a trusted proxy: the rightmost X-Forwarded-For entry that is not a trusted proxy itself;
  entries that are not an IP address ("unknown", "1.2.3.4:80", garbage) are skipped; with no
  such entry, REMOTE_ADDR (the proxy talked to us on its own behalf).

Addresses come back normalised (IPv4-mapped IPv6 as IPv4), or None when REMOTE_ADDR is not an
IP address at all (a Unix socket): then every such client counts as one.
"""

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(value: str) -> IPAddress | None:
    """An IP address, or None for anything else (empty, a port, a zone, a name)."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if getattr(address, "scope_id", None):  # "fe80::1%eth0": meaningless off the link
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    # Keyed by the setting's value, so tests that override it get their own networks.
    return tuple(ipaddress.ip_network(proxy) for proxy in proxies)


def is_trusted_proxy(address: IPAddress) -> bool:
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address a login attempt is counted against."""
    remote = parse_address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    if not is_trusted_proxy(remote):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",")):
        address = parse_address(entry)
        if address is not None and not is_trusted_proxy(address):
            return str(address)
    return str(remote)
