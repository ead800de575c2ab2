"""Machine.from_asm: a handful of instructions, and every fault they take."""


def test_a_private_file_page_is_mapped_from_the_cache_then_copied_on_write(machine):
    m = machine.asm("""
        lea rsi, [rip + data]
        mov byte ptr [rsi], 65   # the first write to the program's own page
        mov eax, 1               # write(1, data, 3)
        mov edi, 1
        mov edx, 3
        syscall
        mov eax, 60              # exit(7)
        mov edi, 7
        syscall
    """, data=b"xy\n")
    fetch = m.run_until("fault")
    assert (fetch.access, fetch.resolution) == ("exec", "file page")
    cache = m.walk(fetch.addr)
    assert not cache.writable and cache.refcount == 2     # page cache + this PTE

    write = m.run_until("fault")
    assert (write.access, write.resolution) == ("write", "CoW copy")
    mine = m.walk(write.addr)
    assert mine.writable and mine.pfn != cache.pfn and mine.refcount == 1

    assert m.run_until("syscall", name="write").ret == 3
    assert m.run().exit_code == 7
    assert m.stdout == b"Ay\n"
