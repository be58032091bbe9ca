"""The leak detector itself must see what it is meant to catch."""
import os

from kr.marks import needs_root
from kr import leaks
from kr.sh import out, run


@needs_root
def test_loop_device_of_ours_is_seen_until_detached(base_dir):
    img = os.path.join(base_dir, "leak-probe.img")
    run("truncate", "-s", "8M", img)
    dev = out("losetup", "--find", "--show", img).strip()
    try:
        assert any(dev in line for line in leaks.leftovers(base_dir, settle_seconds=0))
    finally:
        run("losetup", "-d", dev)
    assert leaks.leftovers(base_dir) == []
