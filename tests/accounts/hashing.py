"""A password hasher that counts its work: what a locked-out attempt must not cost."""

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    """MD5 (what the suite stores) plus a count of hashes computed, checks included."""

    hashes = 0

    def encode(self, password, salt):
        type(self).hashes += 1
        return super().encode(password, salt)
