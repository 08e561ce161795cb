"""tao-arena: experiments."""
