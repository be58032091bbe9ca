"""The login proof: a real Debian image, the agent injects a fresh key, the image's own sshd (in a
chroot, on 127.0.0.1) accepts it for the user the agent chose, and refuses it once StrictModes has
reason to (a group/world-writable authorized_keys or .ssh)."""
import os
import shutil

import pytest

from kr.marks import needs_root
from kr import disks
from kr.agent import run_agent
from kr.login import USER, build_debian_image, host_public_keys, image_sshd, ssh_login
from kr.sh import run

pytestmark = needs_root


@pytest.fixture(scope="module")
def debian_images(builder):
    """debian_images(fstype) -> (image, {host key blob: type}), built once per session from the cached
    debootstrap tarball."""
    built = {}

    def get(fstype):
        if fstype not in built:
            img = os.path.join(builder.dir, f"debian_login_{fstype}.img")
            work = os.path.join(builder.dir, f"debian_login_{fstype}.work")
            os.makedirs(work)
            try:
                root = build_debian_image(img, work, fstype)
                built[fstype] = img, host_public_keys(root)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return built[fstype]

    return get


@pytest.mark.parametrize("fstype", ["ext4", "xfs"])
def test_the_images_own_sshd_accepts_the_injected_key(fstype, agent, debian_images, key, scratch):
    pristine, host_keys = debian_images(fstype)
    img = os.path.join(scratch, "debian.img")
    run("cp", "--sparse=always", pristine, img)

    result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json")
    assert result.rc == 0, str(result)
    report = result.report
    assert report["user"] == USER and report["distro"]["id"] == "debian"
    assert report["filesystem"] == fstype
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


def test_a_key_the_agent_did_not_write_is_refused(debian_images, key, scratch):
    """The same sshd, no injection: the proof above is only a proof if this login fails."""
    pristine, host_keys = debian_images("ext4")
    img = os.path.join(scratch, "debian.img")
    run("cp", "--sparse=always", pristine, img)
    with image_sshd(img, 1, scratch) as sshd:
        known_hosts = os.path.join(scratch, "known_hosts")
        with open(known_hosts, "w") as f:
            f.writelines(f"[127.0.0.1]:{sshd.port} {kind} {blob}\n" for blob, kind in host_keys.items())
        login = ssh_login(key.private, sshd.port, known_hosts)
        assert login.returncode != 0, "sshd let in a key nobody installed"
        assert "Permission denied" in login.stderr, login.stderr


def _debian_copy(debian_images, scratch):
    pristine, host_keys = debian_images("ext4")
    img = os.path.join(scratch, "debian.img")
    run("cp", "--sparse=always", pristine, img)
    return img, host_keys


def _write_keys(img, text, home_mode=None):
    """Writes admin's authorized_keys on the image by hand (admin's, .ssh 0700, file 0600)."""
    with disks.loop(img, 1) as dev, disks.mounted(dev, "ext4") as root:
        home = f"{root}/home/{USER}"
        st = os.stat(home)
        os.makedirs(f"{home}/.ssh", mode=0o700, exist_ok=True)
        with open(f"{home}/.ssh/authorized_keys", "w") as f:
            f.write(text)
        for path, mode in ((f"{home}/.ssh", 0o700), (f"{home}/.ssh/authorized_keys", 0o600)):
            os.chown(path, st.st_uid, st.st_gid)
            os.chmod(path, mode)
        if home_mode is not None:
            os.chmod(home, home_mode)


def _ssh_output(img, scratch, key, host_keys, *command):
    with image_sshd(img, 1, scratch) as sshd:
        known_hosts = os.path.join(scratch, "known_hosts")
        with open(known_hosts, "w") as f:
            f.writelines(f"[127.0.0.1]:{sshd.port} {kind} {blob}\n" for blob, kind in host_keys.items())
        result = run("ssh", "-F", "/dev/null", "-i", key.private, "-p", sshd.port, "-o", "IdentitiesOnly=yes",
                     "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                     "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
                     f"{USER}@127.0.0.1", *command, check=False, timeout=60)
        return result, sshd.log()


def test_a_key_behind_a_forced_command_gets_a_shell_once_the_agent_adds_it(agent, debian_images, key, scratch):
    """sshd applies the options of the first line holding the key: the agent's plain line must
    come before the `command=` one, or the user still gets only the forced command."""
    img, host_keys = _debian_copy(debian_images, scratch)
    _write_keys(img, f'command="echo forced" {key.line}\n')
    before, log = _ssh_output(img, scratch, key, host_keys, "echo", "shell")
    assert before.stdout.strip() == "forced", f"the forced command should run first:\n{before.stderr}\n{log}"

    result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json")
    assert result.rc == 0 and not result.report["alreadyPresent"], str(result)
    assert "keyBehindOptions" in [w["code"] for w in result.report["warnings"]], result.report["warnings"]
    after, log = _ssh_output(img, scratch, key, host_keys, "echo", "shell")
    assert after.stdout.strip() == "shell", f"still the forced command:\n{after.stderr}\n{log}"


def test_a_world_writable_home_is_refused_by_the_agent_as_by_sshd(agent, debian_images, key, scratch):
    """The agent's StrictModes verdict is sshd's: with the key in place by hand and the home 0777,
    sshd refuses the login, and the agent refuses (exit 5) instead of reporting success."""
    img, host_keys = _debian_copy(debian_images, scratch)
    _write_keys(img, key.line + "\n", home_mode=0o777)
    result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json")
    assert result.rc == 5 and result.error_code == "unsafePath", str(result)
    assert "StrictModes" in result.report["error"]["message"], result.report["error"]
    login, log = _ssh_output(img, scratch, key, host_keys, "true")
    assert login.returncode != 0, "sshd accepted a key under a world-writable home"
    assert f"bad ownership or modes for directory /home/{USER}" in log, log


def test_a_group_writable_home_in_the_users_own_group_is_accepted_as_by_debians_sshd(
        agent, debian_images, key, scratch):
    """Debian patches sshd to accept a group-writable path whose group holds the user alone (umask 002
    with per-user groups); the agent, judging a Debian target, accepts it too, and sshd lets the key in."""
    img, host_keys = _debian_copy(debian_images, scratch)
    _write_keys(img, "", home_mode=0o775)
    result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json")
    assert result.rc == 0, str(result)
    login, log = _ssh_output(img, scratch, key, host_keys, "true")
    assert login.returncode == 0, f"login refused: {login.stderr}\n{log}"
