#!/usr/bin/env python3
"""Damage a rewind trace on purpose, keeping its checksums right (record_disk.sh).

  record_tamper.py TRACE major N        set the format's major version to N
  record_tamper.py TRACE syscall NR ARG DELTA [NTH]
                                        add DELTA to argument ARG (0-based) of the
                                        NTH (default: last) syscall record of number NR
  record_tamper.py TRACE offset K       print the offset of record K
  record_tamper.py TRACE count          print the number of records

Layout (replay/trace.h): header "RWTRACE\\0", u16 major, u16 minor, u32 header length,
..., CRC32C; records: u8 type, varint length, payload, u32 CRC32C of all three."""
import struct
import sys


def crc32c(data, crc=0):
    table = crc32c.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        crc32c.table = table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


crc32c.table = None


def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def enc_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zz(v):
    return (v << 1) ^ (v >> 63) if v >= 0 else ((-v - 1) << 1) | 1


def unzz(v):
    return (v >> 1) if not v & 1 else -((v + 1) >> 1)


def records(data):
    hlen = struct.unpack_from('<I', data, 12)[0]
    i = hlen
    k = 0
    while i < len(data):
        start = i
        t = data[i]
        n, j = varint(data, i + 1)
        payload = data[j:j + n]
        end = j + n + 4
        yield k, start, t, j, payload, end
        k += 1
        i = end


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    data = bytearray(open(path, 'rb').read())
    if cmd == 'major':
        struct.pack_into('<H', data, 8, int(sys.argv[3]))
        hlen = struct.unpack_from('<I', data, 12)[0]
        struct.pack_into('<I', data, hlen - 4, crc32c(bytes(data[:hlen - 4])))
    elif cmd == 'count':
        print(sum(1 for _ in records(data)))
        return
    elif cmd == 'offset':
        want = int(sys.argv[3])
        for k, start, *_ in records(data):
            if k == want:
                print(start)
                return
        sys.exit('no record %d' % want)
    elif cmd == 'syscall':
        nr, arg, delta = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        nth = int(sys.argv[6]) if len(sys.argv) > 6 else -1
        found = []
        for k, start, t, j, payload, end in records(data):
            if t & 0x7F != 1:
                continue
            p = 0
            if not t & 0x80:
                _, p = varint(payload, p)
            n, p = varint(payload, p)
            if n == nr:
                found.append((start, t, j, payload, end))
        if not found:
            sys.exit('no syscall %d' % nr)
        start, t, j, payload, end = found[nth]
        p = 0
        head = bytearray()
        if not t & 0x80:
            _, p = varint(payload, p)
        _, p = varint(payload, p)
        mask = payload[p]
        p += 1
        head += payload[:p]
        out = bytearray()
        for a in range(6):
            if mask & (1 << a):
                v, p = varint(payload, p)
                v = unzz(v)
                if a == arg:
                    v += delta
                out += enc_varint(zz(v))
        newpay = bytes(head + out + payload[p:])
        rec = bytes([t]) + enc_varint(len(newpay)) + newpay
        rec += struct.pack('<I', crc32c(rec))
        data[start:end] = rec
    else:
        sys.exit('unknown command ' + cmd)
    open(path, 'wb').write(data)


main()
