"""POST /api/v1/auth/token/: username and password in, the user's API token out.

DRF's ObtainAuthToken with the project's parsers and problem responses, and django-axes as its
throttle: failures here and on the admin's login count together (AxesStandaloneBackend runs
inside `authenticate`). A malformed body is a 400, wrong credentials a 401 (a schema-valid
request that names nobody is not invalid input), a lockout a 429 with Retry-After.
"""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.lockout import LockedOut, quiet, retry_after_seconds
from common.schema import ValidationProblemSerializer, problem_response

User = get_user_model()


class CredentialsSerializer(serializers.Serializer):
    # As long as a username can be: a longer one names nobody, and axes could not store it.
    # Neither field is trimmed: what is sent is what is checked (and counted).
    username = serializers.CharField(
        max_length=User._meta.get_field(User.USERNAME_FIELD).max_length,
        trim_whitespace=False,
        write_only=True,
    )
    password = serializers.CharField(
        trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class WrongCredentials(exceptions.AuthenticationFailed):
    default_detail = "Wrong username or password."


class ObtainTokenView(ObtainAuthToken):
    # A login checks the credentials in its body and nothing else: no authentication, no
    # permission check (AllowAny), and no DRF rate throttle, since django-axes locks out
    # per address and per username instead.
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    serializer_class = CredentialsSerializer

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        responses={
            200: OpenApiResponse(
                TokenSerializer, description="The user's token: the same one until it is deleted."
            ),
            400: OpenApiResponse(
                ValidationProblemSerializer, description="A field missing or malformed."
            ),
            401: problem_response("Wrong username or password (or an inactive user)."),
            429: problem_response(
                "Locked out after too many failed logins from this address or for this "
                "username, or too many logins at this moment; see Retry-After."
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request, **serializer.validated_data)
        if user is None:
            # django-axes flags the request it was given (this DRF request) when the attempt
            # reached the failure limit or was refused during a lockout.
            if getattr(request, "axes_locked_out", False):
                credentials = getattr(request, "axes_credentials", None)
                raise LockedOut(wait=retry_after_seconds(request, credentials))
            raise WrongCredentials()
        token, _ = Token.objects.get_or_create(user=user)
        # A token is a login: last_login moves, and this address's failures for the
        # username are forgotten (accounts.signals), as for the admin's login.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response({"token": token.key})

    def get_authenticate_header(self, request):
        # A 401 names how to authenticate; the token this endpoint hands out is used so.
        return "Token"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, LockedOut):
            quiet(response)
        return response
