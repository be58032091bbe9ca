"""Issue 13 on the local cloud: `--method` on a closed door, the swap for an image with no door,
`keyrescue diagnose` (key, network, instance, and the routes of each instance below), and the door
rescues themselves: SSM and Instance Connect with no stop, journaled for `runs` and `status`."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import KEYRESCUE, Rescuer, describe, image, launch, ssh_ok, ssh_port, wait_state


def open_port_22(ec2, iid: str, name: str) -> None:
    vpc = describe(ec2, iid)["VpcId"]
    group = ec2.create_security_group(GroupName=f"ssh-{name}", Description="ssh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.modify_instance_attribute(InstanceId=iid, Groups=[group])


def diagnose(rescuer, iid: str, home, *extra: str) -> dict:
    out = rescuer.run("diagnose", iid, "--json", *extra, HOME=str(home))
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def test_method_ssm_on_an_unmanaged_instance_exits_3_before_any_change(ec2, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    snapshots = len(ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"])
    out = rescuer.run("reset", iid, "--public-key", f"{key}.pub", "--method", "ssm", "--yes")
    assert out.returncode == 3, out.stdout + out.stderr
    # With the local cloud's SSM (lc-doors) the instance is unknown to it; without, the call fails.
    # Either way the route is closed, and says why.
    assert ("--method ssm: not an online SSM managed node" in out.stderr
            or "--method ssm: Systems Manager could not be asked" in out.stderr), out.stderr
    assert describe(ec2, iid)["State"]["Name"] == "running"
    assert len(ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]) == snapshots
    assert rescuer.run_ids() == []


def test_a_debian_instance_has_no_door_and_plan_says_the_swap_is_chosen(ec2, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    out = rescuer.run("plan", iid, "--public-key", f"{key}.pub")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "route swap: chosen" in out.stdout
    routes = rescuer.run("plan", iid, "--public-key", f"{key}.pub", "--json")
    event = next(json.loads(l) for l in routes.stdout.splitlines() if l.startswith("{") and "\"routes\"" in l)
    assert event["chosen"] == "swap" and set(event["routes"]) == {"ssm", "instanceConnect", "swap"}, event
    assert "route instance-connect: not open: the image (Debian) does not come with ec2-instance-connect" in out.stdout


def test_diagnose_blames_the_key_when_no_local_key_matches(ec2, rescuer, tmp_path):
    iid, lost = launch(ec2, tmp_path)
    open_port_22(ec2, iid, tmp_path.name)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    report = diagnose(rescuer, iid, home)
    assert report["state"] == "running"
    assert report["verdict"]["kind"] == "key", report
    assert report["chosen"] == "swap"
    assert report["routes"]["ssm"]["open"] is False and report["routes"]["swap"]["open"] is True
    assert "Debian" in report["routes"]["instanceConnect"]["why"]


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_diagnose_finds_the_local_key_of_the_key_pair(ec2, rescuer, tmp_path, kind):
    """An imported key pair: EC2's fingerprint is the MD5 of the DER public key for RSA, the
    base64 SHA-256 for ED25519 (the local cloud's too: localcloud/key_pairs.py)."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "old"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(key)], check=True)
    name = f"{kind}-{tmp_path.name}"
    imported = ec2.import_key_pair(KeyName=name, PublicKeyMaterial=key.with_suffix(".pub").read_bytes())
    assert (":" in imported["KeyFingerprint"]) == (kind == "rsa"), imported["KeyFingerprint"]
    iid = ec2.run_instances(ImageId=image(ec2, "debian-12-amd64-2*"), InstanceType="t3.micro", KeyName=name,
                            MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    open_port_22(ec2, iid, tmp_path.name)
    report = diagnose(rescuer, iid, home)
    assert f"key pair {name}: matches {key}.pub" in report["checks"], report["checks"]
    assert report["verdict"]["kind"] == "unknown", report["verdict"]


def test_diagnose_blames_the_network_for_a_group_without_port_22(ec2, rescuer, tmp_path):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName=f"no-ssh-{tmp_path.name}", Description="no ssh", VpcId=vpc)["GroupId"]
    iid, _ = launch(ec2, tmp_path)
    ec2.modify_instance_attribute(InstanceId=iid, Groups=[group])
    report = diagnose(rescuer, iid, tmp_path)
    assert report["verdict"]["kind"] == "network", report
    assert "no security group rule allows port 22" in report["verdict"]["text"]


def test_diagnose_of_a_stopped_instance_says_it_is_not_healthy(ec2, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    ec2.stop_instances(InstanceIds=[iid])
    wait_state(ec2, iid, "stopped")
    report = diagnose(rescuer, iid, tmp_path)
    assert report["state"] == "stopped"
    assert report["verdict"] == {"kind": "instance", "text": "the instance is not healthy: it is stopped"}
    assert report["chosen"] == "swap" and report["routes"]["ssm"]["open"] is False


def test_a_debian_instance_is_rescued_by_the_swap_and_the_summary_says_so(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    out = rescuer.run("reset", iid, "--public-key", f"{key}.pub", "--yes", "--json", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    summary = next(e for e in events if e.get("event") == "summary")
    assert summary["route"] == "swap"
    assert summary["snapshot"].startswith("snap-")


# The door rescues below need the local cloud's SSM and Instance Connect (lc-doors).
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}


def boto(cloud: str, service: str):
    import boto3
    return boto3.client(service, endpoint_url=cloud, region_name="us-east-1",
                        aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")


def al2023(cloud: str) -> str:
    name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    return boto(cloud, "ssm").get_parameter(Name=name)["Parameter"]["Value"]


def launch_al2023(ec2, cloud: str, tmp_path, managed: bool) -> str:
    extra = {}
    if managed:
        iam, name = boto(cloud, "iam"), f"ssm-{tmp_path.name}"[:60]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.attach_role_policy(RoleName=name, PolicyArn=CORE)
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        extra["IamInstanceProfile"] = {"Name": name}
    iid = ec2.run_instances(ImageId=al2023(cloud), InstanceType="t3.micro", MinCount=1, MaxCount=1, **extra)["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    if managed:
        ssm, deadline = boto(cloud, "ssm"), time.monotonic() + 60
        while not boto_online(ssm, iid):
            assert time.monotonic() < deadline, f"{iid} never came Online in SSM"
            time.sleep(1)
    return iid


def boto_online(ssm, iid: str) -> bool:
    listed = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [iid]}])["InstanceInformationList"]
    return any(i["PingStatus"] == "Online" for i in listed)


def stops(cloud: str, iid: str) -> list[str]:
    log = json.load(urllib.request.urlopen(f"{cloud}/_localcloud/transitions"))
    return [t["state"] for t in log if t["instance_id"] == iid and t["state"] in ("stopping", "stopped")]


def door_rescue(rescuer, cloud: str, iid: str, tmp_path, *extra: str, **env: str) -> dict:
    port = ssh_port(cloud, iid)
    key = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(key), "--json", "--verify", "ssh",
                      "--ssh-option=-oHostName=127.0.0.1", f"--ssh-option=-oPort={port}", *extra, **env)
    assert out.returncode == 0, out.stdout + out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    summary = next(e for e in events if e.get("event") == "summary")
    assert ssh_ok(port, key, user="ec2-user")
    return {"summary": summary, "events": events, "stderr": out.stderr}


def test_an_ssm_managed_instance_is_rescued_through_ssm_without_a_stop(ec2, cloud, rescuer, tmp_path):
    iid = launch_al2023(ec2, cloud, tmp_path, managed=True)
    report = diagnose(rescuer, iid, tmp_path)
    assert report["routes"]["ssm"]["open"] is True and report["chosen"] == "ssm", report["routes"]
    result = door_rescue(rescuer, cloud, iid, tmp_path, AWS_ACCESS_KEY_ID="AKIDDOORSSM")
    summary = result["summary"]
    assert summary["route"] == "ssm" and summary["downtimeSeconds"] == 0, summary
    assert summary["snapshot"] == "" and "logged in with the new key" in summary["verified"], summary
    assert stops(cloud, iid) == []
    assert describe(ec2, iid)["State"]["Name"] == "running"
    # Journaled like a swap: `runs` and `status` show it; its tags were on the instance only while it ran.
    run_id = summary["runID"]
    assert rescuer.run_ids() == [run_id]
    record = rescuer.record(run_id)
    assert (record["route"], record["status"], record["plan"]["target"]["instanceID"]) == ("ssm", "done", iid), record
    assert record["finishedAt"] >= record["createdAt"]
    runs = rescuer.run("runs")
    assert runs.returncode == 0 and f"{run_id}  {iid}  done  route ssm  downtime 0 s" in runs.stdout, runs.stdout
    status = rescuer.run("status", run_id)
    assert status.returncode == 0 and f"run {run_id}: done, route ssm" in status.stdout, status.stdout
    assert "never stopped: downtime 0 s" in status.stdout
    assert not [t for t in describe(ec2, iid).get("Tags", []) if t["Key"].startswith("keyrescue:")]
    calls = [c["action"] for c in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/calls"))
             if c["access_key_id"] == "AKIDDOORSSM" and not c["dry_run"] and c["action"] in ("CreateTags", "DeleteTags", "SendCommand")]
    assert calls == ["CreateTags", "SendCommand", "DeleteTags"], calls


# As on AWS, AL2023's ec2-user has passwordless sudo (the seed's /etc/sudoers.d/90-cloud-init-users).
def test_an_instance_without_a_profile_is_rescued_through_instance_connect(ec2, cloud, rescuer, tmp_path):
    iid = launch_al2023(ec2, cloud, tmp_path, managed=False)
    report = diagnose(rescuer, iid, tmp_path)
    assert report["routes"]["ssm"]["open"] is False, report["routes"]
    assert report["routes"]["instanceConnect"]["open"] is True and report["chosen"] == "instance-connect", report
    result = door_rescue(rescuer, cloud, iid, tmp_path)
    assert result["summary"]["route"] == "instance-connect", result["summary"]
    assert result["summary"]["downtimeSeconds"] == 0
    assert stops(cloud, iid) == []
    assert not list(Path("/tmp").glob(f"keyrescue-ic-*/throwaway")), "the throwaway key is deleted"
    record = rescuer.record(result["summary"]["runID"])
    assert (record["route"], record["status"]) == ("instance-connect", "done"), record


def test_a_stalled_ssm_command_is_cancelled_and_instance_connect_follows(ec2, cloud, rescuer, tmp_path):
    iid = launch_al2023(ec2, cloud, tmp_path, managed=True)
    spec = {"action": "SendCommand", "kind": "stall"}
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", method="POST", data=json.dumps(spec).encode()))
    result = door_rescue(rescuer, cloud, iid, tmp_path, "--route-timeout", "15", "--yes")
    notes = [e.get("message", "") for e in result["events"] if e.get("event") == "note"]
    assert any("route ssm fell through" in n and "cancelled" in n for n in notes), notes
    # The next route takes over: Instance Connect where it works, else the swap.
    assert result["summary"]["route"] in ("instance-connect", "swap"), result["summary"]
    assert any("route instance-connect" in n for n in notes) or result["summary"]["route"] == "instance-connect", notes


def test_an_interrupted_door_is_listed_from_its_tags_and_rolled_back_elsewhere(ec2, cloud, rescuer, tmp_path):
    """keyrescue killed while its SSM command hangs: the instance still carries the run's tags, so
    another workstation lists the run and rolls it back (the tags go); a door is not resumed."""
    iid = launch_al2023(ec2, cloud, tmp_path, managed=True)
    spec = {"action": "SendCommand", "kind": "stall"}
    urllib.request.urlopen(urllib.request.Request(f"{cloud}/_localcloud/faults", method="POST", data=json.dumps(spec).encode()))
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    proc = subprocess.Popen([str(KEYRESCUE), "reset", iid, "--public-key", f"{key}.pub", "--method", "ssm",
                             "--route-timeout", "60", "--endpoint-url", cloud, "--region", "us-east-1"],
                            env=rescuer.env(AWS_ACCESS_KEY_ID="AKIDDOORKILL"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(c["access_key_id"] == "AKIDDOORKILL" and c["action"] == "SendCommand"
                      for c in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/calls"))):
            assert proc.poll() is None and time.monotonic() < deadline, "keyrescue never sent its command"
            time.sleep(0.3)
    finally:
        proc.kill()
        proc.wait()
    tags = {t["Key"]: t["Value"] for t in describe(ec2, iid).get("Tags", [])}
    assert tags.get("keyrescue:route") == "ssm", tags
    run_id = tags["keyrescue:run"]
    assert rescuer.record(run_id)["status"] == "in-progress"
    resume = rescuer.run("resume", run_id)
    assert resume.returncode == 6 and "a door is not resumed" in resume.stderr, resume.stdout + resume.stderr
    elsewhere = Rescuer(cloud, tmp_path / "other-workstation")
    listed = elsewhere.run("runs")
    assert f"{run_id}  {iid}  in progress (tags)  route ssm" in listed.stdout, listed.stdout + listed.stderr
    status = elsewhere.run("status", run_id)
    assert status.returncode == 0 and f"run {run_id}: in-progress, route ssm" in status.stdout, status.stdout + status.stderr
    rollback = elsewhere.run("rollback", run_id)
    assert rollback.returncode == 0 and "rolled back" in rollback.stdout, rollback.stdout + rollback.stderr
    assert not [t for t in describe(ec2, iid).get("Tags", []) if t["Key"].startswith("keyrescue:")]
    assert stops(cloud, iid) == []
