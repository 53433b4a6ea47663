/* Wiping secrets: OPENSSL_cleanse is guaranteed not to be optimised away. */
#include <openssl/crypto.h>

#include <bridgesim/common.h>

void bs_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}
