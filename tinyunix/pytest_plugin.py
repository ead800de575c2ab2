"""pytest plugin (entry point pytest11): the `machine` fixture.

    def test_first_write(machine):
        m = machine("guest/build/cow")
        ev = m.run_until("fault", access="write")
        ...

machine(argv, **options) builds a tinyunix.Machine (argv may be one
string); every machine a test built is closed when the test ends.
"""
from __future__ import annotations

from typing import Any, Iterator, Union

import pytest


@pytest.fixture
def machine() -> Iterator[Any]:
    from .machine import Machine
    built: list[Machine] = []

    def make(argv: Union[str, list[str]], **options: Any) -> Machine:
        m = Machine([argv] if isinstance(argv, str) else list(argv), **options)
        built.append(m)
        return m

    yield make
    for m in built:
        m.close()
