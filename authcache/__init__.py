"""What a signed-in request costs: sessions and permissions read from the cache.

Every signed-in page used to pay four queries before its view ran (the session,
the user, the person's own and their groups' permissions). Here the session and
the permissions come from the shared cache, with the database as the source of
truth: a cache that is down or has lost its data costs those queries again,
never an error, and nothing the cache holds outlives a logout or a change of
role (``pending`` keeps what could not be dropped while it was down).
"""
