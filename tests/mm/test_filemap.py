"""The page cache under memory pressure (kernel/mm/filemap.py): after a
dynamically linked program ran, its files' frames stay cached (the warm
list keeps the next exec fast); shrink_page_cache, which runs before the
OOM killer picks a victim, gives every one of them back."""
from __future__ import annotations

import shutil

import pytest

from kernel.main import boot, run_kernel, shutdown, start_guest
from kernel.mm.filemap import nr_pagecache, shrink_page_cache
from kernel.state import Options, entered


def test_clean_page_cache_frames_go_before_the_oom_killer() -> None:
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no sh")
    K = boot(Options(memory=64 << 20))
    start_guest(K, sh, [b"sh", b"-c", b"exit 0"], [], "/")
    assert run_kernel(K)
    with entered(K):
        cached = nr_pagecache(K)
        used = K.alloc.nr_used()
        assert cached > 50          # sh, libc, ld.so, ld.so.cache: still cached
        freed = shrink_page_cache(K)
        assert freed == cached and nr_pagecache(K) == 0
        assert K.alloc.nr_used() == used - freed
        assert K.vmstat.pgcache_dropped == freed
    shutdown(K)
    assert K.alloc.nr_used() == 1   # the zero page only
