"""The machine: vCPUs on Unicorn, physical RAM, x86-64 paging, trap wiring.

Mechanism only.  emu/ knows nothing of processes; the kernel drives it
through Machine and Cpu and receives traps through the handlers it gives.
"""
