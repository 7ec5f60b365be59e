"""A node under test plus a client node, spinning over real DDS on localhost.

Each harness gets its own ROS domain and namespace, so test runs on one machine never see
each other's topics.
"""

from __future__ import annotations

import collections
import fcntl
import itertools
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

from ministral_node.inputs.image_conversion import RawImage

_counter = itertools.count()
DOMAINS = range(1, 101)  # ids whose DDS ports stay below Linux's ephemeral range
LEASES_KEPT = 4  # a test may hold a few at once (a node and a subprocess)
_leases: collections.deque = collections.deque()


def unique_domain() -> int:
    """A ROS domain id that no other process on this machine holds: leased through a lock
    file per id, kept for this process's last few tests. Two test runs at once never share
    a domain, so neither hears the other's /clock (the one topic outside a test's
    namespace)."""
    start = (os.getpid() * 7 + next(_counter)) % len(DOMAINS)
    held = {domain for domain, _ in _leases}
    for offset in range(len(DOMAINS)):
        domain = DOMAINS[(start + offset) % len(DOMAINS)]
        if domain in held:
            continue
        lock = open(os.path.join(tempfile.gettempdir(), f'ministral_node_domain_{domain}.lock'),
                    'w')
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()  # another process's test holds it
            continue
        _leases.append((domain, lock))
        while len(_leases) > LEASES_KEPT:
            _leases.popleft()[1].close()  # closing the file releases its lock
        return domain
    raise RuntimeError(f'every ROS domain id in {DOMAINS} is held by other test processes')


class Harness:
    """Starts `node_factory(namespace, overrides)` and a client; collects what it publishes."""

    def __init__(self, node_factory: Callable[..., Any], overrides: dict | None = None,
                 activate: bool = True) -> None:
        self.domain = unique_domain()
        self.namespace = f'/t{os.getpid()}_{next(_counter)}'
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=self.domain)
        # The rule parser unless a test asks for other sources: fast and deterministic.
        overrides = {'decision_sources': ['rules'], **(overrides or {})}
        params = [Parameter(k, value=v) for k, v in overrides.items()]
        self.node = node_factory(namespace=self.namespace, context=self.context,
                                 parameter_overrides=params)
        self.client = rclpy.create_node('test_client', namespace=self.namespace,
                                        context=self.context)
        self.decisions: list[dict] = []
        self.statuses: list[dict] = []
        self.diagnostics: list[DiagnosticArray] = []
        base = f'{self.namespace}/ministral_node'
        self.client.create_subscription(String, f'{base}/decision',
                                        lambda m: self.decisions.append(json.loads(m.data)),
                                        QoSProfile(depth=1000,
                                                   reliability=ReliabilityPolicy.RELIABLE))
        self.client.create_subscription(String, f'{base}/status',
                                        lambda m: self.statuses.append(json.loads(m.data)), 50)
        self.client.create_subscription(DiagnosticArray, '/diagnostics',
                                        self.diagnostics.append, 50)
        self.command_pub = self.client.create_publisher(String, f'{base}/command', 1000)
        camera_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.image_pub = self.client.create_publisher(Image, f'{self.namespace}/image_raw',
                                                      camera_qos)
        self.compressed_pub = self.client.create_publisher(
            CompressedImage, f'{self.namespace}/image_raw/compressed', camera_qos)
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.client)
        self._stop = threading.Event()
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()
        if activate:
            self.node.trigger_configure()
            self.node.trigger_activate()
            self.wait_for(lambda: self.client.count_subscribers(f'{base}/command') > 0,
                          what='the node to subscribe to commands')
            self.wait_for(lambda: self.command_pub.get_subscription_count() > 0,
                          what='discovery of the command subscription')

    def wait_for(self, condition: Callable[[], bool], timeout: float = 15.0,
                 what: str = 'condition') -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return
            time.sleep(0.01)
        raise AssertionError(f'timed out after {timeout} s waiting for {what}')

    def command(self, text: str | bytes, timeout: float = 15.0) -> dict:
        """Publish a command (bytes are sent as a raw serialized message); its decision."""
        seen = len(self.decisions)
        self.command_pub.publish(text if isinstance(text, bytes) else String(data=text))
        self.wait_for(lambda: len(self.decisions) > seen, timeout, 'a decision')
        return self.decisions[seen]

    def image(self, raw: RawImage, stamp_s: float = 0.0) -> None:
        msg = Image(width=raw.width, height=raw.height, encoding=raw.encoding, step=raw.step,
                    data=bytes(raw.data), is_bigendian=int(raw.is_bigendian))
        msg.header.stamp.sec = int(stamp_s)
        msg.header.frame_id = 'camera'
        self.image_pub.publish(msg)

    def compressed(self, data: bytes, fmt: str = 'jpeg') -> None:
        msg = CompressedImage(format=fmt, data=data)
        msg.header.frame_id = 'camera'
        self.compressed_pub.publish(msg)

    def diagnostic(self, component: str, since: int = 0) -> list:
        """Statuses published for `component` in diagnostics messages after index `since`."""
        name = f'ministral_node: {component}'
        return [s for array in self.diagnostics[since:] for s in array.status if s.name == name]

    def _spin(self) -> None:
        while not self._stop.is_set() and self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:
                if self._stop.is_set():
                    return  # torn down under a spin that outlived the join: nothing to deliver
                raise

    def stop_spinning(self) -> None:
        """Stop the spin thread, then shut the executor down."""
        # In this order: shutting the executor down under a running spin destroyed its guard
        # condition while a callback still triggered it ("InvalidHandle: cannot use
        # Destroyable" in the spin thread). A spin still busy after the join's timeout ends
        # quietly when the context goes.
        self._stop.set()
        self._spinner.join(timeout=5)
        self.executor.shutdown(timeout_sec=5)

    def close(self) -> None:
        self.stop_spinning()
        self.node.destroy_node()
        self.client.destroy_node()
        rclpy.shutdown(context=self.context)
