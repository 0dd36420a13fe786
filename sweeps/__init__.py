"""The bundled sweep specs (``demandsim sweep small-grid`` or a path to a TOML file)."""
