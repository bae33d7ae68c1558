"""The status page as an Atom feed: one entry per published entry of the last
90 days (updated with each of its messages) and per announced maintenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from incidents.status.selectors import Content, status_page
from incidents.status.views import public


class StatusFeed(Feed):
    """Links are made absolute by ``Feed``, from the request's host and scheme."""

    feed_type = Atom1Feed
    author_name = "Service status"

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return public(super().__call__(request, *args, **kwargs))

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Content:
        return status_page()

    def title(self, obj: Content) -> str:
        return obj["page"]["name"]

    def link(self) -> str:
        return reverse("status:page")

    def feed_url(self) -> str:
        return reverse("status:feed")

    def subtitle(self, obj: Content) -> str:
        return obj["state_label"]

    def items(self, obj: Content) -> list[Content]:
        windows = [{**w, "is_maintenance": True} for w in obj["maintenance_recent"]]
        return [*obj["recent"], *windows]

    def item_title(self, item: Content) -> str:
        # Atom titles are plain text (the XML writer escapes them), unlike RSS ones,
        # which Feed's default escapes a second time.
        return f"{item['title']} ({item['stage_label']})"

    def item_description(self, item: Content) -> str:
        # An HTML summary: rendered with autoescape, so user text stays text.
        return render_to_string("status/feed_entry.html", {"item": item})

    def item_link(self, item: Content) -> str:
        if item.get("is_maintenance"):
            return f"{reverse('status:page')}#{item['id']}"
        return reverse("status:entry", args=[item["id"]])

    def item_pubdate(self, item: Content) -> datetime:
        return (
            item["created_at"] if item.get("is_maintenance") else item["published_at"]
        )

    def item_updateddate(self, item: Content) -> datetime:
        return item["updated_at"]
