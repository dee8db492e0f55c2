"""Lambda code without Docker: what goes in (and stays out) of the functions' bundle, and pip bundling itself."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import grimp
from aws_cdk import BundlingOptions, DockerImage
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.bundling import (
    GITHUB_HANDLER_MODULE,
    HANDLER_MODULE,
    PLATFORMS,
    PipBundling,
    function_packages,
    function_requirements,
    left_out_of_functions,
)
from infra.sources import project_packages


def _name(requirement: Requirement) -> str:
    return canonicalize_name(requirement.name)


def _installed(requirements: list[str]) -> set[str]:
    """The distributions pip installs for `requirements`: them and their dependencies, as this venv has them."""
    wanted = [(Requirement(req), "") for req in requirements]
    seen: set[str] = set()
    while wanted:
        requirement, extra = wanted.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = _name(requirement)
        extras = sorted(requirement.extras)
        if name in seen and not extras:
            continue
        seen.add(name)
        for dependency in importlib.metadata.requires(name) or []:
            for chosen in ["", *extras]:
                wanted.append((Requirement(dependency), chosen))
    return seen


def _loaded(handler_module: str) -> tuple[set[str], set[str]]:
    """Every module `handler_module` loads, directly or through our packages, and the distributions behind them."""
    graph = grimp.build_graph(*project_packages(), include_external_packages=True)
    loaded = graph.find_upstream_modules(handler_module) | {handler_module}
    providers = importlib.metadata.packages_distributions()
    external = {module.split(".")[0] for module in loaded} - set(project_packages())
    return loaded, {canonicalize_name(dist) for module in external for dist in providers.get(module, [])}


def test_every_library_the_handlers_import_is_in_the_bundle() -> None:
    # GIVEN every module the handler module loads, directly or through our packages
    loaded, needed = _loaded(HANDLER_MODULE)
    # WHEN the bundle's requirements are worked out
    bundled = _installed(function_requirements())
    # THEN each distribution the handlers need is installed into it, and none of them is left out
    assert needed, "the handler module imports third-party libraries"
    assert needed - bundled == set()
    assert needed & left_out_of_functions() == set()
    # AND the bundle carries our packages the handlers load, never the worker's
    ours = {module.split(".")[0] for module in loaded} & set(project_packages())
    assert ours <= set(function_packages())
    assert "worker" not in function_packages()


def test_the_github_functions_bundle_has_pygithub_and_the_workers_github_code_but_no_claude_or_git() -> None:
    # GIVEN every module the GitHub function's handler loads
    _, needed = _loaded(GITHUB_HANDLER_MODULE)
    # WHEN its bundle's requirements are worked out
    bundled = _installed(function_requirements(GITHUB_HANDLER_MODULE))
    # THEN PyGithub and everything else it loads is in, and Claude's SDK, GitPython and uvicorn are out
    assert "pygithub" in needed and needed - bundled == set()
    assert not {"anthropic", "gitpython", "uvicorn"} & bundled
    assert "worker" in function_packages(GITHUB_HANDLER_MODULE)


def test_claude_git_github_and_the_local_server_stay_out_of_the_bundle() -> None:
    assert {"anthropic", "pygithub", "uvicorn"} <= left_out_of_functions()
    assert not {"anthropic", "pygithub", "uvicorn"} & _installed(function_requirements())


def test_pip_bundling_installs_linux_wheels_and_copies_the_packages(tmp_path: Path) -> None:
    # GIVEN a source tree with one package, and a dependency that has compiled Linux wheels
    source = tmp_path / "source"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    out = tmp_path / "out"
    out.mkdir()
    bundling = PipBundling(source=source, requirements=["pyyaml>=6"], packages=["pkg"])
    # WHEN it bundles (CDK passes the options it was given; none is used)
    done = bundling.try_bundle(str(out), BundlingOptions(image=DockerImage.from_registry("unused")))
    # THEN it did not need Docker, and the output holds our package and a manylinux x86_64 build for Lambda
    assert done is True
    assert (out / "pkg" / "__init__.py").read_text() == "VALUE = 1\n"
    (wheel,) = [p for p in out.glob("*.dist-info/WHEEL") if p.parent.name.lower().startswith("pyyaml-")]
    tags = [line.removeprefix("Tag: ") for line in wheel.read_text().splitlines() if line.startswith("Tag: ")]
    assert set(tags) & {f"cp312-cp312-{platform}" for platform in PLATFORMS}, tags
    assert list(out.glob("yaml/_yaml.cpython-312-x86_64-linux-gnu.so"))
