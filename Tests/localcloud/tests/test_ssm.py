"""SSM through boto3: managed nodes (agent + instance profile with AmazonSSMManagedInstanceCore),
Run Command with AWS-RunShellScript inside the instance, the stall fault, cancel and timeouts."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import client, launch, needs_root, state_of, wait_states
from localcloud.ssm_access import documents_allow
from localcloud.ssm_commands import check_parameters

pytestmark = needs_root
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


def _profile(iam, name: str, policy: str | None) -> str:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    if policy:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def _online(ssm, *ids: str) -> dict[str, str]:
    listed = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": list(ids)}])
    return {i["InstanceId"]: i["PingStatus"] for i in listed["InstanceInformationList"]}


def _wait(predicate, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _run(ssm, instance_id: str, commands: list[str], **parameters) -> str:
    params = {"commands": commands} | {k: [v] for k, v in parameters.items()}
    return ssm.send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                            Parameters=params)["Command"]["CommandId"]


def _result(ssm, command_id: str, instance_id: str, timeout: float = 20) -> dict:
    def finished():
        inv = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        return inv if inv["Status"] not in ("Pending", "InProgress", "Delayed", "Cancelling") else None
    return _wait(finished, f"command {command_id} on {instance_id}", timeout)


@pytest.fixture(scope="module")
def fleet(endpoint, al2023):
    """Two managed AL2023 instances, one AL2023 without a profile, one Debian with the profile."""
    ec2, iam, ssm = client(endpoint, "ec2"), client(endpoint, "iam"), client(endpoint, "ssm")
    managed = _profile(iam, "lc-ssm-core", CORE)
    debian = ec2.describe_images(Owners=["136693071363"],
                                 Filters=[{"Name": "name", "Values": ["debian-12-amd64-20261125-localcloud"]}])["Images"][0]["ImageId"]
    ids = {"a": launch(ec2, al2023, IamInstanceProfile={"Name": managed}),
           "a2": launch(ec2, al2023, IamInstanceProfile={"Name": managed}),
           "bare": launch(ec2, al2023),
           "debian": launch(ec2, debian, IamInstanceProfile={"Name": managed})}
    running_at = {}
    for name, iid in ids.items():
        wait_states(lambda i=iid: state_of(ec2, i), "running")
        running_at[name] = time.monotonic()
    online = _wait(lambda: o if len(o := _online(ssm, ids["a"], ids["a2"])) == 2 else None, "Online", 15)
    ids["online_after"] = time.monotonic() - running_at["a"]
    assert set(online.values()) == {"Online"}
    yield ids
    ec2.terminate_instances(InstanceIds=[v for k, v in ids.items() if k != "online_after"])


def test_online_only_with_agent_and_core_policy(endpoint, fleet):
    ssm = client(endpoint, "ssm")
    assert fleet["online_after"] < 10
    time.sleep(1.5)   # ssm_online (fast: 1 s) has passed for all four
    listed = _online(ssm, fleet["a"], fleet["a2"], fleet["bare"], fleet["debian"])
    assert listed == {fleet["a"]: "Online", fleet["a2"]: "Online"}
    info = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [fleet["a"]]}])
    node = info["InstanceInformationList"][0]
    assert (node["PlatformType"], node["PlatformName"], node["IamRole"]) == ("Linux", "Amazon Linux", "lc-ssm-core")
    for unmanaged in (fleet["bare"], fleet["debian"]):
        with pytest.raises(ClientError) as e:
            _run(ssm, unmanaged, ["true"])
        assert e.value.response["Error"]["Code"] == "InvalidInstanceId"


def test_no_policy_or_no_route_stays_unknown(endpoint, al2023, fleet):
    """A role without the policy; the policy, but a subnet with no route out (the agent can't reach SSM)."""
    ec2, iam, ssm = client(endpoint, "ec2"), client(endpoint, "iam"), client(endpoint, "ssm")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
    ids = [launch(ec2, al2023, IamInstanceProfile={"Name": _profile(iam, "lc-ssm-none", None)}),
           launch(ec2, al2023, IamInstanceProfile={"Name": "lc-ssm-core"}, SubnetId=private)]
    for iid in ids:
        wait_states(lambda i=iid: state_of(ec2, i), "running")
    time.sleep(2)   # twice fast's ssm_online
    assert _online(ssm, *ids) == {}
    ec2.terminate_instances(InstanceIds=ids)


def test_managed_policies_are_awss(endpoint):
    policy = client(endpoint, "iam").get_policy(PolicyArn=CORE)["Policy"]
    assert policy["PolicyName"] == "AmazonSSMManagedInstanceCore" and policy["Path"] == "/"


def test_command_runs_as_root_inside_the_instance(endpoint, fleet):
    ssm = client(endpoint, "ssm")
    ok = _result(ssm, _run(ssm, fleet["a"], ["id -un", "hostname", ". /etc/os-release; echo $ID"]), fleet["a"])
    assert (ok["Status"], ok["StatusDetails"], ok["ResponseCode"]) == ("Success", "Success", 0), (ok["StandardErrorContent"], ok["StandardOutputContent"])
    assert ok["StandardOutputContent"] == f"root\n{fleet['a']}\namzn\n"
    bad = _result(ssm, _run(ssm, fleet["a"], ["echo out", "echo err >&2", "exit 3"]), fleet["a"])
    assert (bad["Status"], bad["ResponseCode"]) == ("Failed", 3)
    assert (bad["StandardOutputContent"], bad["StandardErrorContent"]) == ("out\n", "err\n")
    big = _result(ssm, _run(ssm, fleet["a"], ["head -c 30000 /dev/zero | tr '\\0' x"]), fleet["a"])
    assert big["StandardOutputContent"] == "x" * 24000


def test_only_the_named_instance_runs_it(endpoint, fleet):
    ssm = client(endpoint, "ssm")
    marked = _run(ssm, fleet["a"], ["touch /root/marked-by-ssm"])
    assert _result(ssm, marked, fleet["a"])["Status"] == "Success"
    listed = ssm.list_command_invocations(CommandId=marked, Details=True)["CommandInvocations"]
    assert [(i["InstanceId"], i["CommandPlugins"][0]["Name"]) for i in listed] == [(fleet["a"], "aws:runShellScript")]
    with pytest.raises(ClientError) as e:
        ssm.get_command_invocation(CommandId=marked, InstanceId=fleet["a2"])
    assert e.value.response["Error"]["Code"] == "InvocationDoesNotExist"
    check = _result(ssm, _run(ssm, fleet["a2"], ["ls /root/marked-by-ssm 2>&1 || echo absent"]), fleet["a2"])
    assert check["StandardOutputContent"].strip().endswith("absent")


def test_execution_timeout_and_bad_requests(endpoint, fleet):
    ssm = client(endpoint, "ssm")
    slow = _result(ssm, _run(ssm, fleet["a"], ["echo started", "sleep 30"], executionTimeout="1"), fleet["a"])
    assert (slow["Status"], slow["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    for kwargs, code in (({"DocumentName": "AWS-RunPowerShellScript", "Parameters": {"commands": ["x"]}}, "InvalidDocument"),
                         ({"DocumentName": "AWS-RunShellScript", "Parameters": {"commands": []}}, "InvalidParameters"),
                         ({"DocumentName": "AWS-RunShellScript",
                           "Parameters": {"commands": ["x"], "executionTimeout": ["soon"]}}, "InvalidParameters")):
        with pytest.raises(ClientError) as e:
            ssm.send_command(InstanceIds=[fleet["a"]], **kwargs)
        assert e.value.response["Error"]["Code"] == code
        assert "send" in e.value.response["Error"]["Message"].lower() or "must" in e.value.response["Error"]["Message"]


def test_stalled_command_stays_in_progress_until_cancelled(endpoint, fleet):
    ssm = client(endpoint, "ssm")
    request = urllib.request.Request(f"{endpoint}/_localcloud/faults", method="POST",
                                     data=json.dumps({"action": "SendCommand", "kind": "stall"}).encode())
    urllib.request.urlopen(request).read()
    stalled = _run(ssm, fleet["a"], ["touch /root/stalled-ran"])
    time.sleep(1.5)
    inv = ssm.get_command_invocation(CommandId=stalled, InstanceId=fleet["a"])
    assert (inv["Status"], inv["StandardOutputContent"]) == ("InProgress", "")
    ssm.cancel_command(CommandId=stalled)
    done = _result(ssm, stalled, fleet["a"], timeout=5)
    assert (done["Status"], done["StatusDetails"]) == ("Cancelled", "Cancelled")
    assert ssm.list_commands(CommandId=stalled)["Commands"][0]["Status"] == "Cancelled"
    after = _result(ssm, _run(ssm, fleet["a"], ["test -e /root/stalled-ran && echo ran || echo never"]), fleet["a"])
    assert after["StandardOutputContent"] == "never\n"


def test_a_stopped_node_loses_its_connection(endpoint, fleet):
    ec2, ssm = client(endpoint, "ec2"), client(endpoint, "ssm")
    ec2.stop_instances(InstanceIds=[fleet["a2"]])
    wait_states(lambda: state_of(ec2, fleet["a2"]), "stopped")
    assert _wait(lambda: _online(ssm, fleet["a2"]).get(fleet["a2"]) == "ConnectionLost", "ConnectionLost", 5)
    calls = json.loads(urllib.request.urlopen(f"{endpoint}/_localcloud/calls").read())
    assert {"SendCommand", "GetCommandInvocation", "DescribeInstanceInformation"} <= \
        {c["action"] for c in calls if c["service"] == "ssm"}


def test_policy_reading_and_parameter_checks_pure():
    allow = {"Statement": [{"Effect": "Allow", "Action": ["ssm:Update*"], "Resource": "*"}]}
    deny = json.dumps({"Statement": {"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}})
    assert documents_allow([allow], "ssm:UpdateInstanceInformation")
    assert not documents_allow([allow, deny], "ssm:UpdateInstanceInformation")     # an explicit Deny wins
    assert not documents_allow([{"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}], "ssm:UpdateInstanceInformation")
    assert check_parameters({"commands": ["true"], "executionTimeout": ["60"]}) is None
    assert "commands" in check_parameters({"commands": "true"})
    assert "workingDir" in check_parameters({"commands": ["true"], "workingDir": ["/"]})
    assert "172800" in check_parameters({"commands": ["true"], "executionTimeout": ["0"]})
