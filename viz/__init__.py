"""The presentation layer: the interactive page (``tao-arena viz``, Mesa's SolaraViz).

The only package besides ``experiments`` allowed to import every other one
(docs/architecture.md): it builds world models through ``experiments.wiring`` and reads
the strategy registry of ``agents`` to offer strategies in the sidebar.
"""
