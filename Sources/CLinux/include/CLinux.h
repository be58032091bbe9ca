// Linux interfaces that Swift's Glibc module does not export (or exports only
// as variadic/macro forms): openat2, f{set,get}xattr, loop-device and block-size ioctls, mount(2),
// a signal pipe.
// Every function returns what the syscall returns; errno is left for the caller.
#ifndef KEYRESCUE_CLINUX_H
#define KEYRESCUE_CLINUX_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// openat2(2) resolve flags (linux/openat2.h), repeated so callers need no kernel headers.
#define KR_RESOLVE_NO_XDEV       0x01
#define KR_RESOLVE_NO_MAGICLINKS 0x02
#define KR_RESOLVE_NO_SYMLINKS   0x04
#define KR_RESOLVE_BENEATH       0x08
#define KR_RESOLVE_IN_ROOT       0x10

/// openat2(2) through syscall(2): glibc 2.36 has no wrapper. Returns a fd or -1.
int kr_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

int kr_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
ssize_t kr_fgetxattr(int fd, const char *name, void *value, size_t size);

int kr_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data);
int kr_umount2(const char *target, int flags);
// unshare(CLONE_NEWNS) and friends: CLinuxNamespace.h.
#include "CLinuxNamespace.h"

/// Loop devices: find a free one via /dev/loop-control, attach a backing fd with
/// optional offset/size limit and read-only flag (LOOP_CONFIGURE, falling back to
/// LOOP_SET_FD + LOOP_SET_STATUS64), and detach. autoclear makes the kernel free the
/// device when the last user closes it.
int kr_loop_get_free(void);
int kr_loop_attach(int loopfd, int backingfd, uint64_t offset, uint64_t sizelimit, int readonly, int autoclear);
int kr_loop_detach(int loopfd);

/// Size of a block device in bytes (BLKGETSIZE64), -1 on error.
int64_t kr_block_size_bytes(int fd);

int kr_errno(void);

/// Installs a handler for each signal in `signals` that only writes the signal number (one byte)
/// to `writefd` and restores errno: async-signal-safe by construction (write(2) is on the POSIX
/// list). A watcher thread reads the other end and does the real work. SA_RESTART is set so
/// the interrupted thread's syscalls resume. Returns 0, or -1 with errno.
int kr_install_signal_pipe(int writefd, const int *signals, int count);
/// Restores the default action of `sig` and raises it again, so the process ends with the
/// status the sender expects (e.g. 143 for SIGTERM in a shell).
void kr_reraise_default(int sig);

// Mount flags (sys/mount.h) repeated as plain constants for Swift.
#define KR_MS_RDONLY  1UL
#define KR_MS_NOSUID  2UL
#define KR_MS_NODEV   4UL
#define KR_MS_NOEXEC  8UL
#define KR_MS_REC     16384UL
#define KR_MS_PRIVATE (1UL << 18)
#define KR_MS_BIND    4096UL
#define KR_MNT_DETACH 2
// open(2) flag that Glibc's Swift overlay does not export.
#define KR_O_PATH 010000000
#endif
