"""Only the user's files become the user's, and a path sshd would refuse is refused: disks of our
own making, the agent in the sandbox, every owner, mode and byte of the target checked from outside
before and after. test_login.py shows the image's own sshd agrees where the agent's judgment decides
the outcome (a key behind a forced command, a world-writable home)."""
import os

import pytest

from kr.marks import needs_root
from kr.agent import assert_refused
from kr.ownership import CASES, ownership_root
from kr.sandbox import HUNG, run_sandboxed
from kr.verify import image_manifest, key_lines, manifest_diff, root_image

pytestmark = needs_root


def make_image(scratch, case, key):
    src = ownership_root(os.path.join(scratch, "src"), case, key.line)
    return root_image(os.path.join(scratch, f"{case}.img"), src)


@pytest.mark.parametrize("case", CASES)
def test_ownership_and_strict_modes(case, agent, scratch, key):
    spec = CASES[case]
    img = make_image(scratch, case, key)
    before = image_manifest(img)
    run = run_sandboxed(agent, ["inject", "--image", img, "--public-key", key.public, "--json"],
                        [scratch, os.path.dirname(key.public)], scratch)
    after = image_manifest(img)
    assert run.result.rc != HUNG, f"the agent hung:\n{run}"
    assert not run.writes_outside, f"the agent wrote outside the target:\n{run}"
    assert not run.leaked_mounts, f"the agent left mounts behind:\n{run}"
    for path in spec.unchanged:
        assert after[path.lstrip("/")] == before[path.lstrip("/")], f"{path} changed:\n{run}"

    if spec.refusal:
        assert_refused(run.result)
        assert run.result.rc == 5 and run.result.error_code == "unsafePath", str(run.result)
        message = run.result.report["error"]["message"]
        assert spec.refusal in message, message
        assert manifest_diff(before, after) == [], "a refusal must leave the target as it was"
        return

    assert run.result.rc == 0, str(run.result)
    report = run.result.report
    assert report["ok"] and report["authorizedKeysPath"] == spec.keys_file
    name = spec.keys_file.lstrip("/")
    kind, mode, uid, gid, content, _ = after[name]
    assert (uid, gid, mode) == spec.owner_mode, f"{spec.keys_file}: {uid}:{gid} {oct(mode)}"
    lines = content.decode().splitlines()
    plain = [l for l in key_lines(content.decode(), key.blob) if l.startswith("ssh-")]
    assert len(plain) == 1, content.decode()
    if name in before:  # an existing file: its backup has its owner, mode and bytes
        backup = report["backupPath"].lstrip("/")
        assert after[backup][:5] == before[name][:5], f"backup {after[backup][:4]} vs {before[name][:4]}"
    # Every other change: a new .ssh or file of the user's, nothing else.
    for change in manifest_diff(before, after):
        path = change.split(": ", 1)[1]
        if path in (name, (report.get("backupPath") or "").lstrip("/")):
            continue
        assert change.startswith("new: ") and after[path][2:4] == (1000, 1000), (change, after[path][:4])
    if spec.warning:
        codes = [w["code"] for w in report["warnings"]]
        assert spec.warning in codes, report["warnings"]
        assert lines.index(plain[0]) < next(i for i, l in enumerate(lines) if l.startswith("command=")), lines
