"""SQL of the engine, one file per extraction; installed as the data package fsengine.queries."""
