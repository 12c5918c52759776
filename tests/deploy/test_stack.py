"""deploy/cloudformation.yaml created in moto, checked where moto models the resources.

moto 5.2 skips AWS::S3::BucketPolicy, AWS::SecretsManager::Secret,
AWS::AutoScaling::ScalingPolicy and AWS::CloudWatch::Alarm, ignores the bucket's
LifecycleConfiguration, and does not model lifecycle hooks, rolling updates or
creation signals. For those, test_template.py reads the template itself and
cfn-lint (test_lint.py) validates it against the real resource schemas.
"""

import ast
import base64
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "cloudformation.yaml"
REGION = "us-east-1"


def client(service):
    return boto3.client(service, region_name=REGION)


@pytest.fixture(scope="module")
def stack():
    with mock_aws(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto's "not supported" notes on skipped types
        ec2 = client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                     AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
                   for i, zone in enumerate("ab")]
        certificate = client("acm").request_certificate(
            DomainName="cloudsite.example.com")["CertificateArn"]
        parameters = {
            "AppVersion": "1.4.0", "ReleaseBucket": "cloudsite-releases",
            "BucketName": "cloudsite-site", "QueuePrefix": "prod-",
            "DomainName": "cloudsite.example.com", "CertificateArn": certificate,
            "VpcId": vpc, "PublicSubnets": ",".join(subnets),
            "InstanceSubnets": ",".join(subnets), "AlarmEmail": "ops@example.com",
            "RetentionDays": "30", "PicTargetBacklog": "7", "ImageId": "ami-0123456789abcdef0",
            "LogRetentionDays": "14",
        }
        cloudformation = client("cloudformation")
        cloudformation.create_stack(
            StackName="cs", TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
        description = cloudformation.describe_stacks(StackName="cs")["Stacks"][0]
        assert description["StackStatus"] == "CREATE_COMPLETE"
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                     cloudformation.list_stack_resources(StackName="cs")["StackResourceSummaries"]}
        outputs = {o["OutputKey"]: o["OutputValue"] for o in description["Outputs"]}
        yield resources, outputs


def queue_attributes(name):
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


@pytest.mark.parametrize(("queue", "dead_letters"), [
    ("prod-cloudcal-requests", "prod-cloudcal-requests-dlq"),
    ("prod-cloudcal-responses", "prod-cloudcal-responses-dlq"),
    ("prod-cloudpic-inbox", "prod-cloudpic-inbox-dlq"),
    ("prod-cloudpic-outbox", "prod-cloudpic-outbox-dlq"),
])
def test_every_queue_redrives_to_its_dead_letter_queue(stack, queue, dead_letters):
    redrive = json.loads(queue_attributes(queue)["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue_attributes(dead_letters)["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5


def test_outputs_name_the_site_the_bucket_and_every_queue(stack):
    _, outputs = stack
    assert outputs["SiteUrl"] == "https://cloudsite.example.com/"
    assert outputs["Bucket"] == "cloudsite-site"
    queue_urls = {k: v for k, v in outputs.items() if k.endswith("QueueUrl")}
    assert len(queue_urls) == 8
    assert all(url.split("/")[-1].startswith("prod-cloud") for url in queue_urls.values())


def test_the_bucket_is_encrypted(stack):
    encryption = client("s3").get_bucket_encryption(Bucket="cloudsite-site")
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def role_statements(resources, logical_id):
    iam = client("iam")
    name = resources[logical_id]
    policy_names = iam.list_role_policies(RoleName=name)["PolicyNames"]
    statements = []
    for policy in policy_names:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):  # moto hands back the repr of a dict
            document = ast.literal_eval(document)
        statements += document["Statement"]
    return statements


def s3_grants(statements):
    """{action: set of resources} for every S3 action of the role's statements."""
    grants = {}
    for statement in statements:
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            if action.startswith("s3:"):
                grants.setdefault(action, set()).update(
                    [resources] if isinstance(resources, str) else resources)
    return grants


BUCKET_ARN = "arn:aws:s3:::cloudsite-site"
RELEASES = "arn:aws:s3:::cloudsite-releases/cloudsite-*.tar.gz"


def test_the_pic_worker_reads_originals_and_writes_results_only(stack):
    resources, _ = stack
    assert s3_grants(role_statements(resources, "PicWorkerRole")) == {
        "s3:GetObject": {f"{BUCKET_ARN}/pic/originals/*", RELEASES},
        "s3:PutObject": {f"{BUCKET_ARN}/pic/results/*"},
        "s3:ListBucket": {BUCKET_ARN},
    }


def test_the_calc_worker_writes_its_logs_only(stack):
    resources, _ = stack
    assert s3_grants(role_statements(resources, "CalcWorkerRole")) == {
        "s3:GetObject": {RELEASES},
        "s3:PutObject": {f"{BUCKET_ARN}/logs/calc/*"},
    }


def test_the_web_writes_originals_and_reads_all_three_prefixes(stack):
    resources, _ = stack
    statements = role_statements(resources, "WebRole")
    assert s3_grants(statements) == {
        "s3:PutObject": {f"{BUCKET_ARN}/pic/originals/*"},
        "s3:GetObject": {f"{BUCKET_ARN}/pic/originals/*", f"{BUCKET_ARN}/pic/results/*",
                         f"{BUCKET_ARN}/logs/calc/*", RELEASES},
        "s3:ListBucket": {BUCKET_ARN},
    }
    actions = {a for s in statements for a in
               ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:DeleteObject" not in actions
    assert "secretsmanager:GetSecretValue" in actions


def launch_template_user_data(resources, logical_id):
    versions = client("ec2").describe_launch_template_versions(
        LaunchTemplateId=resources[logical_id])["LaunchTemplateVersions"]
    data = versions[-1]["LaunchTemplateData"]
    return data, base64.b64decode(data["UserData"]).decode()


@pytest.mark.parametrize(("logical_id", "role"), [
    ("WebLaunchTemplate", "web"), ("CalcLaunchTemplate", "calc"), ("PicLaunchTemplate", "pic")])
def test_launch_templates_boot_their_role_at_the_app_version(stack, logical_id, role):
    resources, _ = stack
    data, user_data = launch_template_user_data(resources, logical_id)
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert f"export CLOUDSITE_ROLE={role}\n" in user_data
    assert "export RELEASE_URL=s3://cloudsite-releases/cloudsite-1.4.0.tar.gz\n" in user_data
    assert "export CLOUDSITE_QUEUE_PREFIX=prod-\n" in user_data
    assert '"$root/opt/cloudsite/deploy/bootstrap.sh"' in user_data
    assert "report CONTINUE SUCCESS" in user_data
    # The boot hook of its own group, and the agent's configuration from the stack.
    assert f"export BOOT_GROUP=cs-{role}\n" in user_data
    assert "export AGENT_CONFIG=/cloudsite/cs/cloudwatch-agent\n" in user_data
    assert "CLOUDSITE_ROOT" not in user_data.split("set -E")[0]  # only the common part reads it
    assert len(data["UserData"]) < 16384  # EC2's limit on base64 user data
    # Secrets are fetched at boot, never inlined.
    assert "DJANGO_SECRET_KEY" not in user_data and "postgres://" not in user_data


def test_groups_and_their_sizes(stack):
    groups = {g["AutoScalingGroupName"]: g for g in
              client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]}
    assert set(groups) == {"cs-web", "cs-calc", "cs-pic"}
    assert groups["cs-web"]["MinSize"] == 1 and groups["cs-web"]["HealthCheckType"] == "ELB"
    assert len(groups["cs-web"]["TargetGroupARNs"]) == 1
    assert (groups["cs-calc"]["MinSize"], groups["cs-calc"]["MaxSize"]) == (1, 4)


def test_the_load_balancer_checks_healthz_and_redirects_http(stack):
    elb = client("elbv2")
    (group,) = elb.describe_target_groups()["TargetGroups"]
    assert group["HealthCheckPath"] == "/healthz"
    assert group["Port"] == 8000
    (balancer,) = elb.describe_load_balancers()["LoadBalancers"]
    listeners = {listener["Port"]: listener for listener in elb.describe_listeners(
        LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["DefaultActions"][0]["TargetGroupArn"] == group["TargetGroupArn"]
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"


def test_gunicorn_is_reachable_from_the_load_balancer_only(stack):
    resources, _ = stack
    ec2 = client("ec2")
    (web,) = ec2.describe_security_groups(GroupIds=[resources["WebSecurityGroup"]])[
        "SecurityGroups"]
    (rule,) = web["IpPermissions"]
    assert (rule["FromPort"], rule["ToPort"]) == (8000, 8000)
    assert rule["IpRanges"] == []
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [
        resources["LoadBalancerSecurityGroup"]]


@pytest.mark.parametrize("logical_id", ["WebLaunchTemplate", "CalcLaunchTemplate",
                                        "PicLaunchTemplate"])
def test_the_rendered_user_data_is_shellcheck_clean(stack, logical_id, tmp_path):
    resources, _ = stack
    _, user_data = launch_template_user_data(resources, logical_id)
    script = tmp_path / "user-data.sh"
    # moto leaves Refs to the secrets (a type it skips) unresolved; AWS puts ARNs there.
    script.write_text(re.sub(r"\$\{(SecretKey|AdminPassword)\}", "arn:secret", user_data))
    shellcheck = Path(sys.executable).parent / "shellcheck"
    result = subprocess.run([str(shellcheck), str(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout


def test_outputs_for_an_external_database(stack):
    resources, outputs = stack
    # (moto leaves LoadBalancerHostedZoneId's GetAtt unresolved: test_template.py checks it.)
    assert outputs["WebSecurityGroup"] == resources["WebSecurityGroup"]


def test_the_load_balancer_is_ipv4_with_no_ipv6_rules_and_logs_to_its_prefix(stack):
    resources, _ = stack
    elb = client("elbv2")
    (balancer,) = elb.describe_load_balancers()["LoadBalancers"]
    assert balancer["IpAddressType"] == "ipv4"
    (group,) = client("ec2").describe_security_groups(
        GroupIds=[resources["LoadBalancerSecurityGroup"]])["SecurityGroups"]
    assert all(rule["Ipv6Ranges"] == [] for rule in group["IpPermissions"])
    assert {rule["FromPort"] for rule in group["IpPermissions"]} == {80, 443}
    # (moto does not apply LoadBalancerAttributes: test_template.py reads them.)


LOG_GROUPS = {"boot", "web", "access", "workers"}


def test_log_groups_are_the_stacks_with_the_retention_asked_for(stack):
    _, outputs = stack
    groups = {g["logGroupName"]: g for g in client("logs").describe_log_groups(
        logGroupNamePrefix="/cloudsite/cs/")["logGroups"]}
    assert set(groups) == {f"/cloudsite/cs/{name}" for name in LOG_GROUPS}
    assert all(g["retentionInDays"] == 14 for g in groups.values())
    assert {outputs[f"{k}LogGroup"] for k in ("Boot", "Web", "Access", "Worker")} == set(groups)


def agent_config():
    value = client("ssm").get_parameter(Name="/cloudsite/cs/cloudwatch-agent")["Parameter"]["Value"]
    return json.loads(value)


def test_the_agent_ships_the_boot_log_and_every_units_journal_copy(stack):
    collected = {f["file_path"]: f for f in
                 agent_config()["logs"]["logs_collected"]["files"]["collect_list"]}
    # What the instances write: the boot log, one journal copy per unit the
    # bootstrap enables (cloudsite-journal@NAME), and gunicorn's access log.
    bootstrap = (TEMPLATE.parent / "bootstrap.sh").read_text()
    copies = set(re.findall(r"cloudsite-journal@([a-z-]+)\.service", bootstrap))
    assert copies == {"web", "reconciler", "calc-worker", "pic-worker", "lifecycle"}
    access = re.search(r'^accesslog = "(.+)"', (TEMPLATE.parent / "gunicorn.conf.py")
                       .read_text(), re.M)[1]
    unit = (TEMPLATE.parent / "systemd" / "cloudsite-journal@.service").read_text()
    assert "StandardOutput=append:/var/log/cloudsite/%i.log" in unit
    assert set(collected) == ({"/var/log/cloud-init-output.log", access}
                              | {f"/var/log/cloudsite/{name}.log" for name in copies})
    assert collected["/var/log/cloud-init-output.log"]["log_group_name"] == "/cloudsite/cs/boot"
    # The workers' EMF lines land in one group, streams per instance and unit.
    for name in ("calc-worker", "pic-worker"):
        entry = collected[f"/var/log/cloudsite/{name}.log"]
        assert entry["log_group_name"] == "/cloudsite/cs/workers"
        assert entry["log_stream_name"] == "{instance_id}/" + name
    assert {f["log_group_name"] for f in collected.values()} == {
        f"/cloudsite/cs/{name}" for name in LOG_GROUPS}


def test_the_database_engine_is_pinned(stack):
    # (moto drops DeletionProtection and MaxAllocatedStorage: test_template.py reads them.)
    (db,) = client("rds").describe_db_instances()["DBInstances"]
    assert db["EngineVersion"] == "16.8" and db["AutoMinorVersionUpgrade"] is False
    assert db["MultiAZ"] is False and db["AllocatedStorage"] == 20


def dashboard_metrics():
    body = json.loads(client("cloudwatch").get_dashboard(DashboardName="cs-cloudsite")[
        "DashboardBody"])
    by_title = {}
    for widget in body["widgets"]:
        metrics = [[part for part in m if not isinstance(part, dict)]
                   for m in widget["properties"]["metrics"]]
        by_title[widget["properties"]["title"]] = metrics
    return by_title


def test_one_dashboard_draws_queues_groups_jobs_load_balancer_and_database(stack):
    resources, _ = stack
    metrics = [tuple(m) for ms in dashboard_metrics().values() for m in ms]
    named = {(m[0], m[1]): set() for m in metrics}
    for m in metrics:
        named[(m[0], m[1])].add(m[3])
    queues = {"prod-cloudcal-requests", "prod-cloudcal-responses", "prod-cloudpic-inbox",
              "prod-cloudpic-outbox"}
    replies = {"prod-cloudcal-responses-dlq", "prod-cloudpic-outbox-dlq"}
    assert named[("AWS/SQS", "ApproximateNumberOfMessagesVisible")] == queues | replies
    assert named[("AWS/SQS", "ApproximateAgeOfOldestMessage")] == queues
    assert named[("AWS/SQS", "NumberOfMessagesReceived")] == {
        "prod-cloudcal-requests-dlq", "prod-cloudpic-inbox-dlq"}
    assert named[("AWS/AutoScaling", "GroupInServiceInstances")] == {"cs-web", "cs-calc",
                                                                      "cs-pic"}
    # The workers' EMF metrics: namespace CloudSite, dimension Tool.
    for name in ("JobsDone", "JobsFailed", "JobDuration"):
        assert named[("CloudSite", name)] == {"calc", "pic"}
    assert all(m[2] == "Tool" for m in metrics if m[0] == "CloudSite")
    for name in ("RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"):
        (balancer,) = named[("AWS/ApplicationELB", name)]
        # AWS puts app/NAME/ID there; moto leaves the GetAtt as written.
        assert balancer.startswith("app/") or "LoadBalancerFullName" in balancer
    for name in ("CPUUtilization", "FreeStorageSpace", "DatabaseConnections"):
        assert named[("AWS/RDS", name)] == {resources["Database"]}
