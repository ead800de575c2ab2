"""The Machine API itself: stops do not change the run, going back is
exact, snapshots take back output, bad requests are clear errors."""
import pytest

from tinyunix.machine import MachineError, NotReached


def _trace(m):
    return [(e.kind, e.pid, e.get("name"), e.get("addr"), e.insns) for e in m.events()]


def test_stopping_does_not_change_the_run(machine, guests):
    quiet = machine(str(guests / "cow"), seed=3)
    quiet.run()
    busy = machine(str(guests / "cow"), seed=3)
    busy.stepi(1000)
    busy.run_until("fork")
    busy.stepi(7)
    busy.run_until("fault", access="write")
    busy.run()
    assert _trace(busy) == _trace(quiet)
    assert busy.stdout == quiet.stdout
    assert busy.stats() == quiet.stats()


def test_back_returns_to_the_same_instruction_and_registers(machine, fault_paths):
    m = machine([fault_paths, "anon"], snapshot_every=2000)
    m.run_until("fault", access="write")
    first = m.stepi()
    regs = m.regs()
    m.stepi(50)
    again = m.back(50)
    assert (again.insns, again.rip) == (first.insns, first.rip)
    assert m.regs() == regs


def test_restoring_a_snapshot_takes_back_output(machine, guests):
    m = machine(str(guests / "hello"))
    snap = m.snapshot()
    m.run()
    assert m.stdout == b"hello, world\n"
    m.restore(snap)
    assert m.stdout == b""
    assert m.run().exit_code == 3
    assert m.stdout == b"hello, world\n"


def test_reverse_until_finds_the_previous_event(machine, guests):
    m = machine(str(guests / "cow"))
    fork = m.run_until("fork")
    m.run_until("exit")
    back = m.reverse_until("fork")
    assert (back.seq, back.child) == (fork.seq, fork.child)


def test_bad_requests_are_clear_errors(machine, guests, tmp_path):
    with pytest.raises(MachineError, match="No such file"):
        machine(str(tmp_path / "nothing"))
    m = machine(str(guests / "hello"))
    with pytest.raises(MachineError, match="unknown event kind"):
        m.run_until("faults")
    with pytest.raises(MachineError, match="cannot access memory"):
        m.read(0x10, 8)
    with pytest.raises(MachineError, match="not a user address"):
        m.break_at(0xFFFF_FF80_0000_0000)
    with pytest.raises(NotReached, match="exit status 3"):
        m.run_until("fork")
    assert m.done and m.exit_code == 3
