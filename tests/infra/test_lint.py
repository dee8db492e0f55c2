"""cfn-lint over every synthesized template: no error, no warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
