"""Worker "machines" on one machine: each in its own network namespace, joined to this one by a
veth link, so it reaches Redis and S3 only over the network, as a second host would.

Needs root and `ip` (iproute2). Where namespaces cannot be made, workers run as plain
processes, still with no folder in common with the web app; ``isolated`` says which.
"""

from __future__ import annotations

import os
import subprocess


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Hosts:
    def __init__(self) -> None:
        tag = os.getpid() % 10000
        self.tag = tag
        self.net = 10 + tag % 200  # second octet of this run's addresses: runs side by side differ
        self.namespaces: list[str] = []
        self.isolated = self._try_namespaces()

    def _try_namespaces(self) -> bool:
        try:
            _ip("netns", "add", f"tcprobe{self.tag}")
            _ip("netns", "del", f"tcprobe{self.tag}")
            return True
        except (OSError, subprocess.CalledProcessError):
            return False

    def gateway(self, index: int) -> str:
        """The address this machine has on host ``index``'s link (where Redis and S3 are reached)."""
        return f"10.{self.net}.{index}.1" if self.isolated else "127.0.0.1"

    def add(self, index: int) -> list[str]:
        """Make host ``index``; returns the command prefix that runs a program on it."""
        if not self.isolated:
            return []
        ns, outer, inner = f"tch{self.tag}-{index}", f"tcv{self.tag}o{index}", f"tcv{self.tag}i{index}"
        _ip("netns", "add", ns)
        self.namespaces.append(ns)
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", ns)
        _ip("addr", "add", f"{self.gateway(index)}/30", "dev", outer)
        _ip("link", "set", outer, "up")
        _ip("-n", ns, "addr", "add", f"10.{self.net}.{index}.2/30", "dev", inner)
        _ip("-n", ns, "link", "set", inner, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        return ["ip", "netns", "exec", ns]

    def remove_all(self) -> None:
        for ns in self.namespaces:  # deleting a namespace deletes its end of the link, and so both
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces.clear()
