"""Clean what a post links to and how its text is marked up, before anything is archived.

- :mod:`fetch.clean.links`: unwrap redirectors and drop tracking parameters from URLs.
- :mod:`fetch.clean.html`: sanitize platform HTML, turn plain text into safe HTML, and back.
"""

from __future__ import annotations

from .html import html_to_text, linkify_text, sanitize_html
from .links import RulesError, clean_url, is_redirector, is_shortener

__all__ = [
    "RulesError",
    "clean_url",
    "html_to_text",
    "is_redirector",
    "is_shortener",
    "linkify_text",
    "sanitize_html",
]
