"""Fixtures for the agent's pytest suite (run as root by scripts/test; see docs/AGENT-TESTS.md)."""
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from kr import leaks  # noqa: E402
from kr.agent import agent_path  # noqa: E402
from kr.images import Builder  # noqa: E402
from kr.sh import run  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mounts need root")


@pytest.fixture(scope="session")
def base_dir():
    """Our own directory for images and scratch; every leak check keys on this prefix."""
    path = tempfile.mkdtemp(prefix="kr-proof-", dir="/var/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def no_leftovers_after_suite(base_dir):
    """No loop device or mount of ours remains once the whole suite has run."""
    before = set(leaks.mount_lines())
    yield
    left = leaks.leftovers(base_dir)
    new_mounts = [l for l in leaks.mount_lines() if l not in before]
    left += [f"new mount: {l}" for l in leaks.mounts_mentioning(["keyrescue", base_dir], new_mounts)]
    assert not left, "the suite left these behind:\n" + "\n".join(left)


@pytest.fixture(scope="session")
def vg_name():
    """Our LVM volume group's name: unique, so it never meets the host's or another test run's."""
    return f"krproof{os.getpid()}"


@pytest.fixture(scope="session")
def host_key_pub(base_dir):
    """A real ed25519 host public key for the fake roots (the report must carry it)."""
    key = os.path.join(base_dir, "hostkey")
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@fake-target", "-f", key)
    with open(key + ".pub") as f:
        return f.read().strip()


@pytest.fixture(scope="session")
def builder(base_dir, vg_name, host_key_pub):
    cache = os.path.join(base_dir, "images")
    os.makedirs(cache)
    return Builder(cache, vg_name, host_key_pub)


@pytest.fixture
def scratch(base_dir):
    """A directory of this test's own under our base directory, removed afterwards."""
    path = tempfile.mkdtemp(prefix="t-", dir=base_dir)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def image_copy(builder, scratch):
    """image_copy(name) -> a private copy of a catalogue image; checks no loop device of it remains."""
    made = []

    def copy(name):
        dst = os.path.join(scratch, f"{name}-{len(made)}.img")
        run("cp", "--sparse=always", builder.image(name), dst)
        made.append(dst)
        return dst

    yield copy
    left = leaks.leftovers(scratch)
    assert not left, "left behind by this test:\n" + "\n".join(left)


@pytest.fixture(scope="session")
def agent():
    path = agent_path()
    if path is None:
        pytest.fail("no keyrescue-agent binary: run scripts/build-agent (or set KEYRESCUE_AGENT)")
    return path


@dataclass
class KeyPair:
    private: str
    public: str
    line: str  # `ssh-ed25519 AAAA… comment`
    fingerprint: str  # `SHA256:…` as ssh-keygen -lf prints it

    @property
    def blob(self):
        return self.line.split()[1]


def make_keypair(directory, name):
    path = os.path.join(directory, name)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@keyrescue-test", "-f", path)
    with open(path + ".pub") as f:
        line = f.read().strip()
    fingerprint = run("ssh-keygen", "-lf", path + ".pub").stdout.split()[1]
    return KeyPair(path, path + ".pub", line, fingerprint)


@pytest.fixture(scope="session")
def key(base_dir):
    """The fresh ed25519 key the tests inject."""
    return make_keypair(base_dir, "newkey")
