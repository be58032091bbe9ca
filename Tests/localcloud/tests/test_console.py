"""Rule 13: GetConsoleOutput posts at transitions; Latest only on Nitro types."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import launch, state_of, wait_states

SCRIPT = "#!/bin/sh\nsleep 3\necho first-boot-output\n"   # after it reached running


def console(ec2, iid: str, **kw) -> str:
    return ec2.get_console_output(InstanceId=iid, **kw).get("Output", "")


def test_console_output_is_posted_at_transitions(ec2, al2023):
    nitro = launch(ec2, al2023, UserData=SCRIPT)
    xen = launch(ec2, al2023, InstanceType="t2.micro")
    wait_states(lambda: state_of(ec2, nitro), "running")
    wait_states(lambda: "first-boot-output" in console(ec2, nitro, Latest=True) and "yes" or "no", "yes")
    assert "first-boot-output" not in console(ec2, nitro)   # not posted yet
    ec2.stop_instances(InstanceIds=[nitro])
    wait_states(lambda: state_of(ec2, nitro), "stopped")
    assert "first-boot-output" in console(ec2, nitro)       # posted when it stopped
    with pytest.raises(ClientError) as info:
        ec2.get_console_output(InstanceId=xen, Latest=True)
    assert info.value.response["Error"]["Code"] == "UnsupportedOperation"
    console(ec2, xen)   # without Latest a Xen type answers
    ec2.terminate_instances(InstanceIds=[nitro, xen])
