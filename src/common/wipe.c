/*
 * Wiping secrets with a store the compiler may not drop: glibc's explicit_bzero (a vector
 * memset behind a barrier) where available, OPENSSL_cleanse (a byte loop) elsewhere. Every
 * transaction wipes its track 2 and PIN buffers, so the vector version matters.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <bridgesim/common.h>

void bs_wipe(void *p, size_t n)
{
    if (!p || !n)
        return;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
    explicit_bzero(p, n);
#else
    OPENSSL_cleanse(p, n);
#endif
}
