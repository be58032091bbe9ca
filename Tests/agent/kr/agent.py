"""Running the built keyrescue-agent binary and reading its report."""
import json
import os
import subprocess
from dataclasses import dataclass

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def agent_path():
    """$KEYRESCUE_AGENT, else the static build (scripts/build-agent), else the debug build."""
    for candidate in (os.environ.get("KEYRESCUE_AGENT"),
                      os.path.join(REPO, ".build/agent/keyrescue-agent"),
                      os.path.join(REPO, ".build/debug/keyrescue-agent")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class Result:
    argv: list
    rc: int
    stdout: str
    stderr: str

    @property
    def report(self):
        """The JSON report on stdout (with --json), or None when stdout holds no JSON document."""
        try:
            return json.loads(self.stdout)
        except ValueError:
            return None

    @property
    def error_code(self):
        report = self.report or {}
        return (report.get("error") or {}).get("code")

    def __str__(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.rc}\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")


def run_agent(binary, *args, timeout=120):
    argv = [binary] + [str(a) for a in args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return Result(argv, proc.returncode, proc.stdout, proc.stderr)


def skip_if_unsupported(result, what):
    """Skips (with the agent's own words) only when the agent says it does not support `what` yet."""
    if result.rc != 0 and result.error_code == "unsupported":
        message = (result.report.get("error") or {}).get("message", "")
        pytest.skip(f"the agent does not support {what} yet: {message}")


def assert_refused(result):
    """A refusal: non-zero exit, a message on stderr, and (with --json) ok false with an error code."""
    assert result.rc != 0, f"expected a refusal\n{result}"
    assert result.stderr.strip(), f"a refusal must say why on stderr\n{result}"
    if result.report is not None:
        assert result.report.get("ok") is False, str(result)
        assert result.error_code, str(result)
