"""Links the API hands out: patch downloads, signed when the API needs a token."""

from __future__ import annotations

import hashlib
import hmac
import time

DOWNLOAD_TTL_SECONDS = 15 * 60
MAX_EXPIRES_DIGITS = 12  # epoch seconds until the year 33658


def patch_path(job_id: str, run_id: str) -> str:
    """Path of a run's patch download."""
    return f"/jobs/{job_id}/runs/{run_id}/patch"


def _signature(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed(path: str, secret: bytes | None, now: float | None = None) -> str:
    """`path` with a short-lived signature, so a plain browser link works behind a token."""
    if secret is None:
        return path
    expires = int((now if now is not None else time.time()) + DOWNLOAD_TTL_SECONDS)
    return f"{path}?expires={expires}&signature={_signature(secret, path, expires)}"


def verify(path: str, expires: str | None, signature: str | None, secret: bytes, now: float | None = None) -> bool:
    """Whether a signed link is genuine and not expired (False for anything malformed, never an error)."""
    # ASCII digits only, and few: str.isdigit() takes "²", which int() refuses, and int() refuses
    # strings past Python's digit limit.
    if (
        not expires
        or not signature
        or not (expires.isascii() and expires.isdigit())
        or len(expires) > MAX_EXPIRES_DIGITS
    ):
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    # Bytes: compare_digest refuses str holding anything but ASCII.
    return hmac.compare_digest(_signature(secret, path, int(expires)).encode(), signature.encode("utf-8", "replace"))
