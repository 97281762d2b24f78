/* crc32.h — CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF),
 * the checksum of zlib's crc32() and of the AWS event-stream framing (net/eventstream.h) and the
 * simulator that writes it. Owner: base. Pure; no allocation, no errors.
 */
#ifndef FE_BASE_CRC32_H
#define FE_BASE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of data[0..n) continued from crc (0 to start): fe_crc32(fe_crc32(0, a, na), b, nb) is the
 * CRC of a followed by b, as zlib's crc32(crc, buf, len). data may be NULL when n is 0. */
uint32_t fe_crc32(uint32_t crc, const void *data, size_t n);

#endif
