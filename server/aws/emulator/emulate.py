"""`cody-batch aws emulate`: the AWS code path — Lambda handlers, DynamoDB, Streams, S3, Batch — on one machine.

moto server stands in for AWS (or the endpoint AWS_ENDPOINT_URL names); one port stands in
for API Gateway (HTTP and WebSocket APIs, `@connections`) and CloudFront (the SPA); a
poller stands in for the stream's event source mapping, and local processes for Batch's
containers. The handlers, store and dispatcher are the ones that run on AWS.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from core.settings import SECRET_VARIABLES, Settings
from server.aws.batch_failures import failed_jobs_pattern
from server.aws.batch_submission import SWEEP_MINUTES
from server.aws.deployment_secret import FUNCTION_SECRETS
from server.aws.emulator.batch_events import EventRule
from server.aws.emulator.gateway import ApiGateway, LambdaFunction
from server.aws.emulator.lambda_invoke import LambdaInvokeApi
from server.aws.emulator.local_batch import LocalBatch
from server.aws.emulator.moto_endpoint import MotoEndpoint, point_environment_at, start_endpoint
from server.aws.emulator.schedule import ScheduleRule
from server.aws.emulator.stream_poller import StreamPoller
from server.aws.provision import SECRET_NAME, Provisioned, names, provision
from server.runtime.pull_request_poller import refresh_interval

NOTICE = "the AWS code path on an emulator (moto server), not AWS"
GITHUB_FUNCTION = "github"


def emulator_client(endpoint_url: str) -> Callable[[str], Any]:
    """A client factory for the emulator's own calls (bootstrap, stream reads, the Batch queue).

    Account-scoped endpoints are off: botocore 1.44.4 and later would send DynamoDB Streams
    calls to an `<account>.` host that moto server does not answer.
    """
    import boto3

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint_url, config=Config(account_id_endpoint_mode="disabled"))

    return client


def configure(
    settings: Settings, endpoint: MotoEndpoint, base_url: str, environ: MutableMapping[str, str]
) -> Provisioned:
    """Point this process, the handlers' settings and the workers at the emulator; the resource names."""
    point_environment_at(endpoint, environ)
    made = names(settings)
    values = {
        **made.environment(),
        "CODY_BATCH_DATA_DIR": str(settings.data_dir.resolve()),
        # The handlers post to `@connections` on this port; clients open the socket at /graphql.
        "CODY_BATCH_WS_ENDPOINT": base_url,
        "CODY_BATCH_WEBSOCKET_URL": "ws" + base_url.removeprefix("http") + "/graphql",
        # The HTTP function invokes the GitHub function through Lambda's Invoke API on this port.
        "CODY_BATCH_GITHUB_FUNCTION": GITHUB_FUNCTION,
        "AWS_ENDPOINT_URL_LAMBDA": base_url,
    }
    if settings.demo:
        values["CODY_BATCH_DEMO"] = "true"
    environ.update(values)
    settings.backend = "aws"
    settings.table, settings.bucket = made.table, made.bucket
    settings.job_queue, settings.job_definition = made.job_queue, made.job_definition
    settings.ws_endpoint = base_url
    settings.github_function = GITHUB_FUNCTION
    return made


def hand_secrets_over(made: Provisioned, environ: MutableMapping[str, str]) -> None:
    """Leave the keys and tokens to the emulated secret alone, as on AWS: the functions read it (each key
    any function of the stack reads: here they share one process) and the Batch children get it from
    their job definition; neither finds a value in this process's environment."""
    for name in SECRET_VARIABLES:
        environ.pop(name, None)
    environ["CODY_BATCH_SECRET_ARN"] = made.secret_arn or SECRET_NAME
    environ["CODY_BATCH_SECRET_KEYS"] = ",".join(dict.fromkeys(k for keys in FUNCTION_SECRETS.values() for k in keys))


@dataclass
class Emulator:
    """Every stand-in, started and stopped together around the gateway app."""

    settings: Settings
    endpoint: MotoEndpoint
    made: Provisioned
    gateway: ApiGateway
    poller: StreamPoller
    batch: LocalBatch
    failed_jobs: EventRule
    refresh: ScheduleRule | None = None  # the pull-request refresh rule, when on
    sweeps: ScheduleRule | None = None  # the sweep of Batch submissions whose submitter died or was throttled

    def start(self) -> None:
        self.poller.start()
        self.batch.start()
        for rule in (self.refresh, self.sweeps):
            if rule is not None:
                rule.start()

    def stop(self) -> None:
        """Stop the workers and the schedule first (they write to the endpoint), then the poller, then moto."""
        for rule in (self.refresh, self.sweeps):
            if rule is not None:
                rule.stop()
        self.batch.stop()
        self.failed_jobs.drain()
        self.poller.stop()
        self.endpoint.stop()

    def describe(self) -> list[str]:
        """Banner lines: what stands in for AWS."""
        return [
            f"  AWS endpoint:  {self.endpoint.url} (DynamoDB + Streams, S3, Batch)",
            f"  table {self.made.table}, bucket {self.made.bucket}, queue {self.made.job_queue}",
            "  Lambda handlers: server.lambdas.http_handler, websocket_handler, stream_handler, batch_handler;"
            " server.aws.github_lambda.github_handler",
            "  Batch children run here as `cody-batch worker run` processes; a failed one goes to batch_handler",
            f"  batch_handler also sweeps Batch submissions not yet made or recorded every {SWEEP_MINUTES} minutes",
        ]


def build_emulator(
    settings: Settings, base_url: str, spa_app: Any = None, environ: MutableMapping[str, str] = os.environ
) -> Emulator:
    """Start or reach moto server, bootstrap it, and wire the Lambda handlers to the stand-ins."""
    endpoint = start_endpoint(environ.get("AWS_ENDPOINT_URL"))
    made = configure(settings, endpoint, base_url, environ)
    client = emulator_client(endpoint.url)
    made = provision(settings, client, endpoint.url, secrets=environ)
    hand_secrets_over(made, environ)
    # Imported once the environment is set: the handlers read their settings on first use.
    from server.aws.github_lambda import github_handler
    from server.lambdas import batch_handler, http_handler, stream_handler, websocket_handler

    # On AWS each function has a process of its own; here they share one, and two functions
    # importing Powertools on their first calls at once could see it half initialised.
    _load_before_threads()

    github = LambdaFunction(GITHUB_FUNCTION, github_handler)
    gateway = ApiGateway(
        LambdaFunction("http", http_handler),
        LambdaFunction("websocket", websocket_handler),
        spa_app,
        LambdaInvokeApi({GITHUB_FUNCTION: github}),
    )
    stream_arn = client("dynamodb").describe_table(TableName=made.table)["Table"]["LatestStreamArn"]
    stream = LambdaFunction("stream", stream_handler)
    poller = StreamPoller(client("dynamodbstreams"), stream_arn, stream.invoke)
    # The stack's rule: the queue's FAILED jobs, by the queue's ARN, to the Batch failures function.
    (queue,) = client("batch").describe_job_queues(jobQueues=[made.job_queue])["jobQueues"]
    failures = LambdaFunction("batch", batch_handler)
    failed_jobs = EventRule("failed-worker-jobs", failed_jobs_pattern(queue["jobQueueArn"]), failures)
    # The stack's schedule: the same function sweeps the Batch submissions nobody finished (died, throttled).
    sweeps = ScheduleRule("submission-sweep", failures, SWEEP_MINUTES * 60)
    batch = LocalBatch(
        client("batch"),
        made.job_queue,
        settings.workers,
        dict(environ),
        client("secretsmanager"),
        events=failed_jobs.put,
    )
    interval = refresh_interval(settings)
    refresh = None if interval is None else ScheduleRule("pull-request-refresh", github, interval)
    return Emulator(settings, endpoint, made, gateway, poller, batch, failed_jobs, refresh, sweeps)


def _load_before_threads() -> None:
    """Import on this thread what the WebSocket, stream and Batch failures handlers load on their first call."""
    for module in ("server.aws.websocket", "server.aws.stream", "server.aws.batch_failures"):
        importlib.import_module(module)
