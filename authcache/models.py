from django.db import models


class PendingCacheDelete(models.Model):
    """A cache key that must be dropped but could not be, because the cache was
    down: a logged-out session, a permission version that moved on. The sweep
    drops it once the cache answers again, so a cache that comes back with old
    data cannot bring back a session or a role that ended."""

    key = models.CharField(max_length=250, primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.key
