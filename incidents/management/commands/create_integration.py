from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.models import Category, Impact, Integration, Service
from incidents.services.alerts import integration_create


class Command(BaseCommand):
    help = (
        "Create a monitoring integration. Its token is printed once, as the last "
        "line; only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=Integration.Kind.values)
        parser.add_argument("--category", help="Default category (name).")
        parser.add_argument("--service", help="Default service (name).")
        parser.add_argument("--impact", choices=Impact.values, default=Impact.MEDIUM)
        parser.add_argument(
            "--recovery",
            choices=Integration.Recovery.values,
            default=Integration.Recovery.ALL_RECOVERED,
            help="What a recovered alert does to its incident.",
        )
        parser.add_argument(
            "--grouping",
            choices=Integration.Grouping.values,
            default=Integration.Grouping.ALERT,
            help="Which incident a new alert opens or joins.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        defaults: dict[str, Any] = {
            "default_impact": options["impact"],
            "recovery": options["recovery"],
            "grouping": options["grouping"],
        }
        try:
            if options["category"]:
                defaults["default_category"] = Category.objects.get(
                    name__iexact=options["category"]
                )
            if options["service"]:
                defaults["default_service"] = Service.objects.get(
                    name__iexact=options["service"]
                )
            integration, token = integration_create(
                name=options["name"], kind=options["kind"], **defaults
            )
        except (Category.DoesNotExist, Service.DoesNotExist) as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        path = {
            "alertmanager": "/api/v1/alerts/alertmanager/",
            "grafana": "/api/v1/alerts/grafana/",
            "pagerduty": "/api/v1/alerts/pagerduty/",
            "generic": "/api/v1/alerts/",
        }[integration.kind]
        self.stdout.write(
            f"Created {integration.get_kind_display()} integration "
            f"{integration.name!r}; it posts to {path}"
        )
        self.stdout.write("Token (shown only now):")
        self.stdout.write(token)
