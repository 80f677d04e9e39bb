"""Callgrind client requests from Python, and reading callgrind's dumps.

A measuring process runs under ``valgrind --tool=callgrind --instr-atstart=no``: the imports and
the warm-up run uninstrumented (several times faster), then `start()` turns the counting on and
each measured segment is framed by `zero()` and `dump(label)`. A segment's count is exactly the
instructions executed between the two requests, so "a process serving N requests minus the same
process serving none" becomes ``segment(N requests) - segment(no request)`` inside one process:
the same number as two separate processes give (bench/run.py checks it on two pages), without
paying the process start-up (about 6.5 billion instructions, two minutes under callgrind) twice
per figure.

The requests are the ones `valgrind.h` and `callgrind.h` emit: no compiler is needed, the few
bytes below are the x86-64 "special instruction" sequence. Natively they do nothing and return
the default (0), so the same scripts also run without valgrind.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import re
from pathlib import Path

RUNNING_ON_VALGRIND = 0x1001
_CALLGRIND = 0x43540000  # VG_USERREQ_TOOL_BASE('C', 'T')
ZERO_STATS = _CALLGRIND + 1
DUMP_STATS_AT = _CALLGRIND + 3
START_INSTRUMENTATION = _CALLGRIND + 4

# uint64 request(uint64 *block, uint64 default): valgrind.h's VALGRIND_DO_CLIENT_REQUEST_EXPR.
_CODE = bytes.fromhex(
    "4889f8"  # mov rax, rdi       the block: request code and five arguments
    "4889f2"  # mov rdx, rsi       the default result (what a native run returns)
    "48c1c703"  # rol rdi, 3       \
    "48c1c70d"  # rol rdi, 13       | the preamble valgrind recognises (128 bits of rotation:
    "48c1c73d"  # rol rdi, 61       | rdi is unchanged)
    "48c1c733"  # rol rdi, 51      /
    "4887db"  # xchg rbx, rbx      the client request itself
    "4889d0"  # mov rax, rdx       the result
    "c3"  # ret
)
_request = None


def _function():
    global _request
    if _request is None:
        if platform.machine() not in ("x86_64", "AMD64"):
            raise RuntimeError(
                "bench/cgreq.py speaks valgrind's x86-64 client requests only; on this machine use "
                "bench/run.py --method subtract (a process serving N requests minus one serving none)."
            )
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(_CODE)
        address = ctypes.addressof(ctypes.c_char.from_buffer(page))
        _request = (ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64)(address), page)
    return _request[0]


def request(code: int, *args: int) -> int:
    block = (ctypes.c_uint64 * 6)(code, *args, *([0] * (5 - len(args))))
    return _function()(ctypes.addressof(block), 0)


def on_valgrind() -> bool:
    return request(RUNNING_ON_VALGRIND) > 0


def start() -> None:
    """Turn instrumentation on (the process runs with --instr-atstart=no until then)."""
    request(START_INSTRUMENTATION)


def zero() -> None:
    request(ZERO_STATS)


def dump(label: str) -> None:
    """Write the counts since the last zero/dump to a new dump file, named by ``label``."""
    text = ctypes.create_string_buffer(label.encode())
    request(DUMP_STATS_AT, ctypes.addressof(text))


_TRIGGER = re.compile(r"^desc: Trigger: Client Request: (.*)$", re.MULTILINE)
_TOTALS = re.compile(r"^(?:totals|summary): (\d+)", re.MULTILINE)


def read_dumps(prefix: Path) -> dict[str, int]:
    """Instructions per dump label, from the files callgrind wrote as ``<prefix>.<n>``."""
    counts: dict[str, int] = {}
    for path in sorted(prefix.parent.glob(prefix.name + ".*")):
        text = path.read_text(errors="replace")
        trigger = _TRIGGER.search(text)
        total = _TOTALS.search(text)
        if trigger and total:
            counts[trigger.group(1).strip()] = int(total.group(1))
    return counts
