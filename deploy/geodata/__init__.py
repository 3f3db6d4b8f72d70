"""Build-time scripts that derive the geodata shipped in alert_engine/data."""
