from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fault_paths(guests: Path) -> str:
    """The fault-path guest (guest/fault_paths.c), one mode per path."""
    return str(guests / "fault_paths")
