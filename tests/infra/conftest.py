"""The stack synthesized once per session (bundling skipped): dev from a shell holding secrets, prod, and dev
on an existing secret."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before aws_cdk starts its Node.js process, which reads these once. CDK's built-in template
# validation takes ~20 s per synth and duplicates cfn-lint, which the tests run instead.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ["CDK_VALIDATION"] = "false"

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.app import build
from infra.environments import resolve
from infra.frontend import SITE_DIR
from infra.stack import CodyBatchStack

ALLOWED = "github.com/acme/*,github.com/acme-labs/*"
EXISTING_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acme/cody-batch-AbCdEf"
SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-test-secret-value",
    "GITHUB_TOKEN": "ghp_test_secret_value",
    "CODY_BATCH_API_TOKEN": "api-token-test-secret-value",
    "CODY_BATCH_GITHUB_WEBHOOK_SECRET": "webhook-test-secret-value",
}


@dataclass(frozen=True)
class Assembly:
    """The synthesized cloud assembly and each stack's template."""

    outdir: Path
    dev: Template
    prod: Template
    existing_secret: Template

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def _site(tmp: Path) -> Path:
    """The built SPA, or a one-page stand-in when it is not built (the template is the same)."""
    if (SITE_DIR / "index.html").is_file():
        return SITE_DIR
    site = tmp / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>Cody Batch</title>")
    return site


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    """dev through the app's own entry point from a shell with every secret set; prod; dev on an existing secret."""
    tmp = tmp_path_factory.mktemp("cdk")
    app = cdk.App(
        outdir=str(tmp / "cdk.out"),
        context={"aws:cdk:bundling-stacks": [], "env": "dev", "allowedRepos": ALLOWED},
    )
    site = _site(tmp)
    dev = build(app, environ=SECRETS, site_dir=site)
    prod = CodyBatchStack(
        app,
        "CodyBatch-prod",
        environment=resolve({"env": "prod", "allowedRepos": ALLOWED, "alarmEmail": "ops@example.com"}),
        site_dir=site,
    )
    existing_secret = CodyBatchStack(
        app,
        "CodyBatch-existing",
        environment=resolve({"env": "dev", "allowedRepos": ALLOWED, "secret": EXISTING_SECRET}),
        site_dir=site,
    )
    app.synth()
    return Assembly(
        outdir=tmp / "cdk.out",
        dev=Template.from_stack(dev),
        prod=Template.from_stack(prod),
        existing_secret=Template.from_stack(existing_secret),
    )
