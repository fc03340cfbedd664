"""Whether the tests run in CI: the environment variable CI is set (CI runs with CI=true;
.ci/run sets it when it is not). In CI, hypothesis draws deterministically (tests/conftest.py)
and a missing tool the CI installs (headless Chromium) fails a test instead of skipping it."""

from __future__ import annotations

import os


def running_in_ci(environ=None) -> bool:
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in {"", "0", "false", "no"}
