"""Api: the three handlers, the HTTP and WebSocket APIs, the stream push, and what each may touch."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from infra.functions import HANDLERS
from server.aws.batch_submission import CLAIM
from store import dynamo_table
from tests.infra import cfn
from tests.infra.conftest import ALLOWED, Assembly

SETTINGS = (
    "CODY_BATCH_BACKEND",
    "CODY_BATCH_TABLE",
    "CODY_BATCH_BUCKET",
    "CODY_BATCH_JOB_QUEUE",
    "CODY_BATCH_JOB_DEFINITION",
    "CODY_BATCH_WS_ENDPOINT",
    "CODY_BATCH_ALLOWED_REPOS",
    "CODY_BATCH_MODEL",
)


SCHEDULED = {"ScheduleExpression": Match.any_value()}
FIND_JOBS = ["batch:ListJobs", "batch:DescribeJobs"]


def _ids(assembly: Assembly) -> dict[str, str]:
    template = assembly.dev
    return {
        "table": cfn.one(template, "AWS::DynamoDB::GlobalTable")[0],
        "artifacts": cfn.one(template, "AWS::S3::Bucket", {"LifecycleConfiguration": Match.any_value()})[0],
        "queue": cfn.one(template, "AWS::Batch::JobQueue")[0],
        "job": cfn.one(template, "AWS::Batch::JobDefinition")[0],
        "websocket": cfn.one(template, "AWS::ApiGatewayV2::Api", {"ProtocolType": "WEBSOCKET"})[0],
        "http": cfn.one(template, "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})[0],
        "dlq": cfn.one(template, "AWS::SQS::Queue")[0],
        "distribution": cfn.one(template, "AWS::CloudFront::Distribution")[0],
    }


def test_each_handler_runs_on_python_with_the_settings_core_reads(assembly: Assembly) -> None:
    ids = _ids(assembly)
    for handler in HANDLERS.values():
        _, fn = cfn.function(assembly.dev, handler)
        env = cfn.environment(fn)
        assert fn["Properties"]["Runtime"].startswith("python3.")
        assert set(SETTINGS) <= set(env), handler
        assert env["CODY_BATCH_BACKEND"] == "aws"
        assert env["CODY_BATCH_TABLE"] == cfn.ref(ids["table"])
        assert env["CODY_BATCH_BUCKET"] == cfn.ref(ids["artifacts"])
        assert env["CODY_BATCH_JOB_QUEUE"] == cfn.arn(ids["queue"], "JobQueueArn")
        assert env["CODY_BATCH_JOB_DEFINITION"] == cfn.ref(ids["job"])
        assert env["CODY_BATCH_ALLOWED_REPOS"] == ALLOWED
        # The callback URL is the WebSocket API's own https URL with the stage, not the wss one.
        endpoint = json.dumps(env["CODY_BATCH_WS_ENDPOINT"])
        assert endpoint.startswith('{"Fn::Join": ["", ["https://", {"Ref": "' + ids["websocket"])
        assert endpoint.endswith('"/live"]]}')


def test_http_api_sends_every_route_to_the_graphql_function_with_cors_for_the_site(assembly: Assembly) -> None:
    ids = _ids(assembly)
    http_id, _ = cfn.function(assembly.dev, HANDLERS["http"])
    _, api = cfn.one(assembly.dev, "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["*"]
    assert "AllowCredentials" not in cors or cors["AllowCredentials"] is False
    assert set(cors["AllowMethods"]) == {"GET", "POST", "OPTIONS"}
    assert "authorization" in cors["AllowHeaders"]
    routes = cfn.find(assembly.dev, "AWS::ApiGatewayV2::Route", {"ApiId": cfn.ref(ids["http"])}).values()
    integrations = cfn.find(assembly.dev, "AWS::ApiGatewayV2::Integration")
    targets = {}
    for route in routes:
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        targets[route["Properties"]["RouteKey"]] = integrations[integration_id]["Properties"]["IntegrationUri"]
    # Every route, GitHub's deliveries included, reaches the GraphQL function: it verifies them as locally.
    assert targets == {"$default": cfn.arn(http_id), "POST /webhooks/github": cfn.arn(http_id)}


def test_both_apis_are_throttled(assembly: Assembly) -> None:
    for template in (assembly.dev, assembly.prod):
        stages = cfn.find(template, "AWS::ApiGatewayV2::Stage")
        assert len(stages) == 2
        for stage in stages.values():
            settings = stage["Properties"]["DefaultRouteSettings"]
            assert 0 < settings["ThrottlingRateLimit"] <= settings["ThrottlingBurstLimit"]


def test_websocket_api_routes_connect_disconnect_and_default_to_the_websocket_function(assembly: Assembly) -> None:
    ids = _ids(assembly)
    ws_id, _ = cfn.function(assembly.dev, HANDLERS["websocket"])
    routes = cfn.find(assembly.dev, "AWS::ApiGatewayV2::Route", {"ApiId": cfn.ref(ids["websocket"])})
    integrations = cfn.find(assembly.dev, "AWS::ApiGatewayV2::Integration")
    targets = {}
    for route in routes.values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        targets[route["Properties"]["RouteKey"]] = integrations[integration_id]["Properties"]["IntegrationUri"]
    assert set(targets) == {"$connect", "$disconnect", "$default"}
    for uri in targets.values():
        assert ws_id in json.dumps(uri)
    cfn.one(assembly.dev, "AWS::ApiGatewayV2::Stage", {"ApiId": cfn.ref(ids["websocket"]), "StageName": "live"})


def test_stream_function_gets_only_new_event_items_with_bounded_retries(assembly: Assembly) -> None:
    ids = _ids(assembly)
    stream_id, _ = cfn.function(assembly.dev, HANDLERS["stream"])
    _, mapping = cfn.one(assembly.dev, "AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    assert props["FunctionName"] == cfn.ref(stream_id)
    assert props["EventSourceArn"] == cfn.arn(ids["table"], "StreamArn")
    (pattern,) = (json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"])
    # The record's own spelling: `eventName`, never CDK's snake_case doc example.
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {dynamo_table.ITEM_TYPE: {"S": [dynamo_table.ItemType.EVENT]}}},
    }
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 10
    assert 0 < props["MaximumRecordAgeInSeconds"] <= 3600
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": cfn.arn(ids["dlq"])}}


def test_dead_letter_queue_is_encrypted_and_keeps_records_two_weeks(assembly: Assembly) -> None:
    _, queue = cfn.one(assembly.dev, "AWS::SQS::Queue")
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def _table_arns(table_id: str) -> list[object]:
    return [cfn.arn(table_id), {"Fn::Join": ["", [cfn.arn(table_id), "/index/*"]]}]


def test_functions_reach_only_the_table_the_artifacts_and_the_websocket_api(assembly: Assembly) -> None:
    ids = _ids(assembly)
    for name, handler in HANDLERS.items():
        _, fn = cfn.function(assembly.dev, handler)
        statements = cfn.role_statements(assembly.dev, fn["Properties"]["Role"])
        # Only the Batch failures function's ListJobs and DescribeJobs, which take no resource, are on "*".
        wildcard = [a for s in statements if "*" in cfn.resources(s) for a in cfn.actions(s)]
        assert sorted(wildcard) == (sorted(FIND_JOBS) if name == "batch" else []), name
        (table,) = cfn.statements_with(statements, "dynamodb:PutItem")
        assert cfn.resources(table) == _table_arns(ids["table"])
        (objects,) = cfn.statements_with(statements, "s3:GetObject*")
        assert {"Fn::Join": ["", [cfn.arn(ids["artifacts"]), "/artifacts/*"]]} in cfn.resources(objects)
        assert not cfn.statements_with(statements, "s3:PutObject"), f"{name} only reads artifacts"
        if name == "stream":
            assert not [a for s in statements for a in cfn.actions(s) if a.startswith("batch:")], name


@pytest.mark.parametrize("name", ["http", "websocket", "batch"])
def test_the_functions_that_run_mutations_submit_and_cancel_worker_jobs_of_this_queue_only(
    assembly: Assembly, name: str
) -> None:
    ids = _ids(assembly)
    _, fn = cfn.function(assembly.dev, HANDLERS[name])
    statements = cfn.role_statements(assembly.dev, fn["Properties"]["Role"])
    (submit,) = cfn.statements_with(statements, "batch:SubmitJob")
    assert sorted(map(json.dumps, cfn.resources(submit))) == sorted(
        map(json.dumps, [cfn.ref(ids["job"]), cfn.arn(ids["queue"], "JobQueueArn")])
    )
    (tag,) = cfn.statements_with(statements, "batch:TagResource")
    assert json.dumps(cfn.resources(tag)).endswith(':job/*"]]}]')
    terminate = cfn.statements_with(statements, "batch:TerminateJob")
    # The Batch failures function submits a resumed run's new job and never cancels one.
    assert len(terminate) == (0 if name == "batch" else 1)


def test_a_failed_worker_job_of_this_queue_reaches_the_batch_failures_function(assembly: Assembly) -> None:
    ids = _ids(assembly)
    batch_id, _ = cfn.function(assembly.dev, HANDLERS["batch"])
    # GIVEN the stack WHEN Batch reports a job state change THEN a rule sends this queue's FAILED jobs to it
    to_batch = {"EventPattern": Match.any_value(), "Targets": [Match.object_like({"Arn": cfn.arn(batch_id)})]}
    rule_id, rule = cfn.one(assembly.dev, "AWS::Events::Rule", to_batch)
    assert rule["Properties"]["State"] == "ENABLED"
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"status": ["FAILED"], "jobQueue": [cfn.arn(ids["queue"], "JobQueueArn")]},
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200}
    # AND EventBridge may invoke it, from this rule and the resumption sweep's only
    permissions = cfn.find(
        assembly.dev,
        "AWS::Lambda::Permission",
        {"FunctionName": cfn.arn(batch_id), "Principal": "events.amazonaws.com"},
    ).values()
    sweep_id, _ = cfn.one(
        assembly.dev, "AWS::Events::Rule", {"ScheduleExpression": "rate(5 minutes)", **to_sweep(batch_id)}
    )
    assert sorted(json.dumps(p["Properties"]["SourceArn"]) for p in permissions) == sorted(
        json.dumps(cfn.arn(r)) for r in (rule_id, sweep_id)
    )


def to_sweep(batch_id: str) -> dict[str, object]:
    """A rule whose one target is the Batch failures function."""
    return {"Targets": [Match.object_like({"Arn": cfn.arn(batch_id)})]}


def test_a_schedule_sweeps_the_submissions_nobody_finished_and_the_function_may_find_jobs(
    assembly: Assembly,
) -> None:
    batch_id, fn = cfn.function(assembly.dev, HANDLERS["batch"])
    # GIVEN the stack THEN a rule invokes the Batch failures function every 5 minutes, with no retry of its own
    _, rule = cfn.one(
        assembly.dev, "AWS::Events::Rule", {"ScheduleExpression": Match.any_value(), **to_sweep(batch_id)}
    )
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Properties"]["State"] == "ENABLED"
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    # AND the function may list and describe Batch jobs (to find a resumption's job submitted before), on "*"
    # as IAM requires for these two actions, and its timeout is below the claim a submitter holds
    statements = cfn.role_statements(assembly.dev, fn["Properties"]["Role"])
    (find,) = cfn.statements_with(statements, "batch:ListJobs")
    assert sorted(cfn.actions(find)) == sorted(FIND_JOBS) and cfn.resources(find) == ["*"]
    assert fn["Properties"]["Timeout"] < CLAIM.total_seconds()
    # AND so is every other function that submits to Batch (the HTTP and WebSocket functions' dispatch), which
    # submits only what it has just written, so it never looks jobs up
    for name in ("http", "websocket"):
        _, submitter = cfn.function(assembly.dev, HANDLERS[name])
        assert 0 < submitter["Properties"]["Timeout"] < CLAIM.total_seconds()
        own = cfn.role_statements(assembly.dev, submitter["Properties"]["Role"])
        assert cfn.statements_with(own, "batch:SubmitJob") and cfn.statements_with(own, "batch:ListJobs") == []


def test_websocket_and_stream_functions_may_post_to_connections_of_this_api_only(assembly: Assembly) -> None:
    ids = _ids(assembly)
    for name in ("websocket", "stream", "http"):
        _, fn = cfn.function(assembly.dev, HANDLERS[name])
        statements = cfn.statements_with(
            cfn.role_statements(assembly.dev, fn["Properties"]["Role"]), "execute-api:ManageConnections"
        )
        if name == "http":
            assert statements == []
            continue
        (manage,) = statements
        (resource,) = cfn.resources(manage)
        parts = resource["Fn::Join"][1]
        assert cfn.ref(ids["websocket"]) in parts
        assert parts[-1] == "/*/*/@connections/*"


def test_outputs_name_the_site_and_both_api_urls(assembly: Assembly) -> None:
    outputs = assembly.dev.find_outputs("*")
    assert {"SiteUrl", "GraphqlUrl", "WebsocketUrl"} <= set(outputs)
    assert json.dumps(outputs["GraphqlUrl"]["Value"]).endswith('"/graphql"]]}')
    assert "wss://" in json.dumps(outputs["WebsocketUrl"]["Value"])


def test_the_github_function_has_its_own_bundle_and_only_the_functions_running_mutations_invoke_it(
    assembly: Assembly,
) -> None:
    github_id, github = cfn.function(assembly.dev, HANDLERS["github"])
    _, http = cfn.function(assembly.dev, HANDLERS["http"])
    # Its own code asset: the one with PyGithub, which the others' leaves out
    assert github["Properties"]["Code"] != http["Properties"]["Code"]
    for name in ("http", "websocket", "stream"):
        _, fn = cfn.function(assembly.dev, HANDLERS[name])
        statements = cfn.role_statements(assembly.dev, fn["Properties"]["Role"])
        invoke = cfn.statements_with(statements, "lambda:InvokeFunction")
        env = cfn.environment(fn)
        if name == "stream":
            assert invoke == [], "the stream function never talks to GitHub"
            continue
        assert env["CODY_BATCH_GITHUB_FUNCTION"] == cfn.ref(github_id), name
        (statement,) = invoke
        assert cfn.arn(github_id) in cfn.resources(statement), name
        # The function and its versions, nothing else
        assert all(json.dumps(cfn.arn(github_id)) in json.dumps(r) for r in cfn.resources(statement)), name


def test_a_scheduled_rule_refreshes_pull_requests_through_the_github_function_unless_webhooks_deliver(
    assembly: Assembly,
) -> None:
    github_id, _ = cfn.function(assembly.dev, HANDLERS["github"])
    # dev, no webhook secret: every 5 minutes (the setting's 300 s), aimed at the GitHub function
    github_rule = {**SCHEDULED, "Targets": [Match.object_like({"Arn": cfn.arn(github_id)})]}
    _, rule = cfn.one(assembly.dev, "AWS::Events::Rule", github_rule)
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Properties"]["State"] == "ENABLED"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == cfn.arn(github_id)
    # AND EventBridge may invoke it (the only other function it may invoke is the Batch failures one)
    permissions = cfn.find(assembly.dev, "AWS::Lambda::Permission", {"Principal": "events.amazonaws.com"})
    batch_id, _ = cfn.function(assembly.dev, HANDLERS["batch"])
    invoked = {json.dumps(p["Properties"]["FunctionName"]) for p in permissions.values()}
    assert invoked == {json.dumps(cfn.arn(f)) for f in (github_id, batch_id)}
