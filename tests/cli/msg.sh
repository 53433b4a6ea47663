#!/bin/sh
# bridgesim msg: an/ans values with control bytes, an empty or short PAN (DE 2 is 8..19
# digits), unknown top-level keys and keys given twice are all exit 2 naming the field
# (each used to be accepted: the control byte travelled, the empty PAN decoded, the
# unknown key was ignored and the duplicate silently lost one value).
. "$(dirname "$0")/lib.sh"
export BRIDGESIM_DIALECTS="$ROOT/configs/dialects"
enc() { run msg encode --dialect iso87-ascii "$1"; }
enc '{"mti":"0200","fields":{"41":"TERM\u0001001"}}'
want_rc 2 "control byte in DE 41 (ans)"
want_in err "field 41, offset 20: control character (below 0x20, or 0x7f) in a text field" "DE 41"
enc '{"mti":"0200","fields":{"2":"12345678","43":"SHOP\u007f"}}'
want_rc 2 "DEL in DE 43"
want_in err "field 43" "DE 43 named"
enc '{"mti":"0200","fields":{"2":""}}'
want_rc 2 "empty PAN"
want_in err "field 2, offset 20: length 0 is below the minimum 8 of this field" "empty PAN"
enc '{"mti":"0200","fields":{"3":"000000","3":"010000"}}'
want_rc 2 "a key twice"
want_in err "duplicate object key near '\"3\"'; give each key once" "a key twice"
enc '{"mti":"0200","fields":{"3":"000000","03":"010000"}}'
want_rc 2 "one DE under two names"
want_in err "DE 3 is given twice (\"3\" and \"03\")" "one DE under two names"
enc '{"mti":"0200","fields":{"3":"000000"},"feilds":{"4":"000000000100"}}'
want_rc 2 "unknown key"
want_in err "unknown key \"feilds\"" "unknown key"
enc '{"mti":"0200","fields":{"2":"12345678","3":"000000"}}'
want_rc 0 "a valid message"
want_in out "303230303630303030303030303030303030303030383132333435363738303030303030" "valid hex"
# Decoding: an LLVAR PAN of length 00, and a control byte in DE 41.
run msg decode --dialect iso87-ascii 303230303430303030303030303030303030303030303030
want_rc 2 "decode an empty PAN"
want_in err "field 2, offset 20: length 0 is below the minimum 8 of this field" "decode empty PAN"
run msg decode --dialect iso87-ascii 30323030303030303030303030303830303030305445524d01303031
want_rc 2 "decode a control byte in DE 41"
want_in err "field 41, offset 20: control character" "decode DE 41"
done_tests
