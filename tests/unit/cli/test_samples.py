"""The sample repository: a real git repo, made once, accepted by the default allowlist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.locations import is_allowed, normalize
from core.settings import Settings
from server.demo.samples import SAMPLE_FILES, ensure_sample_repository


def test_sample_is_a_committed_git_repository_with_passing_tests(tmp_path: Path) -> None:
    # GIVEN a fresh data dir
    settings = Settings(data_dir=tmp_path / "data")
    # WHEN the sample is ensured
    path = ensure_sample_repository(settings)
    # THEN it is a clean git repository with every sample file committed
    tracked = subprocess.run(["git", "ls-files"], cwd=path, capture_output=True, text=True, check=True).stdout
    assert sorted(tracked.split()) == sorted(SAMPLE_FILES)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=path, capture_output=True, text=True).stdout
    assert status == ""
    # AND its own tests pass, so a change can be verified against them
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=path)
    assert result.returncode == 0


def test_sample_is_allowed_by_the_default_allowlist(tmp_path: Path) -> None:
    # GIVEN settings with no allowlist configured
    settings = Settings(data_dir=tmp_path / "data")
    # WHEN the sample is made and normalized like any submitted path
    location = normalize(str(ensure_sample_repository(settings)))
    # THEN the default allowlist lets it through
    assert is_allowed(location, settings.allowlist)


def test_an_existing_sample_is_left_alone(tmp_path: Path) -> None:
    # GIVEN a sample a user already edited
    settings = Settings(data_dir=tmp_path / "data")
    path = ensure_sample_repository(settings)
    (path / "greeter.py").write_text("# edited\n")
    # WHEN it is ensured again
    again = ensure_sample_repository(settings)
    # THEN the user's edit survives
    assert again == path
    assert (path / "greeter.py").read_text() == "# edited\n"
