"""Repository references -> normalized locations, and the allowlist policy."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import InputError

GITHUB_HOST = "github.com"
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_NAME = r"[A-Za-z0-9._-]{1,100}"
_SHORT = re.compile(rf"^(?P<owner>{_OWNER})/(?P<name>{_NAME})$")
_SCP = re.compile(rf"^git@github\.com:(?P<owner>{_OWNER})/(?P<name>{_NAME})$")
_PATH_PREFIXES = ("/", "./", "../", "~")
_SCHEMES = ("https://", "http://", "ssh://")
_CREDENTIALS = "repository references may not carry credentials; set GITHUB_TOKEN on the server instead"


@dataclass(frozen=True)
class Location:
    """Where a repository lives: `github.com/owner/name` or an absolute local path."""

    value: str
    owner: str | None = None
    name: str | None = None

    @property
    def is_github(self) -> bool:
        return self.owner is not None

    @property
    def full_name(self) -> str:
        """`owner/name` of a GitHub location."""
        if not self.is_github:
            raise ValueError(f"{self.value} is not a GitHub repository")
        return f"{self.owner}/{self.name}"

    @property
    def clone_url(self) -> str:
        """What git clones: the https URL (no credentials) or the local path."""
        if self.is_github:
            return f"https://{GITHUB_HOST}/{self.owner}/{self.name}.git"
        return self.value

    def __str__(self) -> str:
        return self.value


def parse_location(location: str) -> Location:
    """Rebuild a Location from its stored string."""
    if location.startswith(f"{GITHUB_HOST}/"):
        owner, name = location.split("/")[1:3]
        return Location(location, owner, name)
    return Location(location)


def _github(owner: str, name: str) -> Location:
    if name.endswith(".git"):
        name = name[: -len(".git")]
    if name in {"", ".", ".."} or ".." in name:
        raise InputError(f"not a valid repository name: {name!r}")
    owner, name = owner.lower(), name.lower()
    return Location(f"{GITHUB_HOST}/{owner}/{name}", owner, name)


def _from_url(ref: str, check: bool = True) -> Location:
    parts = urlsplit(ref)
    if parts.query or parts.fragment or "?" in ref or "#" in ref:
        raise InputError("repository URLs may not carry a query string or fragment")
    netloc = parts.netloc
    if parts.scheme == "ssh" and netloc.startswith("git@"):
        # ssh://git@github.com/owner/name.git names a user, not a credential.
        netloc = netloc[len("git@") :]
    if "@" in netloc or (parts.password is not None):
        raise InputError(_CREDENTIALS)
    if parts.scheme == "file":
        if netloc not in {"", "localhost"}:
            raise InputError(f"file URLs must name a local path, not host {netloc!r}")
        return _local(parts.path, check=check)
    if parts.scheme not in {"https", "ssh"}:
        raise InputError(f"unsupported URL scheme {parts.scheme!r}: use https://github.com/owner/name")
    host = netloc.lower()
    if host != GITHUB_HOST:
        raise InputError(f"only {GITHUB_HOST} repositories are supported, not {parts.netloc!r}")
    segments = [s for s in parts.path.split("/") if s]
    if any(s in {".", ".."} for s in segments):
        raise InputError("repository URLs may not contain '.' or '..' segments")
    if len(segments) != 2:
        raise InputError("a GitHub URL must name exactly one repository: https://github.com/owner/name")
    match = _SHORT.match("/".join(segments))
    if match is None:
        raise InputError(f"not a valid GitHub repository: {'/'.join(segments)!r}")
    return _github(match["owner"], match["name"])


def _local(raw: str, base: Path | None = None, check: bool = True) -> Location:
    path = Path(os.path.expanduser(raw))
    if not path.is_absolute():
        if base is None:
            raise InputError(f"relative paths are resolved by the CLI; give an absolute path, not {raw!r}")
        path = base / path
    location = Location(os.path.realpath(path))
    if check:
        check_local_repository(location)
    return location


def check_local_repository(location: Location) -> None:
    """InputError unless a local location is a git repository (a work tree or a bare one)."""
    real = Path(location.value)
    if not real.is_dir():
        raise InputError(f"no directory at {real}")
    if not (real / ".git").exists() and not (real / "HEAD").is_file():
        raise InputError(f"{real} is not a git repository")


def normalize(ref: str, *, base: Path | None = None, check: bool = True) -> Location:
    """Normalize one repository reference; InputError when it is not acceptable.

    With `check=False` a local path is not looked at beyond resolving it, so a caller can
    apply the allowlist before revealing anything about paths outside it.
    """
    ref = ref.strip()
    if not ref:
        raise InputError("empty repository reference")
    if len(ref) > 1000 or any(ord(c) < 32 for c in ref):
        raise InputError("repository reference is too long or contains control characters")
    if ref.lower().startswith(f"{GITHUB_HOST}/"):
        # The normalized form itself, as shown in the UI.
        ref = f"https://{ref}"
    if "://" in ref:
        return _from_url(ref, check)
    if ref.startswith("git@"):
        match = _SCP.match(ref)
        if match is None:
            raise InputError("only git@github.com:owner/name.git SSH references are supported")
        return _github(match["owner"], match["name"])
    if ref.startswith(_PATH_PREFIXES):
        return _local(ref, base, check)
    if "@" in ref:
        # Never echo it back: whatever precedes the "@" may be a token.
        raise InputError(_CREDENTIALS)
    match = _SHORT.match(ref)
    if match is not None and match["name"] not in {".", ".."}:
        return _github(match["owner"], match["name"])
    raise InputError(
        f"not a repository reference: {ref!r} (use owner/name, https://github.com/owner/name, "
        "git@github.com:owner/name.git or a local path)"
    )


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    flags = re.IGNORECASE if pattern.lower().startswith(GITHUB_HOST + "/") else 0
    return re.compile("^" + "".join(out) + "$", flags)


def normalize_pattern(pattern: str) -> str:
    """An allowlist pattern in location form: `https://github.com/acme/*` and `acme/*` mean `github.com/acme/*`."""
    pattern = pattern.strip().rstrip("/")
    for scheme in _SCHEMES:
        if pattern.lower().startswith(scheme):
            pattern = pattern[len(scheme) :]
            break
    if pattern.lower().endswith(".git"):
        pattern = pattern[: -len(".git")]
    if pattern.startswith(_PATH_PREFIXES) or pattern.lower().startswith(f"{GITHUB_HOST}/"):
        return pattern
    if pattern.count("/") == 1:
        return f"{GITHUB_HOST}/{pattern}"
    return pattern


def is_allowed(location: Location | str, patterns: Sequence[str]) -> bool:
    """True when a pattern of the allowlist matches the location."""
    value = str(location)
    return any(_pattern_regex(normalize_pattern(p)).match(value) for p in patterns if p.strip())
