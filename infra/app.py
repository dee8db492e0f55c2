"""The CDK app (`cdk.json` runs it): one Cody Batch stack for the environment `-c env=dev|prod` names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk

from infra.environments import resolve
from infra.frontend import SITE_DIR
from infra.stack import CodyBatchStack

CONTEXT_KEYS = ("env", "allowedRepos", "model", "alarmEmail", "pullRequestRefreshSeconds")


def build(app: cdk.App, environ: Mapping[str, str] = os.environ, site_dir: Path = SITE_DIR) -> CodyBatchStack:
    """Add the stack the app's context asks for, with the secrets `environ` holds."""
    environment = resolve({key: app.node.try_get_context(key) for key in CONTEXT_KEYS}, environ)
    return CodyBatchStack(
        app,
        environment.stack_name,
        environment=environment,
        site_dir=site_dir,
        # Unset (as in tests and offline synth) means an environment-agnostic template.
        env=cdk.Environment(account=environ.get("CDK_DEFAULT_ACCOUNT"), region=environ.get("CDK_DEFAULT_REGION")),
        description=f"Cody Batch ({environment.name})",
    )


def main() -> None:
    """Synthesize to the output directory the CDK CLI gave."""
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
