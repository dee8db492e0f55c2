"""`cody-batch aws bootstrap`: create the stack's table, bucket and Batch queue on an emulator.

The CDK stack creates these on AWS; this builds the same resources, from the same
definitions (store/dynamo_table.py, server/aws/batch_definitions.py), on moto server or
any endpoint named by AWS_ENDPOINT_URL, so the AWS code path runs on one machine.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.errors import ConfigurationError
from core.settings import SECRET_VARIABLES, Settings
from server.aws import batch_definitions as batch_defs
from store.dynamo_table import create_table

ClientFactory = Callable[[str], Any]

DEFAULT_TABLE = "cody-batch"
DEFAULT_BUCKET = "cody-batch-artifacts"
DEFAULT_JOB_QUEUE = "cody-batch-workers"
DEFAULT_JOB_DEFINITION = "cody-batch-worker"
SECRET_NAME = "cody-batch"
COMPUTE_ENVIRONMENT = "cody-batch-fargate"
WORKER_ROLE = "cody-batch-worker"
WORKER_IMAGE = "cody-batch-worker:latest"
_ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class Provisioned:
    """What bootstrap made, by the names the backend reads them under."""

    table: str
    bucket: str
    job_queue: str
    job_definition: str
    secret_arn: str | None = None
    """The secret of the keys and tokens, once made."""

    def worker_environment(self) -> dict[str, str]:
        """The settings a worker needs: where the state lives."""
        return {"CODY_BATCH_BACKEND": "aws", "CODY_BATCH_TABLE": self.table, "CODY_BATCH_BUCKET": self.bucket}

    def environment(self) -> dict[str, str]:
        """The settings that point the AWS backend (API and workers) at these resources."""
        return {
            **self.worker_environment(),
            "CODY_BATCH_JOB_QUEUE": self.job_queue,
            "CODY_BATCH_JOB_DEFINITION": self.job_definition,
        }


def names(settings: Settings) -> Provisioned:
    """Resource names from settings, with the defaults bootstrap uses."""
    return Provisioned(
        table=settings.table or DEFAULT_TABLE,
        bucket=settings.bucket or DEFAULT_BUCKET,
        job_queue=settings.job_queue or DEFAULT_JOB_QUEUE,
        job_definition=settings.job_definition or DEFAULT_JOB_DEFINITION,
    )


def provision(
    settings: Settings, client: ClientFactory, endpoint_url: str | None, secrets: Mapping[str, str] | None = None
) -> Provisioned:
    """Create (or keep) the table with its stream, the bucket, the secret (holding `secrets`), the Batch resources."""
    if not endpoint_url:
        raise ConfigurationError(
            "aws bootstrap creates resources on an emulator: set AWS_ENDPOINT_URL (e.g. moto server);"
            " on AWS the CDK stack creates them"
        )
    made = names(settings)
    create_table(client("dynamodb"), made.table)
    _create_bucket(client("s3"), made.bucket)
    made = replace(made, secret_arn=_secret(client("secretsmanager"), secrets or {}))
    batch = client("batch")
    role = _worker_role(client("iam"))
    environment = _compute_environment(batch, client("ec2"), role)
    _job_queue(batch, made.job_queue, environment)
    _job_definition(batch, made, role)
    return made


def _create_bucket(s3: Any, bucket: str) -> None:
    region = s3.meta.region_name
    # Outside us-east-1 S3 wants the bucket's region named: a shell set for eu-west-1 was refused.
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket, **where)


def _secret(secretsmanager: Any, values: Mapping[str, str]) -> str:
    """The secret as the stack makes it (every key, empty when unset), holding `values`; its ARN."""
    document = json.dumps({name: values.get(name) or "" for name in SECRET_VARIABLES})
    try:
        return str(secretsmanager.create_secret(Name=SECRET_NAME, SecretString=document)["ARN"])
    except secretsmanager.exceptions.ResourceExistsException:
        return str(secretsmanager.put_secret_value(SecretId=SECRET_NAME, SecretString=document)["ARN"])


def _worker_role(iam: Any) -> str:
    try:
        return str(iam.get_role(RoleName=WORKER_ROLE)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=WORKER_ROLE, AssumeRolePolicyDocument=json.dumps(_ECS_TASKS_TRUST))
        return str(role["Role"]["Arn"])


def _compute_environment(batch: Any, ec2: Any, role: str) -> str:
    found = batch.describe_compute_environments(computeEnvironments=[COMPUTE_ENVIRONMENT])["computeEnvironments"]
    if found:
        return str(found[0]["computeEnvironmentArn"])
    # The emulator's default VPC stands in for the stack's private subnets.
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    groups = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    kwargs = batch_defs.compute_environment_kwargs(COMPUTE_ENVIRONMENT, subnets[:2], groups[:1], service_role=role)
    return str(batch.create_compute_environment(**kwargs)["computeEnvironmentArn"])


def _job_queue(batch: Any, name: str, environment_arn: str) -> None:
    if not batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
        batch.create_job_queue(**batch_defs.job_queue_kwargs(name, environment_arn))


def _job_definition(batch: Any, made: Provisioned, role: str) -> None:
    kwargs = batch_defs.job_definition_kwargs(
        made.job_definition, WORKER_IMAGE, made.worker_environment(), execution_role=role, secret_arn=made.secret_arn
    )
    active = batch.describe_job_definitions(jobDefinitionName=made.job_definition, status="ACTIVE")
    # A definition from before the secret existed (a long-lived emulator) gets a revision that names it.
    wanted = kwargs["containerProperties"].get("secrets")
    if any(found["containerProperties"].get("secrets") == wanted for found in active["jobDefinitions"]):
        return
    batch.register_job_definition(**kwargs)
