"""Sample repositories offered to a new user: git repositories in the data dir's samples/, if allowed."""

from __future__ import annotations

from pathlib import Path

from core.samples import list_samples
from core.settings import Settings
from tests.conftest import init_repo


def test_samples_are_the_allowed_git_repositories_of_the_samples_dir(tmp_path: Path) -> None:
    # GIVEN a data dir whose samples/ holds two repositories and a plain folder, with the default allowlist
    settings = Settings(data_dir=tmp_path / "data")
    samples = settings.samples_dir
    b = init_repo(samples / "b-repo", {"x.py": "x = 1\n"})
    a = init_repo(samples / "a-repo", {"x.py": "x = 1\n"})
    (samples / "not-a-repo").mkdir()
    # WHEN samples are listed THEN both repositories are offered, sorted, and the folder is not
    assert list_samples(settings) == [str(a), str(b)]


def test_samples_outside_the_allowlist_or_missing_are_not_offered(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", allowed_repos=["github.com/acme/*"])
    assert list_samples(settings) == []
    init_repo(settings.samples_dir / "hello", {"x.py": "x = 1\n"})
    assert list_samples(settings) == []
