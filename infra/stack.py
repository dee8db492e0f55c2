"""The Cody Batch stack: one of each component, wired through their outputs and least-privilege grants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_batch as batch
from constructs import Construct

from infra.api import Api
from infra.data import Data
from infra.environments import Environment
from infra.frontend import SITE_DIR, Frontend
from infra.functions import settings_environment
from infra.notifications import Notifications
from infra.secret import deployment_secret
from infra.worker import Worker
from server.aws import batch_definitions as batch_defs


class CodyBatchStack(Stack):
    """Data, Worker, Api, Frontend and Notifications for one environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: Environment,
        site_dir: Path = SITE_DIR,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        data = Data(self, "Data", capacity=environment.capacity, retain=environment.retain_data)
        frontend = Frontend(self, "Frontend", retain=environment.retain_data)
        secret = deployment_secret(self, "Secret", existing=environment.secret, retain=environment.retain_data)
        settings = settings_environment(
            {
                "backend": "aws",
                "table": data.table.table_name,
                "bucket": data.bucket.bucket_name,
                "model": environment.model,
                "public_url": frontend.url,  # links back to a job, e.g. in pull requests
            }
        )
        if environment.allowed_repos:
            settings |= settings_environment({"allowed_repos": ",".join(environment.allowed_repos)})
        else:
            Annotations.of(self).add_warning_v2(
                "cody-batch:allowlist", "no repository is allowed: deploy with -c allowedRepos=github.com/OWNER/*"
            )
        worker = Worker(
            self,
            "Worker",
            data=data,
            environment=settings,
            secrets={name: batch.Secret.from_secrets_manager(secret, name) for name in batch_defs.WORKER_SECRETS},
            max_vcpus=environment.worker_max_vcpus,
            spot=environment.worker_spot,
            log_retention=environment.log_retention,
        )
        api = Api(
            self,
            "Api",
            data=data,
            worker=worker,
            environment={
                **settings,
                **settings_environment(
                    {
                        "job_queue": worker.job_queue.job_queue_arn,
                        "job_definition": worker.job_definition.job_definition_arn,
                    }
                ),
            },
            secret=secret,
            # Any origin: the API takes bearer tokens, never cookies, so a page elsewhere gains nothing a
            # script could not do; and the site's own name would make a cycle, as the site routes
            # patch downloads to this API.
            allowed_origins=["*"],
            memory_mb=environment.lambda_memory_mb,
            http_rate_limit=environment.http_rate_limit,
            websocket_rate_limit=environment.websocket_rate_limit,
            log_retention=environment.log_retention,
            refresh_minutes=environment.refresh_minutes,
        )
        frontend.publish(
            graphql_url=api.graphql_url, websocket_url=api.websocket_url, api_domain=api.http_domain, site_dir=site_dir
        )
        Notifications(
            self,
            "Notifications",
            functions=api.functions,
            stream_function=api.functions["stream"],
            dead_letters=api.dead_letters,
            job_queue=worker.job_queue,
            email=environment.alarm_email,
        )
        CfnOutput(self, "SiteUrl", value=frontend.url, description="The web UI")
        CfnOutput(self, "GraphqlUrl", value=api.graphql_url, description="GraphQL over HTTP (cody-batch smoke --url)")
        CfnOutput(self, "WebsocketUrl", value=api.websocket_url, description="Subscriptions (cody-batch smoke --ws)")
        CfnOutput(self, "SecretArn", value=secret.secret_arn, description="Put the keys and tokens here after deploy")
