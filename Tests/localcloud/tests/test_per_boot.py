"""Per-boot scripts: /var/lib/cloud/scripts/per-boot/ runs at every boot, before the user-data on
the first (cloud-init's final stage runs scripts-per-boot before scripts-user); the user-data runs once."""
from __future__ import annotations

import time

from conftest import console_until, launch, state_of, wait_states

USER_DATA = """#!/bin/sh
echo user-data-ran
mkdir -p /var/lib/cloud/scripts/per-boot
printf '#!/bin/sh\\necho "b-per-boot ran"\\n' > /var/lib/cloud/scripts/per-boot/b-second
printf '#!/bin/sh\\necho "a-per-boot ran"\\n' > /var/lib/cloud/scripts/per-boot/a-first
printf '#!/bin/sh\\necho "not executable ran"\\n' > /var/lib/cloud/scripts/per-boot/c-not-executable
chmod 755 /var/lib/cloud/scripts/per-boot/a-first /var/lib/cloud/scripts/per-boot/b-second
"""


def test_per_boot_scripts_run_at_every_boot_and_user_data_once(ec2, al2023):
    iid = launch(ec2, al2023, UserData=USER_DATA)
    first = console_until(ec2, iid, "user-data exited")
    assert "per-boot ran" not in first, "written by the user-data, after this boot's per-boot stage"
    for boot in (2, 3):
        wait_states(lambda: state_of(ec2, iid), "running")
        ec2.stop_instances(InstanceIds=[iid])
        wait_states(lambda: state_of(ec2, iid), "stopped")
        ec2.start_instances(InstanceIds=[iid])
        text = console_until(ec2, iid, "b-per-boot ran", count=boot - 1)
    assert text.count("a-per-boot ran") == 2 and text.count("b-per-boot ran") == 2
    assert text.index("a-per-boot ran") < text.index("b-per-boot ran"), "alphabetical order"
    assert "not executable ran" not in text
    assert text.count("user-data-ran") == 1
    ec2.terminate_instances(InstanceIds=[iid])


def test_per_boot_scripts_live_on_the_root_volume(ec2, al2023):
    """The scripts are the image's files: a root volume moved out and back (a rescue's path)
    keeps them, and they run at the next boot though no user-data is left to run."""
    maker = launch(ec2, al2023, UserData="#!/bin/sh\nmkdir -p /var/lib/cloud/scripts/per-boot\n"
                   "printf '#!/bin/sh\\necho image-per-boot\\n' > /var/lib/cloud/scripts/per-boot/hello\n"
                   "chmod 755 /var/lib/cloud/scripts/per-boot/hello\nsync\npoweroff\n")
    wait_states(lambda: state_of(ec2, maker), "stopped")
    root = ec2.describe_instances(InstanceIds=[maker])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"][0]
    ec2.detach_volume(VolumeId=root["Ebs"]["VolumeId"])
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]["State"], "available")
    ec2.attach_volume(VolumeId=root["Ebs"]["VolumeId"], InstanceId=maker, Device=root["DeviceName"])
    wait_states(lambda: ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]["Attachments"][0]["State"],
                "attached")
    ec2.start_instances(InstanceIds=[maker])
    assert "image-per-boot" in console_until(ec2, maker, "image-per-boot")
    ec2.terminate_instances(InstanceIds=[maker])


def test_nothing_runs_inside_an_instance_while_it_is_pending(ec2, al2023):
    """The OS boots once EC2 has started the instance, so its user-data cannot run while the
    instance is `pending` (the fast profile keeps it pending 2 s). Before, the runtime started at
    the launch: a rescue host reported ready before EC2 would even show it running."""
    iid = launch(ec2, al2023, UserData="#!/bin/sh\necho user-data-ran\n")
    time.sleep(1.0)
    printed = ec2.get_console_output(InstanceId=iid, Latest=True).get("Output", "")
    state = state_of(ec2, iid)   # read after the console: pending here means pending then too
    assert state == "pending", f"the fast profile keeps a launch pending 2 s; it was {state} after 1 s"
    assert "user-data-ran" not in printed, printed
    wait_states(lambda: state_of(ec2, iid), "running")
    console_until(ec2, iid, "user-data-ran")
    ec2.terminate_instances(InstanceIds=[iid])
