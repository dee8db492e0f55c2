"""What one run is configured with: its limits, prices, command policy, scratch space, secrets and model endpoint.

Narrowed from the server's settings once, where the worker starts (`server/runtime/worker_config.py`),
so a run sees only what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr


@dataclass(frozen=True)
class RunLimits:
    """The default limits of one run; a job's or run's budget may set its own turns, tokens and cost."""

    max_turns: int
    max_tokens_per_call: int
    max_run_tokens: int
    max_cost_usd: float
    max_job_cost_usd: float
    max_wall_seconds: float
    fix_rounds: int
    command_timeout: float
    max_patch_bytes: int


@dataclass(frozen=True)
class CommandSandbox:
    """A run's rules for its commands: directories they must not see, and whether they may run unisolated."""

    hidden: tuple[Path, ...] = ()  # the data dir and the workspace dir; home and temp dir always
    required: bool = False  # refuse commands where bubblewrap cannot isolate them


@dataclass(frozen=True)
class RunConfig:
    """What every step of a run is configured with."""

    limits: RunLimits
    prices: dict[str, dict[str, float]]
    allow_commands: bool
    workspace_dir: Path | None  # None: the system temp dir
    git_token: SecretStr | None  # clones and pushes; None for anonymous access
    secrets: tuple[SecretStr, ...] = ()  # every secret the run knows: hidden from tool output and failure messages
    # what commands must not see, and whether they must be isolated
    command_sandbox: CommandSandbox = field(default_factory=CommandSandbox)

    def secret_values(self) -> tuple[str, ...]:
        """The secrets in clear, for redaction only."""
        return tuple(secret.get_secret_value() for secret in self.secrets)

    def git_token_value(self) -> str | None:
        """The git token in clear, for the clone's and the push's credential helper only."""
        return self.git_token.get_secret_value() if self.git_token else None


@dataclass(frozen=True)
class ModelEndpoint:
    """Where a run's Messages API requests go: the API key, and a base URL (a proxy or the demo's replay)."""

    api_key: SecretStr | None
    base_url: str | None = None
    demo: bool = False  # the base URL replays a recorded session instead of reaching Claude
