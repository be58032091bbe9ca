"""Markers shared by the test files (kept out of conftest.py so no test imports conftest by name)."""
import os

import pytest

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mounts need root")
