/* spin: a runaway guest for --timeout and --max-instructions.  Prints a
 * line, then loops forever without a syscall (or, with an argument
 * "syscalls", calling getppid in the loop; "fork": two processes spin).
 * Never run natively: it does not end. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long counter;

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    printf("spinning\n");
    fflush(stdout);
    if (!strcmp(mode, "fork"))
        fork();
    if (!strcmp(mode, "orphan") && fork() > 0)
        return 0;
    for (;;) {
        counter++;
        if (!strcmp(mode, "syscalls"))
            getppid();
    }
}
