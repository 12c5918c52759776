"""What moto cannot create, read from deploy/cloudformation.yaml itself."""

from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "cloudformation.yaml"
TOPIC = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}


@pytest.fixture(scope="module")
def template():
    return cfn_yaml.load(str(TEMPLATE))


@pytest.fixture(scope="module")
def resources(template):
    return template["Resources"]


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
    hooks = {h["LifecycleHookName"]: h for h in
             resources[group]["Properties"]["LifecycleHookSpecificationList"]}
    hook = hooks["finish-jobs"]
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
    statements = resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = [s for s in statements if s["Sid"] == "DenyPlainHttp"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_aborts_uploads_and_optionally_expires_each_prefix(resources):
    rules = resources["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    expiring = [rule["Fn::If"] for rule in rules[1:] if "Fn::If" in rule]
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
    # Every alarm notifies when it fires and when it clears: a second incident is news.
    assert all(alarm["AlarmActions"] == [TOPIC] for alarm in alarms.values())
    assert all(alarm["OKActions"] == [TOPIC] for alarm in alarms.values())
    by_metric = {}
    for name, alarm in alarms.items():
        by_metric.setdefault(alarm.get("MetricName"), []).append(name)
    queue_of = {name: alarms[name]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
                for name in by_metric["ApproximateAgeOfOldestMessage"]}
    assert sorted(queue_of.values()) == [
        "CalcRequests", "CalcResponses", "PicRequests", "PicResponses"]
    assert {alarms[n]["Threshold"]["Ref"] for n, q in queue_of.items() if "Responses" in q} == {
        "ResponseAgeAlarmSeconds"}
    # Dead requests are drained within seconds: what counts is that one was received.
    assert "ApproximateNumberOfMessagesVisible" not in by_metric
    dead = by_metric["NumberOfMessagesReceived"]
    assert {alarms[name]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for name in dead} == {
        "CalcDeadLetters", "PicDeadLetters"}
    for name in dead:
        assert (alarms[name]["Statistic"], alarms[name]["Threshold"]) == ("Sum", 0)
        assert alarms[name]["ComparisonOperator"] == "GreaterThanThreshold"
    # Dead replies stay (and the admin page's peeks count as receives): alarm on growth.
    for name, queue in (("CalcResponseDeadLetterAlarm", "CalcResponseDeadLetters"),
                        ("PicResponseDeadLetterAlarm", "PicResponseDeadLetters")):
        metrics = {m["Id"]: m for m in alarms[name]["Metrics"]}
        assert metrics["growth"]["Expression"] == "DIFF(dead)"
        stat = metrics["dead"]["MetricStat"]
        assert stat["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert stat["Metric"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
        assert (alarms[name]["Threshold"], alarms[name]["ComparisonOperator"]) == (
            0, "GreaterThanThreshold")
    assert by_metric["HealthyHostCount"] == ["NoHealthyWebAlarm"]
    rate = {m["Id"]: m for m in alarms["Web5xxAlarm"]["Metrics"]}
    assert "/ requests" in rate["rate"]["Expression"]


def test_new_alarms_latency_database_and_groups_at_their_maximum(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    latency = alarms["WebLatencyAlarm"]
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("TargetResponseTime", "p95")
    assert latency["Threshold"] == {"Ref": "LatencyAlarmSeconds"}
    for name, metric, operator in (("DatabaseStorageAlarm", "FreeStorageSpace", "LessThan"),
                                   ("DatabaseCpuAlarm", "CPUUtilization", "GreaterThan")):
        assert resources[name]["Condition"] == "CreateDatabase"
        assert alarms[name]["MetricName"] == metric
        assert alarms[name]["ComparisonOperator"].startswith(operator)
        assert alarms[name]["Dimensions"][0]["Value"] == {"Ref": "Database"}
    for group in ("Web", "Calc", "Pic"):
        alarm = alarms[f"{group}AtMaximumAlarm"]
        assert alarm["MetricName"] == "GroupDesiredCapacity"
        assert alarm["Threshold"] == {"Ref": f"{group}MaxSize"}
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["Period"] * alarm["EvaluationPeriods"] >= 1800  # "for a while"
        collected = resources[f"{group}Group"]["Properties"]["MetricsCollection"][0]["Metrics"]
        assert "GroupDesiredCapacity" in collected


@pytest.mark.parametrize("group", ["WebGroup", "CalcGroup", "PicGroup"])
def test_an_instance_enters_service_only_through_its_boot_hook(resources, group):
    properties = resources[group]["Properties"]
    hooks = {h["LifecycleHookName"]: h for h in properties["LifecycleHookSpecificationList"]}
    boot = hooks["boot"]
    assert boot["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    # Silence (a boot that hangs) abandons the instance too.
    assert boot["DefaultResult"] == "ABANDON"
    timeout = resources[group]["CreationPolicy"]["ResourceSignal"]["Timeout"]
    assert boot["HeartbeatTimeout"] <= int(timeout.strip("PTM")) * 60
    assert properties["DefaultInstanceWarmup"] > 0
    # The user data completes this very hook (Mappings: Boot).
    script = TEMPLATE.read_text()
    assert "--lifecycle-hook-name boot" in script and '"$BOOT_GROUP"' in script


def test_the_roles_may_complete_their_own_boot_hook(resources):
    for role, group in (("WebRole", "web"), ("CalcWorkerRole", "calc"), ("PicWorkerRole", "pic")):
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        (grant,) = [s for s in statements if s["Action"] == "autoscaling:CompleteLifecycleAction"]
        assert grant["Resource"]["Fn::Sub"].endswith(f"${{AWS::StackName}}-{group}")
        managed = resources[role]["Properties"]["ManagedPolicyArns"]
        assert {"Ref": "InstanceLogsPolicy"} in managed


def test_list_bucket_is_limited_by_prefix(resources):
    for role in ("WebRole", "CalcWorkerRole", "PicWorkerRole"):
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        for statement in statements:
            if statement["Action"] == "s3:ListBucket":
                prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
                assert prefixes and all(p.endswith("/*") and p != "/*" for p in prefixes)


def test_the_database_is_protected_pinned_multi_az_on_request_and_grows(template, resources):
    database = resources["Database"]["Properties"]
    parameters = template["Parameters"]
    assert database["DeletionProtection"] == {"Ref": "DatabaseDeletionProtection"}
    assert parameters["DatabaseDeletionProtection"]["Default"] == "true"
    assert database["MultiAZ"] == {"Ref": "DatabaseMultiAZ"}
    assert parameters["DatabaseMultiAZ"]["AllowedValues"] == ["true", "false"]
    assert database["EngineVersion"] == {"Ref": "DatabaseEngineVersion"}
    assert parameters["DatabaseEngineVersion"]["Default"].replace(".", "").isdigit()
    assert database["AutoMinorVersionUpgrade"] is False
    assert database["MaxAllocatedStorage"] == {"Ref": "DatabaseMaxAllocatedStorage"}
    assert parameters["DatabaseMaxAllocatedStorage"]["MinValue"] > int(
        database["AllocatedStorage"])


def test_logs_are_kept_for_the_retention_parameter(template, resources):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) == 4
    assert all(g["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values())
    # The load balancer's own access logs, under a prefix of their own, expire likewise.
    rules = resources["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (alb,) = [r for r in rules if r.get("Prefix") == "alb/"]
    assert alb["ExpirationInDays"] == {"Ref": "LogRetentionDays"}
    attributes = {a["Key"]: a["Value"] for a in
                  resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "Bucket"}
    assert attributes["access_logs.s3.prefix"] == "alb"
    statements = resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (write,) = [s for s in statements if s["Sid"] == "LoadBalancerAccessLogs"]
    assert write["Resource"]["Fn::Sub"].startswith("${Bucket.Arn}/alb/")
    assert "BucketPolicy" in str(resources["LoadBalancer"]["DependsOn"])


def test_a_failed_first_create_can_be_retried_and_the_ami_moves_only_when_asked(template,
                                                                                resources):
    assert resources["Bucket"]["DeletionPolicy"] == "RetainExceptOnCreate"
    image = template["Parameters"]["ImageId"]
    assert image["Type"] == "AWS::EC2::Image::Id" and "Default" not in image


def test_outputs_for_route_53_and_an_external_database(template):
    outputs = template["Outputs"]
    assert outputs["LoadBalancerHostedZoneId"]["Value"] == {
        "Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]}
    assert outputs["WebSecurityGroup"]["Value"] == {"Ref": "WebSecurityGroup"}


def test_the_load_balancer_checks_liveness_and_keepalive_outlasts_its_idle_timeout(resources):
    assert resources["WebTargetGroup"]["Properties"]["HealthCheckPath"] == "/healthz"
    attributes = {a["Key"]: a["Value"] for a in
                  resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    config = {}
    exec((TEMPLATE.parent / "gunicorn.conf.py").read_text(), config)  # noqa: S102 (our file)
    assert config["keepalive"] > int(attributes["idle_timeout.timeout_seconds"])
    assert "x-amzn-trace-id" in config["access_log_format"]


@pytest.mark.parametrize("unit", ["cloudsite-web.service", "cloudsite-reconciler.service",
                                  "cloudsite-calc-worker@.service",
                                  "cloudsite-pic-worker@.service",
                                  "cloudsite-journal@.service"])
def test_the_units_are_hardened(unit):
    text = (TEMPLATE.parent / "systemd" / unit).read_text()
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "ProtectHome=yes", "CapabilityBoundingSet=\n"):
        assert line in text, line
