"""EC2 Instance Connect through boto3: SendSSHPublicKey, then ssh as the image's own sshd allows it.

A cloud of this module's own with KEYRESCUE_LOCALCLOUD_EIC_TTL=6: the 60 s window, shortened."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import REPO, client, console_until, launch, needs_root, state_of, wait_states

pytestmark = needs_root
TTL = 6


@pytest.fixture(scope="module")
def eic_cloud():
    env = dict(os.environ, KEYRESCUE_LOCALCLOUD_EIC_TTL=str(TTL))
    out = subprocess.run([str(REPO / "scripts/localcloud"), "start", "--profile", "fast"],
                         capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip().splitlines()[-1]
    yield url
    subprocess.run([str(REPO / "scripts/localcloud"), "stop", "--port", url.rsplit(":", 1)[1]], timeout=300)


@pytest.fixture(scope="module")
def booted(eic_cloud):
    """An AL2023 and a Debian instance, neither with a key pair, both with sshd up."""
    ec2, ssm = client(eic_cloud, "ec2"), client(eic_cloud, "ssm")
    al2023 = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
    debian = ec2.describe_images(Owners=["136693071363"], Filters=[
        {"Name": "name", "Values": ["debian-12-amd64-20261125-localcloud"]}])["Images"][0]["ImageId"]
    ids = {"al2023": launch(ec2, al2023), "debian": launch(ec2, debian)}
    for iid in ids.values():
        wait_states(lambda i=iid: state_of(ec2, i), "running")
        console_until(ec2, iid, "sshd listening")
    runtimes = json.loads(urllib.request.urlopen(f"{eic_cloud}/_localcloud/instances").read())
    ports = {name: next(r["ssh"][1] for r in runtimes if r["instance_id"] == iid) for name, iid in ids.items()}
    return ids, ports


@pytest.fixture
def key(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "eic@test", "-f", str(tmp_path / "k")],
                   check=True)
    return tmp_path / "k"


def _ssh(key, port: int, user: str, command: str = "id -un") -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           "-o", "ConnectTimeout=10", f"{user}@127.0.0.1", command],
                          capture_output=True, text=True, timeout=30)


def _push(eic, instance_id: str, user: str, key) -> dict:
    return eic.send_ssh_public_key(InstanceId=instance_id, InstanceOSUser=user,
                                   SSHPublicKey=(key.parent / "k.pub").read_text())


def test_a_pushed_key_logs_in_within_the_window_and_not_after(eic_cloud, booted, key):
    ids, ports = booted
    eic = client(eic_cloud, "ec2-instance-connect")
    assert _ssh(key, ports["al2023"], "ec2-user").returncode == 255   # nothing pushed yet
    zone = client(eic_cloud, "ec2").describe_instances(InstanceIds=[ids["al2023"]])[
        "Reservations"][0]["Instances"][0]["Placement"]["AvailabilityZone"]
    answer = eic.send_ssh_public_key(InstanceId=ids["al2023"], InstanceOSUser="ec2-user", AvailabilityZone=zone,
                                     SSHPublicKey=(key.parent / "k.pub").read_text())
    pushed = time.monotonic()
    assert answer["Success"] is True and answer["RequestId"]
    login = _ssh(key, ports["al2023"], "ec2-user")
    assert (login.returncode, login.stdout) == (0, "ec2-user\n"), login.stderr
    assert _ssh(key, ports["al2023"], "root").returncode == 255        # pushed for ec2-user only
    time.sleep(max(0.0, TTL + 0.5 - (time.monotonic() - pushed)))
    assert _ssh(key, ports["al2023"], "ec2-user").returncode == 255
    calls = json.loads(urllib.request.urlopen(f"{eic_cloud}/_localcloud/calls").read())
    assert [c["status"] for c in calls if (c["service"], c["action"]) == ("ec2-instance-connect", "SendSSHPublicKey")] == [200]


def test_the_login_user_has_passwordless_sudo_and_a_writable_dev_null(eic_cloud, booted, key):
    """As on AWS's AL2023 (cloud-init's /etc/sudoers.d/90-cloud-init-users): what the Instance
    Connect route needs, `sudo -n`, and /dev/null 0666 for any user (mknod's mode passes the umask)."""
    ids, ports = booted
    _push(client(eic_cloud, "ec2-instance-connect"), ids["al2023"], "ec2-user", key)
    out = _ssh(key, ports["al2023"], "ec2-user", "echo discarded > /dev/null && stat -c %a /dev/null && sudo -n id -un")
    assert (out.returncode, out.stdout) == (0, "666\nroot\n"), out.stderr


def test_an_image_without_the_package_refuses_the_pushed_key(eic_cloud, booted, key):
    ids, ports = booted
    eic = client(eic_cloud, "ec2-instance-connect")
    assert _push(eic, ids["debian"], "admin", key)["Success"] is True   # the API does not know what the image has
    assert _ssh(key, ports["debian"], "admin").returncode == 255


def test_bad_pushes_say_what_is_wrong(eic_cloud, booted, key):
    ids, _ = booted
    eic = client(eic_cloud, "ec2-instance-connect")
    cases = (({"InstanceId": "i-0123456789abcdef0"}, "EC2InstanceNotFoundException"),
             ({"InstanceOSUser": "bad user"}, "InvalidArgsException"),
             ({"SSHPublicKey": "ssh-dss " + "A" * 100}, "InvalidArgsException"),
             ({"AvailabilityZone": "us-east-1f"}, "EC2InstanceNotFoundException"))
    for override, code in cases:
        args = {"InstanceId": ids["al2023"], "InstanceOSUser": "ec2-user",
                "SSHPublicKey": (key.parent / "k.pub").read_text()} | override
        with pytest.raises(ClientError) as e:
            eic.send_ssh_public_key(**args)
        assert e.value.response["Error"]["Code"] == code, override
        assert e.value.response["Error"]["Message"]


def test_a_stopped_instance_takes_no_key(eic_cloud, booted, key):
    ids, _ = booted
    ec2, eic = client(eic_cloud, "ec2"), client(eic_cloud, "ec2-instance-connect")
    ec2.stop_instances(InstanceIds=[ids["debian"]])
    wait_states(lambda: state_of(ec2, ids["debian"]), "stopped")
    with pytest.raises(ClientError) as e:
        _push(eic, ids["debian"], "admin", key)
    assert e.value.response["Error"]["Code"] == "EC2InstanceStateInvalidException"
