"""The graph's nodes, one module a step."""
