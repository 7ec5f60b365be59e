"""Process memory: what it is now (resident, anonymous, file-backed, peak) and not keeping the
pages that loading reads only once.

ONNX Runtime memory-maps external weight files on Linux. Weights a kernel prepacks (4-bit
`MatMulNBits`) are copied into packed buffers, so their mapped source is read once, during
session creation; yet the pages read stay resident (the 3B decoder's quantization scales,
about 0.4 GB, stay mapped for the life of the session) and, while the session is being made,
the mapped sources and the packed copies are resident together. `PageOut` hands those pages
back while and after a session loads (`madvise(MADV_PAGEOUT)`, Linux 5.4+): the kernel
reclaims clean file pages and keeps any page that was written to, so no data is ever lost, and
a page touched again is simply read back from the file.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import resource
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ministral_node.timing import Watcher

MADV_PAGEOUT = 21


@dataclass(frozen=True)
class ProcessMemory:
    """Memory of this process now, MiB (Linux /proc; peak from getrusage elsewhere)."""

    rss_mib: float
    anon_mib: float
    file_mib: float
    peak_mib: float


def process_memory() -> ProcessMemory:
    """Resident (anonymous + file-backed) and peak resident memory of this process."""
    fields: dict[str, float] = {}
    try:
        with open('/proc/self/status', encoding='ascii') as handle:
            for line in handle:
                key, _, value = line.partition(':')
                if key in ('VmRSS', 'RssAnon', 'RssFile', 'VmHWM'):
                    fields[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    peak = fields.get('VmHWM', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return ProcessMemory(fields.get('VmRSS', peak), fields.get('RssAnon', 0.0),
                         fields.get('RssFile', 0.0), peak)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith('linux'):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
    except OSError:
        return None
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return libc


def mappings(folder: str | Path) -> list[tuple[int, int]]:
    """(start, end) of this process's mappings of files under `folder`."""
    prefix = str(Path(folder).resolve()) + os.sep
    regions = []
    try:
        with open('/proc/self/maps', encoding='utf-8', errors='replace') as handle:
            for line in handle:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].startswith(prefix):
                    start, end = (int(x, 16) for x in parts[0].split('-'))
                    regions.append((start, end))
    except OSError:
        return []
    return regions


class PageOut(Watcher):
    """Pages out the mapped files under `folder` every `period_s` for the life of a `with`
    block, and once more when it ends; `released_mib` says how much file-backed memory that
    gave back at the end. Does nothing where `MADV_PAGEOUT` is not available."""

    name = 'page-out'

    def __init__(self, folder: str | Path, period_s: float = 0.05) -> None:
        self.folder = Path(folder)
        self.period_s = period_s
        self.released_mib = 0.0
        self._libc = _libc()
        self._lock = threading.Lock()

    def page_out(self) -> bool:
        """Advise the kernel to reclaim every mapped page of the folder's files now; False if
        this system cannot."""
        if self._libc is None:
            return False
        with self._lock:
            for start, end in mappings(self.folder):
                # ENOMEM: unmapped meanwhile (the session let it go); EINVAL: before Linux 5.4.
                if (self._libc.madvise(start, end - start, MADV_PAGEOUT) != 0
                        and ctypes.get_errno() == errno.EINVAL):
                    self._libc = None
                    return False
        return True

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(self.period_s) and self.page_out():
            pass

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        before = process_memory().file_mib
        if self.page_out():
            self.released_mib = max(0.0, before - process_memory().file_mib)


def trim_heap() -> None:
    """Return freed heap memory to the system (glibc `malloc_trim`; a no-op elsewhere)."""
    libc = _libc()
    if libc is not None and hasattr(libc, 'malloc_trim'):
        libc.malloc_trim(0)
