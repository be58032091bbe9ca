#ifndef KEYRESCUE_CBLKID_SHIM_H
#define KEYRESCUE_CBLKID_SHIM_H
#include <blkid/blkid.h>
#endif
