"""Fixtures of the GitHub tests: the fake GitHub server and settings pointing at it."""

from tests.fakes.github_fixtures import clone_of, fake_github, github_settings

__all__ = ["clone_of", "fake_github", "github_settings"]
