"""The client's address: REMOTE_ADDR unless it is one of our proxies, then the rightmost
X-Forwarded-For entry that is not; what a client writes into the header is never believed."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from accounts.client_ip import client_address
from tests.accounts.conftest import WRONG, token_login

NGINX = "10.0.0.5"


def address(remote_addr: str | None, forwarded: str | None = None) -> str | None:
    request = RequestFactory().get("/")
    if remote_addr is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote_addr
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(request)


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8:ffff::/48"]


def test_no_trusted_proxy_by_default_so_the_header_is_ignored(settings):
    assert settings.TRUSTED_PROXIES == []
    assert address("203.0.113.7", "1.2.3.4") == "203.0.113.7"
    assert address(NGINX, "1.2.3.4") == NGINX


def test_a_spoofed_header_from_an_untrusted_connection_is_ignored(behind_nginx):
    assert address("203.0.113.7", "1.2.3.4") == "203.0.113.7"
    assert address("203.0.113.7", f"1.2.3.4, {NGINX}") == "203.0.113.7"


def test_from_a_trusted_proxy_the_rightmost_untrusted_entry(behind_nginx):
    # nginx appends the address it saw; whatever the client sent stays on the left.
    assert address(NGINX, "198.51.100.20") == "198.51.100.20"
    assert address(NGINX, "6.6.6.6, 198.51.100.20") == "198.51.100.20"
    # Two of our proxies in a row (a load balancer, then nginx): both are skipped.
    assert address(NGINX, "6.6.6.6, 198.51.100.20, 10.0.0.9") == "198.51.100.20"
    assert address("2001:db8:ffff::1", "2001:db8::7") == "2001:db8::7"


def test_malformed_entries_are_skipped(behind_nginx):
    assert address(NGINX, "198.51.100.20, unknown") == "198.51.100.20"
    assert address(NGINX, "198.51.100.20, 1.2.3.4:80, , [2001:db8::1]") == "198.51.100.20"
    assert address(NGINX, "198.51.100.20, fe80::1%eth0, 999.1.1.1, 01.2.3.4") == "198.51.100.20"


def test_the_proxy_itself_without_a_usable_entry(behind_nginx):
    assert address(NGINX) == NGINX
    assert address(NGINX, "") == NGINX
    assert address(NGINX, "garbage, 10.0.0.7") == NGINX


def test_addresses_are_normalised():
    assert address("::ffff:203.0.113.7") == "203.0.113.7"
    assert address("2001:DB8:0:0::1") == "2001:db8::1"


def test_no_ip_address_at_all_is_none():
    assert address(None) is None
    assert address("") is None
    assert address("/run/gunicorn.sock") is None


def test_ipv4_mapped_proxy_addresses_are_trusted(behind_nginx):
    assert address(f"::ffff:{NGINX}", "198.51.100.20") == "198.51.100.20"


@pytest.mark.django_db
def test_axes_counts_the_derived_address_and_rotating_the_header_does_not_help(
    behind_nginx, user, limit
):
    for n in range(limit):
        # A client behind nginx, inventing a new X-Forwarded-For each time.
        token_login(
            user.username, WRONG, address=NGINX, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.20"
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.20"}
    other_user_same_client = token_login(
        "someone-else", WRONG, address=NGINX, HTTP_X_FORWARDED_FOR="198.51.100.20"
    )
    assert other_user_same_client.status_code == 429
