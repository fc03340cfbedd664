"""Where the v2_54 golden vectors live: the repository copy tests/vectors/v2_54 (a clone is
complete), else the shared spec folder beside the clone (../shared/spec/v2_54/vectors)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = (
    REPO_ROOT / "tests" / "vectors" / "v2_54",
    REPO_ROOT.parent / "shared" / "spec" / "v2_54" / "vectors",
)


def vectors_dir() -> Path:
    for folder in CANDIDATES:
        if (folder / "expected.parquet").is_file():
            return folder
    raise FileNotFoundError(f"the v2_54 vectors are in none of {[str(c) for c in CANDIDATES]}")
