"""``/api/v1/problems/``."""

urlpatterns: list = []
