"""`run --job` (rescue-host mode) from outside: a report file and a console line on every path.

Finding a real EBS volume needs NVMe or udev's by-id links; the local cloud's tests cover that path.
Here: the failures the bootstrap script must still be able to report."""
import json
import os

from kr.marks import needs_root
from kr.agent import run_agent

pytestmark = needs_root


def job(key, **overrides):
    body = {"version": 1, "runID": "run-proof-1", "volumeID": "vol-0ffffffffproof00",
            "deviceName": "/dev/sdf", "publicKeys": [key.line], "replace": False, "dryRun": False,
            "options": {"volumeWaitSeconds": 0}}
    body.update(overrides)
    return body


def run_job(agent, scratch, body):
    path, report = os.path.join(scratch, "job.json"), os.path.join(scratch, "report.json")
    with open(path, "w") as f:
        f.write(body if isinstance(body, str) else json.dumps(body))
    result = run_agent(agent, "run", "--job", path, "--report", report)
    with open(report) as f:
        return result, json.load(f)


def test_volume_not_attached_is_reported(agent, scratch, key):
    result, report = run_job(agent, scratch, job(key))
    assert result.rc != 0
    assert report["ok"] is False and report["runID"] == "run-proof-1"
    assert report["error"]["code"] == "volumeNotFound"
    assert "vol-0ffffffffproof00" in report["error"]["message"]
    assert "KEYRESCUE-REPORT" in result.stdout, "the console fallback line is missing"


def test_garbled_job_is_reported(agent, scratch, key):
    result, report = run_job(agent, scratch, '{"version": 1, "runID": ')
    assert result.rc != 0
    assert report["ok"] is False and report["error"]["code"] == "invalidJob"


def test_private_key_in_the_job_is_refused_and_not_echoed(agent, scratch, key):
    with open(key.private) as f:
        private = f.read()
    result, report = run_job(agent, scratch, job(key, publicKeys=[private]))
    assert report["error"]["code"] == "invalidPublicKey"
    secret = private.splitlines()[1]
    for where in (result.stdout, result.stderr, json.dumps(report)):
        assert secret not in where, "the private key leaked into the agent's output"


def test_a_report_that_cannot_be_written_is_an_io_error_not_a_usage_error(agent, scratch, key):
    path = os.path.join(scratch, "job.json")
    with open(path, "w") as f:
        f.write(json.dumps(job(key)))
    result = run_agent(agent, "run", "--job", path, "--report", os.path.join(scratch, "no-such-dir", "report.json"))
    assert result.rc == 74, (result.rc, result.stderr)
    assert "cannot write the report to" in result.stderr and "No such file or directory" in result.stderr
    assert "KEYRESCUE-REPORT" in result.stdout, "the console line still carries the report"
