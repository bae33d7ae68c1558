"""Bearer tokens: a person's API token, or a monitoring integration's token."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from incidents.models import ApiToken, Integration
from incidents.models.alerts import token_hash

# Refresh a token's "last used" at most this often: not a write on every request.
LAST_USED_RESOLUTION_SECONDS = 300


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].lower() != b"bearer":
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(
            "Malformed Authorization header: use 'Bearer <token>'."
        )
    try:
        return header[1].decode()
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("The token is not valid text.") from None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A person's API token; requests act with that person's permissions."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        token = bearer_token(request)
        if token is None:
            return None
        api_token = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        last = api_token.last_used_at
        if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return api_token.user, api_token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class IntegrationUser:
    """Stands for a monitoring integration in ``request.user``: authenticated, but
    no person, so it holds no permissions of its own."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, integration: Integration) -> None:
        self.integration = integration

    def __str__(self) -> str:
        return f"integration {self.integration.name}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False


# Every alert request runs this lookup: written out, it costs well under half of
# what the ORM spends building the same query each time. The hash is unique.
_INTEGRATION_BY_TOKEN = (
    f"SELECT * FROM {Integration._meta.db_table} WHERE token_hash = %s"
)


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    """A monitoring integration's token, from the Authorization header (or from
    the body field ``body_key`` of formats that carry it there)."""

    body_key: str | None = None

    def authenticate(
        self, request: Request
    ) -> tuple[IntegrationUser, Integration] | None:
        token = bearer_token(request)
        if token is None and self.body_key is not None:
            data = request.data
            token = data.get(self.body_key) if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            return None
        found = Integration.objects.raw(_INTEGRATION_BY_TOKEN, [token_hash(token)])
        integration = next(iter(found), None)
        if integration is None:
            raise exceptions.AuthenticationFailed("Invalid integration token.")
        if not integration.is_active:
            raise exceptions.PermissionDenied("This integration is disabled.")
        return IntegrationUser(integration), integration

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="alerts"'


class PagerDutyTokenAuthentication(IntegrationTokenAuthentication):
    """PagerDuty's Events API carries the integration key as ``routing_key``."""

    body_key = "routing_key"


class _BearerScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema names a bearer-token authentication; each subclass
    describes one of ours."""

    target_class = "incidents.api.authentication.ApiTokenAuthentication"
    name = "apiToken"
    description = "A personal API token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": self.description}


class _IntegrationScheme(_BearerScheme):
    target_class = "incidents.api.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"
    description = "An integration token"


class _PagerDutyScheme(_BearerScheme):
    target_class = "incidents.api.authentication.PagerDutyTokenAuthentication"
    name = "integrationTokenOrRoutingKey"
    description = "An integration token, here or as the body's routing_key"
