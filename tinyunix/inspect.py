"""Looking inside a booted kernel without changing it: tasks, registers,
VMAs, page-table walks and user memory of any task.  Each function takes
the KernelState and returns plain data (ints, strings, dicts) that can
cross a process boundary; the caller has entered the kernel or the kernel
is paused inside one of its hooks."""
from __future__ import annotations

from typing import Any, Optional

from unicorn import x86_const as X

from emu.paging import (
    PTE_PFN_MASK, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX, _PAGE_PRESENT, _PAGE_RW,
    _PAGE_SOFT_COW, _PAGE_SOFT_SHARED, _PAGE_USER,
)

# gdb's amd64 order for the general registers, then the segment bases.
REG_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
             "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs",
             "fs_base", "gs_base")
_REG_IDS = {n: getattr(X, "UC_X86_REG_" + ("RFLAGS" if n == "eflags" else n.upper()))
            for n in REG_NAMES}

_FLAG_BITS = ((_PAGE_PRESENT, "P"), (_PAGE_RW, "W"), (_PAGE_USER, "U"), (_PAGE_ACCESSED, "A"),
              (_PAGE_DIRTY, "D"), (_PAGE_SOFT_COW, "COW"), (_PAGE_SOFT_SHARED, "SHARED"),
              (_PAGE_NX, "NX"))
_LEVELS = (("PML4", 39), ("PDPT", 30), ("PD", 21), ("PT", 12))


class InspectError(Exception):
    """A request about something that does not exist (no such task, an
    unmapped address): a message for the user, not a kernel bug."""


def pte_flags(e: int) -> list[str]:
    return [name for bit, name in _FLAG_BITS if e & bit]


def task_state(t: Any) -> str:
    if t.exit_state:
        return "Z" if t.exit_state == 16 else "X"
    s = int(t.state)
    if s == 0:
        return "R"
    if s & 4:
        return "T"
    if s & 8:
        return "t"
    if s & 1:
        return "S"
    if s & 2:
        return "D"
    if s & 0x800:
        return "N"
    return "?"


def task_list(K: Any) -> list[dict]:
    cpu_curr = {c.index: c.curr for c in K.cpus}
    out = []
    for pid in sorted(K.tasks):
        t = K.tasks[pid]
        parent = t.real_parent
        out.append({"pid": t.pid, "tgid": t.tgid,
                    "ppid": parent.tgid if parent is not None and parent is not t else 0,
                    "state": task_state(t), "comm": t.comm, "cpu": t.cpu,
                    "current": cpu_curr.get(t.cpu) is t, "kthread": t.mm is None and pid <= 2})
    return out


def find_task(K: Any, pid: Optional[int]) -> Any:
    if pid is None:
        t = K.cpus[0].curr or K.cpus[0].loaded or K.main_task
        if t is None:
            raise InspectError("no current task")
        return t
    t = K.tasks.get(pid)
    if t is None:
        raise InspectError(f"no task {pid}")
    return t


def registers(K: Any, pid: Optional[int]) -> dict[str, int]:
    """A task's user registers: from the vCPU when its context is loaded
    there, else from its saved context (or its entry point, before it
    first ran)."""
    t = find_task(K, pid)
    cpu = K.cpus[t.cpu]
    if cpu.loaded is t and t.entry is None:
        src: Any = cpu.hw.uc
    elif t.ctx is not None:
        src = t.ctx
    elif t.entry is not None:
        regs = dict.fromkeys(REG_NAMES, 0)
        regs.update(rip=t.entry[0], rsp=t.entry[1], eflags=0x202, cs=0x33, ss=0x2B)
        return regs
    else:
        raise InspectError(f"task {t.pid} has no user registers")
    return {n: src.reg_read(_REG_IDS[n]) for n in REG_NAMES}


def set_register(K: Any, pid: Optional[int], name: str, value: int) -> None:
    t = find_task(K, pid)
    if name not in _REG_IDS:
        raise InspectError(f"no register {name}")
    cpu = K.cpus[t.cpu]
    if cpu.loaded is t and t.entry is None:
        cpu.hw.uc.reg_write(_REG_IDS[name], value)
    elif t.ctx is not None:
        t.ctx.reg_write(_REG_IDS[name], value)
    else:
        raise InspectError(f"task {t.pid} has no saved registers yet")


def _mm(K: Any, pid: Optional[int]) -> Any:
    t = find_task(K, pid)
    if t.mm is None:
        raise InspectError(f"task {t.pid} has no address space")
    return t.mm


def vma_list(K: Any, pid: Optional[int]) -> list[dict]:
    from kernel.mm.memory import VM_EXEC, VM_READ, VM_SHARED, VM_WRITE
    out = []
    for v in _mm(K, pid).vmas:
        perms = ("r" if v.vm_flags & VM_READ else "-") + ("w" if v.vm_flags & VM_WRITE else "-") \
            + ("x" if v.vm_flags & VM_EXEC else "-") + ("s" if v.vm_flags & VM_SHARED else "p")
        name = v.name or (getattr(v.vm_file, "path", "") if v.vm_file is not None else "")
        out.append({"start": v.vm_start, "end": v.vm_end, "perms": perms, "flags": v.vm_flags,
                    "pgoff": v.vm_pgoff, "name": name})
    return out


def page_walk(K: Any, pid: Optional[int], va: int) -> dict:
    """The four levels of `va`'s translation in the task's tables: each
    entry's physical address, value and flags, then the frame with its
    refcount and mapcount.  Stops at the first entry not present."""
    mm = _mm(K, pid)
    q = K.machine.qwords
    alloc = K.alloc
    table = mm.pt.pgd
    levels = []
    leaf = 0
    for name, shift in _LEVELS:
        idx = (va >> shift) & 511
        e = q[(table << 9) | idx]
        levels.append({"level": name, "index": idx, "entry_pa": (table << 12) | (idx << 3),
                       "entry": e, "flags": pte_flags(e)})
        if not e & _PAGE_PRESENT:
            break
        table = (e & PTE_PFN_MASK) >> 12
        leaf = e if name == "PT" else 0
    out: dict = {"va": va, "levels": levels, "present": bool(leaf), "pfn": None}
    vma = mm.find_vma(va) if hasattr(mm, "find_vma") else None
    out["vma"] = None
    if vma is not None and vma.vm_start <= va:
        out["vma"] = (vma.vm_start, vma.vm_end)
    if leaf:
        pfn = (leaf & PTE_PFN_MASK) >> 12
        out.update(pfn=pfn, pa=(pfn << 12) | (va & 0xFFF), refcount=alloc.page_ref[pfn],
                   mapcount=alloc.page_mapcount[pfn], zero_page=pfn == alloc.zero_pfn,
                   writable=bool(leaf & _PAGE_RW), cow=bool(leaf & _PAGE_SOFT_COW),
                   shared=bool(leaf & _PAGE_SOFT_SHARED))
    return out


def read_memory(K: Any, pid: Optional[int], va: int, n: int) -> bytes:
    """Bytes of a task's memory as the task would read them: through its
    page tables, and for a page not yet faulted in, what the fault would
    map (the file's page, a shared page, zeros), without faulting it in,
    so looking never changes the run.  An address outside every VMA is
    an InspectError."""
    mm = _mm(K, pid)
    mem = K.machine.mem
    out = bytearray()
    while n > 0:
        pte = mm.pt.get_pte(va) if 0 <= va < 1 << 47 else 0
        k = min(n, 0x1000 - (va & 0xFFF))
        if pte & _PAGE_PRESENT and pte & _PAGE_USER:
            pa = (pte & PTE_PFN_MASK) | (va & 0xFFF)
            out += mem[pa:pa + k]
        else:
            page = _unfaulted_page(K, mm, va)
            out += page[va & 0xFFF:(va & 0xFFF) + k]
        va += k
        n -= k
    return bytes(out)


def _unfaulted_page(K: Any, mm: Any, va: int) -> bytes:
    vma = mm.find_vma(va) if 0 <= va < 1 << 47 else None
    if vma is None:
        raise InspectError(f"cannot access memory at address {va:#x}")
    pgoff = ((va - vma.vm_start) >> 12) + vma.vm_pgoff
    mem = K.machine.mem
    src = vma.shm.pages if vma.shm is not None else \
        vma.vm_file.pages if vma.vm_file is not None else {}
    pfn = src.get(pgoff)
    if pfn is not None:
        return bytes(mem[pfn << 12:(pfn + 1) << 12])
    if vma.vm_file is not None:
        return vma.vm_file.data[pgoff << 12:(pgoff + 1) << 12].ljust(4096, b"\0")
    return bytes(4096)


def write_memory(K: Any, pid: Optional[int], va: int, data: bytes) -> None:
    """Store into a task's memory as a debugger does (ptrace POKEDATA):
    a page not present or shared copy-on-write is faulted in for writing
    first when its VMA is writable; a read-only private page is written in
    place only while no one else maps its frame."""
    from kernel.mm.memory import FAULT_WRITE, Segv, handle_mm_fault
    from kernel.panic import OutOfMemory
    mm = _mm(K, pid)
    alloc = K.alloc
    mem = K.machine.mem
    while data:
        pte = mm.pt.get_pte(va) if 0 <= va < 1 << 47 else 0
        if not pte & _PAGE_PRESENT or not pte & _PAGE_RW:
            try:
                handle_mm_fault(mm, va, FAULT_WRITE)
            except (Segv, OutOfMemory):
                pass
            pte = mm.pt.get_pte(va)
            K.tlb_flush_mm(mm)
        if not pte & _PAGE_PRESENT or not pte & _PAGE_USER:
            raise InspectError(f"cannot access memory at address {va:#x}")
        pfn = (pte & PTE_PFN_MASK) >> 12
        if not pte & _PAGE_RW and (alloc.page_mapcount[pfn] > 1 or pfn == alloc.zero_pfn
                                   or alloc.page_ref[pfn] > alloc.page_mapcount[pfn]):
            raise InspectError(f"cannot write read-only memory at {va:#x} (frame shared)")
        k = min(len(data), 0x1000 - (va & 0xFFF))
        pa = (pfn << 12) | (va & 0xFFF)
        mem[pa:pa + k] = data[:k]
        for c in K.cpus:
            c.hw.uc.ctl_remove_cache(va & ~0xFFF, (va & ~0xFFF) + 0x1000)
        data = data[k:]
        va += k
