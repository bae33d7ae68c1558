from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.services.tokens import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token for USERNAME (Authorization: Bearer <token>). "
        "The token is printed once, as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user {username!r}.") from None
        _, token = api_token_create(user=user, name=name)
        self.stdout.write(f"Token for {username} (shown only now):")
        self.stdout.write(token)
