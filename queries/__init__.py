"""SQL of the engine, one file per extraction; installed as the data package fsengine.queries.

A `/*tiebreak TABLE [AS ALIAS] [reversed]*/` marker in an ORDER BY stands for every column of
the source table in fsengine/snapshot/sources.py order (the spec's generic tie-break); the
loader (fsengine/sql.py) expands it."""
