// Mount namespaces: what Swift's Glibc module does not export (unshare(2) and CLONE_NEWNS need
// _GNU_SOURCE). Every function returns what the syscall returns; errno is left for the caller.
#ifndef KEYRESCUE_CLINUX_NAMESPACE_H
#define KEYRESCUE_CLINUX_NAMESPACE_H

/// unshare(CLONE_NEWNS): the calling thread gets its own copy of the mount namespace.
int kr_unshare_mount_namespace(void);
/// Number of threads of the calling process (from /proc/self/stat), -1 on error. unshare moves
/// only the calling thread, so callers check they are alone first.
int kr_thread_count(void);

#endif
