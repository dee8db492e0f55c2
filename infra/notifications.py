"""Notifications: critical failures reach an SNS topic (Lambda errors, stream lag, dead letters, failed jobs)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_batch as batch
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.worker import failed_jobs

STREAM_LAG = Duration.minutes(1)
"""Subscribers notice a push later than this: the stream function is falling behind."""
PERIOD = Duration.minutes(5)


class Notifications(Construct):
    """The topic, its optional e-mail subscription, the alarms and the failed-job rule."""

    topic: sns.Topic
    alarms: list[cloudwatch.Alarm]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        stream_function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        job_queue: batch.IJobQueue,
        email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name="Cody Batch alarms", enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.alarms = []
        for name, fn in functions.items():
            self._alarm(
                f"{name.capitalize()}Errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
                what=f"the {name} function raised errors",
            )
        self._alarm(
            "StreamLag",
            stream_function.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
            threshold=STREAM_LAG.to_milliseconds(),
            what="the stream function is behind the table's stream",
        )
        self._alarm(
            "StreamDeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            threshold=1,
            what="stream records gave up on are waiting in the dead-letter queue",
        )
        events.Rule(
            self,
            "FailedJobs",
            description="A Cody Batch worker job failed in AWS Batch",
            event_pattern=failed_jobs(job_queue),
            targets=[targets.SnsTopic(self.topic)],
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, *, threshold: float, what: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Cody Batch: {what}",
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
