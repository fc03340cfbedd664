"""The switches CI relies on (tests/ci_env.py, tests/conftest.py)."""

from __future__ import annotations

from ci_env import running_in_ci
from hypothesis import given, settings
from hypothesis import strategies as st


def test_ci_is_recognised_from_the_environment():
    assert running_in_ci({"CI": "true"}) and running_in_ci({"CI": "1"}) and running_in_ci({"CI": "yes"})
    assert not running_in_ci({}) and not running_in_ci({"CI": ""}) and not running_in_ci({"CI": "false"})


def test_hypothesis_profile_follows_ci():
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.deadline is None and ci.print_blob and ci.database is None
    assert settings.get_profile("dev").print_blob
    if running_in_ci():
        assert settings.default.derandomize and settings.default.deadline is None


def test_ci_profile_draws_the_same_examples_every_time():
    """Under the ci profile a property test sees the same examples on every run (@settings
    takes its unset values from the profile loaded when it is applied: conftest.py loads the
    profile before any test module is imported)."""
    runs = []
    settings.load_profile("ci")
    try:
        for _ in range(2):
            drawn: list[int] = []

            @settings(max_examples=5)
            @given(st.integers())
            def draw(value):
                drawn.append(value)

            draw()
            runs.append(drawn)
    finally:
        settings.load_profile("ci" if running_in_ci() else "dev")
    assert runs[0] == runs[1] and runs[0]
