"""Create a local admin account and API token on an empty development database (DEBUG only)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "On an empty DEBUG database, create user 'admin' with an API token and print both once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Where the app will be served."
        )

    def handle(self, *args, username, base_url, **options):
        base_url = base_url.rstrip("/")
        if settings.DEBUG and not get_user_model().objects.exists():
            password = secrets.token_urlsafe(12)
            user = get_user_model().objects.create_superuser(
                username=username, email="", password=password
            )
            token = Token.objects.create(user=user)
            self.stdout.write(
                self.style.SUCCESS("Created a local admin account (shown only this once):")
            )
            self.stdout.write(f"  username:  {username}\n  password:  {password}")
            self.stdout.write(f"  API token: {token.key}")
            self.stdout.write(
                f'  try:       curl -H "Authorization: Token {token.key}" {base_url}/api/v1/leads/'
            )
        self.stdout.write(
            f"\nIntelliFlow CRM at {base_url}/\n"
            f"  admin:     {base_url}/admin/\n"
            f"  API:       {base_url}/api/v1/leads/\n"
            f"  API docs:  {base_url}/api/docs/  (schema: {base_url}/api/schema/)\n"
            f"  health:    {base_url}/health/ping  /health/ready  /health/check  "
            f"(people: {base_url}/status/)\n"
            f"  metrics:   {base_url}/metrics\n"
        )
