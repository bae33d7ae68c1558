from django.apps import AppConfig


class AuthCacheConfig(AppConfig):
    """Cached sessions and permissions that fall back to the database."""

    name = "authcache"
    verbose_name = "Session and permission cache"

    def ready(self) -> None:
        from authcache import signals  # noqa: F401 - connects the receivers
