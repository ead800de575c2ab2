"""Page-fault paths, each stopped at the fault and looked at through the
Machine API (the `machine` fixture): what the fault was, how the kernel
resolved it, and the page table and frame afterwards."""
from kernel.uapi import SEGV_ACCERR, SIGSEGV

PROT_NONE = 0


def test_first_read_maps_the_zero_page_then_a_write_gives_a_new_page(machine, fault_paths):
    m = machine([fault_paths, "anon"])
    page = m.run_until("syscall", name="mmap").ret

    read = m.run_until("fault", addr=page)
    assert (read.access, read.resolution) == ("read", "zero page")
    assert m.walk(page).zero_page and not m.walk(page).writable

    write = m.run_until("fault", addr=page)
    assert (write.access, write.resolution) == ("write", "new page")
    pte = m.walk(page)
    assert pte.writable and not pte.zero_page
    assert (pte.refcount, pte.mapcount) == (1, 1)
    assert m.read(page + 100, 1) == b"\0"     # the store is retried after the fault
    m.stepi(2)
    assert m.read(page + 100, 1) == b"\7"

    assert m.run().exit_code == 0
    assert m.stdout == b"anon: read 0, then wrote 7\n"


def test_fork_then_write_copies_in_the_writer_and_reuses_in_the_last_holder(machine, fault_paths):
    m = machine([fault_paths, "cow"])
    page = m.symbol("page")
    fork = m.run_until("fork")
    parent, child = fork.pid, fork.child

    shared = m.walk(page, pid=parent)
    assert shared.cow and not shared.writable
    assert m.walk(page, pid=child).pfn == shared.pfn
    assert (shared.refcount, shared.mapcount) == (2, 2)

    copy = m.run_until("fault", pid=child, addr=page)
    assert (copy.access, copy.resolution) == ("write", "CoW copy")
    mine = m.walk(page, pid=child)
    assert mine.pfn != shared.pfn and mine.writable and mine.refcount == 1
    assert m.walk(page, pid=parent).refcount == 1      # the parent holds the old frame alone

    m.run_until("exit", pid=child)
    reuse = m.run_until("fault", pid=parent, addr=page)
    assert (reuse.access, reuse.resolution) == ("write", "CoW reuse")
    after = m.walk(page, pid=parent)
    assert after.pfn == shared.pfn and after.writable and not after.cow

    assert m.run().exit_code == 0
    assert m.stdout == b"cow: child 0, parent sees 11\n"


def test_write_to_a_read_only_mapping_is_sigsegv_accerr(machine, fault_paths):
    m = machine([fault_paths, "rowrite"])
    page = m.run_until("syscall", name="mmap").ret
    assert m.vma(page).perms == "r--p"

    segv = m.run_until("segv")
    assert (segv.addr, segv.access) == (page, "write")
    sig = m.run_until("signal")
    assert (sig.signo, sig.code, sig.addr) == (SIGSEGV, SEGV_ACCERR, page)
    assert m.run().signal == SIGSEGV


def test_the_stack_grows_down_a_page_at_a_time(machine, fault_paths):
    m = machine([fault_paths, "stack"])
    m.break_at("depth")
    m.cont()
    stack = next(v for v in m.vmas() if v.name == "[stack]")
    m.clear_breakpoints()

    faults = []
    while (ev := m.run_until(("fault", "syscall_enter"))).kind == "fault":
        if stack.start <= ev.addr < stack.end:
            faults.append(ev)
    pages = [ev.addr >> 12 for ev in faults]
    assert len(pages) >= 15                 # 64 KiB, below the page already in use
    assert pages == sorted(pages, reverse=True)         # each one below the last
    assert {(ev.access, ev.resolution) for ev in faults} == {("write", "new page")}


def test_a_guard_page_stops_the_access(machine, fault_paths):
    m = machine([fault_paths, "guard"])
    guard = m.run_until("syscall", name="mprotect", where=lambda ev: ev.args[2] == PROT_NONE).args[0]
    assert m.vma(guard).perms == "---p"
    assert m.vma(guard + 4096).perms == "rw-p"

    segv = m.run_until("segv")
    assert segv.addr == guard + 10
    sig = m.run_until("signal")
    assert (sig.signo, sig.code) == (SIGSEGV, SEGV_ACCERR)
    end = m.run()
    assert end.signal == SIGSEGV
    assert m.stdout == b"guard: above the guard page is fine\n"


def test_brk_growth_is_faulted_in_page_by_page(machine, fault_paths):
    m = machine([fault_paths, "brk"])
    m.break_at("brk_grow")
    m.cont()
    brk = m.read_u64(m.symbol("__curbrk"))      # glibc's idea of the break
    old = m.vma(brk - 1).end
    new = m.run_until("syscall", name="brk").ret
    assert new == old + 16 * 4096
    assert m.vma(old).name == "[heap]"

    touched = [m.run_until("fault", addr=(old, new)) for _ in range(16)]
    assert [(ev.addr - old) // 4096 for ev in touched] == list(range(16))
    assert {(ev.access, ev.resolution) for ev in touched} == {("write", "new page")}
    assert m.run().exit_code == 0
