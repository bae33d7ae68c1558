"""The status page as an Atom feed: one entry per incident on the page, current
and history, updated whenever a public update is posted or it is resolved."""

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
    title = "Service status"
    author_name = "Service status"

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return public(super().__call__(request, *args, **kwargs))

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Content:
        return status_page()

    def link(self) -> str:
        return reverse("status:page")

    def feed_url(self) -> str:
        return reverse("status:feed")

    def subtitle(self, obj: Content) -> str:
        return obj["state_label"]

    def items(self, obj: Content) -> list[Content]:
        return [*obj["current"], *obj["history"]]

    def item_title(self, item: Content) -> str:
        # Atom titles are plain text (the XML writer escapes them), unlike RSS ones,
        # which Feed's default escapes a second time.
        state = "resolved" if item["resolved_at"] else "ongoing"
        return f"{item['number']} {item['title']} ({item['impact_label']}, {state})"

    def item_description(self, item: Content) -> str:
        # An HTML summary: rendered with autoescape, so user text stays text.
        return render_to_string("status/feed_entry.html", {"incident": item})

    def item_link(self, item: Content) -> str:
        return f"{reverse('status:page')}#{item['number']}"

    def item_pubdate(self, item: Content) -> datetime:
        return item["started_at"]

    def item_updateddate(self, item: Content) -> datetime:
        times = [item["started_at"], item["resolved_at"]]
        times += [update["posted_at"] for update in item["updates"]]
        return max(t for t in times if t is not None)
