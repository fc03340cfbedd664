"""fsengine: recompute ml_feature_store_v2 locally, for many game dates in one pass.

As a library, the four jobs of the command line (each returns a report dataclass and raises an
fsengine.errors.FsengineError, whose exit_code is what the command would exit with):

    import fsengine

    fsengine.backfill("out/")                                          # the bundled fixture
    fsengine.snapshot("snap/", start, end, project="nba-props-platform")
    fsengine.push("out/", project="nba-props-platform", dry_run=True)
    fsengine.run(start, end, project="nba-props-platform", snapshot_dir="snap/", out="out/")

They are imported on first use, so `import fsengine` stays cheap.
"""

import importlib
import sys
import types

__version__ = "0.1.0"

# public name -> module defining it
_API = {
    "backfill": "fsengine.pipeline",
    "snapshot": "fsengine.pipeline",
    "push": "fsengine.pipeline",
    "run": "fsengine.pipeline",
    "Mode": "fsengine.pipeline",
    "BackfillReport": "fsengine.pipeline",
    "RunReport": "fsengine.pipeline",
    "SnapshotReport": "fsengine.snapshot.read",
    "PushReport": "fsengine.push.report",
    "FsengineError": "fsengine.errors",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fsengine' has no attribute {name!r}")


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        # Importing the subpackage fsengine.push (or fsengine.snapshot) binds it as an attribute
        # of this package, which would hide the function fsengine.push() (fsengine.snapshot()).
        # The functions win; the subpackages stay reachable by import (`from fsengine.push
        # import ...`), only not as `fsengine.push.<module>` attribute chains.
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
