"""Article Markdown to safe HTML: markdown-it-py renders CommonMark with raw HTML
turned off (typed HTML shows as text), then nh3 keeps only an allow-list of tags,
attributes and URL schemes. Images may come only from our own article
attachments: any other picture loses its source, so an article can neither call
out to another site nor show what it should not."""

from __future__ import annotations

import re

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_PARSER = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)
_TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "del", "a"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "img"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
# Our attachment download URL (see kb.urls): /kb/files/<uuid>/
OWN_IMAGE = re.compile(
    r"^/kb/files/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$"
)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if OWN_IMAGE.match(value) else None
    return value


def render_markdown(text: str) -> SafeString:
    """The article text as HTML that is safe to put in a page as it is."""
    html = _PARSER.render(text or "")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised just above
