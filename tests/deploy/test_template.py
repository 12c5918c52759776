"""What moto cannot create, read from deploy/cloudformation.yaml itself."""

from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "cloudformation.yaml"
TOPIC = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}


@pytest.fixture(scope="module")
def resources():
    return cfn_yaml.load(str(TEMPLATE))["Resources"]


def of_type(resources, kind):
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == kind}


@pytest.mark.parametrize(("policy", "group", "queue", "target"), [
    ("CalcScaling", "CalcGroup", "CalcRequests", "CalcTargetBacklog"),
    ("PicScaling", "PicGroup", "PicRequests", "PicTargetBacklog")])
def test_workers_scale_on_backlog_per_instance(resources, policy, group, queue, target):
    properties = resources[policy]["Properties"]
    assert properties["AutoScalingGroupName"] == {"Ref": group}
    assert properties["PolicyType"] == "TargetTrackingScaling"
    config = properties["TargetTrackingConfiguration"]
    assert config["TargetValue"] == {"Ref": target}
    metrics = {m["Id"]: m for m in config["CustomizedMetricSpecification"]["Metrics"]}
    visible = metrics["visible"]["MetricStat"]["Metric"]
    assert visible["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert visible["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
    instances = metrics["instances"]["MetricStat"]["Metric"]
    assert instances["MetricName"] == "GroupInServiceInstances"
    assert instances["Dimensions"][0]["Value"] == {"Ref": group}
    assert metrics["backlog_per_instance"]["Expression"] == "visible / instances"
    assert [m["Id"] for m in metrics.values() if m["ReturnData"]] == ["backlog_per_instance"]
    # GroupInServiceInstances exists only when the group publishes it.
    collected = resources[group]["Properties"]["MetricsCollection"][0]["Metrics"]
    assert "GroupInServiceInstances" in collected


@pytest.mark.parametrize("group", ["CalcGroup", "PicGroup"])
def test_scale_in_waits_for_the_jobs_in_hand(resources, group):
    (hook,) = resources[group]["Properties"]["LifecycleHookSpecificationList"]
    assert hook["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    unit = (TEMPLATE.parent / "systemd" /
            f"cloudsite-{group[:-5].lower()}-worker@.service").read_text()
    grace = int(unit.split("--grace-period ")[1].split()[0])
    stop = int(unit.split("TimeoutStopSec=")[1].split()[0])
    # The worker's grace < systemd's patience < the hook's patience.
    assert grace < stop < hook["HeartbeatTimeout"]


@pytest.mark.parametrize("group", ["WebGroup", "CalcGroup", "PicGroup"])
def test_a_new_version_rolls_the_group_waiting_for_good_boots(resources, group):
    rolling = resources[group]["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True and rolling["MaxBatchSize"] == 1
    assert "ResourceSignal" in resources[group]["CreationPolicy"]
    template = resources[group]["Properties"]["LaunchTemplate"]
    assert "LatestVersionNumber" in str(template["Version"])


def test_the_bucket_denies_plain_http(resources):
    (statement,) = resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_aborts_uploads_and_optionally_expires_each_prefix(resources):
    rules = resources["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    expiring = [rule["Fn::If"] for rule in rules[1:]]
    assert all(condition == "ExpireObjects" for condition, _, _ in expiring)
    assert {rule["Prefix"] for _, rule, _ in expiring} == {
        "pic/originals/", "pic/results/", "logs/calc/"}


def test_the_secrets_are_generated_not_written(resources):
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    assert "GenerateSecretString" in secrets["SecretKey"]
    assert "GenerateSecretString" in secrets["DatabaseSecret"]
    assert resources["DatabaseSecret"]["Condition"] == "CreateDatabase"
    assert resources["Database"]["Condition"] == "CreateDatabase"


def test_alarms_cover_age_dead_letters_5xx_and_no_healthy_web(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert all(alarm["AlarmActions"] == [TOPIC] for alarm in alarms.values())
    by_metric = {}
    for name, alarm in alarms.items():
        by_metric.setdefault(alarm.get("MetricName"), []).append(name)
    assert sorted(by_metric["ApproximateAgeOfOldestMessage"]) == [
        "CalcOldestRequestAlarm", "PicOldestRequestAlarm"]
    dead_letter_queues = {alarms[name]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
                          for name in by_metric["ApproximateNumberOfMessagesVisible"]}
    assert dead_letter_queues == {"CalcDeadLetters", "CalcResponseDeadLetters",
                                  "PicDeadLetters", "PicResponseDeadLetters"}
    assert all(alarms[name]["Threshold"] == 0
               for name in by_metric["ApproximateNumberOfMessagesVisible"])
    assert by_metric["HealthyHostCount"] == ["NoHealthyWebAlarm"]
    rate = {m["Id"]: m for m in alarms["Web5xxAlarm"]["Metrics"]}
    assert "/ requests" in rate["rate"]["Expression"]
