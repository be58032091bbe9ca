"""Fixtures for the agent's pytest suite (run as root by scripts/test; see docs/AGENT-TESTS.md)."""
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from kr import leaks  # noqa: E402

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
