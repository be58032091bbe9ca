"""`probe` and `inject --dry-run` change nothing, byte for byte; bad keys are refused before any write."""
import hashlib

import pytest

from conftest import needs_root
from kr.agent import assert_refused, run_agent, skip_if_unsupported
from kr.images import CATALOGUE

pytestmark = needs_root


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.parametrize("name", ["ubuntu_gpt", "amzn_xfs", "fedora_btrfs"])
@pytest.mark.parametrize("command", [["probe"], ["inject", "--dry-run"]])
def test_probe_and_dry_run_leave_the_image_byte_for_byte(name, command, agent, image_copy, key):
    img = image_copy(name)
    before = sha256(img)
    args = command + ["--image", img, "--json"]
    if command[0] == "inject":
        args += ["--public-key", key.public]
    result = run_agent(agent, *args)
    skip_if_unsupported(result, "--image")
    assert result.rc == 0, str(result)
    assert result.report["user"] == CATALOGUE[name].user
    assert result.report["distro"]["id"] == CATALOGUE[name].distro
    assert sha256(img) == before, "the image changed"


BAD_KEYS = {
    "private key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n"
                   "-----END OPENSSH PRIVATE KEY-----",
    "truncated": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB",
    "unknown type": "ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIEOldKeyNumberOneForTestsOnly00000000 x",
    "options": 'command="/bin/sh" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOldKeyNumberOneForTests x',
    "two lines": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOldKeyNumberOneForTestsOnly0000000000000000 a\n"
                 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEOldKeyNumberOneForTestsOnly0000000000000000 b",
}


@pytest.mark.parametrize("what", BAD_KEYS)
def test_bad_key_is_refused_and_nothing_changes(what, agent, image_copy):
    img = image_copy("ubuntu_gpt")
    before = sha256(img)
    # `=`: a value that starts with `-` (a PEM header) would otherwise read as an option.
    result = run_agent(agent, "inject", "--image", img, f"--public-key-text={BAD_KEYS[what]}", "--json")
    skip_if_unsupported(result, "--image")
    assert_refused(result)
    assert result.error_code == "invalidPublicKey", str(result)
    assert sha256(img) == before
