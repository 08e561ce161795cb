"""Sweeps on Ray, with real Ray processes (no mocks).

- determinism: the same file gives byte-identical run files serially, on the session's
  local Ray (2 workers) and on a real two-node Ray cluster on this machine
  (127.0.0.2 head + 127.0.0.3 node, one CPU each, token authentication);
- Ray stays on loopback: a sweep on an embedded local instance opens no connection to a
  non-loopback address (``ss -tnp`` sampled during the sweep);
- faults: a Ray worker killed mid-sweep (the task is retried, every run completes); the
  driver killed with SIGKILL mid-sweep (a second invocation finishes only the missing
  runs: no duplicates, no partial files).

Processes this module starts are stopped by their ids (never ``ray stop``, which would
stop every Ray on the machine, including the session's).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from experiments.plan import Plan, load_plan
from experiments.runner import Outcome, run_plan

pytestmark = [pytest.mark.ray, pytest.mark.slow]

BIN = Path(sys.executable).parent
TAO_ARENA = str(BIN / "tao-arena")
RAY = str(BIN / "ray")

SMALL = """\
name: raytest
epochs: 15
seeds: {master: 11, count: 3}
scenario:
  agent_record_interval: 5
  subnets:
    - {n_uids: 48, yuma: {max_validators: 8}}
population:
  - {strategy: honest_miner, count: 30, subnet: 0}
  - {strategy: gpt_passthrough, count: 4, subnet: 0}
  - {strategy: honest_validator, count: 5, subnet: 0}
  - {strategy: weight_copier, count: 1, subnet: 0}
  - {strategy: yield_chaser, count: 6}
sweep:
  grid:
    subnets.0.yuma.bonds_penalty: [0.5, 1.0]
"""

# runs of about half a second each, so that kills land in the middle of a sweep
LONG = """\
name: raylong
epochs: 60
seeds: {master: 12, count: 6}
scenario:
  agent_record_interval: 10
  subnets:
    - {n_uids: 512}
population:
  - {strategy: honest_miner, count: 450, subnet: 0}
  - {strategy: honest_validator, count: 24, subnet: 0}
  - {strategy: yield_chaser, count: 40}
sweep:
  grid:
    population.0.params.quality: [0.5, 0.8]
"""


def driver_env(*, cluster: bool = False) -> dict[str, str]:
    """Environment of a Ray process or driver: token auth, no inherited Ray address.

    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (which this session's local Ray set) keeps
    Ray single-node, so it is removed for the processes of a multi-node cluster.
    """
    drop = {"RAY_ADDRESS"} | ({"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"} if cluster else set())
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"})
    return env


def hashes(results_dir: Path) -> dict[str, dict[str, str]]:
    """``{run_id: {"metrics": sha256, "agents": sha256}}`` from the manifest."""
    m = json.loads((results_dir / "manifest.json").read_text())
    return {rid: r["sha256"] for rid, r in m["runs"].items() if r["status"] == "complete"}


def run_files(results_dir: Path) -> dict[str, tuple[int, int]]:
    """``{path: (inode, mtime)}`` of the complete runs' files (not partial ones)."""
    return {str(p.relative_to(results_dir)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((results_dir / "runs").rglob("*.parquet"))
            if not p.parent.name.startswith(".tmp-")}


def partial_entries(results_dir: Path) -> list[Path]:
    return [p for p in results_dir.rglob("*") if p.name.startswith(".tmp-")]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="tao-ray-test-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def small(workdir: Path) -> tuple[Path, Plan, dict[str, dict[str, str]]]:
    """The small experiment, its plan and its serial reference hashes."""
    path = workdir / "small.yaml"
    path.write_text(SMALL)
    plan = load_plan(path)
    out = run_plan(plan, root=workdir / "serial", progress=False)
    assert out.exit_code == 0
    return path, plan, hashes(out.results_dir)


@pytest.fixture(scope="module")
def long(workdir: Path) -> tuple[Path, Plan, dict[str, dict[str, str]]]:
    """The longer experiment, its plan and its serial reference hashes."""
    path = workdir / "long.yaml"
    path.write_text(LONG)
    plan = load_plan(path)
    out = run_plan(plan, root=workdir / "serial", progress=False)
    assert out.exit_code == 0
    return path, plan, hashes(out.results_dir)


def test_local_ray_matches_serial(ray_local: Any, small: Any, tmp_path: Path) -> None:
    _, plan, reference = small
    out = run_plan(plan, root=tmp_path, backend="ray", progress=False)
    assert (out.exit_code, out.completed, out.failed) == (0, len(reference), [])
    assert hashes(out.results_dir) == reference
    m = json.loads((out.results_dir / "manifest.json").read_text())
    workers = {r["worker"]["pid"] for r in m["runs"].values()}
    assert os.getpid() not in workers  # the runs ran in Ray worker processes
    assert m["invocations"][-1]["ray"]["mode"] == "existing-in-process"


def _ray_task_workers() -> list[psutil.Process]:
    """Ray worker processes of this test session that are executing a run right now."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if cmd and cmd[0].startswith("ray::_ray_execute"):
            out.append(p)
    return out


def test_worker_killed_mid_sweep(ray_local: Any, long: Any, tmp_path: Path) -> None:
    _, plan, reference = long
    result: dict[str, Outcome] = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "out", run_plan(plan, root=tmp_path, backend="ray", progress=False)))
    thread.start()
    killed: psutil.Process | None = None
    deadline = time.monotonic() + 60
    while killed is None and thread.is_alive() and time.monotonic() < deadline:
        busy = _ray_task_workers()  # workers whose title says they are executing a run
        done = len(list(tmp_path.glob("raylong/*/runs/c*")))
        if busy and done >= 1:
            killed = busy[0]
            killed.send_signal(signal.SIGKILL)
        time.sleep(0.05)
    thread.join(timeout=180)
    assert killed is not None, "no busy Ray worker was found to kill"
    assert not killed.is_running()
    out = result["out"]
    assert out.failed == [] and out.completed == len(reference)
    assert hashes(out.results_dir) == reference  # the retried run is identical too


def _descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def _stop_pids(pids: set[int], timeout: float = 3.0) -> None:
    """Terminate, then kill, the given processes (those still alive).

    Some Ray processes wait a long time for peers that already exited before they honour
    SIGTERM; a test cluster's state is thrown away, so they get SIGKILL after ``timeout``.
    """
    procs = []
    for pid in pids - {os.getpid()}:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    _stop_procs(procs, timeout)


def _stop_procs(procs: list[psutil.Process], timeout: float = 3.0) -> None:
    """``_stop_pids`` of processes found earlier: psutil refuses to signal one whose PID
    another process has taken since (it checks the creation time)."""
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)


def test_driver_killed_mid_sweep_then_resumed(ray_local: Any, long: Any,
                                              tmp_path: Path) -> None:
    path, plan, reference = long
    proc = subprocess.Popen(
        [TAO_ARENA, "sweep", str(path), "--workers", "2", "--results", str(tmp_path),
         "--no-progress"], env=driver_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    spawned: set[int] = set()
    runs_dir = tmp_path / "raylong" / plan.config_hash / "runs"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            spawned |= _descendants(proc.pid)
            if runs_dir.exists() and len([p for p in runs_dir.iterdir()
                                          if p.name.startswith("c")]) >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        spawned |= _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _stop_pids(spawned)  # the killed driver's Ray processes, by id
    results_dir = runs_dir.parent
    done_before = {p.name for p in runs_dir.iterdir() if p.name.startswith("c")}
    assert 3 <= len(done_before) < len(reference)
    for rid in done_before:  # a run directory exists only complete
        assert sorted(p.name for p in (runs_dir / rid).iterdir()) == [
            "_checksums.json", "agents.parquet", "metrics.parquet"]
    before = run_files(results_dir)

    out = run_plan(plan, root=tmp_path, backend="ray", progress=False)
    assert out.failed == []
    assert (out.skipped, out.completed) == (len(done_before), len(reference) - len(done_before))
    assert {k: v for k, v in run_files(results_dir).items() if k in before} == before
    assert sorted(p.name for p in runs_dir.iterdir()) == sorted(reference)  # no duplicates
    assert partial_entries(results_dir) == []  # no partial files
    assert hashes(results_dir) == reference
    m = json.loads((results_dir / "manifest.json").read_text())
    assert m["status"] == "complete" and m["counts"] == {"complete": len(reference)}


_SS_LINE = re.compile(r"^(\S+)\s+\d+\s+\d+\s+(\S+)\s+(\S+)\s*(.*)$")


def _host(address: str) -> str:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host.split("%", 1)[0]


def _is_loopback(host: str) -> bool:
    if host in ("*", ""):
        return False
    ip = ipaddress.ip_address(host)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _sockets(pids: set[int]) -> list[tuple[str, str, str, int]]:
    """(state, local, peer, pid) of every TCP socket of ``pids`` (``ss -tanp``)."""
    out = subprocess.run(["ss", "-H", "-t", "-a", "-n", "-p"], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = _SS_LINE.match(line.strip())
        if not m:
            continue
        for pid in map(int, re.findall(r"pid=(\d+)", m.group(4))):
            if pid in pids:
                found.append((m.group(1), m.group(2), m.group(3), pid))
    return found


def test_local_sweep_stays_on_loopback(small: Any, tmp_path: Path) -> None:
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")
    path, _, reference = small
    proc = subprocess.Popen(
        [TAO_ARENA, "sweep", str(path), "--workers", "2", "--results", str(tmp_path),
         "--no-progress"], env=driver_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: list[tuple[str, str, str, int]] = []
    found: dict[int, psutil.Process] = {}  # every process of the sweep seen, to stop
    try:
        while proc.poll() is None:
            # the sweep's processes now: a finished one's PID may be reused by another
            # program on the machine, whose sockets are not the sweep's
            live = _descendants(proc.pid)
            for pid in live - found.keys():
                with contextlib.suppress(psutil.Error):
                    found[pid] = psutil.Process(pid)
            seen += _sockets(live | {proc.pid})
            time.sleep(0.1)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _stop_procs(list(found.values()))
    assert proc.returncode == 0, stderr.decode()[-2000:]
    connections = [s for s in seen if s[0] != "LISTEN"]
    assert connections, "no TCP connection of the sweep was observed"
    outside = [s for s in connections if not (_is_loopback(_host(s[1]))
                                              and _is_loopback(_host(s[2])))]
    assert outside == []  # no connection to or from a non-loopback address
    assert [s for s in seen if s[0] == "LISTEN" and not _is_loopback(_host(s[1]))] == []
    results_dir = next(tmp_path.glob("raytest/*"))
    assert hashes(results_dir) == reference


# ---------------------------------------------------------------------------------------
# A real two-node cluster on this machine
# ---------------------------------------------------------------------------------------

HEAD_IP, NODE_IP, HEAD_PORT = "127.0.0.2", "127.0.0.3", 26379


def _cluster_pids(temp_dir: str) -> set[int]:
    """Every process of the test cluster: those naming its temp dir, and their children."""
    me = os.getpid()
    roots = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        if p.info["pid"] == me:
            continue
        if any(temp_dir in arg for arg in p.info["cmdline"] or []):
            roots.append(p)
    pids = {p.pid for p in roots}
    for p in roots:
        with contextlib.suppress(psutil.Error):
            pids |= {c.pid for c in p.children(recursive=True)}
    return pids - {me}


def _ray_logs(temp_dir: str, limit: int = 4000) -> str:
    texts = []
    for f in sorted(Path(temp_dir).glob("session_*/logs/*.err")) + sorted(
            Path(temp_dir).glob("session_*/logs/*.out")):
        try:
            tail = f.read_text(errors="replace")[-600:]
        except OSError:
            continue
        if tail.strip():
            texts.append(f"--- {f.name}\n{tail}")
    return "\n".join(texts)[-limit:]


def _wait_for_port(host: str, port: int, timeout: float = 120.0) -> None:
    """Wait until ``host:port`` is free (another test run may hold it for a moment)."""
    import socket

    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Ray's GCS does
            try:
                s.bind((host, port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{host}:{port} stayed in use for {timeout:.0f} s")
        time.sleep(1.0)


@pytest.fixture(scope="module")
def two_node_cluster() -> Iterator[str]:
    """A head on 127.0.0.2:26379 and a second node on 127.0.0.3, one CPU each."""
    temp_dir = tempfile.mkdtemp(prefix="tao-ray2-", dir="/tmp")
    env = driver_env(cluster=True)
    _wait_for_port(HEAD_IP, HEAD_PORT)
    try:
        head = subprocess.run(
            [RAY, "start", "--head", f"--node-ip-address={HEAD_IP}", f"--port={HEAD_PORT}",
             "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={temp_dir}",
             "--disable-usage-stats"],
            env=env, capture_output=True, text=True, timeout=120)
        if head.returncode != 0:
            pytest.fail(f"ray start --head failed:\n{head.stderr[-3000:]}\n"
                        f"{_ray_logs(temp_dir)}")
        node = subprocess.run(
            [RAY, "start", f"--address={HEAD_IP}:{HEAD_PORT}", f"--node-ip-address={NODE_IP}",
             "--num-cpus=1", f"--temp-dir={temp_dir}", "--disable-usage-stats"],
            env=env, capture_output=True, text=True, timeout=120)
        if node.returncode != 0:
            pytest.fail(f"ray start (second node) failed:\n{node.stderr[-3000:]}\n"
                        f"{_ray_logs(temp_dir)}")
        yield f"{HEAD_IP}:{HEAD_PORT}"
    finally:
        _stop_pids(_cluster_pids(temp_dir))
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_two_node_cluster_matches_serial(two_node_cluster: str, small: Any,
                                         tmp_path: Path) -> None:
    path, _, reference = small
    proc = subprocess.run(
        [TAO_ARENA, "sweep", str(path), "--address", two_node_cluster, "--results",
         str(tmp_path), "--no-progress"], env=driver_env(cluster=True), capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results_dir = next(tmp_path.glob("raytest/*"))
    assert hashes(results_dir) == reference
    m = json.loads((results_dir / "manifest.json").read_text())
    nodes = {r["worker"].get("node_ip") for r in m["runs"].values()}
    assert nodes == {HEAD_IP, NODE_IP}  # both nodes ran runs
    assert m["invocations"][-1]["ray"]["mode"] == "cluster"
    assert sorted(m["invocations"][-1]["ray"]["nodes"]) == [HEAD_IP, NODE_IP]
