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
 * the boot-time clock, to /proc/uptime, sysinfo() and the boot time in /proc/stat (as these
 * processes read them through libc), so "booted seconds ago" and "PID 1 is seconds old"
 * checks see a machine up for days whose init started at boot.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
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

/* What a clock carries: the skipped time, and for the boot-time clocks the machine's age.
 * Not the monotonic clock: programs pass absolute monotonic deadlines to calls this library
 * does not translate (pthread_mutex_clocklock, raw futexes of Rust and Go), which would then
 * wait days. */
static int64_t shift(clockid_t clock) {
    int boot = clock == CLOCK_BOOTTIME || clock == CLOCK_BOOTTIME_ALARM;
    return offset() + (boot && base_ns ? __atomic_load_n(base_ns, __ATOMIC_SEQ_CST) : 0);
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

/* --- the machine's age in /proc ------------------------------------------------------------- */

static int64_t age_s(void) {
    return (shift(CLOCK_BOOTTIME) - offset()) / 1000000000L;
}

static int write_view(int uptime, const char *text, char *out, size_t room, int flags);

/* /proc/uptime or /proc/stat as this machine would show them, in an unnamed file of /dev/shm;
 * -1 for any other path (or when anything fails: then the real file is opened). */
static int proc_view(const char *path, int flags) {
    if (!offset_ns || !path || (flags & O_ACCMODE) != O_RDONLY) return -1;
    int uptime = strcmp(path, "/proc/uptime") == 0;
    if (!uptime && strcmp(path, "/proc/stat") != 0) return -1;
    enum { LIMIT = 65536 };
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char *text = malloc(LIMIT), *out = malloc(LIMIT + 64);
    ssize_t size = 0, got = 0;
    while (text && size < LIMIT - 1 && (got = read(fd, text + size, LIMIT - 1 - size)) > 0)
        size += got;
    close(fd);
    int view = -1;
    if (text && out && size > 0 && size < LIMIT - 1) {
        text[size] = 0;
        view = write_view(uptime, text, out, LIMIT + 64, flags);
    }
    free(text);
    free(out);
    return view;
}

static int write_view(int uptime, const char *text, char *out, size_t room, int flags) {
    size_t length = 0;
    if (uptime) {
        double up = 0, idle = 0;
        if (sscanf(text, "%lf %lf", &up, &idle) != 2) return -1;
        double more = (double)(shift(CLOCK_BOOTTIME)) / 1e9;
        length = (size_t)snprintf(out, room, "%.2f %.2f\n", up + more, idle + more * 0.93);
    } else {
        const char *btime = strstr(text, "\nbtime ");
        if (!btime) return -1;
        long long boot = atoll(btime + 7);
        const char *rest = strchr(btime + 1, '\n');
        length = (size_t)snprintf(out, room, "%.*s\nbtime %lld%s", (int)(btime - text), text,
                                  boot - (long long)age_s(), rest ? rest : "\n");
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
