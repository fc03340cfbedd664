"""The engine: snapshot -> spine -> extractions (queries/*.sql in DuckDB, all dates at once)
-> assembled rows (one value and raw tag per contract feature, context, completeness).
Entry point: `compute`."""

from fsengine.engine.compute import EngineResult, compute

__all__ = ["EngineResult", "compute"]
