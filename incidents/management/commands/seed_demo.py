from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from incidents.demo import DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = (
        "Load the demo organisation (teams, categories, services) and one user per "
        "role, then each of settings.DEMO_LOADERS. Safe to run again. Without "
        "--password, new users get a generated password, printed once; existing "
        "users keep theirs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", help="Set this password on every demo user (new or existing)."
        )

    def handle(self, *args: Any, password: str | None, **options: Any) -> None:
        try:
            result = demo_seed(password=password)
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        # The hook for other apps' demo data (the knowledge base's articles): each
        # a dotted path to a function taking no arguments, run after the
        # organisation and users exist, returning a line to print
        # (before the password, which stays the last line). Named in
        # settings, so this app imports none of them.
        for path in settings.DEMO_LOADERS:
            self.stdout.write(import_string(path)())
        for spec in DEMO_USERS:
            state = "created" if spec.username in result.created_users else "kept"
            self.stdout.write(f"  {spec.username:<18} {spec.role:<18} {state}")
        if result.password is None:
            self.stdout.write(
                "Demo users already existed and keep their passwords "
                "(use --password to set a new one)."
            )
        else:
            users = ", ".join(result.password_users)
            self.stdout.write(f"Password for {users}: {result.password}")
