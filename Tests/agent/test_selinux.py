"""SELinux targets (`--root` on fake roots): the label comes from the target's own policy files; no
label on a target whose SELinux is disabled; the targeted policy's default when the file is absent."""
import errno
import os

import pytest

from kr.agent import run_agent
from kr.fakeroot import RootSpec, populate, write
from kr.images import account
from kr.marks import needs_root

pytestmark = needs_root
CONTEXTS = "etc/selinux/targeted/contexts/files/file_contexts.homedirs"


def label(path):
    try:
        return os.getxattr(path, "security.selinux").rstrip(b"\0").decode()
    except OSError as e:
        if e.errno == errno.ENODATA:
            return None
        raise


def inject(agent, root, key):
    result = run_agent(agent, "inject", "--root", root, "--public-key", key.public, "--json")
    assert result.rc == 0, str(result)
    return result.report


@pytest.mark.parametrize("mode", ["enforcing", "permissive"])
def test_label_comes_from_the_targets_policy(mode, agent, scratch, key):
    root = os.path.join(scratch, "root")
    populate(root, RootSpec("rhel", "9.4", account("ec2-user"), selinux=mode))
    context = "unconfined_u:object_r:ssh_home_t:s0:c7"
    write(f"{root}/{CONTEXTS}", f"HOME_DIR/\\.ssh(/.*)?\t{context}\n")
    report = inject(agent, root, key)
    assert report["selinuxLabel"] == context
    for p in ("home/ec2-user/.ssh", "home/ec2-user/.ssh/authorized_keys"):
        assert label(f"{root}/{p}") == context, p


def test_no_label_when_selinux_is_disabled(agent, scratch, key):
    root = os.path.join(scratch, "root")
    populate(root, RootSpec("rhel", "9.4", account("ec2-user"), selinux="disabled"))
    report = inject(agent, root, key)
    assert not report.get("selinuxLabel")
    assert label(f"{root}/home/ec2-user/.ssh/authorized_keys") is None


def test_default_label_when_the_policy_is_missing(agent, scratch, key):
    root = os.path.join(scratch, "root")
    populate(root, RootSpec("rhel", "9.4", account("ec2-user"), selinux="enforcing"))
    os.remove(f"{root}/{CONTEXTS}")
    report = inject(agent, root, key)
    assert "ssh_home_t" in report["selinuxLabel"]
    assert label(f"{root}/home/ec2-user/.ssh/authorized_keys") == report["selinuxLabel"]
