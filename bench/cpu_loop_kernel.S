/* The cpu_loop workload's loop, in its own file so the exact same machine
 * code can be run under raw Unicorn (bench/raw_unicorn.py reads it out of
 * bench/build/cpu_loop by the symbols below).
 *
 *   long cpu_loop_kernel(long n, unsigned long *buf)   buf: 64 qwords
 *
 * 9 instructions per iteration: a load, a store, and register arithmetic
 * (multiply-xor chain).  Position independent, no calls, no syscalls. */
        .text
        .globl  cpu_loop_kernel
        .globl  cpu_loop_kernel_end
        .type   cpu_loop_kernel, @function
cpu_loop_kernel:
        xorl    %eax, %eax
        xorl    %ecx, %ecx
        testq   %rdi, %rdi
        jz      .Ldone
.Lloop:
        movq    (%rsi,%rcx,8), %rdx
        addq    %rax, %rdx
        imulq   $0x5bd1e995, %rax, %rax
        xorq    %rdx, %rax
        movq    %rdx, (%rsi,%rcx,8)
        incl    %ecx
        andl    $63, %ecx
        decq    %rdi
        jnz     .Lloop
.Ldone:
        ret
cpu_loop_kernel_end:
        .size   cpu_loop_kernel, .-cpu_loop_kernel
        .section .note.GNU-stack,"",@progbits
