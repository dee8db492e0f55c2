"""CLI behaviour that needs no server: path resolution, a server that is down, bad usage."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.settings import Settings
from server.cli.job_input import resolve_repository
from server.cli.main import app
from server.cli.serve import DEMO_NOTICE, banner

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "ref", ["acme/widgets", "github.com/acme/widgets", "https://github.com/acme/widgets", "git@github.com:acme/w.git"]
)
def test_remote_references_are_sent_as_given(ref: str, tmp_path: Path) -> None:
    # GIVEN a remote reference WHEN resolved THEN it is unchanged
    assert resolve_repository(ref, cwd=tmp_path) == ref


def test_a_nested_relative_path_that_does_not_exist_is_still_sent_as_a_path(tmp_path: Path) -> None:
    # GIVEN a mistyped relative path, which cannot be a GitHub repository
    # WHEN resolved THEN it is sent as an absolute path, so the server can say it is missing or not allowed
    assert resolve_repository(".cody-batch/samples/nope", cwd=tmp_path) == str(
        tmp_path.resolve() / ".cody-batch" / "samples" / "nope"
    )


def test_local_paths_become_absolute_real_paths(tmp_path: Path) -> None:
    # GIVEN a directory reached through a symlink, and a working directory beside it
    (tmp_path / "repos" / "one").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "repos")
    cwd = tmp_path / "work"
    cwd.mkdir()
    real = str((tmp_path / "repos" / "one").resolve())
    # WHEN relative, absolute and plain forms are resolved
    # THEN each becomes the real absolute path
    assert resolve_repository("../link/one", cwd=cwd) == real
    assert resolve_repository(str(tmp_path / "link" / "one"), cwd=cwd) == real
    assert resolve_repository("repos/one", cwd=tmp_path) == real
    assert resolve_repository(".", cwd=tmp_path / "repos" / "one") == real


def test_owner_name_that_is_a_local_directory_is_taken_as_local(tmp_path: Path) -> None:
    # GIVEN a directory that looks like owner/name
    (tmp_path / "acme" / "widgets").mkdir(parents=True)
    # WHEN resolved from its parent THEN the local directory wins
    assert resolve_repository("acme/widgets", cwd=tmp_path) == str((tmp_path / "acme" / "widgets").resolve())


@pytest.mark.parametrize(
    "args",
    [["submit", "fix it", "acme/widgets"], ["jobs"], ["show", "01JOB"]],
)
def test_a_server_that_is_down_gets_one_clear_line(args: list[str]) -> None:
    # GIVEN no server on the port
    url = f"http://127.0.0.1:{_closed_port()}/graphql"
    # WHEN a command needs the server
    result = runner.invoke(app, [*args, "--url", url])
    # THEN it says where it looked and how to start one, without a traceback
    assert result.exit_code == 1
    assert f"cannot reach the Cody Batch server at {url}" in result.stderr
    assert "start it with `make run` or `cody-batch serve`" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    # AND on one line, however narrow the console: rich would break it at 80 columns
    assert result.stderr.count("\n") == 1


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN CODY_BATCH_URL pointing at a closed port
    url = f"http://127.0.0.1:{_closed_port()}/graphql"
    monkeypatch.setenv("CODY_BATCH_URL", url)
    # WHEN jobs are listed without --url THEN that URL is the one tried
    result = runner.invoke(app, ["jobs"])
    assert result.exit_code == 1
    assert url in result.stderr


def test_worker_run_without_an_index_is_a_usage_error() -> None:
    # GIVEN neither --repo nor AWS_BATCH_JOB_ARRAY_INDEX
    # WHEN the worker command runs THEN it asks for the index
    result = runner.invoke(app, ["worker", "run", "01JOB"])
    assert result.exit_code == 2
    assert "--repo" in result.stderr


def test_bad_setting_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a malformed setting in the environment
    monkeypatch.setenv("CODY_BATCH_PORT", "not-a-port")
    # WHEN a command that loads the settings runs THEN it names the problem and exits 2, serving nothing
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "invalid setting" in result.stderr
    assert "port" in result.stderr


def test_banner_names_urls_allowlist_and_demo_model(tmp_path: Path) -> None:
    # GIVEN demo settings with the default allowlist
    settings = Settings(data_dir=tmp_path / "data", port=8123, demo=True)
    # WHEN the banner is made
    text = "\n".join(banner(settings, "/some/sample"))
    # THEN it shows where the UI and GraphiQL are, what is allowed and that the model is a recording
    assert "http://127.0.0.1:8123/" in text
    assert "http://127.0.0.1:8123/graphql" in text
    assert f"{settings.samples_dir}/*" in text
    assert DEMO_NOTICE in text


def test_banner_names_the_host_names_the_api_answers_to(tmp_path: Path) -> None:
    # GIVEN a server on every address, with a public URL and one more allowed name
    settings = Settings(
        data_dir=tmp_path / "data", host="0.0.0.0", public_url="https://cody.example.com", allowed_hosts=["box.lan"]
    )
    # WHEN the banner is made THEN it says which Host names are served, and how to add one
    line = next(line for line in banner(settings, "/s") if "host names" in line)
    assert "127.0.0.1, ::1, box.lan, cody.example.com, localhost" in line
    assert "CODY_BATCH_ALLOWED_HOSTS" in line


def test_banner_without_a_key_or_demo_says_runs_will_fail(tmp_path: Path) -> None:
    # GIVEN no API key and no demo
    settings = Settings(data_dir=tmp_path / "data", host="0.0.0.0")
    # WHEN the banner is made THEN it warns and shows a reachable address
    text = "\n".join(banner(settings, "/s"))
    assert "ANTHROPIC_API_KEY" in text
    assert "http://127.0.0.1:8000/" in text
