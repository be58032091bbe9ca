// libcrypto only (no libssl): hashing, HMAC, Ed25519 key generation.
#ifndef KEYRESCUE_COPENSSL_SHIM_H
#define KEYRESCUE_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif
