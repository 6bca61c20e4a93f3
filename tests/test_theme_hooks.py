"""The mkdocs hook that repairs theme markup keeps every page within the site's policy."""

from __future__ import annotations

from fetch.site.theme_hooks import repair


def test_markdown_table_alignment_becomes_classes_not_inline_styles() -> None:
    html = (
        '<table><tr><th style="text-align: right;">Zeit</th>'
        '<td style="text-align: center">3 s</td><td>x</td></tr></table>'
    )
    out = repair(html)
    assert "style=" not in out
    assert '<th class="aushang-align-right">' in out
    assert '<td class="aushang-align-center">' in out
