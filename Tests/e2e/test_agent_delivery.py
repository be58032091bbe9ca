"""The agent travels compressed (xz) under a key named by its SHA-256: the first rescue into a
bucket uploads it, a second one finds it there (HeadObject) and uploads nothing; the rescue host's
bootstrap unpacks it and checks its SHA-256; neither the end of a run nor `keyrescue cleanup`
deletes it."""
from __future__ import annotations

import hashlib
import json
import re

import boto3

from conftest import AGENT, assert_restored, launch, root_volume_of


def uploaded_bytes(stdout: str) -> tuple[str, int]:
    """The agent's key and the bytes uploaded for it, from the JSON events' note."""
    for line in stdout.splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        found = re.match(r"agent in s3://[^/]+/(\S+): (\d+) bytes uploaded", event.get("message", ""))
        if found:
            return found.group(1), int(found.group(2))
    raise AssertionError(f"no agent delivery note in:\n{stdout}")


def test_a_second_rescue_into_the_same_bucket_uploads_no_agent(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path)
    root = root_volume_of(ec2, iid)
    sha = hashlib.sha256(AGENT.read_bytes()).hexdigest()
    sizes = []
    for attempt in ("first", "second"):
        out = rescuer.run("reset", iid, "--generate-key", str(tmp_path / attempt), "--yes", "--verify", "none", "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        key, size = uploaded_bytes(out.stdout)
        assert key == f"keyrescue/agents/{sha}.xz"
        sizes.append(size)
        assert_restored(ec2, iid, root)
    compressed = AGENT.with_name(AGENT.name + ".xz")
    assert sizes == [compressed.stat().st_size, 0], sizes
    assert sizes[0] < 5_000_000, f"the compressed agent is {sizes[0]} bytes"
    bucket = rescuer.record(rescuer.run_ids()[0])["plan"]["delivery"]["bucket"]
    s3 = boto3.client("s3", endpoint_url=cloud, region_name="us-east-1",
                      aws_access_key_id="AKIDE2ETEST", aws_secret_access_key="secret")
    assert rescuer.run("cleanup", "--older-than", "0m").returncode == 0
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="keyrescue/").get("Contents", [])}
    assert keys == {f"keyrescue/agents/{sha}.xz"}, f"only the shared agent stays: {keys}"
