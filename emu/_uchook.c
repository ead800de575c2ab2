/*
 * emu/_uchook.c -- the glue between Unicorn's hooks and the Python kernel.
 *
 * Mechanical only: no policy lives here.  One Glue object per vCPU:
 *   - a `syscall` hook that reads the syscall registers with one
 *     uc_reg_read_batch into `regs`, calls the kernel's handler with no
 *     arguments, and writes rax (and rcx/r11 as the syscall instruction
 *     leaves them on Linux) from the int it returns;
 *   - an interrupt hook that collects intno, CR2, the error code and RIP
 *     into `trap`, marks the exception delivered (Unicorn issue #1883: it
 *     never does, so the next fault would arrive as a double fault), and
 *     calls the kernel's trap handler;
 *   - an optional block hook that counts basic blocks and stops the engine
 *     at the end of a time slice;
 *   - a cpuid hook answering from a table the machine sets (emu/cpuid.py),
 *     and rdtscp from the same virtual clock as rdtsc;
 *   - emu_start that keeps the GIL held, so the hooks call Python directly;
 *   - the few register and context operations of a context switch (CR3,
 *     RIP, save/restore, batches of 64-bit registers), one C call each:
 *     through the Python binding each register costs microseconds;
 *   - batches of registers of any width up to 128 bits (x87, XMM, the FPU
 *     control words) as bytes, 16 per register: a signal frame's state.
 *
 * It links against nothing: Unicorn's entry points arrive as addresses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef void uc_engine;
typedef void uc_context;
typedef size_t uc_hook;
typedef int uc_err;

typedef uc_err (*reg_batch_fn)(uc_engine *, int *, void **, int);
typedef uc_err (*emu_stop_fn)(uc_engine *);
typedef uc_err (*emu_start_fn)(uc_engine *, uint64_t, uint64_t, uint64_t, size_t);
typedef uc_err (*hook_add_fn)(uc_engine *, uc_hook *, int, void *, void *, uint64_t, uint64_t, ...);
typedef uc_err (*hook_del_fn)(uc_engine *, uc_hook);
typedef uc_err (*ctx_alloc_fn)(uc_engine *, uc_context **);
typedef uc_err (*ctx_fn)(uc_engine *, uc_context *);
typedef uc_err (*ctl_fn)(uc_engine *, int, ...);
typedef uc_err (*ctx_batch_fn)(uc_context *, int *, void **, int);

/* From unicorn.h / x86.h (Unicorn 2.1.x). */
#define UC_HOOK_INTR 1
#define UC_HOOK_INSN 2
#define UC_HOOK_BLOCK 8
#define UC_HOOK_CODE 4
#define MAX_BREAKPOINTS 64
#define UC_X86_INS_SYSCALL 699
#define UC_X86_INS_RDTSC 608
#define UC_X86_INS_RDTSCP 609
#define UC_X86_INS_CPUID 113
#define UC_CTL_TB_FLUSH 10
#define UC_CTL_TLB_FLUSH 11
#define UC_CTL_WRITE(type, nr) ((type) | ((nr) << 26) | (1 << 30))
enum {
    R_RAX = 35, R_RBX = 37, R_RCX = 38, R_RDI = 39, R_RDX = 40, R_RIP = 41, R_RSI = 43,
    R_CR2 = 52, R_CR3 = 53, R_R8 = 106, R_R9 = 107, R_R10 = 108, R_R11 = 109, R_RFLAGS = 253
};

static struct {
    reg_batch_fn reg_read_batch, reg_write_batch;
    emu_start_fn emu_start;
    emu_stop_fn emu_stop;
    hook_add_fn hook_add;
    hook_del_fn hook_del;
    ctx_alloc_fn context_alloc;
    ctx_fn context_save, context_restore;
    ctl_fn ctl;
    ctx_batch_fn context_reg_write_batch;
    int ready;
} U;

/* Shared with Python through a memoryview; the layout is mirrored by
 * emu/glue.py (SHARED_FORMAT). */
struct shared {
    uint64_t regs[9];    /* rax rdi rsi rdx r10 r8 r9 rip(next insn) rflags */
    uint64_t trap[4];    /* intno cr2 error_code rip */
    uint64_t blocks;     /* basic blocks run while counting */
    int64_t slice_left;  /* blocks left in this slice */
    uint64_t syscalls;   /* syscall instructions seen */
    uint64_t traps;      /* exceptions seen */
};

typedef struct {
    PyObject_HEAD
    uc_engine *uc;
    PyObject *on_syscall, *on_intr, *on_rdtsc;
    uc_hook hh_sys, hh_intr, hh_block, hh_rdtsc, hh_rdtscp, hh_cpuid, hh_code;
    uint32_t *cpuid_tab;    /* records of CPUID_REC u32: leaf subleaf eax ebx ecx edx */
    Py_ssize_t cpuid_n;
    uint32_t cpuid_max, cpuid_xmax;  /* highest basic and extended leaves */
    uint64_t tsc_aux;       /* ecx of rdtscp (IA32_TSC_AUX: the cpu number) */
    /* The optional instruction hook of a debugged machine (set_step_hook):
     * counts every instruction started and calls on_step(address) before
     * the one numbered step_at, and before any at a breakpoint address. */
    PyObject *on_step;
    uint64_t insns, step_at;
    uint64_t bps[MAX_BREAKPOINTS];
    int nbps;
    int block_installed;
    int flush_tb;  /* block hook added or removed: retranslate before running */
    uc_context *scratch;
    long off_old_exception, off_error_code;
    PyObject *err_type, *err_value, *err_tb;
    struct shared sh;
} Glue;

static void glue_fail(Glue *g)
{
    /* A Python exception escaped a handler: keep it, stop the engine. */
    if (!g->err_type)
        PyErr_Fetch(&g->err_type, &g->err_value, &g->err_tb);
    else
        PyErr_Clear();
    U.emu_stop(g->uc);
}

static void hook_syscall(uc_engine *uc, void *user)
{
    Glue *g = (Glue *)user;
    static int ids[9] = {R_RAX, R_RDI, R_RSI, R_RDX, R_R10, R_R8, R_R9, R_RIP, R_RFLAGS};
    void *ptrs[9];
    for (int i = 0; i < 9; i++)
        ptrs[i] = &g->sh.regs[i];
    U.reg_read_batch(uc, ids, ptrs, 9);
    /* In the hook RIP still points at the syscall instruction; Unicorn
     * adds its length (2) when the hook returns. */
    g->sh.regs[7] += 2;
    g->sh.syscalls++;
    PyObject *r = PyObject_CallNoArgs(g->on_syscall);
    if (!r) {
        glue_fail(g);
        return;
    }
    if (r != Py_None) {
        /* rax = result; rcx = return address, r11 = rflags, as on Linux. */
        uint64_t rax = PyLong_AsUnsignedLongLongMask(r);
        static int wids[3] = {R_RAX, R_RCX, R_R11};
        void *wptrs[3] = {&rax, &g->sh.regs[7], &g->sh.regs[8]};
        U.reg_write_batch(uc, wids, wptrs, 3);
    }
    Py_DECREF(r);
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
    Glue *g = (Glue *)user;
    static int ids[2] = {R_CR2, R_RIP};
    void *ptrs[2] = {&g->sh.trap[1], &g->sh.trap[3]};
    U.reg_read_batch(uc, ids, ptrs, 2);
    g->sh.trap[0] = intno;
    g->sh.trap[2] = 0;
    g->sh.traps++;
    if (g->off_old_exception >= 0) {
        U.context_save(uc, g->scratch);
        char *raw = (char *)g->scratch;
        g->sh.trap[2] = (uint32_t)*(int32_t *)(raw + g->off_error_code);
        *(int32_t *)(raw + g->off_old_exception) = -1;
        U.context_restore(uc, g->scratch);
    }
    PyObject *r = PyObject_CallNoArgs(g->on_intr);
    if (!r) {
        glue_fail(g);
        return;
    }
    Py_DECREF(r);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    Glue *g = (Glue *)user;
    g->sh.blocks++;
    if (--g->sh.slice_left == 0)
        U.emu_stop(uc);
}

/* Before each instruction, when a debugger asked for it: the count, and
 * a call into Python only at the requested count or a breakpoint.  The
 * engine is not stopped: the handler may wait as long as it likes, so a
 * pause leaves basic blocks and time slices exactly as they were. */
static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    Glue *g = (Glue *)user;
    int hit = ++g->insns == g->step_at;
    for (int i = 0; !hit && i < g->nbps; i++)
        hit = g->bps[i] == addr;
    if (!hit)
        return;
    PyObject *r = PyObject_CallFunction(g->on_step, "K", (unsigned long long)addr);
    if (!r) {
        glue_fail(g);
        return;
    }
    Py_DECREF(r);
}

/* rdtsc: the kernel's handler returns the time-stamp counter to show
 * (virtual time), written to edx:eax; returning 1 tells Unicorn the
 * instruction is done (uc_cb_insn_cpuid_t covers rdtsc too). */
static int hook_rdtsc(uc_engine *uc, void *user)
{
    Glue *g = (Glue *)user;
    PyObject *r = PyObject_CallNoArgs(g->on_rdtsc);
    if (!r) {
        glue_fail(g);
        return 0;
    }
    uint64_t tsc = PyLong_AsUnsignedLongLongMask(r);
    Py_DECREF(r);
    uint64_t lo = tsc & 0xFFFFFFFFu, hi = tsc >> 32;
    static int ids[2] = {R_RAX, R_RDX};
    void *ptrs[2] = {&lo, &hi};
    U.reg_write_batch(uc, ids, ptrs, 2);
    return 1;
}

/* rdtscp: rdtsc plus ecx = IA32_TSC_AUX, which Linux sets to the cpu. */
static int hook_rdtscp(uc_engine *uc, void *user)
{
    Glue *g = (Glue *)user;
    if (!hook_rdtsc(uc, user))
        return 0;
    static int ids[1] = {R_RCX};
    void *ptrs[1] = {&g->tsc_aux};
    U.reg_write_batch(uc, ids, ptrs, 1);
    return 1;
}

#define CPUID_REC 6
/* cpuid: the leaf (eax) and subleaf (ecx) looked up in the table; a record
 * with subleaf 0xffffffff matches every subleaf.  A leaf above the highest
 * basic one answers as the highest basic leaf, as Intel CPUs do; an absent
 * leaf inside the range reads as zeros. */
static int hook_cpuid(uc_engine *uc, void *user)
{
    Glue *g = (Glue *)user;
    static int ids[4] = {R_RAX, R_RBX, R_RCX, R_RDX};
    uint64_t r[4];
    void *ptrs[4] = {&r[0], &r[1], &r[2], &r[3]};
    U.reg_read_batch(uc, ids, ptrs, 4);
    uint32_t leaf = (uint32_t)r[0], sub = (uint32_t)r[2];
    if (leaf >= 0x80000000u ? leaf > g->cpuid_xmax : leaf > g->cpuid_max) {
        leaf = g->cpuid_max;
        sub = 0;
    }
    r[0] = r[1] = r[2] = r[3] = 0;
    for (Py_ssize_t i = 0; i < g->cpuid_n; i++) {
        uint32_t *e = g->cpuid_tab + i * CPUID_REC;
        if (e[0] == leaf && (e[1] == sub || e[1] == 0xffffffffu)) {
            r[0] = e[2]; r[1] = e[3]; r[2] = e[4]; r[3] = e[5];
            break;
        }
    }
    U.reg_write_batch(uc, ids, ptrs, 4);
    return 1;
}

/* ---- module-level set-up ---- */

static PyObject *mod_init(PyObject *self, PyObject *args)
{
    unsigned long long a[11];
    if (!PyArg_ParseTuple(args, "KKKKKKKKKKK", &a[0], &a[1], &a[2], &a[3], &a[4],
                          &a[5], &a[6], &a[7], &a[8], &a[9], &a[10]))
        return NULL;
    U.reg_read_batch = (reg_batch_fn)(uintptr_t)a[0];
    U.reg_write_batch = (reg_batch_fn)(uintptr_t)a[1];
    U.emu_start = (emu_start_fn)(uintptr_t)a[2];
    U.emu_stop = (emu_stop_fn)(uintptr_t)a[3];
    U.hook_add = (hook_add_fn)(uintptr_t)a[4];
    U.hook_del = (hook_del_fn)(uintptr_t)a[5];
    U.context_alloc = (ctx_alloc_fn)(uintptr_t)a[6];
    U.context_save = (ctx_fn)(uintptr_t)a[7];
    U.context_restore = (ctx_fn)(uintptr_t)a[8];
    U.ctl = (ctl_fn)(uintptr_t)a[9];
    U.context_reg_write_batch = (ctx_batch_fn)(uintptr_t)a[10];
    U.ready = 1;
    Py_RETURN_NONE;
}

/* ---- Glue object ---- */

static int glue_init(Glue *g, PyObject *args, PyObject *kw)
{
    unsigned long long uc;
    PyObject *sys, *intr, *rdtsc;
    if (!PyArg_ParseTuple(args, "KOOO", &uc, &sys, &intr, &rdtsc))
        return -1;
    if (!U.ready) {
        PyErr_SetString(PyExc_RuntimeError, "_uchook.init() was not called");
        return -1;
    }
    g->uc = (uc_engine *)(uintptr_t)uc;
    Py_INCREF(sys); g->on_syscall = sys;
    Py_INCREF(intr); g->on_intr = intr;
    Py_INCREF(rdtsc); g->on_rdtsc = rdtsc;
    g->off_old_exception = -1;
    g->off_error_code = -1;
    g->cpuid_tab = NULL;
    g->cpuid_n = 0;
    g->tsc_aux = 0;
    memset(&g->sh, 0, sizeof g->sh);
    if (U.context_alloc(g->uc, &g->scratch) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_context_alloc failed");
        return -1;
    }
    if (U.hook_add(g->uc, &g->hh_sys, UC_HOOK_INSN, (void *)hook_syscall, g, 1, 0,
                   UC_X86_INS_SYSCALL) != 0 ||
        U.hook_add(g->uc, &g->hh_intr, UC_HOOK_INTR, (void *)hook_intr, g, 1, 0) != 0 ||
        U.hook_add(g->uc, &g->hh_rdtsc, UC_HOOK_INSN, (void *)hook_rdtsc, g, 1, 0,
                   UC_X86_INS_RDTSC) != 0 ||
        U.hook_add(g->uc, &g->hh_rdtscp, UC_HOOK_INSN, (void *)hook_rdtscp, g, 1, 0,
                   UC_X86_INS_RDTSCP) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_hook_add failed");
        return -1;
    }
    return 0;
}

static void glue_dealloc(Glue *g)
{
    Py_XDECREF(g->on_syscall);
    Py_XDECREF(g->on_intr);
    Py_XDECREF(g->on_rdtsc);
    Py_XDECREF(g->on_step);
    Py_XDECREF(g->err_type);
    Py_XDECREF(g->err_value);
    Py_XDECREF(g->err_tb);
    PyMem_Free(g->cpuid_tab);
    Py_TYPE(g)->tp_free((PyObject *)g);
}

static PyObject *glue_shared(Glue *g, PyObject *unused)
{
    return PyMemoryView_FromMemory((char *)&g->sh, sizeof g->sh, PyBUF_WRITE);
}

static PyObject *glue_set_offsets(Glue *g, PyObject *args)
{
    if (!PyArg_ParseTuple(args, "ll", &g->off_old_exception, &g->off_error_code))
        return NULL;
    Py_RETURN_NONE;
}

static void clear_old_exception(Glue *g)
{
    if (g->off_old_exception < 0)
        return;
    U.context_save(g->uc, g->scratch);
    int32_t *old = (int32_t *)((char *)g->scratch + g->off_old_exception);
    if (*old != -1) {
        *old = -1;
        U.context_restore(g->uc, g->scratch);
    }
}

/* emu_start(begin, until, count) -> uc_err.  The GIL stays held: the
 * kernel runs on this one host thread and the hooks call it directly.
 * An exception raised by a handler is re-raised here. */
static PyObject *glue_emu_start(Glue *g, PyObject *args)
{
    unsigned long long begin, until, count = 0;
    if (!PyArg_ParseTuple(args, "KK|K", &begin, &until, &count))
        return NULL;
    if (g->flush_tb) {
        /* Blocks already translated carry (or lack) the call to the block
         * hook: retranslate after it was added or removed. */
        U.ctl(g->uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
        g->flush_tb = 0;
    }
    /* A stop requested in a hook can land while the next block's code
     * fetch is faulting: the #PF is recorded (old_exception) but never
     * reaches the hook, and the task's saved context keeps it.  The guest
     * retries the fetch when it runs again, so forget it before running;
     * otherwise its next fault would arrive as a double fault. */
    clear_old_exception(g);
    uc_err err = U.emu_start(g->uc, begin, until, 0, (size_t)count);
    if (g->err_type) {
        PyErr_Restore(g->err_type, g->err_value, g->err_tb);
        g->err_type = g->err_value = g->err_tb = NULL;
        return NULL;
    }
    return PyLong_FromLong(err);
}

/* resume(until) -> uc_err: emu_start from the current RIP (read here, not
 * through the binding's reg_read, which costs microseconds). */
static PyObject *glue_resume(Glue *g, PyObject *args)
{
    unsigned long long until;
    uint64_t rip = 0;
    if (!PyArg_ParseTuple(args, "K", &until))
        return NULL;
    static int ids[1] = {R_RIP};
    void *ptrs[1] = {&rip};
    U.reg_read_batch(g->uc, ids, ptrs, 1);
    PyObject *a = Py_BuildValue("(KK)", (unsigned long long)rip, until);
    if (!a)
        return NULL;
    PyObject *r = glue_emu_start(g, a);
    Py_DECREF(a);
    return r;
}

static int write_cr3(Glue *g, uint64_t cr3)
{
    static int ids[1] = {R_CR3};
    void *ptrs[1] = {&cr3};
    return U.reg_write_batch(g->uc, ids, ptrs, 1);
}

/* set_cr3(cr3): switch address space; writing CR3 flushes the TLB. */
static PyObject *glue_set_cr3(Glue *g, PyObject *args)
{
    unsigned long long cr3;
    if (!PyArg_ParseTuple(args, "K", &cr3))
        return NULL;
    if (write_cr3(g, cr3) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_reg_write(CR3) failed");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* switch_context(save, restore, cr3): uc_context_save into `save` (a
 * uc_context address, 0 for none), uc_context_restore from `restore`,
 * then write CR3 (a restored context does not flush the TLB). */
static PyObject *glue_switch_context(Glue *g, PyObject *args)
{
    unsigned long long save, restore, cr3;
    if (!PyArg_ParseTuple(args, "KKK", &save, &restore, &cr3))
        return NULL;
    if ((save && U.context_save(g->uc, (uc_context *)(uintptr_t)save) != 0) ||
        U.context_restore(g->uc, (uc_context *)(uintptr_t)restore) != 0 ||
        write_cr3(g, cr3) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "switch_context: a Unicorn call failed");
        return NULL;
    }
    Py_RETURN_NONE;
}

#define MAX_BATCH 32

/* The register ids (and values, if `vals` is not NULL) of a batch call
 * unpacked into the arrays Unicorn's batch calls take; returns how many,
 * or -1 with a Python exception set. */
static Py_ssize_t batch_args(PyObject *ids, PyObject *vals, int *rid, uint64_t *v, void **ptrs)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ids);
    if (n > MAX_BATCH || (vals && PyTuple_GET_SIZE(vals) != n)) {
        PyErr_SetString(PyExc_ValueError, "register batch: up to 32 ids (and as many values)");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        rid[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(ids, i));
        v[i] = vals ? PyLong_AsUnsignedLongLongMask(PyTuple_GET_ITEM(vals, i)) : 0;
        ptrs[i] = &v[i];
    }
    return PyErr_Occurred() ? -1 : n;
}

/* reg_write_batch(ids, values[, ctx]): plain 64-bit registers, one
 * Unicorn call; into the saved context at address `ctx` if given, else
 * into the CPU. */
static PyObject *glue_reg_write_batch(Glue *g, PyObject *args)
{
    PyObject *ids, *vals;
    unsigned long long ctx = 0;
    if (!PyArg_ParseTuple(args, "O!O!|K", &PyTuple_Type, &ids, &PyTuple_Type, &vals, &ctx))
        return NULL;
    int rid[MAX_BATCH];
    uint64_t v[MAX_BATCH];
    void *ptrs[MAX_BATCH];
    Py_ssize_t n = batch_args(ids, vals, rid, v, ptrs);
    if (n < 0)
        return NULL;
    uc_err err = ctx ? U.context_reg_write_batch((uc_context *)(uintptr_t)ctx, rid, ptrs, (int)n)
                     : U.reg_write_batch(g->uc, rid, ptrs, (int)n);
    if (err != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_reg_write_batch failed");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* reg_read_batch(ids) -> tuple of ints: plain 64-bit registers. */
static PyObject *glue_reg_read_batch(Glue *g, PyObject *args)
{
    PyObject *ids;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &ids))
        return NULL;
    int rid[MAX_BATCH];
    uint64_t v[MAX_BATCH];
    void *ptrs[MAX_BATCH];
    Py_ssize_t n = batch_args(ids, NULL, rid, v, ptrs);
    if (n < 0)
        return NULL;
    if (U.reg_read_batch(g->uc, rid, ptrs, (int)n) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_reg_read_batch failed");
        return NULL;
    }
    PyObject *t = PyTuple_New(n);
    if (!t)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PyLong_FromUnsignedLongLong(v[i]);
        if (!x) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, x);
    }
    return t;
}

#define SLOT 16
#define MAX_WIDE 64

/* The register ids of a wide batch call; returns how many, or -1 with a
 * Python exception set. */
static Py_ssize_t wide_ids(PyObject *ids, int *rid)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ids);
    if (n > MAX_WIDE) {
        PyErr_SetString(PyExc_ValueError, "wide register batch: up to 64 ids");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        rid[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(ids, i));
    return PyErr_Occurred() ? -1 : n;
}

/* reg_read_bytes(ids) -> bytes: each register in a zero-padded 16-byte
 * slot, whatever its width (Unicorn writes 2, 4, 8, 10 or 16 bytes). */
static PyObject *glue_reg_read_bytes(Glue *g, PyObject *args)
{
    PyObject *ids;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &ids))
        return NULL;
    int rid[MAX_WIDE];
    Py_ssize_t n = wide_ids(ids, rid);
    if (n < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * SLOT);
    if (!out)
        return NULL;
    char *buf = PyBytes_AS_STRING(out);
    void *ptrs[MAX_WIDE];
    memset(buf, 0, n * SLOT);
    for (Py_ssize_t i = 0; i < n; i++)
        ptrs[i] = buf + i * SLOT;
    if (U.reg_read_batch(g->uc, rid, ptrs, (int)n) != 0) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_RuntimeError, "uc_reg_read_batch failed");
        return NULL;
    }
    return out;
}

/* reg_write_bytes(ids, data): data holds one 16-byte slot per id (the
 * register's value in its first bytes), written in order. */
static PyObject *glue_reg_write_bytes(Glue *g, PyObject *args)
{
    PyObject *ids;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "O!y*", &PyTuple_Type, &ids, &data))
        return NULL;
    int rid[MAX_WIDE];
    void *ptrs[MAX_WIDE];
    Py_ssize_t n = wide_ids(ids, rid);
    if (n >= 0 && data.len != n * SLOT) {
        PyErr_SetString(PyExc_ValueError, "reg_write_bytes: 16 bytes per register");
        n = -1;
    }
    if (n < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        ptrs[i] = (char *)data.buf + i * SLOT;
    uc_err err = U.reg_write_batch(g->uc, rid, ptrs, (int)n);
    PyBuffer_Release(&data);
    if (err != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_reg_write_batch failed");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* set_cpuid(table, tsc_aux): the CPU the guest is shown.  table holds
 * records of six little-endian u32 (leaf, subleaf, eax, ebx, ecx, edx),
 * subleaf 0xffffffff for leaves without subleaves; leaf 0 and 0x80000000
 * must be among them (their eax is the highest leaf of each range).  The
 * hook is installed on the first call. */
static PyObject *glue_set_cpuid(Glue *g, PyObject *args)
{
    Py_buffer data;
    unsigned long long aux;
    if (!PyArg_ParseTuple(args, "y*K", &data, &aux))
        return NULL;
    if (data.len % (CPUID_REC * 4)) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "set_cpuid: records of 24 bytes");
        return NULL;
    }
    uint32_t *tab = PyMem_Malloc(data.len ? data.len : 1);
    if (!tab) {
        PyBuffer_Release(&data);
        return PyErr_NoMemory();
    }
    memcpy(tab, data.buf, data.len);
    PyMem_Free(g->cpuid_tab);
    g->cpuid_tab = tab;
    g->cpuid_n = data.len / (CPUID_REC * 4);
    PyBuffer_Release(&data);
    g->cpuid_max = g->cpuid_xmax = 0;
    for (Py_ssize_t i = 0; i < g->cpuid_n; i++) {
        uint32_t *e = tab + i * CPUID_REC;
        if (e[0] == 0)
            g->cpuid_max = e[2];
        else if (e[0] == 0x80000000u)
            g->cpuid_xmax = e[2];
    }
    g->tsc_aux = aux;
    if (!g->hh_cpuid) {
        if (U.hook_add(g->uc, &g->hh_cpuid, UC_HOOK_INSN, (void *)hook_cpuid, g, 1, 0,
                       UC_X86_INS_CPUID) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "uc_hook_add(cpuid) failed");
            return NULL;
        }
        g->flush_tb = 1;
    }
    Py_RETURN_NONE;
}

static PyObject *glue_stop(Glue *g, PyObject *unused)
{
    U.emu_stop(g->uc);
    Py_RETURN_NONE;
}

/* flush_tb(): drop all translated code before the next run (a frame that
 * held code was freed and may be reused). */
static PyObject *glue_flush_tb(Glue *g, PyObject *unused)
{
    g->flush_tb = 1;
    Py_RETURN_NONE;
}

static PyObject *glue_flush_tlb(Glue *g, PyObject *unused)
{
    U.ctl(g->uc, UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0));
    Py_RETURN_NONE;
}

/* set_slice(n): stop after n more basic blocks; n == 0 removes the block
 * hook so a lone task runs at full speed. */
static PyObject *glue_set_slice(Glue *g, PyObject *args)
{
    long long n;
    if (!PyArg_ParseTuple(args, "L", &n))
        return NULL;
    g->sh.slice_left = n;
    if (n > 0 && !g->block_installed) {
        if (U.hook_add(g->uc, &g->hh_block, UC_HOOK_BLOCK, (void *)hook_block, g, 1, 0) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "uc_hook_add(block) failed");
            return NULL;
        }
        g->block_installed = 1;
        g->flush_tb = 1;
    } else if (n <= 0 && g->block_installed) {
        U.hook_del(g->uc, g->hh_block);
        g->block_installed = 0;
        g->flush_tb = 1;
    }
    Py_RETURN_NONE;
}

/* set_step_hook(fn): install the instruction hook (once, before any code
 * runs, so every translation carries it and counts stay comparable). */
static PyObject *glue_set_step_hook(Glue *g, PyObject *fn)
{
    if (g->on_step) {
        PyErr_SetString(PyExc_RuntimeError, "step hook already installed");
        return NULL;
    }
    if (U.hook_add(g->uc, &g->hh_code, UC_HOOK_CODE, (void *)hook_code, g, 1, 0) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "uc_hook_add(code) failed");
        return NULL;
    }
    Py_INCREF(fn);
    g->on_step = fn;
    g->flush_tb = 1;
    Py_RETURN_NONE;
}

/* set_step_at(n): call on_step before the instruction numbered n (0: never). */
static PyObject *glue_set_step_at(Glue *g, PyObject *args)
{
    unsigned long long n;
    if (!PyArg_ParseTuple(args, "K", &n))
        return NULL;
    g->step_at = n;
    Py_RETURN_NONE;
}

/* set_breakpoints(addrs): call on_step before any instruction at one of them. */
static PyObject *glue_set_breakpoints(Glue *g, PyObject *seq)
{
    PyObject *fast = PySequence_Fast(seq, "breakpoints must be a sequence");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > MAX_BREAKPOINTS) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "too many breakpoints");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        g->bps[i] = PyLong_AsUnsignedLongLongMask(PySequence_Fast_GET_ITEM(fast, i));
    g->nbps = (int)n;
    Py_DECREF(fast);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *glue_insns(Glue *g, PyObject *unused)
{
    return PyLong_FromUnsignedLongLong(g->insns);
}

static PyMethodDef glue_methods[] = {
    {"set_step_hook", (PyCFunction)glue_set_step_hook, METH_O, "install the instruction hook"},
    {"set_step_at", (PyCFunction)glue_set_step_at, METH_VARARGS, "on_step before instruction n"},
    {"set_breakpoints", (PyCFunction)glue_set_breakpoints, METH_O, "on_step at these addresses"},
    {"insns", (PyCFunction)glue_insns, METH_NOARGS, "instructions started (step hook on)"},
    {"shared", (PyCFunction)glue_shared, METH_NOARGS, "memoryview of the shared struct"},
    {"set_offsets", (PyCFunction)glue_set_offsets, METH_VARARGS, "old_exception, error_code offsets"},
    {"emu_start", (PyCFunction)glue_emu_start, METH_VARARGS, "run until stopped"},
    {"resume", (PyCFunction)glue_resume, METH_VARARGS, "emu_start from the current RIP"},
    {"set_cr3", (PyCFunction)glue_set_cr3, METH_VARARGS, "write CR3 (flushes the TLB)"},
    {"switch_context", (PyCFunction)glue_switch_context, METH_VARARGS,
     "save the CPU into one uc_context, restore another, write CR3"},
    {"reg_write_batch", (PyCFunction)glue_reg_write_batch, METH_VARARGS, "write 64-bit registers"},
    {"reg_read_batch", (PyCFunction)glue_reg_read_batch, METH_VARARGS, "read 64-bit registers"},
    {"reg_read_bytes", (PyCFunction)glue_reg_read_bytes, METH_VARARGS,
     "read registers of any width, 16 bytes each"},
    {"reg_write_bytes", (PyCFunction)glue_reg_write_bytes, METH_VARARGS,
     "write registers of any width, 16 bytes each"},
    {"set_cpuid", (PyCFunction)glue_set_cpuid, METH_VARARGS,
     "the CPUID table the guest sees, and rdtscp's TSC_AUX"},
    {"stop", (PyCFunction)glue_stop, METH_NOARGS, "uc_emu_stop"},
    {"flush_tlb", (PyCFunction)glue_flush_tlb, METH_NOARGS, "flush the TLB"},
    {"flush_tb", (PyCFunction)glue_flush_tb, METH_NOARGS, "retranslate before the next run"},
    {"set_slice", (PyCFunction)glue_set_slice, METH_VARARGS, "blocks until the slice ends"},
    {NULL}
};

static PyTypeObject GlueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "emu._uchook.Glue",
    .tp_basicsize = sizeof(Glue),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)glue_init,
    .tp_dealloc = (destructor)glue_dealloc,
    .tp_methods = glue_methods,
};

static PyMethodDef mod_methods[] = {
    {"init", mod_init, METH_VARARGS, "hand over Unicorn's entry points"},
    {NULL}
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_uchook", NULL, -1, mod_methods};

PyMODINIT_FUNC PyInit__uchook(void)
{
    if (PyType_Ready(&GlueType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m)
        return NULL;
    Py_INCREF(&GlueType);
    PyModule_AddObject(m, "Glue", (PyObject *)&GlueType);
    return m;
}
