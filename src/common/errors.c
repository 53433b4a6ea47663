/* The error table behind bs_strerror(): one X-macro, so names and texts never drift. */
#include <bridgesim/common.h>

const char *bs_strerror(int err)
{
    switch (err) {
#define BS__ERRNO_STR(name, value, msg) \
    case (value):                       \
        return (msg);
        BS_ERRNO_MAP(BS__ERRNO_STR)
#undef BS__ERRNO_STR
    default:
        return "unknown error";
    }
}

const char *bs_errname(int err)
{
    switch (err) {
#define BS__ERRNO_NAME(name, value, msg) \
    case (value):                        \
        return #name;
        BS_ERRNO_MAP(BS__ERRNO_NAME)
#undef BS__ERRNO_NAME
    default:
        return "EUNKNOWN";
    }
}
