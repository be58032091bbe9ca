"""Issue 12 rule 9 on the local cloud's Marketplace AMI: the root attaches to and detaches from the
rescue host only while it is stopped, and the agent runs again at the host's next boot from the
per-boot script its bootstrap installed."""
from __future__ import annotations

import json
import urllib.request

from conftest import assert_restored, launch, root_volume_of, ssh_ok, ssh_port


def test_a_marketplace_root_is_rescued(ec2, cloud, rescuer, tmp_path):
    iid, _ = launch(ec2, tmp_path, pattern="debian-12-amd64-marketplace-*")
    root = root_volume_of(ec2, iid)
    new = tmp_path / "new"
    out = rescuer.run("reset", iid, "--generate-key", str(new), "--yes", "--verify", "none")
    assert out.returncode == 0, out.stdout + out.stderr
    [run_id] = rescuer.run_ids()
    host = rescuer.record(run_id)["rescueInstanceID"]
    states = [t["state"] for t in json.load(urllib.request.urlopen(f"{cloud}/_localcloud/transitions"))
              if t["instance_id"] == host]
    # Launched, stopped for the attach, started (the per-boot agent), stopped for the detach, terminated.
    assert states.count("stopped") == 2 and states[-1] == "terminated", states
    assert_restored(ec2, iid, root)
    assert ssh_ok(ssh_port(cloud, iid), new)
