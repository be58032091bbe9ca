"""Rule 7: StateReason says why an instance stopped; Hibernate needs HibernationOptions."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import launch, state_of, wait_states


def reason(ec2, iid: str) -> str:
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["StateReason"]["Code"]


def test_stop_reasons(ec2, al2023):
    plain = launch(ec2, al2023)
    hibernating = launch(ec2, al2023, HibernationOptions={"Configured": True})
    inside = launch(ec2, al2023, UserData="#!/bin/sh\nsleep 1\npoweroff\n")
    for iid in (plain, hibernating):
        wait_states(lambda i=iid: state_of(ec2, i), "running")
    with pytest.raises(ClientError) as info:
        ec2.stop_instances(InstanceIds=[plain], Hibernate=True)
    assert info.value.response["Error"]["Code"] == "UnsupportedHibernationConfiguration"
    assert state_of(ec2, plain) == "running"
    ec2.stop_instances(InstanceIds=[plain])
    ec2.stop_instances(InstanceIds=[hibernating], Hibernate=True)
    assert reason(ec2, plain) == "Client.UserInitiatedShutdown"
    for iid in (plain, hibernating, inside):
        wait_states(lambda i=iid: state_of(ec2, i), "stopped")
    assert reason(ec2, plain) == "Client.UserInitiatedShutdown"
    assert reason(ec2, hibernating) == "Client.UserInitiatedHibernate"
    assert reason(ec2, inside) == "Client.InstanceInitiatedShutdown"
    ec2.terminate_instances(InstanceIds=[plain, hibernating, inside])
