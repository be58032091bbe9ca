"""The login proof: a real Debian image, the agent injects a fresh key, the image's own sshd (in a
chroot, on 127.0.0.1) accepts it for the user the agent chose, and refuses it once StrictModes has
reason to (a group/world-writable authorized_keys or .ssh)."""
import os
import shutil

import pytest

from conftest import needs_root
from kr.agent import run_agent
from kr.login import USER, build_debian_image, host_public_keys, image_sshd, ssh_login
from kr.sh import run

pytestmark = needs_root


@pytest.fixture(scope="module")
def debian_image(builder):
    """(image, {host key blob: type}) built once per session from the cached debootstrap tarball."""
    img = os.path.join(builder.dir, "debian_login.img")
    work = os.path.join(builder.dir, "debian_login.work")
    os.makedirs(work)
    try:
        root = build_debian_image(img, work)
        return img, host_public_keys(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_images_own_sshd_accepts_the_injected_key(agent, debian_image, key, scratch):
    pristine, host_keys = debian_image
    img = os.path.join(scratch, "debian.img")
    run("cp", "--sparse=always", pristine, img)

    result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json")
    assert result.rc == 0, str(result)
    report = result.report
    assert report["user"] == USER and report["distro"]["id"] == "debian"
    reported = {h["base64"]: h["type"] for h in report["hostKeys"]}
    assert reported == host_keys, "the report must carry exactly the image's host keys"

    with image_sshd(img, 1, scratch) as sshd:
        known_hosts = os.path.join(scratch, "known_hosts")
        with open(known_hosts, "w") as f:
            f.writelines(f"[127.0.0.1]:{sshd.port} {kind} {blob}\n" for blob, kind in reported.items())
        login = ssh_login(key.private, sshd.port, known_hosts)
        assert login.returncode == 0, f"login refused: {login.stderr}\n--- sshd\n{sshd.log()}"
        assert f"Accepted publickey for {USER}" in sshd.log(), sshd.log()

        ssh_dir = f"{sshd.root}/home/{USER}/.ssh"
        for path, bad_mode, good_mode in ((f"{ssh_dir}/authorized_keys", 0o666, 0o600),
                                          (ssh_dir, 0o777, 0o700)):
            os.chmod(path, bad_mode)
            refused = ssh_login(key.private, sshd.port, known_hosts)
            os.chmod(path, good_mode)
            assert refused.returncode != 0, f"sshd accepted {path} with mode {oct(bad_mode)}"
            assert "bad ownership or modes" in sshd.log(), sshd.log()

        again = ssh_login(key.private, sshd.port, known_hosts)
        assert again.returncode == 0, f"modes restored, login refused: {again.stderr}\n{sshd.log()}"


def test_a_key_the_agent_did_not_write_is_refused(debian_image, key, scratch, base_dir):
    """The same sshd, no injection: the proof above is only a proof if this login fails."""
    pristine, host_keys = debian_image
    img = os.path.join(scratch, "debian.img")
    run("cp", "--sparse=always", pristine, img)
    with image_sshd(img, 1, scratch) as sshd:
        known_hosts = os.path.join(scratch, "known_hosts")
        with open(known_hosts, "w") as f:
            f.writelines(f"[127.0.0.1]:{sshd.port} {kind} {blob}\n" for blob, kind in host_keys.items())
        login = ssh_login(key.private, sshd.port, known_hosts)
        assert login.returncode != 0, "sshd let in a key nobody installed"
        assert "Permission denied" in login.stderr, login.stderr
