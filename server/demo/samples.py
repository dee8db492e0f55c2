"""The sample repository a new user's first job runs against."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from core.settings import Settings

SAMPLE_NAME = "hello-python"

# A small project with changes worth making: a call deprecated since Python 3.12
# (datetime.utcnow), no type hints, %-formatting and string concatenation.
SAMPLE_FILES: dict[str, str] = {
    "README.md": """\
# hello-python

A tiny greeting library: the sample repository of Cody Batch.

Run the tests with:

    python -m pytest
""",
    "pyproject.toml": """\
[project]
name = "hello-python"
version = "0.1.0"
requires-python = ">=3.9"
""",
    "greeter.py": '''\
"""Greetings and timestamped log lines."""

import datetime


def greet(name, excited=False):
    """Return a greeting for `name`."""
    greeting = "Hello, %s" % name
    if excited:
        greeting = greeting + "!"
    return greeting


def log_line(message):
    """Prefix `message` with the current UTC time."""
    stamp = datetime.datetime.utcnow().isoformat()
    return "[" + stamp + "] " + message
''',
    "test_greeter.py": """\
from greeter import greet, log_line


def test_greet():
    assert greet("Ada") == "Hello, Ada"


def test_greet_excited():
    assert greet("Ada", excited=True) == "Hello, Ada!"


def test_log_line():
    assert log_line("started").endswith("] started")
""",
}

_AUTHOR = ("Cody Batch", "cody-batch@users.noreply.github.com")


def sample_path(settings: Settings) -> Path:
    """Where the sample repository lives: the data dir's samples/hello-python."""
    return settings.samples_dir / SAMPLE_NAME


def ensure_sample_repository(settings: Settings) -> Path:
    """Create the sample git repository if it is missing; return its path."""
    path = sample_path(settings)
    if path.exists():
        return path
    staging = path.with_name(f".{SAMPLE_NAME}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for rel, content in SAMPLE_FILES.items():
        (staging / rel).write_text(content)
    _git(staging, "init", "-q", "-b", "main")
    _git(staging, "add", "-A")
    _git(staging, "commit", "-q", "-m", "Initial commit")
    # Rename last so an interrupted run never leaves a half-made repository behind.
    staging.rename(path)
    return path


def _git(cwd: Path, *args: str) -> None:
    name, email = _AUTHOR
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    # Hooks off: the user's global template or hooksPath must not run here.
    subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
    )
