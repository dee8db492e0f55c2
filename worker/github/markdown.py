"""Untrusted text made inert in a GitHub pull request: no mentions, no issue links or closing keywords, no HTML.

The model's summary, file paths and the instruction are text anyone could have steered (a
prompt injection in the repository). On GitHub such text could ping people and teams
(`@org/team`), close issues on merge (`Fixes #1`, `Closes other/repo#2`, an issue URL), or
hide the rest of the body (`<!--`). A zero-width space breaks each of these for GitHub
while the text reads the same; `<` becomes `&lt;`, so no tag or comment can start.
"""

from __future__ import annotations

import re
import unicodedata

ZWSP = "\u200b"

_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
# #12, owner/repo#12 and GH-12 all become links (and closing references after a keyword).
_ISSUE_NUMBER = re.compile(r"(#|\bGH-)(?=\d)", re.IGNORECASE)
# A closing keyword before any reference, including the issue-URL form that has no "#".
_CLOSING_KEYWORD = re.compile(
    r"\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?=\s*:?\s+(?:#|gh-|https?://|[\w.-]+/[\w.-]+#))", re.IGNORECASE
)


def inert_references(text: str) -> str:
    """`text` without mentions, issue references or closing keywords GitHub would act on."""
    text = _MENTION.sub("@" + ZWSP, text)
    text = _ISSUE_NUMBER.sub(lambda m: m[1] + ZWSP, text)
    return _CLOSING_KEYWORD.sub(lambda m: m[1][0] + ZWSP + m[1][1:], text)


def inert_markdown(text: str) -> str:
    """Untrusted Markdown that can neither act on GitHub nor hide what follows it (no raw HTML)."""
    return inert_references(text.replace("&", "&amp;").replace("<", "&lt;"))


def escape_controls(text: str) -> str:
    """`text` on one visible line: control, format and line-separator characters spelled as escapes."""
    out = []
    for char in text:
        if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}:
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
