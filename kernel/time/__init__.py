"""Time and timers on the virtual clock (Linux's kernel/time/).

- timekeeping.py: the clocks (monotonic, realtime, boottime) and timespec
  and timeval copies;
- hrtimer.py: the per-machine queue of high-resolution timers that every
  timeout, sleep and interval timer here is built on; nanosleep;
- posix_timers.py: clock_gettime/getres, clock_nanosleep, timer_create
  and the other timer_* calls;
- posix_cpu_timers.py: the CPU-time clocks of a process or thread and the
  timers on them (ITIMER_VIRTUAL/ITIMER_PROF too);
- itimer.py: getitimer, setitimer, alarm;
- time.py: time, gettimeofday.
timerfd is in fs/timerfd.py, CPU time accounting in sched/cputime.py.
"""
