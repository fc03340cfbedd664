"""Synthetic worlds for tests: `world_path("season")` generates the preset once per test
process into a temporary folder (removed when the process exits) and returns the snapshot.

Generation is fast (small < 1 s, season a few seconds), so each process regenerates rather
than trusting a folder an older version of the generator may have left behind.

    from worlds import world_path          # tests/ is on sys.path (tests/conftest.py)
    snapshot = Snapshot.open(world_path("season"))
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from fsengine.synthetic.generate import DEFAULT_SEED, generate

_generated: dict[tuple, Path] = {}
_root: Path | None = None


def _cache_root() -> Path:
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="fsengine-test-worlds-"))
        atexit.register(shutil.rmtree, _root, True)
    return _root


def world_path(preset: str = "season", seed: int = DEFAULT_SEED, **overrides) -> Path:
    """Snapshot folder of world `preset` (overrides as for fsengine.synthetic.generate.generate)."""
    key = (preset, seed, tuple(sorted((k, repr(v)) for k, v in overrides.items())))
    if key not in _generated:
        folder = _cache_root() / f"{preset}-{seed}-{len(_generated)}"
        generate(preset, folder, seed=seed, **overrides)
        _generated[key] = folder
    return _generated[key]
