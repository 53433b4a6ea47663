#!/bin/sh
# bridgesim log: `export --out -` writes to stdout (it used to create a file named "-");
# `show` rejects filter values that cannot match, listing the valid ones (they used to
# show nothing, which looks like an answer); `trace` shows amounts in major units with
# the run's currency exponent (it used to print minor units next to a currency code).
. "$(dirname "$0")/lib.sh"
run run "$SMALL" --quiet --out "$WORK/r" --set signing.algorithm=hmac-sha256
want_rc 0 "the run"
cd "$WORK" || exit 1
run log export "$WORK/r" --format csv --out -
want_rc 0 "export --out -"
want_in out "node,seq,kind,t_us," "export --out - writes CSV to stdout"
[ ! -e "$WORK/-" ] || { echo "FAIL: export created a file named '-'"; fails=$((fails + 1)); }
run log export "$WORK/r" --format sqlite --out -
want_rc 0 "export sqlite --out -"
want_in out "SQLite format 3" "export sqlite --out - writes the database to stdout"

run log show "$WORK/r" --node mri.switch
want_rc 2 "--node matching no node"
want_in err "--node: 'mri.switch' matches no node of this run; nodes: bridge, links, mir.MIRACQ1" "--node lists the nodes"
run log show "$WORK/r" --rc 5
want_rc 2 "--rc 5"
want_in err "--rc: '5' is not a response code: two digits or capital letters, such as 00, 05" "--rc"
run log show "$WORK/r" --mti 2OO
want_rc 2 "--mti 2OO"
want_in err "--mti: '2OO' is not an MTI: four digits" "--mti"
run log show "$WORK/r" --stan 12
want_rc 2 "--stan 12"
want_in err "--stan: '12' is not a STAN: six digits" "--stan"
run log show "$WORK/r" --rrn abc
want_rc 2 "--rrn abc"
want_in err "--rrn: 'abc' is not an RRN: twelve letters or digits" "--rrn"
run log show "$WORK/r" --kind msg_out,bogus
want_rc 2 "--kind bogus"
want_in err "--kind: unknown kind 'bogus'; use one of: msg_in, msg_out, timeout" "--kind lists all"
run log show "$WORK/r" --node 'mir.*' --mti '02?0' --rc 00,51 --limit 3
want_rc 0 "valid filters"
want_in out "mir." "valid filters show records"

# golden-small: trace 1 is a RUB 4,100.00 withdrawal (exponent 2), trace 2 an IRR purchase
# (exponent 0 in this scenario).
run log trace "$WORK/r" 1
want_rc 0 "trace 1"
want_in out "RUB 4,100.00," "trace 1 in major units"
run log trace "$WORK/r" 2
want_rc 0 "trace 2"
want_in out "IRR 480,071," "trace 2 in whole rials"
done_tests
