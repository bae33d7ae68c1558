"""Article Markdown renders as safe HTML: typed HTML and scripts are inert, links
cannot run script, and pictures come only from our own article files."""

from __future__ import annotations

from kb.markdown import render_markdown

OWN = "/kb/files/0a1b2c3d-0000-4000-8000-000000000000/"


def test_markdown_renders_its_formatting() -> None:
    html = render_markdown(
        "## Steps\n\n1. **Open** `outlook /safe`\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h2>Steps</h2>" in html
    assert "<strong>Open</strong>" in html and "<code>outlook /safe</code>" in html
    assert "<table>" in html


def test_raw_html_and_scripts_are_shown_as_text() -> None:
    html = render_markdown('<script>alert(1)</script><img src=x onerror="alert(1)">')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_javascript_links_lose_their_target() -> None:
    html = render_markdown(
        "[click](javascript:alert(1)) [ok](https://example.com/) "
        '<a href="javascript:alert(2)">raw</a>'
    )
    assert '<a href="javascript' not in html and "<a href=" in html
    assert "[click](javascript:alert(1))" in html  # shown as typed, not a link
    assert 'href="https://example.com/"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_images_only_from_our_own_files() -> None:
    html = render_markdown(f"![outside](https://evil.example/x.png) ![ours]({OWN})")
    assert "evil.example" not in html
    assert f'src="{OWN}"' in html
