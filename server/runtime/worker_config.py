"""The narrow configurations the worker and the GitHub code take, each built from Settings here, once."""

from __future__ import annotations

from core.settings import Settings
from worker.github.config import GitHubAccess, GitHubConfig
from worker.run_config import CommandSandbox, ModelEndpoint, RunConfig, RunLimits


def run_config(settings: Settings) -> RunConfig:
    """A run's limits, prices, command policy, scratch space and the secrets it must hide."""
    held = (settings.anthropic_api_key, settings.github_token, settings.api_token)
    return RunConfig(
        limits=RunLimits(
            max_turns=settings.max_turns,
            max_tokens_per_call=settings.max_tokens_per_call,
            max_run_tokens=settings.max_run_tokens,
            max_cost_usd=settings.max_cost_usd,
            max_job_cost_usd=settings.max_job_cost_usd,
            max_wall_seconds=settings.max_wall_seconds,
            fix_rounds=settings.fix_rounds,
            command_timeout=settings.command_timeout,
            max_patch_bytes=settings.max_patch_bytes,
        ),
        prices=settings.prices,
        allow_commands=settings.allow_commands,
        workspace_dir=settings.workspace_dir,
        git_token=settings.github_token,
        secrets=tuple(secret for secret in held if secret),
        command_sandbox=command_sandbox(settings),
    )


def command_sandbox(settings: Settings) -> CommandSandbox:
    """What commands must not see (the data dir: every job's threads; the workspace dir: other runs'
    clones) and whether they may run where bubblewrap cannot isolate them."""
    hidden = [settings.data_dir.resolve()]
    if settings.workspace_dir is not None:
        hidden.append(settings.workspace_dir.resolve())
    return CommandSandbox(hidden=tuple(hidden), required=settings.require_command_isolation)


def model_endpoint(settings: Settings) -> ModelEndpoint:
    """Where the run's model requests go (read when the worker starts: the demo sets it before that)."""
    return ModelEndpoint(api_key=settings.anthropic_api_key, base_url=settings.anthropic_base_url, demo=settings.demo)


def github_access(settings: Settings) -> GitHubAccess:
    """The GitHub API client's token, base URL and pacing."""
    return GitHubAccess(
        token=settings.github_token,
        api_url=settings.github_api_url,
        max_wait=settings.github_max_wait,
        write_interval=settings.github_write_interval,
        pace_dir=settings.data_dir.resolve() / "github-pace",
    )


def github_config(settings: Settings) -> GitHubConfig:
    """What the pull-request gate and the publisher need."""
    return GitHubConfig(
        access=github_access(settings),
        allowlist=tuple(settings.allowlist),
        metadata_ttl=settings.metadata_ttl,
        git_author=settings.git_author,
        public_url=settings.public_url,
    )
