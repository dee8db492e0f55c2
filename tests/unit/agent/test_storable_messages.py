"""A stored message holds no lone surrogate: JSON can carry one, a thread saved as UTF-8 cannot."""

from __future__ import annotations

import json

from worker.agent.messages import storable


def test_lone_surrogates_become_replacement_characters_in_values_and_keys_at_any_depth() -> None:
    # GIVEN a reply's content as the SDK decodes it from JSON holding "\ud800" and "\udfff"
    tool_input: dict[str, object] = {"file_text": "a\ud800b", "k\udfff": ["x\ud800", 3, None]}
    content = [{"type": "tool_use", "input": tool_input}]
    # WHEN it is made storable
    kept = storable(content)
    # THEN every lone surrogate is U+FFFD, everything else as it was, and it encodes as UTF-8
    assert kept == [{"type": "tool_use", "input": {"file_text": "a\ufffdb", "k\ufffd": ["x\ufffd", 3, None]}}]
    assert json.dumps(kept, ensure_ascii=False).encode("utf-8")
    # AND the content given is not changed (the tools run on it as it came)
    assert tool_input["file_text"] == "a\ud800b"


def test_a_character_outside_the_basic_plane_is_kept() -> None:
    # A surrogate pair in JSON decodes to one character: it is not a lone surrogate.
    decoded = json.loads('"\\ud83d\\ude00"')
    assert storable({"text": decoded}) == {"text": "\U0001f600"}
