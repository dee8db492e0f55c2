"""Repository references: one normalized form, and everything dubious refused before a job exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InputError
from core.locations import Location, is_allowed, normalize, normalize_pattern, parse_location

SAME_REPOSITORY = [
    "acme/app",
    "Acme/App",
    "https://github.com/acme/app",
    "https://github.com/acme/app.git",
    "https://github.com/acme/app/",
    "https://GitHub.com/Acme/App.git",
    "git@github.com:acme/app.git",
    "git@github.com:acme/app",
    "ssh://git@github.com/acme/app.git",
    "github.com/acme/app",
    "  acme/app  ",
]


@pytest.mark.parametrize("ref", SAME_REPOSITORY)
def test_every_github_form_normalizes_to_one_location(ref: str) -> None:
    # GIVEN a reference in one of the accepted forms / WHEN normalized
    location = normalize(ref)
    # THEN it is the lowercase github.com location with its parts
    assert location.value == "github.com/acme/app"
    assert (location.owner, location.name) == ("acme", "app")
    assert location.full_name == "acme/app"
    assert location.clone_url == "https://github.com/acme/app.git"


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("https://user:ghp_secret@github.com/acme/app", "credentials"),
        ("https://ghp_secret@github.com/acme/app", "credentials"),
        ("https://x-access-token:ghp_secret@github.com/acme/app.git", "credentials"),
        ("ghp_secret@github.com/acme/app", "credentials"),
        ("https://github.com@evil.com/acme/app", "credentials"),
        ("https://evil.com\\@github.com/acme/app", "credentials"),
        ("https://github.com.evil.com/acme/app", "only github.com"),
        ("https://evil.com/github.com/acme/app", "only github.com"),
        ("evil.com/github.com/acme/app", "not a repository reference"),
        ("github.com.evil.com/acme/app", "not a repository reference"),
        ("https://g\u0456thub.com/acme/app", "only github.com"),  # Cyrillic i
        ("https://github.com:8443/acme/app", "only github.com"),
        ("git@github.com.evil.com:acme/app.git", "SSH references"),
        ("git@evil.com:acme/app.git", "SSH references"),
        ("http://github.com/acme/app", "scheme"),
        ("ftp://github.com/acme/app", "scheme"),
        ("https://github.com/acme/../other/app", "'..'"),
        ("https://github.com/acme/./app", "'..'"),
        ("acme/..", "not a repository reference"),
        ("https://github.com/acme/a..b.git", "not a valid repository name"),
        ("https://github.com/acme/%2e%2e", "not a valid GitHub repository"),
        ("https://github.com/acme/app?ref=main", "query string"),
        ("https://github.com/acme/app#readme", "query string"),
        ("acme/app?x=1", "not a repository reference"),
        ("https://github.com/acme", "exactly one repository"),
        ("https://github.com/acme/app/tree/main", "exactly one repository"),
        ("acme/app/extra", "not a repository reference"),
        ("-acme/app", "not a repository reference"),
        ("acme/ap\np", "control characters"),
        ("acme/\tapp", "control characters"),
        ("", "empty"),
        ("a/" + "b" * 1000, "too long"),
        ("file://evil.com/srv/repos/app", "local path"),
        ("relative/dir/../x", "not a repository reference"),
        ("./relative", "relative paths"),
    ],
)
def test_dubious_references_are_refused_with_a_reason(ref: str, reason: str) -> None:
    # GIVEN a reference that is malformed, foreign, or carries credentials
    # WHEN normalized / THEN an InputError says why
    with pytest.raises(InputError) as caught:
        normalize(ref)
    assert reason in caught.value.message


def test_refusals_never_echo_a_credential() -> None:
    # GIVEN references carrying a token in several places
    refs = [
        "https://tok:ghp_sentinel@github.com/a/b",
        "ghp_sentinel@github.com/a/b",
        "ghp_sentinel:x@github.com:a/b",
        "git@ghp_sentinel:a/b",
    ]
    for ref in refs:
        # WHEN refused / THEN the message does not repeat the token
        with pytest.raises(InputError) as caught:
            normalize(ref)
        assert "ghp_sentinel" not in caught.value.message


def test_local_paths_resolve_to_the_real_path(make_repo, tmp_path: Path) -> None:
    # GIVEN a repository and a symlink to it
    repo = make_repo("local")
    link = tmp_path / "link"
    link.symlink_to(repo)
    # WHEN referenced directly, through the link, relative to a base, or as a file URL
    forms = [
        normalize(str(repo)),
        normalize(str(link)),
        normalize("./local", base=repo.parent),
        normalize(f"file://{repo}"),
    ]
    # THEN each is the one real path, not a GitHub location
    assert {loc.value for loc in forms} == {str(repo)}
    assert not forms[0].is_github
    assert forms[0].clone_url == str(repo)


def test_local_paths_must_be_git_repositories(tmp_path: Path) -> None:
    # GIVEN a plain directory and a missing one
    (tmp_path / "plain").mkdir()
    # WHEN normalized / THEN both are refused
    with pytest.raises(InputError, match="not a git repository"):
        normalize(str(tmp_path / "plain"))
    with pytest.raises(InputError, match="no directory"):
        normalize(str(tmp_path / "missing"))


def test_parse_location_round_trips_the_stored_string() -> None:
    # GIVEN a normalized GitHub location / WHEN rebuilt from its string
    location = parse_location(normalize("git@github.com:Acme/App.git").value)
    # THEN it is equal to the original
    assert location == Location("github.com/acme/app", "acme", "app")
    assert parse_location("/srv/repos/app") == Location("/srv/repos/app")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("github.com/acme/*", "github.com/acme/*"),
        ("https://github.com/acme/*", "github.com/acme/*"),
        ("acme/*", "github.com/acme/*"),
        ("github.com/acme/app.git", "github.com/acme/app"),
        (" /srv/repos/* ", "/srv/repos/*"),
    ],
)
def test_allowlist_patterns_are_read_in_location_form(pattern: str, expected: str) -> None:
    assert normalize_pattern(pattern) == expected


@pytest.mark.parametrize(
    ("location", "allowed"),
    [
        ("github.com/acme/app", True),
        ("github.com/acme/other", True),
        ("github.com/acme", False),
        ("github.com/acme/app/extra", False),
        ("github.com/acmecorp/app", False),
        ("github.com/evil/acme", False),
        ("/srv/repos/app", True),
        ("/srv/repos/app/nested", False),
        ("/srv/other/app", False),
        ("/srv/repos-evil/app", False),
    ],
)
def test_star_matches_within_one_segment(location: str, allowed: bool) -> None:
    # GIVEN an allowlist of one GitHub owner and one local folder
    patterns = ["github.com/acme/*", "/srv/repos/*"]
    # WHEN a location is checked / THEN only direct children match
    assert is_allowed(location, patterns) is allowed


def test_github_patterns_ignore_case_and_shorthand_works() -> None:
    # GIVEN patterns written in other forms
    location = normalize("https://github.com/Acme/App")
    # WHEN checked / THEN they match the lowercase location; an empty list allows nothing
    assert is_allowed(location, ["GitHub.com/ACME/*"])
    assert is_allowed(location, ["acme/app"])
    assert is_allowed(location, ["https://github.com/acme/a?p"])
    assert not is_allowed(location, [])
    assert not is_allowed(location, ["", "  "])
    assert not is_allowed(location, ["github.com/acme/ap"])


# Every character a regular expression treats specially, each with a location the pattern must
# admit (the character taken literally) and one it would admit if the character kept its regex meaning.
METACHARACTER_CASES = [
    (".", "/srv/repos.x/*", "/srv/repos.x/app", "/srv/repos-x/app"),
    ("+", "/srv/a+b/*", "/srv/a+b/x", "/srv/aab/x"),
    ("^", "/srv/a^b/*", "/srv/a^b/x", None),
    ("$", "/srv/a$/*", "/srv/a$/x", None),
    ("{}", "/srv/a{2}/*", "/srv/a{2}/x", "/srv/aa/x"),
    ("[]", "/srv/[ab]/*", "/srv/[ab]/x", "/srv/a/x"),
    ("|", "/srv/a|b/*", "/srv/a|b/x", "/srv/abc/x"),
    ("()", "/srv/(ab)/*", "/srv/(ab)/x", "/srv/ab/x"),
    ("\\", "/srv/a\\d/*", "/srv/a\\d/x", "/srv/a1/x"),
    ("- in []", "/srv/[a-c]/*", "/srv/[a-c]/x", "/srv/b/x"),
]


@pytest.mark.parametrize(
    ("pattern", "literal", "regex_reading"),
    [case[1:] for case in METACHARACTER_CASES],
    ids=[case[0] for case in METACHARACTER_CASES],
)
def test_every_regex_metacharacter_in_a_pattern_is_literal(
    pattern: str, literal: str, regex_reading: str | None
) -> None:
    # GIVEN an allowlist pattern holding a character regular expressions treat specially
    # WHEN locations are checked
    # THEN the character matches only itself: the literal path is allowed, the regex reading is not
    assert is_allowed(literal, [pattern])
    if regex_reading is not None:
        assert not is_allowed(regex_reading, [pattern])


@pytest.mark.parametrize(
    ("location", "allowed"),
    [
        ("/srv/acb/x", True),
        ("/srv/ab/x", False),
        ("/srv/accb/x", False),
        ("/srv/a/b/x", False),
    ],
)
def test_question_mark_matches_exactly_one_character_within_a_segment(location: str, allowed: bool) -> None:
    # GIVEN a pattern with `?` WHEN checked THEN it stands for one character, never a slash
    assert is_allowed(location, ["/srv/a?b/x"]) is allowed


def test_local_patterns_are_case_sensitive() -> None:
    # GIVEN a local-folder pattern WHEN a path differing only in case is checked THEN it is refused
    assert is_allowed("/srv/Repos/app", ["/srv/Repos/*"])
    assert not is_allowed("/srv/repos/app", ["/srv/Repos/*"])


def test_any_matching_pattern_of_several_allows() -> None:
    # GIVEN two patterns WHEN a location matches only the second THEN it is allowed
    assert is_allowed("/srv/b/app", ["/srv/a/*", "/srv/b/*"])
    assert not is_allowed("/srv/c/app", ["/srv/a/*", "/srv/b/*"])


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("https://github.com/acme/app?", "repository URLs may not carry a query string or fragment"),
        ("https://github.com/acme/app#", "repository URLs may not carry a query string or fragment"),
        ("https://github.com/acme/.git", "not a valid repository name: ''"),
        ("git@github.com:acme/..git", "not a valid repository name: '.'"),
        ("git@github.com:acme/...git", "not a valid repository name: '..'"),
        ("https://github.com/acme", "a GitHub URL must name exactly one repository: https://github.com/owner/name"),
        ("https://github.com/acme/../app", "repository URLs may not contain '.' or '..' segments"),
        ("https://github.com/acme/%2e%2e", "not a valid GitHub repository: 'acme/%2e%2e'"),
        ("https://git@github.com/acme/app", "repository references may not carry credentials"),
        ("http://github.com/acme/app", "unsupported URL scheme 'http': use https://github.com/owner/name"),
        ("https://gitlab.com/acme/app", "only github.com repositories are supported, not 'gitlab.com'"),
        ("file://example.com/srv/app", "file URLs must name a local path, not host 'example.com'"),
        ("a/b/c", "not a repository reference: 'a/b/c'"),
    ],
)
def test_refusals_say_exactly_what_is_wrong(ref: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        normalize(ref)
    assert caught.value.message.startswith(message)


def test_file_urls_name_local_paths_on_this_host_and_are_checked_like_paths(make_repo, tmp_path: Path) -> None:
    # GIVEN a repository WHEN referenced as file:// or file://localhost THEN both are its real path
    repo = make_repo("viafile")
    assert normalize(f"file://localhost{repo}").value == str(repo)
    assert normalize(f"file://{repo}").value == str(repo)
    # AND a file URL to a missing folder is refused, unless the caller asked not to look at the disk yet
    missing = tmp_path / "missing"
    with pytest.raises(InputError, match="no directory"):
        normalize(f"file://{missing}")
    assert normalize(f"file://{missing}", check=False).value == str(missing)
    assert normalize(str(missing), check=False).value == str(missing)
