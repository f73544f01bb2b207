"""Routes of the accounts app, mounted under /api/v1/auth/."""

from django.urls import path

from accounts.api import ObtainTokenView

urlpatterns = [
    path("token/", ObtainTokenView.as_view(), name="auth-token"),
]
