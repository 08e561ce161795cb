"""tao-arena: analysis."""
