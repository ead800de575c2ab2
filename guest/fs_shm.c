/* /dev/shm: shm_open with a shared mapping seen across fork, sem_open
 * named semaphores between a parent and its child, their errnos, and the
 * files they leave in /dev/shm while they exist. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void r(const char *what, long ret) {
    if (ret < 0) printf("%-36s -1 %s\n", what, strerrorname_np(errno));
    else printf("%-36s %ld\n", what, ret);
}

int main(void) {
    char name[64], sname[64], path[96];
    snprintf(name, sizeof name, "/tu_shm_%d", getpid());
    snprintf(sname, sizeof sname, "/tu_sem_%d", getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    r("shm_open O_CREAT|O_EXCL", fd >= 0 ? 0 : -1);
    r("shm_open again O_EXCL", shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600));
    r("ftruncate 8192", ftruncate(fd, 8192));
    snprintf(path, sizeof path, "/dev/shm%s", name);
    struct stat st;
    r("stat /dev/shm/name", stat(path, &st));
    printf("size=%ld mode=%o\n", (long)st.st_size, st.st_mode & 0777);
    int *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    r("mmap MAP_SHARED", p == MAP_FAILED ? -1 : 0);
    p[0] = 41;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = shm_open(name, O_RDWR, 0);
        int *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
        q[1024] = q[0] + 1;
        p[1] = 7;
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("child wrote through its own mapping: %d, through the inherited one: %d\n",
           p[1024], p[1]);
    int v = 0;
    pread(fd, &v, sizeof v, 4096);
    printf("read() sees it: %d\n", v);
    r("shm_unlink", shm_unlink(name));
    r("shm_unlink again", shm_unlink(name));
    r("shm_open after unlink", shm_open(name, O_RDWR, 0));
    munmap(p, 8192);
    close(fd);

    /* Named semaphores: the child waits for the parent's post. */
    sem_t *s = sem_open(sname, O_CREAT | O_EXCL, 0600, 0);
    r("sem_open O_CREAT|O_EXCL", s == SEM_FAILED ? -1 : 0);
    r("sem_open again O_EXCL", sem_open(sname, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED ? -1 : 0);
    r("sem_trywait at 0", sem_trywait(s));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        sem_t *cs = sem_open(sname, 0);
        sem_wait(cs);
        printf("child: got the semaphore\n");
        fflush(stdout);
        sem_post(cs);
        _exit(0);
    }
    usleep(100000);
    printf("parent: posting\n");
    fflush(stdout);
    sem_post(s);
    waitpid(pid, NULL, 0);
    int val = -1;
    sem_getvalue(s, &val);
    printf("value after the child's post: %d\n", val);
    r("sem_close", sem_close(s));
    r("sem_unlink", sem_unlink(sname));
    r("sem_unlink again", sem_unlink(sname));
    r("sem_open missing", sem_open(sname, 0) == SEM_FAILED ? -1 : 0);
    return 0;
}
