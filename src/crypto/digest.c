/* One-shot digests for other modules (journal hash chain, keyed PAN references). */
#include <openssl/evp.h>

#include "crypto_int.h"

int bs_sha256(const void *data, size_t n, uint8_t out[32])
{
    static const uint8_t empty[1];
    unsigned int len = 0;

    if (out == NULL || (data == NULL && n > 0))
        return BS_EINVAL;
    if (data == NULL)
        data = empty;
    if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return bs__crypto_fail();
    return 0;
}
