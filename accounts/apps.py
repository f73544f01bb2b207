"""The accounts app: the API's token login and login throttling (django-axes)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import metrics, signals  # noqa: F401 - signals connects the receivers

        metrics.initialise()
