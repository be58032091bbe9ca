#define _GNU_SOURCE
#include "CLinux.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <signal.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct kr_open_how { uint64_t flags; uint64_t mode; uint64_t resolve; };

int kr_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct kr_open_how how = { flags, mode, resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int kr_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}
ssize_t kr_fgetxattr(int fd, const char *name, void *value, size_t size) { return fgetxattr(fd, name, value, size); }

int kr_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data) {
    return mount(source, target, fstype, flags, data);
}
int kr_umount2(const char *target, int flags) { return umount2(target, flags); }

int kr_loop_get_free(void) {
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) return -1;
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    int saved = errno;
    close(ctl);
    errno = saved;
    return n;
}

int kr_loop_attach(int loopfd, int backingfd, uint64_t offset, uint64_t sizelimit, int readonly, int autoclear) {
    struct loop_info64 info;
    memset(&info, 0, sizeof info);
    info.lo_offset = offset;
    info.lo_sizelimit = sizelimit;
    info.lo_flags = (readonly ? LO_FLAGS_READ_ONLY : 0) | (autoclear ? LO_FLAGS_AUTOCLEAR : 0);
#ifdef LOOP_CONFIGURE
    struct loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fd = (unsigned)backingfd;
    cfg.info = info;
    if (ioctl(loopfd, LOOP_CONFIGURE, &cfg) == 0) return 0;
    if (errno != EINVAL && errno != ENOTTY) return -1;
#endif
    if (ioctl(loopfd, LOOP_SET_FD, backingfd) < 0) return -1;
    if (ioctl(loopfd, LOOP_SET_STATUS64, &info) < 0) {
        int saved = errno;
        ioctl(loopfd, LOOP_CLR_FD, 0);
        errno = saved;
        return -1;
    }
    return 0;
}

int kr_loop_detach(int loopfd) { return ioctl(loopfd, LOOP_CLR_FD, 0); }

int64_t kr_block_size_bytes(int fd) {
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) < 0) return -1;
    return (int64_t)size;
}

int kr_errno(void) { return errno; }

static volatile int kr_signal_fd = -1;

static void kr_signal_to_pipe(int sig) {
    int saved = errno;
    unsigned char byte = (unsigned char)sig;
    if (kr_signal_fd >= 0) (void)!write(kr_signal_fd, &byte, 1);
    errno = saved;
}

int kr_install_signal_pipe(int writefd, const int *signals, int count) {
    kr_signal_fd = writefd;
    for (int i = 0; i < count; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = kr_signal_to_pipe;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(signals[i], &sa, NULL) < 0) return -1;
    }
    return 0;
}

void kr_reraise_default(int sig) {
    signal(sig, SIG_DFL);
    raise(sig);
}
