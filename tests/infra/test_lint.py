"""cfn-lint over every synthesized template, and the Lambda bundling that needs no Docker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aws_cdk import BundlingOptions, DockerImage

from infra.bundling import PLATFORMS, PipBundling
from infra.sources import ROOT
from tests.infra.conftest import Assembly

BIN = Path(sys.executable).parent


def test_cfn_lint_finds_no_error_in_any_template(assembly: Assembly) -> None:
    templates = assembly.template_files()
    assert len(templates) == 3
    # Run from the root so .cfnlintrc.yaml applies; exit code 0 means no error and no warning.
    result = subprocess.run(
        [BIN / "cfn-lint", "--format", "parseable", "--", *templates], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_report_a_broken_template(tmp_path: Path, assembly: Assembly) -> None:
    # GIVEN a synthesized template with a misspelt property: the check above can fail
    template = assembly.template_files()[0]
    broken = tmp_path / "broken.template.json"
    broken.write_text(template.read_text().replace('"BillingMode"', '"BilingMode"'))
    result = subprocess.run([BIN / "cfn-lint", "--", broken], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode & 2, result.stdout
    assert "BilingMode" in result.stdout


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
