"""A password flood must not cost a password hash per request: django-axes' backend comes
first and refuses a locked-out attempt before ModelBackend, known username or not."""

import pytest

from tests.accounts.conftest import PASSWORD, WRONG, admin_login, token_login
from tests.accounts.hashing import CountingHasher

pytestmark = pytest.mark.django_db


@pytest.fixture
def hashes(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.hashing.CountingHasher"]

    def count(call) -> int:
        before = CountingHasher.hashes
        call()
        return CountingHasher.hashes - before

    return count


def test_a_locked_out_attempt_hashes_no_password(user, limit, hashes):
    # Before the lockout every attempt is checked: one hash each, unknown usernames too
    # (ModelBackend hashes anyway, so that timing does not tell which usernames exist).
    assert hashes(lambda: token_login(user.username, WRONG)) == 1
    assert hashes(lambda: token_login("nobody", WRONG)) == 1
    for _ in range(limit - 2):
        token_login(user.username, WRONG)
    assert token_login(user.username, WRONG).status_code == 429
    assert hashes(lambda: token_login(user.username, PASSWORD)) == 0
    assert hashes(lambda: token_login("nobody-at-all", PASSWORD)) == 0
    assert hashes(lambda: admin_login(user.username, PASSWORD)) == 0
    assert hashes(lambda: admin_login("nobody-at-all", WRONG)) == 0
