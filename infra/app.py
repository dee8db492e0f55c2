"""The CDK app (`cdk.json` runs it): one Cody Batch stack for the environment `-c env=dev|prod` names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Annotations

from core.settings import SECRET_VARIABLES
from infra.environments import resolve
from infra.frontend import SITE_DIR
from infra.stack import CodyBatchStack

CONTEXT_KEYS = ("env", "allowedRepos", "model", "alarmEmail", "pullRequestRefreshSeconds", "secret")


def build(app: cdk.App, environ: Mapping[str, str] = os.environ, site_dir: Path = SITE_DIR) -> CodyBatchStack:
    """Add the stack the app's context asks for, in the account and region `environ` names."""
    environment = resolve({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})
    stack = CodyBatchStack(
        app,
        environment.stack_name,
        environment=environment,
        site_dir=site_dir,
        # Unset (as in tests and offline synth) means an environment-agnostic template.
        env=cdk.Environment(account=environ.get("CDK_DEFAULT_ACCOUNT"), region=environ.get("CDK_DEFAULT_REGION")),
        description=f"Cody Batch ({environment.name})",
    )
    in_shell = [name for name in SECRET_VARIABLES if environ.get(name)]
    if in_shell:
        # Earlier versions deployed these from the shell; say where they go now (the names, never a value).
        Annotations.of(stack).add_warning_v2(
            "cody-batch:shell-secrets",
            f"{', '.join(in_shell)} in this shell are not deployed: put them in the secret the SecretArn output names",
        )
    return stack


def main() -> None:
    """Synthesize to the output directory the CDK CLI gave."""
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
