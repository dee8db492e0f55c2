"""Notifications: alarms and the failed-job rule all reach the one topic."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra.functions import HANDLERS
from tests.infra import cfn
from tests.infra.conftest import Assembly


def _alarm_metrics(template: cfn.Template, topic_id: str) -> dict[str, list[dict[str, object]]]:
    alarms = cfn.find(template, "AWS::CloudWatch::Alarm")
    assert alarms
    by_metric: dict[str, list[dict[str, object]]] = {}
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [cfn.ref(topic_id)]
        by_metric.setdefault(props["MetricName"], []).append(props)
    return by_metric


def test_alarms_on_function_errors_stream_lag_and_dead_letters_notify_the_topic(assembly: Assembly) -> None:
    topic_id, _ = cfn.one(assembly.dev, "AWS::SNS::Topic")
    metrics = _alarm_metrics(assembly.dev, topic_id)
    function_ids = {cfn.function(assembly.dev, handler)[0] for handler in HANDLERS.values()}
    alarmed = {alarm["Dimensions"][0]["Value"]["Ref"] for alarm in metrics["Errors"]}  # type: ignore[index]
    assert alarmed == function_ids
    (lag,) = metrics["IteratorAge"]
    stream_id, _ = cfn.function(assembly.dev, HANDLERS["stream"])
    assert lag["Dimensions"] == [{"Name": "FunctionName", "Value": cfn.ref(stream_id)}]
    (dead,) = metrics["ApproximateNumberOfMessagesVisible"]
    dlq_id, _ = cfn.one(assembly.dev, "AWS::SQS::Queue")
    assert dead["Dimensions"] == [{"Name": "QueueName", "Value": cfn.arn(dlq_id, "QueueName")}]


def test_failed_batch_jobs_of_this_queue_are_published_to_the_topic(assembly: Assembly) -> None:
    topic_id, _ = cfn.one(assembly.dev, "AWS::SNS::Topic")
    queue_id, _ = cfn.one(assembly.dev, "AWS::Batch::JobQueue")
    _, rule = cfn.one(
        assembly.dev, "AWS::Events::Rule", {"EventPattern": Match.any_value(), "Targets": [{"Arn": cfn.ref(topic_id)}]}
    )
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.batch"]
    assert pattern["detail-type"] == ["Batch Job State Change"]
    assert pattern["detail"] == {"status": ["FAILED"], "jobQueue": [cfn.arn(queue_id, "JobQueueArn")]}
    assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [cfn.ref(topic_id)]
    _, policy = cfn.one(assembly.dev, "AWS::SNS::TopicPolicy")
    principals = [s.get("Principal") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert {"Service": "events.amazonaws.com"} in principals


def test_an_alarm_email_subscribes_to_the_topic(assembly: Assembly) -> None:
    _, subscription = cfn.one(assembly.prod, "AWS::SNS::Subscription")
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    assert not cfn.find(assembly.dev, "AWS::SNS::Subscription")
