"""Idempotent writes: an `Idempotency-Key` header makes a retried create safe (see api.py)."""
