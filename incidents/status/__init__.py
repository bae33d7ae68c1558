"""The public status page: ``/status``, ``/status.json`` and ``/status/feed.atom``.

All three are rendered from one dictionary, computed by ``selectors.status_page``
in a fixed number of queries and cached for ``STATUS_CACHE_SECONDS``, so they say
the same thing and stay cheap while the rest of the service is busy.
"""
