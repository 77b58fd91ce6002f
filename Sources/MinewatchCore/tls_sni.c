/* TLS ClientHello server_name (RFC 8446 section 4.1.2, RFC 6066 section 3). The caller hands a
 * whole handshake record; every length inside it is checked against the bytes present. */
#include "core_internal.h"

int mw_tls_client_hello_sni(const uint8_t *b, size_t len, const uint8_t **name) {
  *name = NULL;
  if (len < 5 || b[0] != 0x16 || b[1] != 0x03) return -1;
  size_t rec = mw_be16(b + 3);
  if (rec + 5 > len) return -1;
  const uint8_t *p = b + 5, *end = b + 5 + rec;
  if (end - p < 4 || p[0] != 0x01) return -1; /* handshake type client_hello */
  size_t hs = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
  p += 4;
  if (hs < (size_t)(end - p)) end = p + hs; /* the hello may continue in the next record */
  /* version(2) random(32) */
  if (end - p < 34) return -1;
  p += 34;
  if (end - p < 1 || (size_t)(end - p) < 1u + p[0]) return -1;
  p += 1 + p[0]; /* session id */
  if (end - p < 2 || (size_t)(end - p) < 2u + mw_be16(p)) return -1;
  p += 2 + mw_be16(p); /* cipher suites */
  if (end - p < 1 || (size_t)(end - p) < 1u + p[0]) return -1;
  p += 1 + p[0]; /* compression methods */
  if (end - p < 2) return 0; /* no extensions */
  size_t ext_total = mw_be16(p);
  p += 2;
  if ((size_t)(end - p) < ext_total) return -1;
  const uint8_t *ext_end = p + ext_total;
  while (ext_end - p >= 4) {
    uint16_t type = mw_be16(p), elen = mw_be16(p + 2);
    p += 4;
    if ((size_t)(ext_end - p) < elen) return -1;
    if (type == 0) { /* server_name: list length, then entries of type(1) len(2) name */
      const uint8_t *q = p, *qend = p + elen;
      if (qend - q < 2) return -1;
      q += 2;
      while (qend - q >= 3) {
        uint8_t nt = q[0];
        uint16_t nl = mw_be16(q + 1);
        q += 3;
        if ((size_t)(qend - q) < nl) return -1;
        if (nt == 0 && nl > 0) {
          *name = q;
          return nl;
        }
        q += nl;
      }
      return 0;
    }
    p += elen;
  }
  return 0;
}
