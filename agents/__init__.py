"""tao-arena: agents."""
