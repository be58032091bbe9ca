#define _GNU_SOURCE
#include "CLinuxNamespace.h"
#include <dirent.h>
#include <sched.h>

int kr_unshare_mount_namespace(void) { return unshare(CLONE_NEWNS); }

int kr_thread_count(void) {
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] != '.') count++;
    }
    closedir(tasks);
    return count;
}
