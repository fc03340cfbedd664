"""The engine: snapshot -> spine -> extractions (queries/*.sql in DuckDB, all dates at once)
-> assembled rows (37 values, raw tags, context, completeness). Entry point: `compute`."""

from fsengine.engine.compute import EngineResult, compute

__all__ = ["EngineResult", "compute"]
