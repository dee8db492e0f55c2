"""What of the machine a command sees: the argv prefix that isolates it, probed once per process.

Tried in order: bubblewrap (a read-only view of the filesystem with the private places hidden, the
workspace writable; no network; its own processes), then unshare (no network, its own processes),
then unshare (no network only), then nothing, which the tool box reports.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from core.errors import ConfigurationError
from core.models import CommandIsolation
from worker.git_dir import beside as git_dir_beside
from worker.git_dir import borrowed
from worker.run_config import CommandSandbox

logger = logging.getLogger(__name__)

# Namespaces of every kind (user, mount, network, PID, IPC, UTS, cgroup), the root bound read-only
# (submounts too), a minimal /dev with a private /dev/shm, and a /proc of the command's own PID
# namespace: the worker's and the server's processes, and their environ, are not in it. No
# `--new-session`: the command stays in the run's session, so it keeps the run's scheduling
# autogroup and with it the run's priority. The PID namespace ends with its first process, so
# whatever a command starts, `setsid` or not, dies when the command's shell does. No capability and
# no nested user namespace: with either (a worker running as root keeps every capability in the
# sandbox otherwise), a command could unmount an empty tmpfs and read what it hides.
BWRAP = (
    "bwrap",
    "--die-with-parent",
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
)
# Always hidden besides the run's own list: the user's home (credentials: ~/.netrc, ~/.config,
# ~/.aws, ~/.git-credentials, ~/.ssh) is added at call time, as is the temp dir (other runs'
# workspaces by default). /var/tmp is the other shared scratch space; /run holds sockets (a
# Docker or D-Bus socket reaches past any network namespace) and per-user keyrings.
SHARED_PLACES = (Path("/var/tmp"), Path("/run"))

# The fallback where bubblewrap is missing or refused: a user, network, PID and mount namespace with
# its own /proc, then network only. In the first, every process a command starts lives in its PID
# namespace, which the kernel empties when the command's shell ends, and `--kill-child` ends that
# shell when unshare dies.
ISOLATION_PREFIXES = (
    ("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"),
    ("unshare", "--user", "--map-root-user", "--net"),
)
# The command dies when the worker thread that started it does (a run killed outright).
PARENT_DEATH_PREFIX = ("setpriv", "--pdeathsig", "KILL", "--")


class IsolationUnavailable(ConfigurationError):
    """Commands must be isolated on this server, and this machine cannot isolate them."""


def _runs(argv: tuple[str, ...]) -> str | None:
    """None when `argv true` runs here, else why not (the tool's own words)."""
    if shutil.which(argv[0]) is None:
        return f"`{argv[0]}` is not installed"
    try:
        probe = subprocess.run([*argv, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as err:
        return str(err)
    if probe.returncode != 0:
        return probe.stderr.decode(errors="replace").strip() or f"exit code {probe.returncode}"
    return None


@functools.cache
def filesystem_isolation_refusal() -> str | None:
    """Why bubblewrap cannot isolate commands here, or None when it can."""
    return _runs((*BWRAP, "--"))


def filesystem_isolation_available() -> bool:
    """Whether commands see only the workspace of the machine's private places (bubblewrap works here)."""
    return filesystem_isolation_refusal() is None


@functools.cache
def _unshare_probe() -> tuple[tuple[str, ...], str | None]:
    """The first unshare prefix that runs here, or none and why the last one did not."""
    refusal = None
    for prefix in ISOLATION_PREFIXES:
        refusal = _runs(prefix)
        if refusal is None:
            return prefix, None
    return (), refusal


def isolation_prefix() -> tuple[str, ...]:
    """The unshare prefix that isolates a command here, probed once per process; empty if none works."""
    return _unshare_probe()[0]


@functools.cache
def lifetime_prefix() -> tuple[str, ...]:
    """The argv prefix that ties a command's life to the worker's, where setpriv exists; else empty."""
    return PARENT_DEATH_PREFIX if shutil.which(PARENT_DEATH_PREFIX[0]) else ()


def network_isolation_available() -> bool:
    """Whether commands run without network here."""
    return filesystem_isolation_available() or bool(isolation_prefix())


def process_isolation_available() -> bool:
    """Whether commands run in a PID namespace here (one that ends with the command)."""
    return filesystem_isolation_available() or "--pid" in isolation_prefix()


# A tool's refusal is stored on the run and shown to users: long enough for the kernel's hint, no more.
MAX_REASON_CHARS = 500


def _for_users(refusal: str) -> str:
    """A tool's refusal as a run may show it: the worker's home as `~`, cut to a sentence or two."""
    home = str(Path.home())
    # The home itself and paths under it, not a longer name that starts the same (/home/al in /home/alice).
    text = re.sub(re.escape(home) + r"(?![\w.-])", "~", refusal) if home != "/" else refusal
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def command_isolation(sandbox: CommandSandbox) -> CommandIsolation | None:
    """How this machine runs a run's commands, as the run records it; None when it refuses them."""
    filesystem_refusal = filesystem_isolation_refusal()
    if filesystem_refusal is None:
        return CommandIsolation(filesystem=True, network=True)
    if sandbox.required:
        return None  # every command raises IsolationUnavailable: none runs
    reasons = [f"bubblewrap: {_for_users(filesystem_refusal)}"]
    prefix, network_refusal = _unshare_probe()
    if network_refusal is not None:
        reasons.append(f"unshare: {_for_users(network_refusal)}")
    return CommandIsolation(filesystem=False, network=bool(prefix), reason="; ".join(reasons))


def _directories(paths: Iterable[Path]) -> list[Path]:
    """`paths` that are directories, resolved, without duplicates or the root, parents first."""
    found = {path.resolve() for path in paths if path.is_dir()}
    return sorted((path for path in found if path != Path("/")), key=lambda path: len(path.parts))


def bwrap_argv(cwd: Path, home: Path, hidden: Iterable[Path]) -> list[str]:
    """The bubblewrap prefix for one command: the private places empty, `cwd` and `home` writable."""
    argv = list(BWRAP)
    for place in _directories([Path.home(), Path(tempfile.gettempdir()), *SHARED_PLACES, *hidden]):
        argv += ["--tmpfs", str(place)]
    # Bound after the empty directories are mounted, so a workspace inside one of them shows through.
    # The git dir beside the work tree serves the command's own git; its place is the worker's rule,
    # never the `.git` file in the work tree, which a command writes.
    git_dir = git_dir_beside(cwd)
    for place in _directories([cwd, git_dir, home]):
        argv += ["--bind", str(place), str(place)]
    # The local repository a workspace was cloned from lends it its objects (`--shared`).
    for place in _directories(borrowed(git_dir)):
        argv += ["--ro-bind", str(place), str(place)]
    return [*argv, "--chdir", str(cwd.resolve()), "--"]


def command_prefix(cwd: Path, home: Path, sandbox: CommandSandbox) -> list[str]:
    """The argv prefix a command in `cwd` runs under: the best isolation this machine gives."""
    if filesystem_isolation_available():
        return [*lifetime_prefix(), *bwrap_argv(cwd, home, sandbox.hidden)]
    if sandbox.required:
        raise IsolationUnavailable(
            "Commands are refused: this server requires them to be isolated (CODY_BATCH_REQUIRE_COMMAND_ISOLATION), "
            f"and bubblewrap cannot isolate them on this machine ({filesystem_isolation_refusal()}). "
            "Install bubblewrap (Debian: apt-get install bubblewrap) and allow unprivileged user namespaces."
        )
    _warn_once()
    return [*lifetime_prefix(), *isolation_prefix()]


@functools.cache
def _warn_once() -> None:
    logger.warning(
        "commands run without filesystem isolation (%s); network isolation: %s",
        filesystem_isolation_refusal(),
        "yes" if isolation_prefix() else "no",
    )
