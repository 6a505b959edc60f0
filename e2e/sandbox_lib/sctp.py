# sctp.py - just enough SCTP (RFC 9260) for probes on a kernel without SCTP: CRC32c, an INIT,
# the INIT-ACK that answers it, and parsing both out of raw IPv4 packets.
import os
import struct

IPPROTO_SCTP = 132
CHUNK_INIT = 1
CHUNK_INIT_ACK = 2
PARAM_STATE_COOKIE = 7


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _packet(sport, dport, vtag, chunks):
    """Common header + chunks, with the checksum filled in. The CRC32c goes on the wire
    least-significant byte first (RFC 9260 appendix A), hence '<I'."""
    body = struct.pack("!HHII", sport, dport, vtag, 0) + chunks
    return body[:8] + struct.pack("<I", crc32c(body)) + body[12:]


def init(sport, dport, initiate_tag):
    """An INIT chunk (verification tag 0, as the first packet of an association must have)."""
    chunk = struct.pack("!BBHIIHHI", CHUNK_INIT, 0, 20, initiate_tag, 65535, 1, 1,
                        int.from_bytes(os.urandom(4), "big"))
    return _packet(sport, dport, 0, chunk)


def init_ack(sport, dport, peer_tag):
    """An INIT-ACK answering an INIT whose initiate tag was peer_tag (our verification tag)."""
    cookie = os.urandom(16)
    param = struct.pack("!HH", PARAM_STATE_COOKIE, 4 + len(cookie)) + cookie
    chunk = struct.pack("!BBHIIHHI", CHUNK_INIT_ACK, 0, 20 + len(param),
                        int.from_bytes(os.urandom(4), "big") or 1, 65535, 1, 1,
                        int.from_bytes(os.urandom(4), "big")) + param
    return _packet(sport, dport, peer_tag, chunk)


def parse(ip_packet):
    """An IPv4 packet carrying SCTP -> dict(src, dst, sport, dport, vtag, chunk, tag) for its
    first chunk (tag = the INIT/INIT-ACK initiate tag), or None if it is not a valid one."""
    if len(ip_packet) < 20 or ip_packet[0] >> 4 != 4 or ip_packet[9] != IPPROTO_SCTP:
        return None
    ihl = (ip_packet[0] & 0xF) * 4
    sctp = ip_packet[ihl:]
    if len(sctp) < 16 + 4:
        return None
    sport, dport, vtag, _ = struct.unpack("!HHII", sctp[:12])
    (want,) = struct.unpack("<I", sctp[8:12])
    if crc32c(sctp[:8] + b"\0\0\0\0" + sctp[12:]) != want:
        return None
    ctype, _, clen = struct.unpack("!BBH", sctp[12:16])
    tag = struct.unpack("!I", sctp[16:20])[0] if ctype in (CHUNK_INIT, CHUNK_INIT_ACK) else None
    src = ".".join(str(b) for b in ip_packet[12:16])
    dst = ".".join(str(b) for b in ip_packet[16:20])
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "vtag": vtag,
            "chunk": ctype, "tag": tag}
