"""Everything BigQuery-specific that more than one job needs: names (tables.py), the
Arrow <-> BigQuery type map (types.py) and the client factory (clients.py)."""
