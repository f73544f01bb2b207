"""DRF token authentication that reads only the user fields requests use."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from common.database import CompiledLookup

# What the code reads from an API caller: the id (created_by/updated_by, throttling, idempotency
# keys, the access log's user.id, error reports), is_active (refused here when false), is_staff
# (health's db-stats, DRF's IsAdminUser) and is_superuser (Django's permission checks). The
# password hash, names, e-mail, last_login and date_joined stay in the database. Reading a field
# not listed still works: Django loads a deferred field on first access (one query).
USER_FIELDS = ("id", "is_active", "is_staff", "is_superuser")


# The user holding a token, with USER_FIELDS only: one query joining the token to its user, as
# DRF's select_related("user") does, compiled once (common.database.CompiledLookup).
_user_by_token = CompiledLookup(
    lambda key: get_user_model().objects.filter(auth_token__key=key).only(*USER_FIELDS),
    Token._meta.get_field("key"),
)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's TokenAuthentication (same header, keyword, errors, messages and challenge), whose
    token lookup selects USER_FIELDS of the token's user instead of both whole rows.

    authenticate_credentials() is DRF's, with its query (`Token.objects.select_related("user")
    .get(key=key)`) replaced by the same join compiled once, reading the user's USER_FIELDS;
    the token, whose only other column is its creation time, is made from the key and the
    user. Revocation stays immediate: every request reads the token and the user, nothing is
    kept between requests.
    """

    model = Token

    def authenticate_credentials(self, key):
        user = _user_by_token.get(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))

        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))

        token = Token.from_db(user._state.db, ["key", "user_id"], [key, user.pk])
        token.user = user
        return (user, token)
