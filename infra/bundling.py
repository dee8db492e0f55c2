"""Lambda code without Docker: pip installs Linux wheels into the asset, then our packages are copied in."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.sources import ROOT, project_dependencies, project_packages

PYTHON_VERSION = "3.12"
RUNTIME = lambda_.Runtime.PYTHON_3_12
# Lambda's x86_64 runtimes run Amazon Linux 2023 (glibc 2.34): manylinux2014 wheels and newer 2_28 ones load.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
HANDLER_MODULE = "server.lambdas"
GITHUB_HANDLER_MODULE = "server.aws.github_lambda"
"""The GitHub function's own module: its bundle has PyGithub and the worker's GitHub code."""
SERVER_ONLY = frozenset({"uvicorn"})
"""Imported by `cody-batch serve` alone: on Lambda, API Gateway is the server."""


def _distribution(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower()


def handler_forbidden_modules(handler_module: str = HANDLER_MODULE) -> list[str]:
    """What the import contract on a handler module forbids it to load (pyproject.toml, import-linter)."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return [
        module
        for contract in contracts
        if contract["type"] == "forbidden" and handler_module in contract["source_modules"]
        for module in contract["forbidden_modules"]
    ]


def left_out_of_functions(handler_module: str = HANDLER_MODULE) -> frozenset[str]:
    """Distributions a handler never loads: those behind its forbidden modules, and the local server's."""
    providers = importlib.metadata.packages_distributions()
    forbidden = {
        dist.lower() for module in handler_forbidden_modules(handler_module) for dist in providers.get(module, [])
    }
    return frozenset(forbidden | SERVER_ONLY)


def function_requirements(handler_module: str = HANDLER_MODULE) -> list[str]:
    """The project's runtime dependencies as pyproject.toml pins them, less those the handler never loads."""
    left_out = left_out_of_functions(handler_module)
    return [req for req in project_dependencies() if _distribution(req) not in left_out]


def function_packages(handler_module: str = HANDLER_MODULE) -> list[str]:
    """The project's packages the handler may load (for server.lambdas, the worker stays in its image)."""
    forbidden = set(handler_forbidden_modules(handler_module))
    return [package for package in project_packages() if package not in forbidden]


def runtime_python() -> str | None:
    """The real path of an interpreter of the Lambda runtime's Python version on this machine, or None."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION:
        return sys.executable
    found = shutil.which(f"python{PYTHON_VERSION}")
    if found is None:
        return None
    # A pyenv shim runs the version PYENV_VERSION names; any other interpreter ignores it.
    probe = subprocess.run(
        [found, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYENV_VERSION": PYTHON_VERSION},
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def compile_bundle(output_dir: str) -> None:
    """Compile every module of the bundle for the runtime's Python, valid whatever the files' times.

    The asset's zip gives every file the same 1980 timestamp, so the timestamp-checked bytecode pip
    writes never matches on Lambda, and /var/task is read-only: each cold start would compile every
    module it imports, several times the import itself. Unchecked hash-based bytecode is used as is.
    """
    python = runtime_python()
    if python is None:
        print(
            f"warning: no python{PYTHON_VERSION} here: the functions compile their modules on each cold start",
            file=sys.stderr,
        )
        return
    compile_all = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    subprocess.run([*compile_all, output_dir], check=True)


@jsii.implements(ILocalBundling)
class PipBundling:
    """Bundles on this machine: `pip install --platform ... --only-binary=:all: --target`, then a copy."""

    def __init__(self, *, source: Path, requirements: list[str], packages: list[str]) -> None:
        self.source = source
        self.requirements = requirements
        self.packages = packages

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        """Fill output_dir with the dependencies and the project's packages; True means Docker is not needed."""
        platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                *platforms, "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION,
                "--target", output_dir, *self.requirements,
            ],
            check=True,
        )  # fmt: skip
        for package in self.packages:
            shutil.copytree(self.source / package, Path(output_dir) / package, dirs_exist_ok=True)
        compile_bundle(output_dir)
        return True


def lambda_code(source: Path, handler_module: str = HANDLER_MODULE) -> lambda_.Code:
    """The code asset of the functions running `handler_module`: its dependencies plus the project's
    packages from `source` (server.lambdas: the three API functions; the GitHub function has its own)."""
    return lambda_.Code.from_asset(
        str(source),
        exclude=["Dockerfile"],  # the image's recipe is no part of the functions' code
        bundling=BundlingOptions(
            # Unused by the local bundler, but CDK hashes the bundling options into the asset's
            # fingerprint: one source, two bundles, and without it both would be one asset.
            environment={"HANDLER_MODULE": handler_module},
            # Only used if local bundling declines, which it never does; CDK requires an image.
            image=DockerImage.from_registry(f"python:{PYTHON_VERSION}"),
            # jsii calls try_bundle(output_dir, options) with the options as one struct, not as the
            # keyword arguments its generated Protocol declares.
            local=PipBundling(  # type: ignore[arg-type]
                source=source,
                requirements=function_requirements(handler_module),
                packages=function_packages(handler_module),
            ),
        ),
    )
