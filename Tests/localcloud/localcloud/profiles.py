"""Latency profiles: how long each EC2 transition takes in the local cloud.

`realistic` uses published EC2 figures (sources next to each one); `fast` scales them
down for tests but keeps every transition at least about a second, so that a client
polling Describe* sees the intermediate state (pending, stopping, attaching, …).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Profile:
    name: str
    run: float          # RunInstances → running
    start: float        # StartInstances → running
    stop: float         # StopInstances → stopped
    terminate: float    # TerminateInstances → terminated
    attach: float       # AttachVolume → attached
    detach: float       # DetachVolume → detached (volume available)
    snapshot: float     # CreateSnapshot → completed
    throttles: bool = False  # EC2 request token buckets (ratelimit.py)
    settle: float = 0.0      # a new id stays invisible to Describe* this long (consistency.py)
    console_lag: float = 0.0  # GetConsoleOutput shows a transition's output this long after it (console.py)
    launch_fail: float = 1.0  # pending → stopped/terminated of a launch refused for its KMS key (ec2_kms.py)
    asg_grace: float = 3.0    # a stopped InService Auto Scaling member → terminated and replaced (autoscaling.py)
    ssm_online: float = 1.0   # running (agent, profile, route) → Online in SSM (ssm_agent.py)
    eic_key_ttl: float = 60.0  # a SendSSHPublicKey key is served this long (instance_connect.py)
    unreachable: float = 1.0  # a connection from inside an instance its VPC does not carry fails after this


REALISTIC = Profile(
    name="realistic",
    # brevdev/ec2-coldboot-research, docs/cold-baseline-results.md: AL2023 ~17.8 s
    # (16.4–16.6 s across t3/m6i/m7i/c7i).
    run=18.0,
    # same repo, docs/start-stopped-results.md: m7i.large AL2023, 16.4 s.
    start=16.0,
    # StopInstances API reference gives no figure; a clean Linux shutdown takes
    # 20–60 s by common experience: 30 s.
    stop=30.0,
    # No published figure; shutting-down → terminated behaves like a stop: 30 s.
    terminate=30.0,
    # litmuschaos/litmus-go PR #354: gp2 attach ~5 s.
    attach=5.0,
    # No measured figure; Netflix/titus-executor PR #665 raised attach/detach timeouts
    # from 20 s to 60 s for flakiness, typical detaches finish within ~10 s.
    detach=10.0,
    # EBS user guide: point in time at the call, completion "can take several
    # minutes" for a first snapshot: 60 s here (nothing should wait for it).
    snapshot=60.0,
    # EC2 throttles every account: a client that polls too eagerly gets RequestLimitExceeded.
    throttles=True,
    # EC2 developer guide, "Eventual consistency in the Amazon EC2 API": a new id "might not have
    # propagated"; no figure is given: 2 s here.
    settle=2.0,
    # GetConsoleOutput: output "posted shortly after an instance transition state"; no figure: 30 s.
    console_lag=30.0,
    # AWS Knowledge Center (kms-iam-ec2-permission): the instance goes from pending to stopped
    # "immediately"; no figure is published: 3 s.
    launch_fail=3.0,
    # EC2 Auto Scaling user guide (health checks): checks run "periodically", no interval is
    # published: 30 s from the stop to the group's terminate.
    asg_grace=30.0,
    # No published figure for the SSM Agent's first registration; the issue asks Online within
    # 10 s of running: 5 s.
    ssm_online=5.0,
    # A blackholed TCP connect fails only when the client gives up (Linux retries its SYN for
    # about two minutes); 10 s stands for a client with a short connect timeout.
    unreachable=10.0,
)

FAST = Profile(name="fast", run=2.0, start=1.5, stop=1.5, terminate=1.0,
               attach=1.0, detach=1.0, snapshot=1.0)

PROFILES = {p.name: p for p in (REALISTIC, FAST)}


def profile_named(name: str) -> Profile:
    try:
        profile = PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown latency profile {name!r}: use one of {', '.join(PROFILES)}") from None
    ttl = os.environ.get("KEYRESCUE_LOCALCLOUD_EIC_TTL")
    if ttl:
        try:
            seconds = float(ttl)
        except ValueError:
            raise ValueError(f"KEYRESCUE_LOCALCLOUD_EIC_TTL must be a number of seconds, got {ttl!r}") from None
        if seconds <= 0:
            raise ValueError(f"KEYRESCUE_LOCALCLOUD_EIC_TTL must be positive, got {ttl!r}")
        profile = replace(profile, eic_key_ttl=seconds)   # tests: the 60 s window, shortened
    return profile
