"""DRF token authentication that reads only the user fields requests use."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

# What the code reads from an API caller: the id (created_by/updated_by, throttling, idempotency
# keys, the access log's user.id, error reports), is_active (refused here when false), is_staff
# (health's db-stats, DRF's IsAdminUser) and is_superuser (Django's permission checks). The
# password hash, names, e-mail, last_login and date_joined stay in the database. Reading a field
# not listed still works: Django loads a deferred field on first access (one query).
USER_FIELDS = ("id", "is_active", "is_staff", "is_superuser")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's TokenAuthentication (same header, keyword, errors, messages and challenge), whose
    token lookup selects the token's key and USER_FIELDS instead of both whole rows.

    authenticate_credentials() is DRF's, with only() added to its query. Revocation stays
    immediate: every request reads the token and the user, nothing is kept between requests.
    """

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = (
                model.objects.select_related("user")
                .only("key", "user", *(f"user__{name}" for name in USER_FIELDS))
                .get(key=key)
            )
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None

        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))

        return (token.user, token)
