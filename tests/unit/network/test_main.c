/*
 * Unit tests for src/network/ (BIN routing, card populations, matching keys, the wire path
 * of nodes, the issuer host) and the journal record format (src/journal/record.c).
 * One executable, several cmocka groups; library allocations are leak-checked.
 */
#include "net_test.h"

int main(void)
{
    int failed = 0;

    /* Before any object exists, as bs_set_allocator() requires. */
    t_use_test_allocator();
    failed += t_run_routing();
    failed += t_run_journal();
    failed += t_run_wire();
    failed += t_run_issuer();
    failed += t_run_txn_types();
    bs_set_allocator(NULL);
    return failed ? 1 : 0;
}
