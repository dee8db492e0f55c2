"""The AWS Batch side of the stack as data: compute environment, queue and worker job definition.

`cody-batch aws bootstrap` creates these on an emulator; the CDK stack builds the same
resources from the same values, so both run the worker the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

WORKER_COMMAND: Final = ("cody-batch", "worker", "run")
"""The container's program; each submitted job appends the job id (and `--repo N` for one run)."""
WORKER_VCPUS: Final = "1"
WORKER_MEMORY_MIB: Final = "4096"
MAX_VCPUS: Final = 64
"""Children running at once across all jobs: 64 one-vCPU workers."""
JOB_TIMEOUT_SECONDS: Final = 3600
"""Above the agent's wall time (CODY_BATCH_MAX_WALL_SECONDS, 1800 s) plus clone and checks."""
PLATFORM: Final = "FARGATE"
RETRY_ATTEMPTS: Final = 3
WORKER_SECRETS: Final = ("ANTHROPIC_API_KEY", "GITHUB_TOKEN")
"""Keys of the stack's secret the container gets at start: it calls Claude and clones, pushes, opens pull requests."""
CAPACITY_LOST: Final = ("Host EC2*", "Your Spot Task was interrupted*", "Timeout waiting for network interface*")
"""Batch's status reasons when the capacity under a run went away: the only failures Batch retries."""


def retry_strategy() -> dict[str, Any]:
    """`retryStrategy`: RETRY when the host, Spot capacity or image pull failed under a run; EXIT otherwise.

    A run that failed or timed out was recorded so by its worker (it handles SIGTERM), and a
    retry is the user's decision (retryRepositories): retried blindly, it would spend the
    model budget again.
    """
    rules: list[dict[str, str]] = [{"onStatusReason": reason, "action": "RETRY"} for reason in CAPACITY_LOST]
    rules.append({"onReason": "CannotPullContainerError:*", "action": "RETRY"})
    rules.append({"onReason": "*", "action": "EXIT"})
    return {"attempts": RETRY_ATTEMPTS, "evaluateOnExit": rules}


def compute_environment_kwargs(
    name: str, subnets: Sequence[str], security_groups: Sequence[str], service_role: str | None = None
) -> dict[str, Any]:
    """boto3 `create_compute_environment` arguments: managed Fargate capacity."""
    kwargs: dict[str, Any] = {
        "computeEnvironmentName": name,
        "type": "MANAGED",
        "state": "ENABLED",
        "computeResources": {
            "type": PLATFORM,
            "maxvCpus": MAX_VCPUS,
            "subnets": list(subnets),
            "securityGroupIds": list(security_groups),
        },
    }
    if service_role:
        kwargs["serviceRole"] = service_role
    return kwargs


def job_queue_kwargs(name: str, compute_environment_arn: str) -> dict[str, Any]:
    """boto3 `create_job_queue` arguments: one queue over the compute environment."""
    return {
        "jobQueueName": name,
        "state": "ENABLED",
        "priority": 1,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": compute_environment_arn}],
    }


def secret_reference(secret_arn: str, key: str) -> str:
    """A container secret's `valueFrom`: one JSON key of a Secrets Manager secret (current version)."""
    return f"{secret_arn}:{key}::"


def job_definition_kwargs(
    name: str,
    image: str,
    environment: Mapping[str, str],
    execution_role: str,
    job_role: str | None = None,
    secret_arn: str | None = None,
) -> dict[str, Any]:
    """boto3 `register_job_definition` arguments: the worker container on Fargate (its keys from `secret_arn`)."""
    container: dict[str, Any] = {
        "image": image,
        "command": list(WORKER_COMMAND),
        "resourceRequirements": [
            {"type": "VCPU", "value": WORKER_VCPUS},
            {"type": "MEMORY", "value": WORKER_MEMORY_MIB},
        ],
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "executionRoleArn": execution_role,
        "networkConfiguration": {"assignPublicIp": "ENABLED"},
        "fargatePlatformConfiguration": {"platformVersion": "LATEST"},
    }
    if job_role:
        container["jobRoleArn"] = job_role
    if secret_arn:
        container["secrets"] = [{"name": key, "valueFrom": secret_reference(secret_arn, key)} for key in WORKER_SECRETS]
    return {
        "jobDefinitionName": name,
        "type": "container",
        "platformCapabilities": [PLATFORM],
        "containerProperties": container,
        "retryStrategy": retry_strategy(),
        "timeout": {"attemptDurationSeconds": JOB_TIMEOUT_SECONDS},
        "propagateTags": True,
    }
