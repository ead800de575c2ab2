"""/proc/PID/maps and smaps_rollup (fs/proc/task_mmu.c).

maps comes from the VMA list alone.  smaps_rollup walks the page tables,
as Linux's does: its Pss and Shared/Private split need each frame's
mapcount; its Rss must agree with the counters VmRSS shows.
"""
from __future__ import annotations

import os

from .. import state
from ..mm.memory import _MAPPED, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE
from ..mm.page_alloc import MM_ANONPAGES, MM_FILEPAGES

PAD = 25 + 8 * 6 - 1          # seq_setwidth in show_vma_header_prefix


def vma_name(mm, vma) -> str:
    if vma.vm_file is not None:
        path = vma.vm_file.path
        root = state.K.opts.root
        if root not in ("", "/") and path.startswith(root.rstrip("/") + "/"):
            path = path[len(root.rstrip("/")):]
        return path
    if vma.name:
        return vma.name
    return ""


def _header(start: int, end: int, flags: int, pgoff: int, dev: int, ino: int) -> str:
    perms = ("r" if flags & VM_READ else "-") + ("w" if flags & VM_WRITE else "-") \
        + ("x" if flags & VM_EXEC else "-") + ("s" if flags & VM_SHARED else "p")
    return (f"{start:08x}-{end:08x} {perms} {pgoff << 12:08x} "
            f"{os.major(dev):02x}:{os.minor(dev):02x} {ino} ")


def _line(prefix: str, name: str) -> str:
    if not name:
        return prefix + "\n"
    return prefix.ljust(PAD) + " " + name + "\n"


def proc_pid_maps(mm) -> bytes:
    if mm is None:
        return b""
    out = []
    for v in mm.vmas:
        dev = ino = 0
        pgoff = 0
        if v.vm_file is not None:
            key = v.vm_file.key
            dev, ino = key[0], key[1]
            pgoff = v.vm_pgoff
        out.append(_line(_header(v.vm_start, v.vm_end, v.vm_flags, pgoff, dev, ino),
                         vma_name(mm, v)))
    return "".join(out).encode()


def proc_pid_smaps_rollup(mm) -> bytes:
    if mm is None:
        return b""
    alloc = mm.alloc
    q = mm.pt.q
    zero = alloc.zero_pfn
    mapc = alloc.page_mapcount
    kind = alloc.page_kind
    rss = pss = pss_dirty = pss_anon = pss_file = pss_shmem = 0
    sh_clean = sh_dirty = pr_clean = pr_dirty = anon = 0
    for v in mm.vmas:
        for _va, i, k in mm.pt.pt_blocks(v.vm_start, v.vm_end, False):
            for pte in q[i:i + k]:
                if not pte & _MAPPED:
                    continue
                pfn = (pte >> 12) & ((1 << 40) - 1)
                if pfn == zero:
                    continue
                rss += 4096
                n = max(1, mapc[pfn])
                share = (4096 << 12) // n       # Pss in 1/4096ths of a byte (PSS_SHIFT 12)
                pss += share
                kd = kind[pfn]
                dirty = kd != MM_FILEPAGES      # anonymous and shmem pages were written
                if kd == MM_ANONPAGES:
                    anon += 4096
                    pss_anon += share
                elif kd == MM_FILEPAGES:
                    pss_file += share
                else:
                    pss_shmem += share
                if dirty:
                    pss_dirty += share
                if n > 1:
                    if dirty:
                        sh_dirty += 4096
                    else:
                        sh_clean += 4096
                elif dirty:
                    pr_dirty += 4096
                else:
                    pr_clean += 4096
    start = mm.vmas[0].vm_start if mm.vmas else 0
    end = mm.vmas[-1].vm_end if mm.vmas else 0
    out = [_line(f"{start:08x}-{end:08x} ---p 00000000 00:00 0 ", "[rollup]")]

    def kb(name: str, b: int) -> None:
        out.append(f"{name + ':':<16}{b >> 10:8d} kB\n")
    kb("Rss", rss)
    kb("Pss", pss >> 12)
    kb("Pss_Dirty", pss_dirty >> 12)
    kb("Pss_Anon", pss_anon >> 12)
    kb("Pss_File", pss_file >> 12)
    kb("Pss_Shmem", pss_shmem >> 12)
    kb("Shared_Clean", sh_clean)
    kb("Shared_Dirty", sh_dirty)
    kb("Private_Clean", pr_clean)
    kb("Private_Dirty", pr_dirty)
    kb("Referenced", rss)
    kb("Anonymous", anon)
    for name in ("KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
                 "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"):
        kb(name, 0)
    return "".join(out).encode()


