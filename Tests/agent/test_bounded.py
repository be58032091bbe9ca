"""Bounded work on every input from the disk (issue 14, items 1, 2 and 9), in the sandbox: each
hostile root either gets the key where sshd looks or a refusal that names the file and says what
is there. No hang (the sandbox stops the agent after 60 s and the test fails), peak RSS bounded
(/usr/bin/time's maximum resident set size), nothing written outside the target, and a refusal
leaves the target as it was."""
import os

import pytest

from kr.agent import assert_refused
from kr.bounded import CASES, bounded_root, light_manifest
from kr.marks import needs_root
from kr.sandbox import HUNG, run_sandboxed

pytestmark = needs_root

# The agent's peak RSS on the largest case (a 200,000-account passwd and group) is far below this;
# an agent that holds a whole file several times over, or recurses without end, is not.
MAX_RSS_KB = 256 * 1024


@pytest.mark.parametrize("case", CASES)
def test_bounded(case, agent, scratch, key):
    root = bounded_root(os.path.join(scratch, "root"), case)
    outcome = CASES[case][1]
    before = light_manifest(root)
    rss_file = os.path.join(scratch, "rss")
    run = run_sandboxed(agent, ["inject", "--root", root, "--public-key", key.public, "--json", *outcome.args],
                        [scratch, os.path.dirname(key.public)], scratch, timeout=60,
                        prefix=["/usr/bin/time", "-f", "%M", "-o", rss_file])
    assert run.result.rc != HUNG, f"the agent hung and had to be stopped:\n{run}"
    assert not run.writes_outside, f"the agent wrote outside the target:\n{run}"
    assert not run.leaked_mounts, f"the agent left mounts behind:\n{run}"
    with open(rss_file) as f:
        rss_kb = int(f.read().split()[-1])
    print(f"{case}: exit {run.result.rc}, max RSS {rss_kb} KB")
    assert rss_kb < MAX_RSS_KB, f"max RSS {rss_kb} KB"
    after = light_manifest(root)
    if outcome.keys_file is None:
        assert_refused(run.result)
        assert run.result.rc == outcome.rc, str(run)
        for words in outcome.says:
            assert words in run.result.stderr, f"the refusal must say {words!r}:\n{run}"
        for words in outcome.never_says:
            assert words not in run.result.stderr, f"the refusal must not say {words!r}:\n{run}"
        assert after == before, "a refusal must leave the target as it was"
        return
    assert run.result.rc == 0, str(run)
    home = "/home/deploy" if "deploy" in outcome.args else "/home/ubuntu"
    assert run.result.report["authorizedKeysPath"] == f"{home}/{outcome.keys_file}", run.result.report
    with open(f"{root}{home}/{outcome.keys_file}") as f:
        assert key.blob in f.read()
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed and all(p.startswith(home.lstrip("/") + "/.ssh") or p == home.lstrip("/") for p in changed), changed
