"""The DuckDB warehouse: the raw schema, connections, and queries over the warehouse's definitions."""
