"""Instances run their user-data for real: volumes as block devices, console text, hot attach."""
from __future__ import annotations

import time

from conftest import launch, state_of, wait_states


def console(ec2, iid) -> str:
    return ec2.get_console_output(InstanceId=iid, Latest=True).get("Output", "")


def console_file(endpoint: str, iid: str) -> str:
    """The console as the cloud writes it: a Xen type has no Latest console output through the API."""
    import json
    import urllib.request
    with urllib.request.urlopen(f"{endpoint}/_localcloud/instances") as resp:
        [path] = [r["console_log"] for r in json.loads(resp.read()) if r["instance_id"] == iid]
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_console(ec2, iid, needle: str, timeout: float = 60, read=console) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = read(ec2, iid)
        if needle in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} never appeared on the console:\n{text}")


def marked_volume(ec2, al2023, marker: str) -> str:
    """A volume whose root filesystem carries `marker`, made by an instance that writes it."""
    iid = launch(ec2, al2023, UserData=f"#!/bin/sh\necho {marker} > /etc/localcloud-marker\nsync\npoweroff\n")
    wait_states(lambda: state_of(ec2, iid), "stopped")
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    vol = inst["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    ec2.detach_volume(VolumeId=vol)
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"], "available")
    ec2.terminate_instances(InstanceIds=[iid])
    return vol


def test_user_data_reads_its_attached_volume_and_console_comes_back(ec2, al2023):
    vol = marked_volume(ec2, al2023, "marker-7f3a")
    serial = vol.replace("-", "")
    script = f"""#!/bin/bash
link=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{serial}
for i in $(seq 1 100); do [ -b "$link-part1" ] && break; sleep 0.2; done
echo "device: $(readlink -f $link) block=$([ -b $link ] && echo yes)"
mkdir -p /mnt/rescue && mount -o ro,nouuid "$link-part1" /mnt/rescue
echo "read: $(cat /mnt/rescue/etc/localcloud-marker)"
umount /mnt/rescue
"""
    iid = launch(ec2, al2023, UserData=script)
    wait_states(lambda: state_of(ec2, iid), "running")
    ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")
    text = wait_console(ec2, iid, "read: ")
    assert "device: /dev/nvme1n1 block=yes" in text
    assert "read: marker-7f3a" in text
    ec2.terminate_instances(InstanceIds=[iid])


def test_attach_and_detach_while_running_make_the_device_appear_and_go(endpoint, ec2, al2023):
    script = """#!/bin/sh
seen=""
for i in $(seq 1 300); do
    now=$([ -b /dev/xvdf ] && echo present || echo absent)
    [ "$now" != "$seen" ] && echo "xvdf $now" && seen=$now
    sleep 0.1
done
"""
    iid = launch(ec2, al2023, InstanceType="t2.micro", UserData=script)   # Xen: /dev/sdf shows as /dev/xvdf
    wait_states(lambda: state_of(ec2, iid), "running")
    read = lambda _ec2, i: console_file(endpoint, i)   # noqa: E731
    wait_console(ec2, iid, "xvdf absent", read=read)
    vol = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a")["VolumeId"]
    ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")
    wait_console(ec2, iid, "xvdf present", read=read)
    ec2.detach_volume(VolumeId=vol)
    text = wait_console(ec2, iid, "xvdf present\nxvdf absent", read=read)
    assert text.count("xvdf absent") == 2
    ec2.terminate_instances(InstanceIds=[iid])


def test_key_pair_lands_in_the_login_users_authorized_keys(ec2, al2023, tmp_path):
    import subprocess
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test@localcloud", "-f", str(tmp_path / "k")],
                   check=True)
    key = (tmp_path / "k.pub").read_text().strip()
    ec2.import_key_pair(KeyName="localcloud-test", PublicKeyMaterial=key.encode())
    iid = launch(ec2, al2023, KeyName="localcloud-test",
                 UserData="#!/bin/sh\nls -ln /home/ec2-user/.ssh/authorized_keys\ncat /home/ec2-user/.ssh/authorized_keys\n")
    text = wait_console(ec2, iid, "test@localcloud")
    assert "-rw------- 1 1000 1000" in text
    ec2.terminate_instances(InstanceIds=[iid])


def test_what_goes_to_dev_console_reaches_the_console_output(ec2, al2023):
    iid = launch(ec2, al2023, UserData="#!/bin/sh\necho via-dev-console > /dev/console\necho via-ttyS0 > /dev/ttyS0\n")
    text = wait_console(ec2, iid, "via-ttyS0")
    assert "via-dev-console" in text
    ec2.terminate_instances(InstanceIds=[iid])


def test_reboot_inside_restarts_the_instance_without_rerunning_user_data(ec2, al2023):
    iid = launch(ec2, al2023, UserData="#!/bin/sh\necho user-data-ran\nreboot\n")
    wait_console(ec2, iid, "reboot : reboot")
    text = wait_console(ec2, iid, "up (", timeout=30)
    deadline = time.monotonic() + 30
    while text.count("up (") < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
        text = console(ec2, iid)
    assert text.count("up (") == 2
    assert text.count("user-data-ran") == 1
    assert wait_states(lambda: state_of(ec2, iid), "running")[-1] == "running"
    time.sleep(1)
    assert state_of(ec2, iid) == "running"
    ec2.terminate_instances(InstanceIds=[iid])


def test_the_images_own_sshd_lets_the_key_pair_log_in(endpoint, ec2, al2023, tmp_path):
    import json
    import subprocess
    import urllib.request
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    ec2.import_key_pair(KeyName="localcloud-ssh", PublicKeyMaterial=(tmp_path / "k.pub").read_bytes())
    iid = launch(ec2, al2023, KeyName="localcloud-ssh")
    wait_console(ec2, iid, "sshd listening")
    runtimes = json.loads(urllib.request.urlopen(f"{endpoint}/_localcloud/instances").read())
    host, port = next(r["ssh"] for r in runtimes if r["instance_id"] == iid)
    login = subprocess.run(["ssh", "-i", str(tmp_path / "k"), "-p", str(port), "-o", "BatchMode=yes",
                            "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/known",
                            f"ec2-user@{host}", "id -un; hostname"], capture_output=True, text=True, timeout=30)
    assert login.returncode == 0, login.stderr
    assert login.stdout.split() == ["ec2-user", iid]
    ec2.terminate_instances(InstanceIds=[iid])
