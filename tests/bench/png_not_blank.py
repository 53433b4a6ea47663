#!/usr/bin/env python3
"""Check that a screenshot of bench's SVG shows a chart, not a blank page.

usage: png_not_blank.py FILE.png

Decodes the PNG with the standard library only (zlib; filters per RFC 2083 §6), then
requires: a sensible size, at least 2 % of pixels that are not background white, at
least 8 distinct colours, and pixels close to the plot's series colours (achieved TPS
blue #1f77b4, p99 red #d62728, p50 green #2ca02c). Exit 0 when all hold, 1 otherwise.
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG layout %r" % (ihdr,))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, off = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        off += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def main():
    w, h, bpp, rows = decode(sys.argv[1])
    colours, ink = set(), 0
    want = {"blue": (0x1F, 0x77, 0xB4), "red": (0xD6, 0x27, 0x28), "green": (0x2C, 0xA0, 0x2C)}
    seen = dict.fromkeys(want, 0)
    for line in rows:
        for x in range(0, len(line), bpp):
            px = (line[x], line[x + 1], line[x + 2])
            colours.add(px)
            if px != (255, 255, 255):
                ink += 1
            for name, c in want.items():
                if all(abs(px[k] - c[k]) <= 24 for k in range(3)):
                    seen[name] += 1
    share = ink / float(w * h)
    print("png %dx%d: %.1f%% ink, %d colours, series pixels %s" % (w, h, 100 * share,
                                                                   len(colours), seen))
    ok = w >= 600 and h >= 400 and share >= 0.02 and len(colours) >= 8
    ok = ok and all(n >= 20 for n in seen.values())
    print("ok" if ok else "BLANK or incomplete picture")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
