"""Hostile disks, with the agent in a throwaway sandbox: it refuses, or writes only inside the target.

Every run lists what the agent wrote outside the image (the overlay's upper layer) and the mounts
it left behind; both must be empty. The target is then compared with its state before the run."""
import os

import pytest

from kr.marks import needs_root
from kr.agent import assert_refused, run_agent, skip_if_unsupported
from kr.hostile import CASES, hostile_root
from kr.sandbox import HUNG, run_sandboxed
from kr.verify import image_manifest, key_lines, manifest_diff, root_image, tree_manifest

pytestmark = needs_root


def check_outcome(run, case, before, after, key):
    assert run.result.rc != HUNG, f"the agent hung and had to be stopped:\n{run}"
    assert not run.writes_outside, f"the agent wrote outside the target:\n{run}"
    assert not run.leaked_mounts, f"the agent left mounts behind:\n{run}"
    must_refuse = CASES[case][1]
    if must_refuse or run.result.rc != 0:
        assert_refused(run.result)
        assert manifest_diff(before, after) == [], "a refusal must leave the target as it was"
        return
    # Accepted: the key went to a file inside the target, nothing else changed but .ssh.
    changes = manifest_diff(before, after)
    assert changes and all(".ssh" in c for c in changes), changes


def make_image(scratch, case):
    return root_image(os.path.join(scratch, f"{case}.img"), hostile_root(os.path.join(scratch, "src"), case))


@pytest.mark.parametrize("case", CASES)
def test_hostile_image(case, agent, scratch, key):
    img = make_image(scratch, case)
    before = image_manifest(img)
    run = run_sandboxed(agent, ["inject", "--image", img, "--public-key", key.public, "--json"],
                        [scratch, os.path.dirname(key.public)], scratch)
    skip_if_unsupported(run.result, "--image")
    check_outcome(run, case, before, image_manifest(img), key)


@pytest.mark.parametrize("case", CASES)
def test_hostile_root_directory(case, agent, scratch, key):
    root = hostile_root(os.path.join(scratch, "root"), case)
    before = tree_manifest(root)
    run = run_sandboxed(agent, ["inject", "--root", root, "--public-key", key.public, "--json"],
                        [scratch, os.path.dirname(key.public)], scratch)
    check_outcome(run, case, before, tree_manifest(root), key)


def test_hardlinked_authorized_keys_does_not_copy_the_other_file(agent, scratch, key):
    """authorized_keys is another name of /etc/shadow: whatever the agent does, the password hashes
    must not end up in files the user can read."""
    root = hostile_root(os.path.join(scratch, "root"), "authorized_keys_hardlink_to_shadow")
    with open(f"{root}/etc/shadow") as f:
        shadow_line = f.read().splitlines()[0]
    run = run_agent(agent, "inject", "--root", root, "--public-key", key.public, "--json")
    assert run.rc == 5 and "hard links" in run.stderr, run.stderr
    ssh_dir = f"{root}/home/ubuntu/.ssh"
    for name in os.listdir(ssh_dir):
        if os.path.isfile(f"{ssh_dir}/{name}") and os.stat(f"{ssh_dir}/{name}").st_nlink == 1:
            with open(f"{ssh_dir}/{name}") as f:
                assert shadow_line not in f.read(), f"/etc/shadow's content copied into .ssh/{name}"
