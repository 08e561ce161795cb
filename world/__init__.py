"""tao-arena: world."""
