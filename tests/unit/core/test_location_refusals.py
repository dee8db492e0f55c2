"""A refused repository reference says why in the words the user reads; a bare repository is a repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.errors import InputError
from core.locations import Location, check_local_repository, normalize

NOT_A_REFERENCE = (
    "not a repository reference: {ref!r} (use owner/name, https://github.com/owner/name, "
    "git@github.com:owner/name.git or a local path)"
)
TOO_LONG = "repository reference is too long or contains control characters"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("   ", "empty repository reference"),
        ("o/" + "n" * 999, TOO_LONG),
        ("owner/na\x07me", TOO_LONG),
        ("git@gitlab.com:owner/name.git", "only git@github.com:owner/name.git SSH references are supported"),
        ("owner/.", NOT_A_REFERENCE.format(ref="owner/.")),
        ("owner/..", NOT_A_REFERENCE.format(ref="owner/..")),
        ("just-a-word", NOT_A_REFERENCE.format(ref="just-a-word")),
    ],
)
def test_a_refused_reference_says_why(ref: str, message: str) -> None:
    # WHEN the reference is normalized THEN it is refused in these words
    with pytest.raises(InputError) as err:
        normalize(ref)
    assert err.value.message == message


def test_a_reference_of_exactly_1000_characters_is_not_too_long() -> None:
    # GIVEN a local path of the longest length taken, and one a character longer
    longest = "/" + "/".join(["a" * 99] * 10)
    over = longest + "b"
    assert (len(longest), len(over)) == (1000, 1001)
    # THEN only the longer one is refused for its length
    assert normalize(longest, check=False) == Location(longest)
    with pytest.raises(InputError) as err:
        normalize(over, check=False)
    assert err.value.message == TOO_LONG


def test_a_bare_repository_is_a_local_repository_and_a_plain_directory_is_not(tmp_path: Path) -> None:
    # GIVEN a bare repository made by git, and a directory holding a HEAD directory but no repository
    bare = tmp_path / "app.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    plain = tmp_path / "plain"
    (plain / "HEAD").mkdir(parents=True)
    # THEN the bare one is taken, with and without the check on normalizing
    check_local_repository(Location(str(bare)))
    assert normalize(str(bare)) == Location(str(bare.resolve()))
    # AND the plain one is refused, naming it
    with pytest.raises(InputError) as err:
        check_local_repository(Location(str(plain)))
    assert err.value.message == f"{plain} is not a git repository"
