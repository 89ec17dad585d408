/* Cuts long sleeps short in the sandbox and moves the clock on by what was skipped.
 *
 * Compiled into the sandbox image and loaded into every dynamically linked program through
 * /etc/ld.so.preload (no environment variable shows it). Active only in the sandbox user's
 * processes (uid SANDBOX_UID, fixed at start-up): the probe and everything root runs see the
 * real clock. A wait of SLEEP_CUT seconds or more on a timer (nanosleep, clock_nanosleep,
 * sleep, usleep, select/poll on no descriptor, a semaphore or condition variable with a
 * deadline) returns at once (a semaphore or condition first waits a little for a real
 * wake-up); the time it asked for is added to an offset that every clock the process reads
 * carries (realtime, monotonic, boottime: time.time, time.monotonic, datetime.now, date,
 * gettimeofday), so a "did the sleep really last?" check passes. The offset lives in a SysV
 * shared memory segment, shared by all of the user's processes, so their clocks agree. Each
 * cut wait is appended, as a JSON line, to the persona's record file (the probe reports it).
 * Waits on descriptors (a child's output, a socket) are not touched: a build waiting for
 * its compiler must not time out.
 *
 * The machine also looks as old as a developer's: a per-container base of days is added to
 * the monotonic and boot-time clocks, to /proc/uptime, sysinfo() and the boot time in
 * /proc/stat (as these processes read them through libc), and every process but PID 1 is
 * shown started that much later in /proc/<pid>/stat. So every clock a package can read
 * agrees (time.monotonic, CLOCK_BOOTTIME, /proc/uptime, psutil.boot_time, a process's start
 * time): a machine up for days whose init started at boot, where the package's own process
 * started a moment ago. The calls that take an absolute deadline on a moved clock get it
 * back on the real one (clock_nanosleep, semaphores, conditions, mutexes, rwlocks, joins,
 * timerfds, and futex through syscall(), as Rust's standard library calls it).
 *
 * Under gVisor the kernel's name is a Debian kernel's (uname, /proc/version,
 * /proc/sys/kernel/osrelease) and the kernel log is closed to the user (klogctl: EPERM), as
 * on Debian; gVisor's own "Linux 4.4.0 of January 2016" and "Starting gVisor..." are tells.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <linux/futex.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifndef SANDBOX_UID
#define SANDBOX_UID 10001
#endif
#ifndef RECORDS
#define RECORDS "/dev/shm/.X0-lock"
#endif
#define SLEEP_CUT 3.0
#define SHM_KEY 0x4c430b1d
#define REAL_WAIT_NS 50000000L /* what a cut semaphore or condition wait still waits */
#define MAX_RECORDS 50

static volatile int64_t *offset_ns; /* NULL: not the sandbox user, or no segment */
static volatile int64_t *base_ns;   /* the machine's age added to monotonic and boot time */
static int records_left = MAX_RECORDS;

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
                                  const struct timespec *);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_poll)(struct pollfd *, nfds_t, int);

__attribute__((constructor)) static void setup(void) {
    real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    real_clock_nanosleep = dlsym(RTLD_NEXT, "clock_nanosleep");
    real_sem_timedwait = dlsym(RTLD_NEXT, "sem_timedwait");
    real_sem_clockwait = dlsym(RTLD_NEXT, "sem_clockwait");
    real_cond_timedwait = dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    if (!real_cond_timedwait) real_cond_timedwait = dlsym(RTLD_NEXT, "pthread_cond_timedwait");
    real_cond_clockwait = dlsym(RTLD_NEXT, "pthread_cond_clockwait");
    real_select = dlsym(RTLD_NEXT, "select");
    real_poll = dlsym(RTLD_NEXT, "poll");
    if (getuid() != SANDBOX_UID || !real_clock_gettime || !real_clock_nanosleep) return;
    int id = shmget(SHM_KEY, 4096, IPC_CREAT | 0600);
    if (id < 0) return;
    void *at = shmat(id, NULL, 0);
    if (at == (void *)-1) return;
    base_ns = (volatile int64_t *)at + 1;
    if (__atomic_load_n(base_ns, __ATOMIC_SEQ_CST) == 0) {
        struct timespec now;
        real_clock_gettime(CLOCK_REALTIME, &now);
        int64_t days = 3 + (now.tv_nsec / 1000 + getpid()) % 37; /* 3 to 39 days */
        int64_t age = days * 86400 * 1000000000L + (now.tv_nsec % 86400000) * 1000000L;
        int64_t zero = 0;
        __atomic_compare_exchange_n(base_ns, &zero, age, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    offset_ns = (volatile int64_t *)at;
}

static int shifted(clockid_t clock) {
    return offset_ns && (clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
                         clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_REALTIME_COARSE ||
                         clock == CLOCK_MONOTONIC_COARSE || clock == CLOCK_BOOTTIME ||
                         clock == CLOCK_TAI || clock == CLOCK_REALTIME_ALARM ||
                         clock == CLOCK_BOOTTIME_ALARM);
}

static int64_t offset(void) { return offset_ns ? __atomic_load_n(offset_ns, __ATOMIC_SEQ_CST) : 0; }

/* What a clock carries: the skipped time, and for the clocks that count from boot
 * (monotonic and boot time, which Linux starts together) the machine's age. */
static int64_t shift(clockid_t clock) {
    int wall = clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI ||
               clock == CLOCK_REALTIME_ALARM;
    return offset() + (!wall && base_ns ? __atomic_load_n(base_ns, __ATOMIC_SEQ_CST) : 0);
}

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000L + t->tv_nsec; }

static struct timespec spec(int64_t value) {
    struct timespec t = {value / 1000000000L, value % 1000000000L};
    if (t.tv_nsec < 0) { t.tv_sec -= 1; t.tv_nsec += 1000000000L; }
    return t;
}

static void record(const char *call, double seconds) {
    if (records_left <= 0) return;
    records_left--;
    char line[200];
    int size = snprintf(line, sizeof line,
                        "{\"kind\": \"sleep\", \"pid\": %d, \"call\": \"%s\", \"requested\": %.3f}\n",
                        (int)getpid(), call, seconds);
    int saved = errno;
    int fd = open(RECORDS, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, line, (size_t)size) < 0) { /* nothing to do: never change the caller */ }
        close(fd);
    }
    errno = saved;
}

/* A wait of `wanted` ns: cut (the clock moves on, the call is recorded) or not. */
static int cut(const char *call, int64_t wanted) {
    if (!offset_ns || wanted < (int64_t)(SLEEP_CUT * 1e9)) return 0;
    __atomic_add_fetch(offset_ns, wanted, __ATOMIC_SEQ_CST);
    record(call, wanted / 1e9);
    return 1;
}

int clock_gettime(clockid_t clock, struct timespec *tp) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int result = real_clock_gettime(clock, tp);
    if (result == 0 && shifted(clock)) *tp = spec(ns(tp) + shift(clock));
    return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    struct timespec now;
    if (tz) memset(tz, 0, 8);
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return -1;
    tv->tv_sec = now.tv_sec;
    tv->tv_usec = now.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}

/* An absolute deadline on the shifted clock, on the real one. */
static struct timespec real_deadline(clockid_t clock, const struct timespec *deadline) {
    return spec(ns(deadline) - shift(clock));
}

static int64_t remaining(clockid_t clock, const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(clock, &now);
    return ns(deadline) - ns(&now);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    if (!real_clock_nanosleep) real_clock_nanosleep = dlsym(RTLD_NEXT, "clock_nanosleep");
    if (!shifted(clock) || !req) return real_clock_nanosleep(clock, flags, req, rem);
    if (flags & TIMER_ABSTIME) {
        if (cut("clock_nanosleep", remaining(clock, req))) return 0;
        struct timespec real = real_deadline(clock, req);
        return real_clock_nanosleep(clock, flags, &real, rem);
    }
    if (cut("clock_nanosleep", ns(req))) {
        if (rem) rem->tv_sec = rem->tv_nsec = 0;
        return 0;
    }
    return real_clock_nanosleep(clock, flags, req, rem);
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
    if (req && cut("nanosleep", ns(req))) {
        if (rem) rem->tv_sec = rem->tv_nsec = 0;
        return 0;
    }
    int result = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
    if (result != 0) { errno = result; return -1; }
    return 0;
}

unsigned int sleep(unsigned int seconds) {
    struct timespec req = {seconds, 0}, rem = {0, 0};
    if (nanosleep(&req, &rem) != 0) return (unsigned int)rem.tv_sec;
    return 0;
}

int usleep(useconds_t usec) {
    struct timespec req = {usec / 1000000, (long)(usec % 1000000) * 1000};
    return nanosleep(&req, NULL);
}

int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout) {
    if (!real_select) real_select = dlsym(RTLD_NEXT, "select");
    if (nfds == 0 && timeout &&
        cut("select", (int64_t)timeout->tv_sec * 1000000000L + timeout->tv_usec * 1000L)) {
        timeout->tv_sec = timeout->tv_usec = 0;
        return 0;
    }
    return real_select(nfds, r, w, e, timeout);
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms) {
    if (!real_poll) real_poll = dlsym(RTLD_NEXT, "poll");
    if (nfds == 0 && timeout_ms > 0 && cut("poll", (int64_t)timeout_ms * 1000000L)) return 0;
    return real_poll(fds, nfds, timeout_ms);
}

/* Deadline waits on synchronisation objects: a short real wait for a wake-up; when none
 * comes and the deadline is far, the clock moves to the deadline and the wait times out. */
static int far(clockid_t clock, const struct timespec *deadline, struct timespec *shortly) {
    if (!shifted(clock)) return 0;
    int64_t left = remaining(clock, deadline);
    if (left < (int64_t)(SLEEP_CUT * 1e9)) return 0;
    struct timespec now;
    real_clock_gettime(clock, &now);
    *shortly = spec(ns(&now) + REAL_WAIT_NS);
    return 1;
}

int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *deadline) {
    if (!real_sem_clockwait) real_sem_clockwait = dlsym(RTLD_NEXT, "sem_clockwait");
    struct timespec shortly;
    if (far(clock, deadline, &shortly)) {
        int result = real_sem_clockwait(sem, clock, &shortly);
        if (result == 0 || errno != ETIMEDOUT) return result;
        cut("sem_clockwait", remaining(clock, deadline));
        errno = ETIMEDOUT;
        return -1;
    }
    if (shifted(clock)) {
        struct timespec real = real_deadline(clock, deadline);
        return real_sem_clockwait(sem, clock, &real);
    }
    return real_sem_clockwait(sem, clock, deadline);
}

int sem_timedwait(sem_t *sem, const struct timespec *deadline) {
    if (!real_sem_timedwait) real_sem_timedwait = dlsym(RTLD_NEXT, "sem_timedwait");
    struct timespec shortly;
    if (far(CLOCK_REALTIME, deadline, &shortly)) {
        int result = real_sem_timedwait(sem, &shortly);
        if (result == 0 || errno != ETIMEDOUT) return result;
        cut("sem_timedwait", remaining(CLOCK_REALTIME, deadline));
        errno = ETIMEDOUT;
        return -1;
    }
    if (shifted(CLOCK_REALTIME)) {
        struct timespec real = real_deadline(CLOCK_REALTIME, deadline);
        return real_sem_timedwait(sem, &real);
    }
    return real_sem_timedwait(sem, deadline);
}

int pthread_cond_clockwait(pthread_cond_t *cond, pthread_mutex_t *mutex, clockid_t clock,
                           const struct timespec *deadline) {
    if (!real_cond_clockwait) real_cond_clockwait = dlsym(RTLD_NEXT, "pthread_cond_clockwait");
    struct timespec shortly;
    if (far(clock, deadline, &shortly)) {
        int result = real_cond_clockwait(cond, mutex, clock, &shortly);
        if (result != ETIMEDOUT) return result;
        cut("pthread_cond_clockwait", remaining(clock, deadline));
        return ETIMEDOUT;
    }
    if (shifted(clock)) {
        struct timespec real = real_deadline(clock, deadline);
        return real_cond_clockwait(cond, mutex, clock, &real);
    }
    return real_cond_clockwait(cond, mutex, clock, deadline);
}

/* glibc keeps a condition variable's clock in bit 1 of __wrefs (set by
 * pthread_condattr_setclock(CLOCK_MONOTONIC)); CLOCK_REALTIME otherwise. */
static clockid_t cond_clock(const pthread_cond_t *cond) {
    return (cond->__data.__wrefs & 2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                           const struct timespec *deadline) {
    if (!real_cond_timedwait) real_cond_timedwait = dlsym(RTLD_NEXT, "pthread_cond_timedwait");
    clockid_t clock = cond_clock(cond);
    struct timespec shortly;
    if (far(clock, deadline, &shortly)) {
        int result = real_cond_timedwait(cond, mutex, &shortly);
        if (result != ETIMEDOUT) return result;
        cut("pthread_cond_timedwait", remaining(clock, deadline));
        return ETIMEDOUT;
    }
    if (shifted(clock)) {
        struct timespec real = real_deadline(clock, deadline);
        return real_cond_timedwait(cond, mutex, &real);
    }
    return real_cond_timedwait(cond, mutex, deadline);
}

/* --- absolute deadlines on a moved clock, given back on the real one --------------------- */

#define DEADLINE_CALL(name, object_type)                                                      \
    int name(object_type *object, clockid_t clock, const struct timespec *deadline) {         \
        static int (*real)(object_type *, clockid_t, const struct timespec *);                \
        if (!real) real = dlsym(RTLD_NEXT, #name);                                            \
        if (!real) return ENOSYS;                                                             \
        if (shifted(clock)) {                                                                 \
            struct timespec moved = real_deadline(clock, deadline);                           \
            return real(object, clock, &moved);                                               \
        }                                                                                     \
        return real(object, clock, deadline);                                                 \
    }

#define REALTIME_DEADLINE_CALL(name, object_type)                                             \
    int name(object_type *object, const struct timespec *deadline) {                          \
        static int (*real)(object_type *, const struct timespec *);                           \
        if (!real) real = dlsym(RTLD_NEXT, #name);                                            \
        if (!real) return ENOSYS;                                                             \
        if (shifted(CLOCK_REALTIME)) {                                                        \
            struct timespec moved = real_deadline(CLOCK_REALTIME, deadline);                  \
            return real(object, &moved);                                                      \
        }                                                                                     \
        return real(object, deadline);                                                        \
    }

DEADLINE_CALL(pthread_mutex_clocklock, pthread_mutex_t)
DEADLINE_CALL(pthread_rwlock_clockrdlock, pthread_rwlock_t)
DEADLINE_CALL(pthread_rwlock_clockwrlock, pthread_rwlock_t)
REALTIME_DEADLINE_CALL(pthread_mutex_timedlock, pthread_mutex_t)
REALTIME_DEADLINE_CALL(pthread_rwlock_timedrdlock, pthread_rwlock_t)
REALTIME_DEADLINE_CALL(pthread_rwlock_timedwrlock, pthread_rwlock_t)

int pthread_clockjoin_np(pthread_t thread, void **value, clockid_t clock,
                         const struct timespec *deadline) {
    static int (*real)(pthread_t, void **, clockid_t, const struct timespec *);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_clockjoin_np");
    if (!real) return ENOSYS;
    if (deadline && shifted(clock)) {
        struct timespec moved = real_deadline(clock, deadline);
        return real(thread, value, clock, &moved);
    }
    return real(thread, value, clock, deadline);
}

int pthread_timedjoin_np(pthread_t thread, void **value, const struct timespec *deadline) {
    static int (*real)(pthread_t, void **, const struct timespec *);
    if (!real) real = dlsym(RTLD_NEXT, "pthread_timedjoin_np");
    if (!real) return ENOSYS;
    if (deadline && shifted(CLOCK_REALTIME)) {
        struct timespec moved = real_deadline(CLOCK_REALTIME, deadline);
        return real(thread, value, &moved);
    }
    return real(thread, value, deadline);
}

#define TIMERFDS 1024
static clockid_t timerfd_clock[TIMERFDS]; /* the clock of each timerfd, +1 (0: unknown) */

int timerfd_create(clockid_t clock, int flags) {
    static int (*real)(clockid_t, int);
    if (!real) real = dlsym(RTLD_NEXT, "timerfd_create");
    if (!real) { errno = ENOSYS; return -1; }
    int fd = real(clock, flags);
    if (fd >= 0 && fd < TIMERFDS) timerfd_clock[fd] = clock + 1;
    return fd;
}

int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old) {
    static int (*real)(int, int, const struct itimerspec *, struct itimerspec *);
    if (!real) real = dlsym(RTLD_NEXT, "timerfd_settime");
    if (!real) { errno = ENOSYS; return -1; }
    if ((flags & TFD_TIMER_ABSTIME) && value && fd >= 0 && fd < TIMERFDS && timerfd_clock[fd] &&
        shifted(timerfd_clock[fd] - 1) && (value->it_value.tv_sec || value->it_value.tv_nsec)) {
        struct itimerspec moved = *value;
        moved.it_value = real_deadline(timerfd_clock[fd] - 1, &value->it_value);
        return real(fd, flags, &moved, old);
    }
    return real(fd, flags, value, old);
}

/* syscall(SYS_futex, ...) is how Rust's standard library waits: a FUTEX_WAIT_BITSET deadline
 * is absolute on the monotonic clock (or the real-time one with FUTEX_CLOCK_REALTIME). */
long syscall(long number, ...) {
    static long (*real)(long, ...);
    if (!real) real = dlsym(RTLD_NEXT, "syscall");
    va_list args;
    va_start(args, number);
    long a[6];
    for (int i = 0; i < 6; i++) a[i] = va_arg(args, long);
    va_end(args);
    if (number == SYS_futex && a[3] && offset_ns) {
        int op = (int)a[1] & FUTEX_CMD_MASK;
        clockid_t clock = ((int)a[1] & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        if (op == FUTEX_LOCK_PI) clock = CLOCK_REALTIME;
        if (op == FUTEX_WAIT_BITSET || op == FUTEX_WAIT_REQUEUE_PI || op == FUTEX_LOCK_PI) {
            struct timespec moved = real_deadline(clock, (const struct timespec *)a[3]);
            return real(number, a[0], a[1], a[2], (long)&moved, a[4], a[5]);
        }
    }
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* --- the kernel's name ---------------------------------------------------------------------- */

/* gVisor calls itself Linux 4.4.0 built on 10 January 2016, and its kernel log says "Starting
 * gVisor...": well-known tells. Under gVisor the machine names a Debian kernel instead (as
 * the image's own Debian would run), and the kernel log is closed to the user, as Debian's
 * kernel.dmesg_restrict=1 has it. Under runc the host's real kernel shows, untouched. */
#define PERSONA_RELEASE "6.1.0-27-amd64"
#define PERSONA_VERSION "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)"
#define PERSONA_PROC_VERSION                                                                    \
    "Linux version " PERSONA_RELEASE " (debian-kernel@lists.debian.org) (gcc-12 (Debian "       \
    "12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) " PERSONA_VERSION "\n"

static int gvisor_kernel(const struct utsname *real) {
    return strcmp(real->release, "4.4.0") == 0 && strstr(real->version, "2016") != NULL;
}

static int under_gvisor(void) {
    static int known = -1;
    if (known < 0) {
        struct utsname real;
        known = syscall(SYS_uname, &real) == 0 && gvisor_kernel(&real);
    }
    return known;
}

int uname(struct utsname *name) {
    int result = (int)syscall(SYS_uname, name);
    if (result == 0 && offset_ns && gvisor_kernel(name)) {
        snprintf(name->release, sizeof name->release, "%s", PERSONA_RELEASE);
        snprintf(name->version, sizeof name->version, "%s", PERSONA_VERSION);
    }
    return result;
}

int klogctl(int type, char *buffer, int length) {
    static int (*real)(int, char *, int);
    if (offset_ns && under_gvisor()) {
        errno = EPERM;
        return -1;
    }
    if (!real) real = dlsym(RTLD_NEXT, "klogctl");
    if (!real) { errno = ENOSYS; return -1; }
    return real(type, buffer, length);
}

/* --- the machine's age in /proc ------------------------------------------------------------- */

static int64_t age_s(void) {
    return (shift(CLOCK_BOOTTIME) - offset()) / 1000000000L;
}

enum view { NO_VIEW, UPTIME, STAT, PROCESS_STAT, INIT_STAT, KERNEL_VERSION, KERNEL_RELEASE,
             CGROUP, INIT_CGROUP, LOADAVG };

static int write_view(enum view kind, const char *text, char *out, size_t room, int flags);

/* Which file of the machine's age `path` is: /proc/uptime, /proc/stat, or the stat file of a
 * process (/proc/<pid>/stat, /proc/self/stat, .../task/<tid>/stat). */
static enum view view_of(const char *path) {
    if (strcmp(path, "/proc/uptime") == 0) return UPTIME;
    if (strcmp(path, "/proc/stat") == 0) return STAT;
    if (strcmp(path, "/proc/version") == 0) return under_gvisor() ? KERNEL_VERSION : NO_VIEW;
    if (strcmp(path, "/proc/sys/kernel/osrelease") == 0)
        return under_gvisor() ? KERNEL_RELEASE : NO_VIEW;
    if (strcmp(path, "/proc/loadavg") == 0) return under_gvisor() ? LOADAVG : NO_VIEW;
    if (strncmp(path, "/proc/", 6) != 0) return NO_VIEW;
    const char *p = path + 6;
    long pid = 0;
    if (strncmp(p, "self/", 5) == 0) { pid = getpid(); p += 5; }
    else if (strncmp(p, "thread-self/", 12) == 0) { pid = getpid(); p += 12; }
    else {
        if (!isdigit((unsigned char)*p)) return NO_VIEW;
        while (isdigit((unsigned char)*p)) pid = pid * 10 + (*p++ - '0');
        if (*p++ != '/') return NO_VIEW;
    }
    if (strncmp(p, "task/", 5) == 0) {
        p += 5;
        if (!isdigit((unsigned char)*p)) return NO_VIEW;
        while (isdigit((unsigned char)*p)) p++;
        if (*p++ != '/') return NO_VIEW;
    }
    if (strcmp(p, "cgroup") == 0) return pid == 1 ? INIT_CGROUP : CGROUP;
    if (strcmp(p, "stat") != 0) return NO_VIEW;
    return pid == 1 ? INIT_STAT : PROCESS_STAT;
}

/* The file as this machine would show it, in an unnamed file of /dev/shm; -1 for any other
 * path (or when anything fails: then the real file is opened). */
static int proc_view(const char *path, int flags) {
    if (!offset_ns || !path || (flags & O_ACCMODE) != O_RDONLY) return -1;
    enum view kind = view_of(path);
    if (kind == NO_VIEW) return -1;
    if (kind == KERNEL_VERSION || kind == KERNEL_RELEASE) { /* gVisor has no osrelease file */
        char line[512];
        snprintf(line, sizeof line, "%s",
                 kind == KERNEL_VERSION ? PERSONA_PROC_VERSION : PERSONA_RELEASE "\n");
        return write_view(kind, line, line, sizeof line, flags);
    }
    enum { LIMIT = 65536 };
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char *text = malloc(LIMIT), *out = malloc(LIMIT + 64);
    ssize_t size = 0, got = 0;
    while (text && size < LIMIT - 1 && (got = read(fd, text + size, LIMIT - 1 - size)) > 0)
        size += got;
    close(fd);
    int view = -1;
    if (text && out && (size > 0 || kind == CGROUP || kind == INIT_CGROUP) && size < LIMIT - 1) {
        text[size] = 0;
        view = write_view(kind, text, out, LIMIT + 64, flags);
    }
    free(text);
    free(out);
    return view;
}

/* A process's start time (field 22, clock ticks after boot) moved on by the machine's age:
 * it started a moment ago on a machine up for days. PID 1 started at boot, as init does (under
 * gVisor it did, a fraction of a second after; under runc it started with the container,
 * hours into the host's uptime, and is shown started a second or two after boot). */
static size_t process_stat(const char *text, char *out, size_t room, int init) {
    const char *p = strrchr(text, ')');
    if (!p) return room;
    p++;
    for (int field = 2; field < 22 && *p; field++) { /* field 2 is the name, ending at p */
        while (*p == ' ') p++;
        if (field == 21) break;
        while (*p && *p != ' ') p++;
    }
    if (!isdigit((unsigned char)*p)) return room;
    char *end;
    unsigned long long start = strtoull(p, &end, 10);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long ticks = (unsigned long long)(hz > 0 ? hz : 100);
    if (init)
        start = start > 10 * ticks ? ticks / 2 + start % ticks : start;
    else
        start += (unsigned long long)age_s() * ticks;
    return (size_t)snprintf(out, room, "%.*s%llu%s", (int)(p - text), text, start, end);
}

/* A process's control groups as a desktop session's (systemd's user slice; init's own scope
 * for PID 1), not Docker's (`/docker/<id>` under runc) or none at all (gVisor 2022 shows an
 * empty file). */
#define SESSION_CGROUP "/user.slice/user-10001.slice/session-2.scope"

static size_t cgroup(const char *text, char *out, size_t room, const char *scope) {
    size_t length = 0;
    const char *line = text;
    while (*line && length < room) {
        const char *end = strchr(line, '\n');
        size_t size = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', size);
        const char *second = colon ? memchr(colon + 1, ':', size - (size_t)(colon + 1 - line)) : 0;
        if (second)
            length += (size_t)snprintf(out + length, room - length, "%.*s%s\n",
                                       (int)(second + 1 - line), line, scope);
        else if (size)
            length += (size_t)snprintf(out + length, room - length, "%.*s\n", (int)size, line);
        if (!end) break;
        line = end + 1;
    }
    if (length == 0) length = (size_t)snprintf(out, room, "0::%s\n", scope);
    return length;
}

static int write_view(enum view kind, const char *text, char *out, size_t room, int flags) {
    size_t length = 0;
    if (kind == UPTIME) {
        double up = 0, idle = 0;
        if (sscanf(text, "%lf %lf", &up, &idle) != 2) return -1;
        double more = (double)(shift(CLOCK_BOOTTIME)) / 1e9;
        length = (size_t)snprintf(out, room, "%.2f %.2f\n", up + more, idle + more * 0.93);
    } else if (kind == STAT) {
        const char *btime = strstr(text, "\nbtime ");
        if (!btime) return -1;
        long long boot = atoll(btime + 7);
        const char *rest = strchr(btime + 1, '\n');
        length = (size_t)snprintf(out, room, "%.*s\nbtime %lld%s", (int)(btime - text), text,
                                  boot - (long long)age_s(), rest ? rest : "\n");
    } else if (kind == PROCESS_STAT || kind == INIT_STAT) {
        length = process_stat(text, out, room, kind == INIT_STAT);
    } else if (kind == CGROUP || kind == INIT_CGROUP) {
        length = cgroup(text, out, room, kind == CGROUP ? SESSION_CGROUP : "/init.scope");
    } else if (kind == LOADAVG) {
        struct timespec now;
        real_clock_gettime(CLOCK_REALTIME, &now);
        double load = 0.35 + (double)(now.tv_sec % 47) / 100.0;
        length = (size_t)snprintf(out, room, "%.2f %.2f %.2f 1/%d %d\n", load, load * 1.1,
                                  load * 1.05, 287 + (int)(now.tv_sec % 61), (int)getpid());
    } else {
        length = strlen(text); /* the kernel's name: already the text to show */
    }
    if (length >= room) return -1;
    int keep = flags & O_CLOEXEC;
    int view = (int)syscall(SYS_openat, AT_FDCWD, "/dev/shm", O_TMPFILE | O_RDWR | keep, 0600);
    if (view < 0) { /* gVisor 2022: no O_TMPFILE on tmpfs; a file removed at once instead */
        static int serial;
        char name[64];
        snprintf(name, sizeof name, "/dev/shm/.%x%x", (unsigned)getpid(), (unsigned)++serial);
        view = (int)syscall(SYS_openat, AT_FDCWD, name, O_CREAT | O_EXCL | O_RDWR | keep, 0600);
        if (view < 0) return -1;
        unlink(name);
    }
    if (write(view, out, length) != (ssize_t)length || lseek(view, 0, SEEK_SET) != 0) {
        close(view);
        return -1;
    }
    return view;
}

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);

#define MODE_ARG(flags, mode)                                   \
    mode_t mode = 0;                                            \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                    \
        va_list args;                                           \
        va_start(args, flags);                                  \
        mode = (mode_t)va_arg(args, int);                       \
        va_end(args);                                           \
    }

int open(const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    int view = proc_view(path, flags);
    if (view >= 0) return view;
    if (!real_open) real_open = dlsym(RTLD_NEXT, "open");
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    int view = proc_view(path, flags);
    if (view >= 0) return view;
    if (!real_open64) real_open64 = dlsym(RTLD_NEXT, "open64");
    return real_open64(path, flags, mode);
}

int openat(int dir, const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    int view = path[0] == '/' ? proc_view(path, flags) : -1;
    if (view >= 0) return view;
    if (!real_openat) real_openat = dlsym(RTLD_NEXT, "openat");
    return real_openat(dir, path, flags, mode);
}

int openat64(int dir, const char *path, int flags, ...) {
    MODE_ARG(flags, mode)
    int view = path[0] == '/' ? proc_view(path, flags) : -1;
    if (view >= 0) return view;
    if (!real_openat64) real_openat64 = dlsym(RTLD_NEXT, "openat64");
    return real_openat64(dir, path, flags, mode);
}

static FILE *view_file(const char *path, const char *how) {
    if (!how || how[0] != 'r' || strchr(how, '+')) return NULL;
    int view = proc_view(path, strchr(how, 'e') ? O_RDONLY | O_CLOEXEC : O_RDONLY);
    return view >= 0 ? fdopen(view, "r") : NULL;
}

FILE *fopen(const char *path, const char *how) {
    FILE *view = view_file(path, how);
    if (view) return view;
    if (!real_fopen) real_fopen = dlsym(RTLD_NEXT, "fopen");
    return real_fopen(path, how);
}

FILE *fopen64(const char *path, const char *how) {
    FILE *view = view_file(path, how);
    if (view) return view;
    if (!real_fopen64) real_fopen64 = dlsym(RTLD_NEXT, "fopen64");
    return real_fopen64(path, how);
}

int sysinfo(struct sysinfo *info) {
    int result = (int)syscall(SYS_sysinfo, info);
    if (result == 0 && offset_ns) info->uptime += (long)(shift(CLOCK_BOOTTIME) / 1000000000L);
    return result;
}
