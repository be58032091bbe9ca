"""The report warns when the target itself would still refuse the login (`--root` on fake roots)."""
import os

import pytest

from kr.marks import needs_root
from kr.agent import run_agent
from kr.fakeroot import RootSpec, populate, write
from kr.images import account

pytestmark = needs_root


def add_sshd(root, text):
    write(f"{root}/etc/ssh/sshd_config.d/50-test.conf", text)


CASES = {
    "pubkeyAuthenticationDisabled": lambda r: add_sshd(r, "PubkeyAuthentication no\n"),
    "userNotAllowed": lambda r: add_sshd(r, "AllowUsers someoneelse\n"),
    "loginShellRefuses": None,  # the account's shell is nologin, see below
}


@pytest.mark.parametrize("code", CASES)
def test_login_blockers_are_warned_about(code, agent, scratch, key):
    root = os.path.join(scratch, "root")
    user = account("ubuntu")
    if code == "loginShellRefuses":
        user.shell = "/usr/sbin/nologin"
    populate(root, RootSpec("ubuntu", "24.04", user, cloud_default_user="ubuntu"))
    if CASES[code]:
        CASES[code](root)
    result = run_agent(agent, "inject", "--root", root, "--public-key", key.public, "--json")
    assert result.rc == 0, str(result)
    codes = [w["code"] for w in result.report["warnings"]]
    assert code in codes, str(result)
    assert "warning" in result.stderr


def test_a_plain_target_gets_no_warning(agent, scratch, key):
    root = os.path.join(scratch, "root")
    populate(root, RootSpec("ubuntu", "24.04", account("ubuntu"), cloud_default_user="ubuntu"))
    result = run_agent(agent, "inject", "--root", root, "--public-key", key.public, "--json")
    assert result.rc == 0, str(result)
    assert result.report["warnings"] == [], str(result)
