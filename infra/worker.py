"""Worker: AWS Batch on Fargate running the worker image, one container per repository run."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.data import Data
from infra.functions import log_group
from infra.sources import staged_sources
from server.aws import batch_definitions as batch_defs
from server.aws.batch_failures import failed_jobs_pattern


def retry_strategies() -> list[batch.RetryStrategy]:
    """The retry rules of server/aws/batch_definitions.py (the emulator's job definition uses them too)."""
    return [
        batch.RetryStrategy.of(
            batch.Action(rule["action"]),
            batch.Reason.custom(on_status_reason=rule.get("onStatusReason"), on_reason=rule.get("onReason")),
        )
        for rule in batch_defs.retry_strategy()["evaluateOnExit"]
    ]


def failed_jobs(job_queue: batch.IJobQueue) -> events.EventPattern:
    """The EventBridge pattern of a FAILED job of `job_queue` (server/aws/batch_failures.py; the emulator's too)."""
    pattern = failed_jobs_pattern(job_queue.job_queue_arn)
    return events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"])


class Worker(Construct):
    """VPC, Fargate compute environment, job queue and the worker's job definition."""

    job_queue: batch.JobQueue
    job_definition: batch.EcsJobDefinition
    log_group: logs.LogGroup

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        environment: Mapping[str, str],
        secrets: Mapping[str, batch.Secret],
        max_vcpus: int,
        spot: bool,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        # Public subnets without NAT gateways: a task gets a public IP for GitHub, Anthropic and
        # AWS APIs, and its security group admits nothing inbound (a NAT gateway costs more
        # than a small deployment's whole compute).
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
        )
        security_group = ec2.SecurityGroup(
            self, "Tasks", vpc=vpc, allow_all_outbound=False, description="Cody Batch worker tasks: HTTPS out only"
        )
        security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to GitHub, Anthropic and AWS")
        compute = batch.FargateComputeEnvironment(
            self,
            "Compute",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[security_group],
            maxv_cpus=max_vcpus,
            spot=spot,
        )
        self.job_queue = batch.JobQueue(
            self, "Queue", compute_environments=[batch.OrderedComputeEnvironment(compute_environment=compute, order=1)]
        )
        job_role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        data.table.grant_read_write_data(job_role)
        data.bucket.grant_read_write(job_role)
        self.log_group = log_group(self, "Logs", retention=log_retention)
        self.job_definition = batch.EcsJobDefinition(
            self,
            "Job",
            container=batch.EcsFargateContainerDefinition(
                self,
                "Container",
                image=ecs.ContainerImage.from_asset(str(staged_sources(self))),
                cpu=float(batch_defs.WORKER_VCPUS),
                memory=Size.mebibytes(int(batch_defs.WORKER_MEMORY_MIB)),
                command=list(batch_defs.WORKER_COMMAND),
                environment=dict(environment),
                # Injected by ECS at container start (its execution role reads the secret): the job
                # definition names keys of the secret, never their values.
                secrets=dict(secrets),
                job_role=job_role,
                assign_public_ip=True,
                logging=ecs.LogDriver.aws_logs(stream_prefix="worker", log_group=self.log_group),
            ),
            retry_attempts=batch_defs.retry_strategy()["attempts"],
            retry_strategies=retry_strategies(),
            timeout=Duration.seconds(batch_defs.JOB_TIMEOUT_SECONDS),
            propagate_tags=True,
        )

    def grant_submit(self, grantee: iam.IGrantable, *, cancel: bool = True) -> None:
        """Let `grantee` submit worker jobs to this queue and (with `cancel`) terminate them."""
        self.job_definition.grant_submit_job(grantee, self.job_queue)
        # Job ARNs exist only once submitted: scope to this account's jobs. TagResource: SubmitJob carries tags.
        job_arns = Stack.of(self).format_arn(service="batch", resource="job", resource_name="*")
        job_actions = ["batch:TerminateJob", "batch:TagResource"] if cancel else ["batch:TagResource"]
        iam.Grant.add_to_principal(grantee=grantee, actions=job_actions, resource_arns=[job_arns])

    def grant_find(self, grantee: iam.IGrantable) -> None:
        """Let `grantee` list and describe Batch jobs: how the sweep finds a job a dead submitter submitted."""
        # Neither action takes a resource: IAM accepts only "*" for them.
        actions = ["batch:ListJobs", "batch:DescribeJobs"]
        iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=["*"])
