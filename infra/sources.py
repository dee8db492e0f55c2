"""The project's shippable sources, staged once per synth for the Lambda code and the worker image."""

from __future__ import annotations

import functools
import shutil
import tomllib
from pathlib import Path

from aws_cdk import Stage
from constructs import Construct

ROOT = Path(__file__).resolve().parent.parent
FILES = ("pyproject.toml", "Dockerfile")


def project_packages() -> list[str]:
    """The import packages the project ships (pyproject's setuptools `include`, without globs)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [name.rstrip("*") for name in config["tool"]["setuptools"]["packages"]["find"]["include"]]


def project_dependencies() -> list[str]:
    """The project's runtime dependencies, as pyproject.toml pins them."""
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


@functools.cache
def _stage(outdir: str) -> Path:
    target = Path(outdir) / "sources"
    shutil.rmtree(target, ignore_errors=True)  # a cloud assembly is reused between synths
    target.mkdir(parents=True)
    for name in FILES:
        shutil.copy2(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in project_packages():
        shutil.copytree(ROOT / package, target / package, ignore=ignore)
    return target


def staged_sources(scope: Construct) -> Path:
    """A copy of pyproject.toml, the Dockerfile and the packages inside the cloud assembly.

    Assets point here rather than at the project root: fingerprinting the root walks the
    virtualenv and node_modules (tens of thousands of files) on every synth.
    """
    return _stage(Stage.of(scope).outdir)  # type: ignore[union-attr]
