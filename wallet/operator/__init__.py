"""The operator surfaces: the operator API, game launch and catalog, the back office, OpenAPI."""
