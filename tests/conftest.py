"""Shared test fixtures.

``ray_local``: one local Ray instance for the whole test session (it takes ~5 s to start),
started the way ``tao-arena sweep`` starts one (``experiments.backends``: 127.0.0.1 only,
token authentication, no dashboard, 2 CPUs), and shut down at the end of the session.
Code under test that finds Ray initialised uses it as it is. Tests that need a Ray of
their own (a separate driver process, a two-node cluster) start it themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

RAY_TEST_CPUS = 2


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    """The session's local Ray instance (the ``ray`` module, initialised)."""
    import logging

    from experiments.backends import prepare_ray_environment

    prepare_ray_environment(local=True)
    import ray

    started = False
    if not ray.is_initialized():
        ray.init(num_cpus=RAY_TEST_CPUS, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
