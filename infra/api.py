"""Api: the GraphQL function behind an HTTP API, the WebSocket API, and the stream function that pushes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.bundling import GITHUB_HANDLER_MODULE, lambda_code
from infra.data import Data
from infra.functions import BackendFunction, setting
from infra.sources import staged_sources
from infra.worker import Worker, failed_jobs
from server.aws.batch_submission import SWEEP_MINUTES
from server.aws.deployment_secret import FUNCTION_SECRETS
from server.aws.sent_cursors import STREAM_RECORD_MAX_AGE_SECONDS, WEBSOCKET_TIMEOUT_SECONDS
from store import dynamo_table

WEBSOCKET_STAGE = "live"
ARTIFACT_OBJECTS = "artifacts/*"
"""Where store/s3_artifacts.py keeps large artifacts; the functions only read them."""
WEBHOOK_PATH = "/webhooks/github"


def event_filter() -> Mapping[str, Any]:
    """Stream records of newly written event items only (the key is `eventName`, as the records spell it)."""
    return lambda_.FilterCriteria.filter(
        {
            "eventName": lambda_.FilterRule.is_equal("INSERT"),
            "dynamodb": {
                "NewImage": {dynamo_table.ITEM_TYPE: {"S": lambda_.FilterRule.is_equal(dynamo_table.ItemType.EVENT)}}
            },
        }
    )


class Api(Construct):
    """HTTP API (GraphQL, GitHub's webhook, CORS, throttling), WebSocket API (graphql-transport-ws), the push
    from the stream, and the GitHub function the others invoke (and a schedule refreshes pull requests with)."""

    http_api: apigw.HttpApi
    websocket_api: apigw.WebSocketApi
    websocket_stage: apigw.WebSocketStage
    functions: dict[str, lambda_.Function]
    dead_letters: sqs.Queue
    refresh_rule: events.Rule | None
    failed_children_rule: events.Rule

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        worker: Worker,
        environment: Mapping[str, str],
        secret: secretsmanager.ISecret,
        allowed_origins: list[str],
        memory_mb: int,
        http_rate_limit: int,
        websocket_rate_limit: int,
        log_retention: logs.RetentionDays,
        refresh_minutes: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        staged = staged_sources(self)
        code = lambda_code(staged)

        def function(name: str, timeout: Duration, code: lambda_.Code = code) -> lambda_.Function:
            return BackendFunction(
                self,
                f"{name.capitalize()}Function",
                handler=name,
                code=code,
                environment=environment,
                memory_mb=memory_mb,
                timeout=timeout,
                log_retention=log_retention,
            )

        # The WebSocket API comes first: every function needs its callback URL.
        self.websocket_api = apigw.WebSocketApi(self, "WebSocketApi", description="Cody Batch subscriptions")
        self.websocket_stage = apigw.WebSocketStage(
            self,
            "WebSocketStage",
            web_socket_api=self.websocket_api,
            stage_name=WEBSOCKET_STAGE,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=websocket_rate_limit, burst_limit=2 * websocket_rate_limit),
        )
        environment = {**environment, setting("ws_endpoint"): self.websocket_stage.callback_url}

        # The one function with PyGithub, on a bundle of its own; the others invoke it for each GitHub call.
        github = function("github", Duration.minutes(5), lambda_code(staged, GITHUB_HANDLER_MODULE))
        environment = {**environment, setting("github_function"): github.function_name}
        # API Gateway answers an HTTP API request after 30 s at most.
        http = function("http", Duration.seconds(29))
        websocket = function("websocket", Duration.seconds(WEBSOCKET_TIMEOUT_SECONDS))
        stream = function("stream", Duration.minutes(1))
        failures = function("batch", Duration.minutes(1))
        self.functions = {"http": http, "websocket": websocket, "stream": stream, "github": github, "batch": failures}

        for name, fn in self.functions.items():
            if name in FUNCTION_SECRETS:  # the Batch failures function reads no secret
                # The secret's ARN and the keys to use, never a value: server/aws/deployment_secret.py reads them.
                fn.add_environment(setting("secret_arn"), secret.secret_arn)
                fn.add_environment(setting("secret_keys"), ",".join(FUNCTION_SECRETS[name]))
                secret.grant_read(fn)
            data.table.grant_read_write_data(fn)
            data.bucket.grant_read(fn, ARTIFACT_OBJECTS)
        # Both run the whole schema: a createJob or cancelJob may come over either (graphql-transport-ws carries
        # mutations too), so both may submit and cancel worker jobs; the stream function only reads and pushes.
        worker.grant_submit(http)
        worker.grant_submit(websocket)
        # It starts a new Batch job for a run it resumes, and never cancels one; it looks for one submitted before.
        worker.grant_submit(failures, cancel=False)
        worker.grant_find(failures)
        # Both run refreshPullRequests and pullRequestAction; the stream function never talks to GitHub.
        github.grant_invoke(http)
        github.grant_invoke(websocket)
        self.websocket_api.grant_manage_connections(websocket)
        self.websocket_api.grant_manage_connections(stream)

        for route, handler in (("$connect", websocket), ("$disconnect", websocket), ("$default", websocket)):
            self.websocket_api.add_route(
                route, integration=integrations.WebSocketLambdaIntegration(f"WebSocket{route}", handler)
            )

        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            description="Cody Batch GraphQL",
            create_default_stage=False,
            default_integration=integrations.HttpLambdaIntegration("GraphQL", http),
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=allowed_origins,
                allow_methods=[apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.OPTIONS],
                allow_headers=["authorization", "content-type", "accept"],
                max_age=Duration.hours(1),
            ),
        )
        # GitHub's deliveries: the same function, named apart so the route shows in the API's description.
        self.http_api.add_routes(
            path=WEBHOOK_PATH,
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("GitHubWebhook", http),
        )
        apigw.HttpStage(
            self,
            "HttpStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=http_rate_limit, burst_limit=2 * http_rate_limit),
        )

        self.dead_letters = sqs.Queue(
            self,
            "StreamFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        stream.add_event_source(
            sources.DynamoEventSource(
                data.table,  # type: ignore[arg-type]
                starting_position=lambda_.StartingPosition.LATEST,
                filters=[event_filter()],
                batch_size=100,
                max_batching_window=Duration.millis(0),
                bisect_batch_on_error=True,
                retry_attempts=3,
                max_record_age=Duration.seconds(STREAM_RECORD_MAX_AGE_SECONDS),  # `sent` pruning relies on it
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.dead_letters),
            )
        )

        # A worker child that died outside Batch's retry rules (out of memory, its time limit, TerminateJob,
        # a host lost after the last retry): its run resumed on a new Batch job, or failed.
        self.failed_children_rule = events.Rule(
            self,
            "FailedWorkerJobs",
            description="Resume or fail the run of a Cody Batch worker job that failed in AWS Batch",
            event_pattern=failed_jobs(worker.job_queue),
            # EventBridge retries a delivery Lambda refused (throttled); the handler is idempotent.
            targets=[targets.LambdaFunction(failures, retry_attempts=8, max_event_age=Duration.hours(2))],
        )

        def every(minutes: int, rule_id: str, description: str, target: lambda_.Function) -> events.Rule:
            return events.Rule(
                self,
                rule_id,
                description=description,
                schedule=events.Schedule.rate(Duration.minutes(minutes)),
                targets=[targets.LambdaFunction(target, retry_attempts=0)],  # the next round is the retry
            )

        # The same function, on a schedule: the Batch submissions (a job's first, a retry's, a continued or
        # resumed run's) whose submitter died, or Batch throttled, before their Batch job was recorded.
        self.resumption_sweep_rule = every(
            SWEEP_MINUTES,
            "ResumptionSweep",
            "Submit the Batch jobs of Cody Batch runs that no submitter submitted and recorded",
            failures,
        )
        # Off when webhooks bring the changes, as the local poller is.
        self.refresh_rule = None
        if refresh_minutes:
            self.refresh_rule = every(
                refresh_minutes,
                "PullRequestRefresh",
                "Refresh the open pull requests of the newest jobs from GitHub",
                github,
            )

    @property
    def http_domain(self) -> str:
        """The HTTP API's host name, for CloudFront to reach it as an origin."""
        stack = Stack.of(self)
        return f"{self.http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"

    @property
    def graphql_url(self) -> str:
        """The GraphQL endpoint: the HTTP API's default stage, path /graphql."""
        return f"{self.http_api.api_endpoint}/graphql"

    @property
    def websocket_url(self) -> str:
        """What clients connect to (wss://...), as opposed to the callback URL the functions post to."""
        return self.websocket_stage.url
