from celery import shared_task

from authcache.pending import pending_cache_drops_apply


@shared_task
def pending_cache_drops_task() -> int:
    """Every few seconds (beat): drop the cache keys an outage kept, such as a
    session that logged out while the cache was down. Safe to run twice."""
    return pending_cache_drops_apply()
