/* The allocator hook: all heap memory of libbridgesim passes through here. */
#include <stdlib.h>
#include <string.h>

#include <bridgesim/common.h>

static struct bs_allocator current = { malloc, calloc, realloc, free };

void bs_set_allocator(const struct bs_allocator *a)
{
    if (a)
        current = *a;
    else
        current = (struct bs_allocator){ malloc, calloc, realloc, free };
}

void *bs_malloc(size_t size)
{
    return current.malloc(size);
}

void *bs_calloc(size_t nmemb, size_t size)
{
    return current.calloc(nmemb, size);
}

void *bs_realloc(void *ptr, size_t size)
{
    return current.realloc(ptr, size);
}

void bs_free(void *ptr)
{
    if (ptr)
        current.free(ptr);
}

char *bs_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = bs_malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}
