"""Reads and writes of idempotency keys, inside the caller's transaction; the HTTP side is api.py.

Keys live for IDEMPOTENCY_KEY_TTL (24 h). An expired key is ignored and deleted when its user
next sends a key; `manage.py purge_idempotency_keys` (daily) deletes the rest.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from idempotency.models import IdempotencyKey


def _lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency-key:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)  # PostgreSQL's bigint


def idempotency_key_lock(*, user: AbstractBaseUser, key: str) -> bool:
    """Hold (user, key) until the current transaction ends; False when another request holds it.

    A transaction-level advisory lock on PostgreSQL: a duplicate in flight is answered at once
    instead of waiting for the first request, or running beside it. Elsewhere (SQLite, which
    runs one writer at a time) the unique constraint alone keeps a key from being used twice.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_key_lock() only holds inside transaction.atomic().")
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(user.pk, key)])
        return cursor.fetchone()[0]


def _expiry_cutoff():
    return timezone.now() - settings.IDEMPOTENCY_KEY_TTL


def idempotency_key_find(*, user: AbstractBaseUser, key: str) -> IdempotencyKey | None:
    """The user's live record of `key`; the user's expired records are deleted on the way."""
    IdempotencyKey.objects.filter(user=user, created_at__lt=_expiry_cutoff()).delete()
    return IdempotencyKey.objects.filter(user=user, key=key).first()


def idempotency_key_record(
    *,
    user: AbstractBaseUser,
    key: str,
    fingerprint: str,
    status: int,
    body: str,
    headers: dict[str, str],
) -> IdempotencyKey:
    """Store the answer; IntegrityError if the key was recorded meanwhile (caller rolls back)."""
    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        fingerprint=fingerprint,
        response_status=status,
        response_body=body,
        response_headers=headers,
    )


def idempotency_keys_purge() -> int:
    """Delete every expired key; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=_expiry_cutoff()).delete()
    return deleted
