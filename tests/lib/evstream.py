"""evstream.py — AWS event-stream framing (application/vnd.amazon.eventstream) written and read in
Python for the tests, independent of fteval's decoder (harness/net/eventstream.c) and of the
simulator's encoder: CRCs from zlib.crc32, lengths with struct.

A message: total length (u32 BE), headers length (u32 BE), prelude CRC (u32 BE, CRC-32 of the 8
bytes before it), headers, payload, message CRC (u32 BE, CRC-32 of everything before it). A header:
name length (u8), name, value type (u8), value (7 = string: u16 BE length + bytes)."""
import json
import struct
import zlib


def header(name, value, vtype=7):
    n = name.encode()
    if vtype == 7:
        v = value.encode()
        return bytes([len(n)]) + n + bytes([7]) + struct.pack(">H", len(v)) + v
    if vtype == 6:  # byte array: u16 BE length + bytes
        return bytes([len(n)]) + n + bytes([6]) + struct.pack(">H", len(value)) + value
    return bytes([len(n)]) + n + bytes([vtype]) + value  # value: the fixed-size bytes of another type


def message(headers, payload, bad_prelude_crc=False, bad_message_crc=False):
    """headers: [(name, value)] strings or ready header bytes; payload: bytes, str or a JSON-able object."""
    h = b"".join(x if isinstance(x, bytes) else header(*x) for x in headers)
    if not isinstance(payload, (bytes, str)):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    total = 12 + len(h) + len(payload) + 4
    prelude = struct.pack(">II", total, len(h))
    pcrc = zlib.crc32(prelude) ^ (1 if bad_prelude_crc else 0)
    body = prelude + struct.pack(">I", pcrc) + h + payload
    mcrc = zlib.crc32(body) ^ (0x80000000 if bad_message_crc else 0)
    return body + struct.pack(">I", mcrc)


def event(event_type, payload, **kw):
    return message([(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")],
                   payload, **kw)


def exception(exception_type, message_text):
    return message([(":exception-type", exception_type), (":content-type", "application/json"),
                    (":message-type", "exception")], {"message": message_text})


def converse_stream(words, stop_reason="end_turn", input_tokens=10, output_tokens=1, latency_ms=5):
    """The messages of one whole converse-stream answer: messageStart, a contentBlockDelta per word,
    contentBlockStop, messageStop, metadata."""
    out = [event("messageStart", {"role": "assistant"})]
    out += [event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}}) for w in words]
    out += [event("contentBlockStop", {"contentBlockIndex": 0}), event("messageStop", {"stopReason": stop_reason}),
            event("metadata", {"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                                         "totalTokens": input_tokens + output_tokens},
                               "metrics": {"latencyMs": latency_ms}})]
    return out


def decode(data):
    """[(headers dict, payload bytes)] of a whole stream; raises ValueError on bad framing."""
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 16:
            raise ValueError(f"{len(data) - pos} trailing bytes")
        total, hlen, pcrc = struct.unpack(">III", data[pos:pos + 12])
        if zlib.crc32(data[pos:pos + 8]) != pcrc:
            raise ValueError("bad prelude CRC")
        msg = data[pos:pos + total]
        if len(msg) != total or zlib.crc32(msg[:-4]) != struct.unpack(">I", msg[-4:])[0]:
            raise ValueError("bad message CRC or short message")
        headers, i = {}, 12
        while i < 12 + hlen:
            n = msg[i]
            name = msg[i + 1:i + 1 + n].decode()
            i += 1 + n
            vtype = msg[i]
            if vtype != 7:
                raise ValueError(f"header type {vtype}")
            vl = struct.unpack(">H", msg[i + 1:i + 3])[0]
            headers[name] = msg[i + 3:i + 3 + vl].decode()
            i += 3 + vl
        out.append((headers, msg[12 + hlen:-4]))
        pos += total
    return out
