"""The decoder session run with IOBinding: the KV cache never leaves the session's device.

Each run binds the previous run's `present.*` tensors as the next `past_key_values.*` inputs,
so no step copies the cache through numpy. The present tensors are written into buffers of a
`KVPool` on the session's device (CPU memory on the CPU provider, GPU memory on CUDA/TensorRT):
a slot per live cache, sized in steps of `KV_CAPACITY_STEP` positions and reused once no cache
refers to it, so decoding allocates no KV memory step after step (the graph's Concat would
otherwise make a new, longer tensor every step). The attention mask and position ids are views
of buffers grown on demand, and the logits are written into a reused host buffer. Past tensors
are never written to, so a `KVCache` can be kept and reused (the prefix cache) while later
steps extend it: a kept cache pins its slot.

A decoder whose attention is `GroupQueryAttention` (`ministral-optimize`'s fused variant) is
run by `InPlaceDecoder` instead: past and present are the same buffer, the operator appends
the new positions in place, and nothing is copied step after step; a cache only pins the
positions it covers (see `InPlaceDecoder`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from ministral_node.engine.sessions import ORT_DTYPES, DecoderLayout
from ministral_node.timing import Cancelled

if TYPE_CHECKING:
    from ministral_node.engine.generation import CancelWatcher

# Providers whose outputs live in GPU memory, and the IOBinding device name for them.
_DEVICE_OF_PROVIDER = {'CUDAExecutionProvider': 'cuda', 'TensorrtExecutionProvider': 'cuda',
                       'DmlExecutionProvider': 'dml'}


class GenerationError(RuntimeError):
    """Generation could not continue (a failed decoder run, no allowed token, ...)."""


def session_device(session: ort.InferenceSession) -> tuple[str, int]:
    """(IOBinding device type, device id) where the session's first provider keeps tensors."""
    provider = session.get_providers()[0]
    device = _DEVICE_OF_PROVIDER.get(provider, 'cpu')
    if device == 'cpu':
        return device, 0
    options = session.get_provider_options().get(provider, {})
    return device, int(options.get('device_id', 0) or 0)


@dataclass(frozen=True)
class KVCache:
    """Past keys and values per layer, covering `length` positions: OrtValues on the session's
    device (`Decoder`) or host numpy arrays (`HostDecoder`). The positions it covers are never
    written again: a run makes new present tensors, or (`InPlaceDecoder`) writes after them in
    buffers that may hold more positions than `length`."""

    tensors: tuple[tuple[ort.OrtValue | np.ndarray, ort.OrtValue | np.ndarray], ...]
    length: int
    lease: object = field(default=None, compare=False, repr=False)  # pins a KVPool slot

    def layer(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(key, value) of one layer as host numpy copies (for tests and inspection)."""
        return tuple(_host(t)[:, :, :self.length].copy()  # type: ignore[misc]
                     for t in self.tensors[index])

    @property
    def nbytes(self) -> int:
        """Bytes of the positions the cache covers (its buffers may have room for more)."""
        total = 0
        for pair in self.tensors:
            for t in pair:
                shape, dtype = (t.shape, t.dtype) if isinstance(t, np.ndarray) else (
                    t.shape(), ORT_DTYPES[t.data_type()])
                total += shape[0] * shape[1] * self.length * shape[3] * np.dtype(dtype).itemsize
        return total


def _host(tensor: ort.OrtValue | np.ndarray) -> np.ndarray:
    return tensor if isinstance(tensor, np.ndarray) else tensor.numpy()


KV_CAPACITY_STEP = 256  # positions a pool slot grows by


class _Lease:
    """Held by every cache written into a slot; the slot is free again once every lease is
    gone. It keeps the slot's buffers alive as long as the cache lives, whatever the pool
    does, and says which slot and how many positions the cache covers."""

    __slots__ = ('__weakref__', 'buffers', 'length', 'slot')

    def __init__(self, slot: _Slot, length: int) -> None:
        self.buffers = slot.buffers
        self.slot = slot
        self.length = length


class _Slot:
    def __init__(self) -> None:
        self.capacity = 0
        self.buffers: list[tuple[ort.OrtValue, ort.OrtValue]] = []
        self.leases: list[weakref.ref] = []

    def live(self) -> list[_Lease]:
        """The leases of caches still alive (the dead ones are forgotten)."""
        alive = [lease for ref in self.leases if (lease := ref()) is not None]
        self.leases = [weakref.ref(lease) for lease in alive]
        return alive

    @property
    def free(self) -> bool:
        return not self.live()

    def lease(self, length: int) -> _Lease:
        """A new lease for a cache of `length` positions written into this slot."""
        lease = _Lease(self, length)
        self.leases.append(weakref.ref(lease))
        return lease


class KVPool:
    """Preallocated present-tensor buffers on the session's device, one slot per live cache.

    A run writes its present tensors into a free slot (no cache refers to it) with room for
    them; a slot too small is reallocated `KV_CAPACITY_STEP` positions at a time. Decoding
    therefore ping-pongs between two slots, and each cache kept (the prefix cache) pins one
    more. Beyond `max_slots` live caches the run lets ONNX Runtime allocate (None)."""

    def __init__(self, layout: DecoderLayout, device: str, device_id: int,
                 max_slots: int = 6) -> None:
        self.layout = layout
        self.device, self.device_id = device, device_id
        self.max_slots = max_slots
        self.slots: list[_Slot] = []
        self.allocations = 0  # slot (re)allocations so far

    @property
    def nbytes(self) -> int:
        """Device bytes the pool holds."""
        itemsize = np.dtype(self.layout.kv_dtype).itemsize
        per_position = 2 * self.layout.num_layers * self.layout.kv_heads * self.layout.head_dim
        return sum(slot.capacity for slot in self.slots) * per_position * itemsize

    def acquire(self, length: int) -> _Slot | None:
        """A free slot with room for `length` positions (None when every slot is taken);
        the caller leases it for the cache it writes there."""
        free = [slot for slot in self.slots if slot.free]
        roomy = [slot for slot in free if slot.capacity >= length]
        if roomy:
            slot = min(roomy, key=lambda s: s.capacity)
        elif free:
            slot = max(free, key=lambda s: s.capacity)
        elif len(self.slots) < self.max_slots:
            slot = _Slot()
            self.slots.append(slot)
        else:
            return None
        if slot.capacity < length:
            self._allocate(slot, -(-length // KV_CAPACITY_STEP) * KV_CAPACITY_STEP)
        return slot

    def _allocate(self, slot: _Slot, capacity: int) -> None:
        layout = self.layout
        shape = [1, layout.kv_heads, capacity, layout.head_dim]
        slot.buffers = []  # the old buffers go first: no two generations held at once
        slot.buffers = [tuple(ort.OrtValue.ortvalue_from_shape_and_type(
            shape, layout.kv_dtype, self.device, self.device_id) for _ in range(2))
            for _ in range(layout.num_layers)]
        slot.capacity = capacity
        self.allocations += 1

    def spare(self, length: int) -> _Slot:
        """A slot outside the pool with room for `length` positions, for when every pooled
        slot is pinned; it lives as long as the caches written into it."""
        slot = _Slot()
        self._allocate(slot, -(-length // KV_CAPACITY_STEP) * KV_CAPACITY_STEP)
        return slot

    def clear(self) -> None:
        """Drop the free slots' buffers (slots pinned by a kept cache stay)."""
        self.slots = [slot for slot in self.slots if not slot.free]


class Decoder:
    """Runs `decoder_model_merged` one chunk at a time against a KV cache (IOBinding)."""

    def __init__(self, session: ort.InferenceSession, layout: DecoderLayout,
                 max_kv_slots: int = 6) -> None:
        self.session = session
        self.layout = layout
        self.device, self.device_id = session_device(session)
        self.pool = KVPool(layout, self.device, self.device_id, max_kv_slots)
        self._ones = np.ones((1, 0), dtype=np.int64)
        self._positions = np.zeros((1, 0), dtype=np.int64)
        self._logits: dict[int, np.ndarray] = {}

    def empty_cache(self) -> KVCache:
        """A zero-length cache on the session's device."""
        shape = [1, self.layout.kv_heads, 0, self.layout.head_dim]
        empty = ort.OrtValue.ortvalue_from_shape_and_type(shape, self.layout.kv_dtype,
                                                          self.device, self.device_id)
        return KVCache(tuple((empty, empty) for _ in range(self.layout.num_layers)), 0)

    def _mask_and_positions(self, past: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
        total = past + steps
        if self._ones.shape[1] < total:
            size = max(total, 2 * self._ones.shape[1], 1024)
            self._ones = np.ones((1, size), dtype=np.int64)
            self._positions = np.arange(size, dtype=np.int64)[None]
        # positions = cumsum(mask) - 1 for an all-ones mask.
        return self._ones[:, :total], self._positions[:, past:total]

    def _logits_buffer(self, rows: int) -> np.ndarray | None:
        """A reused host buffer for [1, rows, vocab] logits, when the vocabulary is known."""
        if not self.layout.vocab_size:
            return None
        buffer = self._logits.get(rows)
        if buffer is None:
            buffer = np.empty((1, rows, self.layout.vocab_size), dtype=self.layout.logits_dtype)
            self._logits[rows] = buffer
        return buffer

    def run(self, embeds: np.ndarray, cache: KVCache, watcher: CancelWatcher | None = None,
            last_only: bool = True) -> tuple[np.ndarray, KVCache]:
        """Logits (float32 [positions, vocab], a copy) and the extended cache for embeds
        [1, T, H]; `last_only` returns (and, when the graph can, computes) the last row only."""
        layout = self.layout
        steps = embeds.shape[1]
        binding = self.session.io_binding()
        binding.bind_cpu_input(layout.embeds_name,
                               np.ascontiguousarray(embeds, dtype=layout.embeds_dtype))
        mask, positions = self._mask_and_positions(cache.length, steps)
        binding.bind_cpu_input(layout.mask_name, mask)
        if layout.positions_name:
            binding.bind_cpu_input(layout.positions_name, positions)
        rows = steps
        if layout.logits_to_keep_name:
            binding.bind_cpu_input(layout.logits_to_keep_name,
                                   np.array(1 if last_only else 0, dtype=np.int64))
            rows = 1 if last_only else steps
        if 'use_cache_branch' in layout.extra_inputs:
            binding.bind_cpu_input('use_cache_branch', np.array([cache.length > 0]))
        logits_out = self._logits_buffer(rows)
        if logits_out is None:
            binding.bind_output(layout.logits_name, 'cpu')
        else:
            binding.bind_output(layout.logits_name, 'cpu', 0, logits_out.dtype,
                                list(logits_out.shape), logits_out.ctypes.data)
        total = cache.length + steps
        slot = self._bind_cache(binding, cache, total)
        try:
            self.session.run_with_iobinding(binding, watcher.run_options if watcher else None)
        except Exception as exc:
            if watcher is not None and watcher.fired:
                watcher.check()
                raise Cancelled(watcher.cancel.reason or 'cancelled') from exc
            raise GenerationError(f'decoder run failed: {exc}') from exc
        outputs = binding.get_outputs()
        logits = outputs[0].numpy() if logits_out is None else logits_out
        logits = logits[0, -1:] if last_only else logits[0]
        pairs = tuple((outputs[1 + 2 * i], outputs[2 + 2 * i])
                      for i in range(layout.num_layers))
        return logits.astype(np.float32, copy=True), KVCache(
            pairs, total, None if slot is None else slot.lease(total))

    def _bind_cache(self, binding: ort.IOBinding, cache: KVCache, total: int) -> _Slot | None:
        """Bind the past tensors and the present outputs; the pool slot written, if any."""
        layout = self.layout
        for (key, value), (key_name, value_name) in zip(cache.tensors, layout.past_names):
            binding.bind_ortvalue_input(key_name, key)
            binding.bind_ortvalue_input(value_name, value)
        slot = self.pool.acquire(total)
        shape = [1, layout.kv_heads, total, layout.head_dim]
        for i, names in enumerate(layout.present_names):
            for k, name in enumerate(names):
                if slot is None:
                    binding.bind_output(name, self.device, self.device_id)
                else:
                    binding.bind_output(name, self.device, self.device_id, layout.kv_dtype,
                                        shape, slot.buffers[i][k].data_ptr())
        return slot


class InPlaceDecoder(Decoder):
    """For a decoder whose attention is GroupQueryAttention fed straight by the past inputs:
    past and present are bound to the same pool buffer ([1, kv_heads, capacity, head_dim]),
    and the operator writes the new positions after the `length` the cache covers. Nothing is
    copied step after step, and a decode needs one buffer where `Decoder` ping-pongs two.

    A run from a cache writes positions `cache.length` onward of that cache's buffer, which
    would overwrite a longer cache still alive in it (a second continuation of one prefix
    while the first is kept). Then, and when the buffer is too small, the cache's positions
    are first copied into another slot (allocated with `KV_CAPACITY_STEP` positions of room
    to grow). A prefix cache followed by one decision after another never copies: each
    decision's caches are gone before the next starts from the prefix."""

    def __init__(self, session: ort.InferenceSession, layout: DecoderLayout,
                 max_kv_slots: int = 6) -> None:
        super().__init__(session, layout, max_kv_slots)
        self.copies = 0  # caches copied into another slot (branch or growth)

    def _bind_cache(self, binding: ort.IOBinding, cache: KVCache, total: int) -> _Slot:
        slot = self._writable(cache, total)
        for past, present, buffers in zip(self.layout.past_names, self.layout.present_names,
                                          slot.buffers):
            for k in range(2):
                binding.bind_ortvalue_input(past[k], buffers[k])
                binding.bind_ortvalue_output(present[k], buffers[k])
        return slot

    def _writable(self, cache: KVCache, total: int) -> _Slot:
        """The slot to run in: the cache's own when no longer cache lives in it and it has
        room, else a fresh one holding a copy of the cache's positions."""
        lease = cache.lease
        if isinstance(lease, _Lease) and lease.buffers is lease.slot.buffers \
                and lease.slot.capacity >= total \
                and max(other.length for other in lease.slot.live()) <= cache.length:
            return lease.slot
        slot = self.pool.acquire(total + KV_CAPACITY_STEP)
        if slot is None:
            slot = self.pool.spare(total + KV_CAPACITY_STEP)
        if cache.length:
            self.copies += 1
            for source, target in zip(cache.tensors, slot.buffers):
                for tensor, buffer in zip(source, target):
                    # On the CPU `numpy()` is a view of the buffer; elsewhere it is a host
                    # copy written back whole (a branch or growth is rare).
                    host = buffer.numpy()
                    host[:, :, :cache.length] = _host(tensor)[:, :, :cache.length]
                    if self.device != 'cpu':
                        buffer.update_inplace(host)
        return slot


class HostDecoder(Decoder):
    """The decoder as it ran before IOBinding: every run feeds the cache from host numpy arrays
    and gets new host arrays back. Kept as `EngineOptions(kv_binding=False)` for comparison
    (`ministral-bench --baseline`) and for providers where IOBinding misbehaves."""

    def empty_cache(self) -> KVCache:
        shape = (1, self.layout.kv_heads, 0, self.layout.head_dim)
        empty = np.zeros(shape, dtype=self.layout.kv_dtype)
        return KVCache(tuple((empty, empty) for _ in range(self.layout.num_layers)), 0)

    def run(self, embeds: np.ndarray, cache: KVCache, watcher: CancelWatcher | None = None,
            last_only: bool = True) -> tuple[np.ndarray, KVCache]:
        layout = self.layout
        steps = embeds.shape[1]
        mask = np.ones((1, cache.length + steps), dtype=np.int64)
        feeds = {layout.embeds_name: embeds.astype(layout.embeds_dtype, copy=False),
                 layout.mask_name: mask}
        if layout.positions_name:
            feeds[layout.positions_name] = (np.cumsum(mask, axis=1) - 1)[:, cache.length:]
        for (key, value), (key_name, value_name) in zip(cache.tensors, layout.past_names):
            feeds[key_name] = key
            feeds[value_name] = value
        if layout.logits_to_keep_name:
            feeds[layout.logits_to_keep_name] = np.array(1 if last_only else 0, dtype=np.int64)
        if 'use_cache_branch' in layout.extra_inputs:
            feeds['use_cache_branch'] = np.array([cache.length > 0])
        names = [layout.logits_name] + [n for pair in layout.present_names for n in pair]
        try:
            outputs = self.session.run(names, feeds, watcher.run_options if watcher else None)
        except Exception as exc:
            if watcher is not None and watcher.fired:
                watcher.check()
                raise Cancelled(watcher.cancel.reason or 'cancelled') from exc
            raise GenerationError(f'decoder run failed: {exc}') from exc
        logits = outputs[0][0, -1:] if last_only else outputs[0][0]
        pairs = tuple((outputs[1 + 2 * i], outputs[2 + 2 * i]) for i in range(layout.num_layers))
        return logits.astype(np.float32, copy=False), KVCache(pairs, cache.length + steps)
