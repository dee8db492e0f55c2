"""Untrusted text made inert for GitHub: every form of mention, reference and closing keyword, and HTML."""

from __future__ import annotations

import re

import pytest

from worker.github.markdown import ZWSP, escape_controls, inert_markdown, inert_references

ACTS = re.compile(r"@[A-Za-z0-9]|#\d|\bGH-\d|\b(close[sd]?|fix(e[sd])?|resolve[sd]?)\s*:?\s+\S", re.IGNORECASE)


@pytest.mark.parametrize(
    "text",
    [
        "@octocat",
        "cc @acme/admins",
        "Fixes #1",
        "closes: #2",
        "Resolved other/repo#3",
        "FIXED https://github.com/acme/app/issues/4",
        "see GH-5",
        "fix\t#6",
    ],
)
def test_mentions_references_and_closing_keywords_are_broken(text: str) -> None:
    inert = inert_references(text)
    assert not ACTS.search(inert), inert
    assert inert.replace(ZWSP, "") == text  # it still reads the same


def test_plain_words_are_left_alone() -> None:
    text = "We fixed the tests and closed the file; issue 12 remains."
    assert inert_references(text) == text


def test_html_and_entities_cannot_start() -> None:
    inert = inert_markdown("<!-- hide --> <img src=x> &#64;octocat &lt;b&gt;")
    assert "<" not in inert and "&#64;" not in inert
    assert inert == f"&lt;!-- hide --> &lt;img src=x> &amp;#{ZWSP}64;octocat &amp;lt;b&amp;gt;"


def test_control_and_format_characters_are_spelled_out() -> None:
    assert escape_controls("a\nb\tc\x7fd\u202ee\u2028f") == "a\\x0ab\\x09c\\x7fd\\u202ee\\u2028f"
    assert escape_controls("plain/path-ü.py") == "plain/path-ü.py"
