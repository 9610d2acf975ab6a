"""Starting, pausing and stopping the two servers under test.

Both listen on 127.0.0.1 only, on ports picked free at start, with a fresh
data directory each. While one server is measured the other is paused with
SIGSTOP (with any child, such as an AOF rewrite), so its background work
(RocksDB compaction, AOF rewrite, cron) cannot take one of the machine's few
cores from the measurement."""

import os
import signal
import socket
import subprocess
import time

from . import resp

# How each durability promise is spelled for each server. Tally's modes map to
# the Redis configuration that promises the same thing.
REDIS_MODE_ARGS = {
    "always": ["--appendonly", "yes", "--appendfsync", "always"],
    "everysec": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "none": ["--appendonly", "no"],
}
REDIS_MODE_LABEL = {
    "always": "appendonly yes, appendfsync always",
    "everysec": "appendonly yes, appendfsync everysec",
    "none": "no persistence (appendonly no, save \"\")",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tally_supports_durability(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    return "--durability" in out.stdout + out.stderr


class Server:
    """One running server process. `name` is "tally" or "redis"."""

    def __init__(self, name, binary, data_dir, log_path, mode, tally_threads=None,
                 pass_durability=True, tally_args=()):
        self.name = name
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.mode = mode
        self.tally_threads = tally_threads
        self.pass_durability = pass_durability
        self.tally_args = list(tally_args)
        self.port = None
        self.proc = None
        self.paused = False

    def command(self):
        if self.name == "tally":
            cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                   "--dir", self.data_dir, "--logfile", self.log_path]
            if self.tally_threads is not None:
                cmd += ["--threads", str(self.tally_threads)]
            if self.pass_durability:
                cmd += ["--durability", self.mode]
            return cmd + self.tally_args
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.data_dir, "--logfile", self.log_path,
                "--save", "", "--daemonize", "no", "--protected-mode", "yes",
                *REDIS_MODE_ARGS[self.mode]]

    def start(self, ready_deadline_s=300.0, probe=("PING",), expect=None):
        """Starts the process and waits for the first good reply to `probe`.
        Returns the seconds from spawn to that reply."""
        os.makedirs(self.data_dir, exist_ok=True)
        if self.port is None:
            self.port = free_port()
        start = time.monotonic()
        # A session of its own, so a Ctrl-C aimed at the harness reaches the
        # harness (which stops the servers in order) and not the servers.
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=open(self.log_path + ".stdout", "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.paused = False
        resp.wait_ready(self.port, self.proc, ready_deadline_s, probe, expect)
        return time.monotonic() - start

    # The whole process group, so a child Redis forked (AOF rewrite) pauses
    # with its parent.
    def pause(self):
        if self.proc and not self.paused:
            os.killpg(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.proc and self.paused:
            os.killpg(self.proc.pid, signal.SIGCONT)
            self.paused = False

    def stop(self, timeout_s=300.0):
        """Graceful stop (SIGTERM: Tally closes RocksDB, Redis fsyncs its AOF).
        Returns seconds until the process exited."""
        if not self.proc:
            return 0.0
        self.resume()
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
                raise RuntimeError("%s did not stop within %.0f s" % (self.name, timeout_s))
        self.proc = None
        return time.monotonic() - start

    def kill(self):
        """Last-resort cleanup on harness failure."""
        if self.proc and self.proc.poll() is None:
            try:
                self.resume()
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=60)
            except Exception:
                self.proc.kill()
        self.proc = None

    def rss_bytes(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for pid %d" % self.proc.pid)

    def disk_bytes(self):
        """Space the data directory takes on disk (allocated blocks)."""
        total = 0
        for root, _, files in os.walk(self.data_dir):
            for f in files:
                try:
                    total += os.lstat(os.path.join(root, f)).st_blocks * 512
                except FileNotFoundError:
                    pass
        return total

    def connect(self, timeout=600.0):
        return resp.Connection(self.port, timeout=timeout)
