"""Personal API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from incidents.models import ApiToken
from incidents.models.alerts import token_generate, token_hash


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str = "") -> tuple[ApiToken, str]:
    """A new token acting as ``user``; returned with the secret, which is shown only
    now (only its hash is stored)."""
    token = token_generate()
    api_token = ApiToken(
        user=user, name=name, token_hash=token_hash(token), token_hint=token[-4:]
    )
    api_token.full_clean()
    api_token.save()
    return api_token, token
