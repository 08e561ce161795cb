"""Where runs execute: in this process (``serial``) or as Ray tasks (``ray``).

Both yield ``(task, output)`` pairs as runs finish; the driver writes files as they come,
so memory stays bounded however many runs a sweep has.

Ray: one task per run; at most ``2 x CPUs`` tasks in flight, results streamed back with
``ray.wait``. Without an address a local Ray instance is started on this machine
(``num_cpus`` = workers, no dashboard) with ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` so a
single-node Ray stays on 127.0.0.1, token authentication (``RAY_AUTH_MODE=token``) and
usage statistics off; it is shut down at the end. ``--address`` (or ``RAY_ADDRESS``)
connects to an existing cluster instead, whose nodes need the same tao-arena installed.
Tasks are retried when their worker process dies (``max_retries``); a run that raises is
not retried (it is deterministic: it would raise again) but returned as a failure.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from experiments.execute import execute_run

BACKENDS = ("serial", "ray")
Result = tuple[dict[str, Any], dict[str, Any]]

# Environment every Ray process started from here inherits (issue 5: loopback, tokens).
RAY_LOCAL_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # keeps a single-node Ray on 127.0.0.1
}
RAY_ENV_DEFAULTS = {
    "RAY_AUTH_MODE": "token",  # token authentication between Ray processes
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage reports to the internet
}


def prepare_ray_environment(local: bool) -> None:
    """Set the Ray environment variables of this process before Ray starts or connects.

    They must be in the environment before Ray reads its configuration: if ``ray`` was
    imported already, its cached configuration is refreshed.
    """
    changed = False
    for key, value in RAY_ENV_DEFAULTS.items():
        if key not in os.environ:
            os.environ[key] = value
            changed = True
    if local:
        for key, value in RAY_LOCAL_ENV.items():
            changed |= os.environ.get(key) != value
            os.environ[key] = value
    if changed and "ray" in sys.modules:
        from ray._raylet import Config  # the cached RayConfig (as Ray itself refreshes it)

        Config.initialize("")


def serial_results(tasks: Iterable[dict[str, Any]]) -> Iterator[Result]:
    """Execute tasks one after another in this process."""
    for task in tasks:
        yield task, execute_run(task)


def _ray_execute(meta: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The Ray task: a run's metadata and its cell's config (shared via the object store)."""
    import ray

    out = execute_run({**meta, "config": config})
    if out.get("worker") is not None:
        out["worker"]["node_ip"] = ray.util.get_node_ip_address()
    return out


class RaySession:
    """A connection to Ray: a local instance started here, or an existing cluster.

    If Ray is already initialised in this process (a test session, a notebook), it is
    used as it is and left running.
    """

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self.workers = workers
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.owned = False
        self.info: dict[str, Any] = {}

    def __enter__(self) -> RaySession:
        import logging

        prepare_ray_environment(local=not self.address)
        import ray

        if ray.is_initialized():
            self.info = {"mode": "existing-in-process"}
        elif self.address:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
            self.owned = True
            self.info = {"mode": "cluster", "address": self.address}
        else:
            ray.init(num_cpus=self.workers or os.cpu_count() or 1, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING)
            self.owned = True
            self.info = {"mode": "local", "num_cpus": self.workers or os.cpu_count() or 1}
        ctx = ray.get_runtime_context()
        self.info["gcs_address"] = ctx.gcs_address
        self.info["nodes"] = sorted(n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"])
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        if self.owned and ray.is_initialized():
            ray.shutdown()

    @staticmethod
    def cpus() -> int:
        """CPUs of the cluster."""
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))


def ray_results(
    tasks: Iterable[dict[str, Any]],
    *,
    max_retries: int = 3,
    max_in_flight: int | None = None,
) -> Iterator[Result]:
    """Execute tasks as Ray tasks (Ray must be initialised: see ``RaySession``)."""
    import ray
    from ray.exceptions import RayError

    remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(
        _ray_execute
    )
    limit = max_in_flight or 2 * RaySession.cpus()
    config_refs: dict[tuple[str, int], Any] = {}
    pending: dict[Any, dict[str, Any]] = {}
    it = iter(tasks)

    def submit() -> bool:
        task = next(it, None)
        if task is None:
            return False
        key = (task["config_hash"], task["cell"])
        if key not in config_refs:
            config_refs[key] = ray.put(task["config"])
        meta = {k: v for k, v in task.items() if k != "config"}
        pending[remote.remote(meta, config_refs[key])] = task
        return True

    while len(pending) < limit and submit():
        pass
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            task = pending.pop(ref)
            try:
                out = ray.get(ref)
            except RayError as err:  # the worker died more than max_retries times, ...
                out = {"run_id": task["run_id"], "status": "failed",
                       "error": f"{type(err).__name__}: {str(err).splitlines()[0][:500]}",
                       "traceback": "".join(traceback.format_exception(err)),
                       "duration_s": 0.0, "worker": None}
            del ref
            yield task, out
            while len(pending) < limit and submit():
                pass


class Progress:
    """Runs done, failed and ETA: a tqdm bar on a terminal, else a line now and then."""

    def __init__(self, total: int, label: str, *, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.t0 = time.monotonic()
        self._last = 0.0
        self.bar = None
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="run", file=self.stream,
                            dynamic_ncols=True, postfix={"failed": 0})

    def update(self, ok: bool) -> None:
        """One more run finished."""
        self.done += 1
        self.failed += 0 if ok else 1
        if self.bar is not None:
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
        elif self.enabled:
            t = time.monotonic()
            if t - self._last >= 10 or self.done == self.total:
                self._last = t
                rate = self.done / max(t - self.t0, 1e-9)
                eta = (self.total - self.done) / rate if rate > 0 else float("nan")
                print(f"  {self.done}/{self.total} runs done, {self.failed} failed, "
                      f"ETA {eta:.0f} s", file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar."""
        if self.bar is not None:
            self.bar.close()
