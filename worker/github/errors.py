"""Why publishing to GitHub failed, in words a user can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from github import GithubException, RateLimitExceededException

from core.errors import RunErrorKind, RunFailure
from worker.git_auth import redact


class PublishError(RunFailure):
    """A repository cannot be published to; `kind` is the run error kind."""

    def __init__(self, kind: RunErrorKind, message: str) -> None:
        super().__init__(message, kind)


def github_message(err: GithubException) -> str:
    """GitHub's own explanation inside an error response, with any field errors."""
    data = err.data if isinstance(err.data, dict) else {}
    message = str(data.get("message") or err.message or f"HTTP {err.status}")
    details = [str(e.get("message") or e.get("code")) for e in data.get("errors") or [] if isinstance(e, dict)]
    return f"{message} ({'; '.join(details)})" if details else message


def _rate_limited(err: Exception) -> bool:
    # GitHub signals both primary and secondary limits with 403 or 429; retries that ran out on
    # 403/429 answers surface as a requests RetryError naming the status.
    if isinstance(err, RateLimitExceededException):
        return True
    if isinstance(err, GithubException):
        return err.status == 429 or "rate limit" in github_message(err).lower()
    return isinstance(err, requests.exceptions.RetryError) and any(f"{code} error" in str(err) for code in (403, 429))


def _redirect_target(err: Exception) -> str | None:
    # PyGithub follows a 301 within its own scheme and host only, and raises RuntimeError naming any other.
    match = re.search(r"redirected from (?:host \S+ to (\S+?)|(\S+) protocol to (\S+?)),", str(err))
    if not isinstance(err, RuntimeError) or match is None:
        return None
    return f"host {match[1]}" if match[1] else f"{match[3]} from {match[2]}"


def translate(err: Exception, action: str, full_name: str) -> PublishError:
    """A PublishError for an exception raised while talking to GitHub."""
    target = _redirect_target(err)
    if target is not None:
        return PublishError(
            RunErrorKind.REPOSITORY_MOVED,
            f"GitHub redirected {full_name} away from its API (to {target}); the redirect was not followed",
        )
    if _rate_limited(err):
        return PublishError(
            RunErrorKind.RATE_LIMITED, f"GitHub rate limit while trying to {action} {full_name}; retry later"
        )
    if isinstance(err, GithubException):
        message = github_message(err)
        if err.status == 401:
            return PublishError(
                RunErrorKind.GITHUB_AUTH_FAILED, f"GitHub refused the token ({message}); check GITHUB_TOKEN"
            )
        if err.status == 404:
            return PublishError(
                RunErrorKind.REPOSITORY_NOT_FOUND, f"{full_name} was not found on GitHub, or the token cannot see it"
            )
        return PublishError(
            RunErrorKind.GITHUB_ERROR, f"could not {action} {full_name}: GitHub answered {err.status}: {message}"
        )
    reason = type(err).__name__
    return PublishError(
        RunErrorKind.GITHUB_UNAVAILABLE, f"could not {action} {full_name}: GitHub did not answer ({reason})"
    )


@contextmanager
def github_errors(action: str, full_name: str, token: str | None) -> Iterator[None]:
    """Turn GitHub and transport exceptions inside the block into PublishError, token redacted."""
    try:
        yield
    except PublishError:
        raise
    except (GithubException, requests.RequestException, RuntimeError) as err:
        if isinstance(err, RuntimeError) and _redirect_target(err) is None:
            raise
        error = translate(err, action, full_name)
        raise PublishError(error.kind, redact(error.message, token)) from None
