/* true_static: the smallest static program that exits 0 -- no libc, one
 * exit_group syscall -- so fork_exec_wait measures execve, not libc start-up.
 * Built with -nostdlib -static. */
void _start(void)
{
    __asm__ volatile("mov $231, %eax\n\t"   /* exit_group */
                     "xor %edi, %edi\n\t"
                     "syscall\n\t"
                     "hlt");
    __builtin_unreachable();
}
