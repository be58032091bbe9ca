"""`inject --image` across the disk matrix: the report, then the disk itself read back read-only."""
import dataclasses
import os

import pytest

from conftest import needs_root
from kr import disks
from kr.agent import assert_refused, run_agent, skip_if_unsupported
from kr.images import CATALOGUE, RESCUABLE, target_root_ro
from kr.verify import assert_key_installed, assert_report_matches, key_lines

pytestmark = needs_root


def inject(agent, img, key, *extra):
    result = run_agent(agent, "inject", "--image", img, "--public-key", key.public, "--json", *extra)
    skip_if_unsupported(result, "--image")
    return result


def skip_lvm_without_device_mapper(name, result):
    """This machine's kernel has no device-mapper: an LVM root cannot be activated here."""
    if name == "rhel_lvm" and result.rc != 0 and not disks.device_mapper_available():
        pytest.skip(f"this kernel has no device-mapper, LVM cannot be activated; the agent said: "
                    f"{result.error_code}: {result.stderr.strip()[:200]}")


@pytest.mark.parametrize("name", RESCUABLE)
def test_inject_writes_the_key_for_the_right_user(name, agent, image_copy, key, host_key_pub, vg_name):
    expect = CATALOGUE[name]
    img = image_copy(name)
    result = inject(agent, img, key)
    skip_lvm_without_device_mapper(name, result)
    assert result.rc == 0, str(result)
    report = result.report
    assert_report_matches(report, expect, key, host_key_pub)
    with target_root_ro(img, expect, vg_name) as root:
        assert_key_installed(root, expect, key)
        if expect.existing_keys:
            backup = report.get("backupPath")
            assert backup, "an earlier authorized_keys must be backed up"
            with open(root + backup) as f:
                assert f.read().splitlines() == expect.existing_keys


@pytest.mark.parametrize("name", ["ubuntu_gpt", "amzn_xfs"])
def test_second_inject_finds_the_key_already_there(name, agent, image_copy, key, vg_name):
    img = image_copy(name)
    first = inject(agent, img, key)
    assert first.rc == 0, str(first)
    second = inject(agent, img, key)
    assert second.rc == 0, str(second)
    assert second.report["alreadyPresent"] is True
    with target_root_ro(img, CATALOGUE[name], vg_name) as root:
        assert_key_installed(root, CATALOGUE[name], key)


def test_replace_keeps_only_the_new_key(agent, image_copy, key, vg_name):
    expect = CATALOGUE["amzn_xfs"]
    img = image_copy("amzn_xfs")
    result = inject(agent, img, key, "--replace")
    assert result.rc == 0, str(result)
    with target_root_ro(img, expect, vg_name) as root:
        text = assert_key_installed(root, expect, key, keep_old=False)
        assert [l for l in text.splitlines() if l.strip() and not l.startswith("#")] \
            == key_lines(text, key.blob)


def test_xfs_with_the_uuid_of_a_mounted_xfs(agent, image_copy, key, vg_name):
    """A rescue host made from the same image has the same XFS UUID mounted: `nouuid` is a must."""
    expect = CATALOGUE["amzn_xfs"]
    twin = image_copy("amzn_xfs")
    img = image_copy("amzn_xfs")
    with disks.loop(twin, read_only=True) as dev, disks.mounted(dev, "xfs", "ro,norecovery"):
        result = inject(agent, img, key)
    assert result.rc == 0, str(result)
    with target_root_ro(img, expect, vg_name) as root:
        assert_key_installed(root, expect, key)


@pytest.mark.parametrize("name", [n for n, e in CATALOGUE.items() if e.error])
def test_disk_without_a_usable_root_is_refused(name, agent, image_copy, key):
    result = inject(agent, image_copy(name), key)
    assert_refused(result)
    assert result.error_code in CATALOGUE[name].error, str(result)


def test_user_missing_from_passwd_is_refused(agent, image_copy, key):
    result = inject(agent, image_copy("ubuntu_gpt"), key, "--user", "nosuchuser")
    assert_refused(result)
    assert result.error_code == "userNotFound", str(result)


def test_no_choosable_user_lists_the_candidates(agent, image_copy, key):
    result = inject(agent, image_copy("two_users"), key)
    assert_refused(result)
    assert result.error_code == "noLoginUser", str(result)
    assert sorted(result.report["error"]["candidates"]) == ["alice", "bob"]
    assert "alice" in result.stderr and "bob" in result.stderr


def test_user_override_picks_that_user(agent, image_copy, key, vg_name):
    expect = CATALOGUE["two_users"]
    img = image_copy("two_users")
    result = inject(agent, img, key, "--user", "bob")
    assert result.rc == 0, str(result)
    assert result.report["user"] == "bob"
    bob = dataclasses.replace(expect, user="bob", uid=1001, gid=1001, error=())
    with target_root_ro(img, bob, vg_name) as root:
        assert_key_installed(root, bob, key)
        assert not os.path.exists(f"{root}/home/alice/.ssh")


def test_home_on_another_volume_is_said_plainly(agent, image_copy, key, vg_name):
    """fstab mounts /home from a disk that is not this one: a key written under the root's empty
    /home would be hidden at boot. Refuse, or write and warn, but say so."""
    result = inject(agent, image_copy("home_elsewhere"), key)
    if result.rc == 0:
        codes = [w["code"] for w in result.report["warnings"]]
        assert "homeOnOtherVolume" in codes, str(result)
    else:
        assert_refused(result)
        assert result.error_code == "homeNotOnDisk", str(result)
    assert "/home" in result.stderr, str(result)


def test_inject_by_device(agent, image_copy, key, vg_name):
    """--device: a whole disk whose partitions the kernel did not scan (this machine's loop devices)."""
    expect = CATALOGUE["ubuntu_gpt"]
    img = image_copy("ubuntu_gpt")
    with disks.loop(img) as dev:
        result = run_agent(agent, "inject", "--device", dev, "--public-key", key.public, "--json")
        skip_if_unsupported(result, "--device")
    assert result.rc == 0, str(result)
    assert_report_matches(result.report, expect, key)
    with target_root_ro(img, expect, vg_name) as root:
        assert_key_installed(root, expect, key)
