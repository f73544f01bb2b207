"""The API's token authentication: DRF's, reading only the user fields requests use."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings

from leads.api.authentication import USER_FIELDS, TokenAuthentication
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"


def test_it_is_the_apis_token_authentication():
    assert api_settings.DEFAULT_AUTHENTICATION_CLASSES[0] is TokenAuthentication


def test_one_query_without_the_password_hash_or_personal_data(token):
    with CaptureQueriesContext(connection) as queries:
        user, auth = TokenAuthentication().authenticate_credentials(token.key)
        # What requests read: no further query.
        assert (user.pk, user.is_active, user.is_staff, user.is_superuser) == (
            token.user.pk,
            True,
            False,
            False,
        )
        assert user.is_authenticated
    assert auth.key == token.key
    assert auth.user_id == token.user_id
    (sql,) = [query["sql"] for query in queries]
    for column in ("password", "username", "email", "first_name", "last_login", "date_joined"):
        assert f'"auth_user"."{column}"' not in sql
    assert {"id", "is_active", "is_staff"} <= set(USER_FIELDS)  # user.id, the check, health


def test_other_fields_still_load_when_read(token):
    user, _ = TokenAuthentication().authenticate_credentials(token.key)
    with CaptureQueriesContext(connection) as queries:
        assert user.username == token.user.username
    assert len(queries) == 1


def test_unknown_token_is_refused_as_drf_does():
    with pytest.raises(exceptions.AuthenticationFailed, match=r"^Invalid token\.$"):
        TokenAuthentication().authenticate_credentials("no-such-token")


def test_inactive_user_is_refused_as_drf_does(token):
    token.user.is_active = False
    token.user.save()
    with pytest.raises(exceptions.AuthenticationFailed, match=r"^User inactive or deleted\.$"):
        TokenAuthentication().authenticate_credentials(token.key)


def test_revocation_and_deactivation_take_effect_on_the_next_request(api_client, token):
    assert api_client.get(LEADS).status_code == 200
    type(token.user).objects.filter(pk=token.user_id).update(is_active=False)
    assert api_client.get(LEADS).status_code == 401
    type(token.user).objects.filter(pk=token.user_id).update(is_active=True)
    assert api_client.get(LEADS).status_code == 200
    Token.objects.filter(pk=token.pk).delete()
    response = api_client.get(LEADS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_staff_users_token_is_staff_without_another_query():
    staff = UserFactory(username="staff-token", is_staff=True, is_superuser=True)
    key = Token.objects.create(user=staff).key
    with CaptureQueriesContext(connection) as queries:
        user, _ = TokenAuthentication().authenticate_credentials(key)
        assert user.is_staff
        assert user.is_superuser
    assert len(queries) == 1


def test_writes_record_the_caller(api_client, token):
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    response = api_client.post(LEADS, body, format="json")
    assert response.status_code == 201
    assert response.json()["created_by"] == token.user_id
