/* Internal structures of the C core, shared between its files. */
#ifndef MW_CORE_INTERNAL_H
#define MW_CORE_INTERNAL_H

#include "minewatch_core.h"

#include <stdbool.h>
#include <string.h>

/* Link types by their LINKTYPE_ numbers (pcap-linktype(7)); DLT_ aliases noted. */
enum {
  MW_LT_NULL = 0,      /* BSD loopback, host byte order family */
  MW_LT_ETHERNET = 1,
  MW_LT_PPP = 9,
  MW_LT_PPP_HDLC = 50,  /* PPP in HDLC-like framing (DLT_PPP_SERIAL) */
  MW_LT_PPP_ETHER = 51, /* PPPoE without the Ethernet header */
  MW_LT_RAW_DLT12 = 12, /* DLT_RAW on most platforms */
  MW_LT_RAW_DLT14 = 14, /* DLT_RAW on some BSDs */
  MW_LT_RAW = 101,
  MW_LT_C_HDLC = 104,   /* Cisco HDLC */
  MW_LT_LOOP = 108,    /* OpenBSD loopback, network byte order family */
  MW_LT_LINUX_SLL = 113,
  MW_LT_IPV4 = 228,
  MW_LT_IPV6 = 229,
  MW_LT_LINUX_SLL2 = 276,
};

/* A decoded packet: offsets into the caller's buffer, nothing copied. */
typedef struct {
  uint8_t family;  /* 4 or 6 */
  uint8_t l4;      /* IPPROTO_TCP / IPPROTO_UDP */
  const uint8_t *src, *dst; /* 4 or 16 bytes */
  uint16_t sport, dport;
  uint8_t tcp_flags;
  uint32_t seq;
  const uint8_t *payload;
  uint32_t payload_len;
  uint8_t tunnel_kind; /* mw_tunnel_kind */
  uint32_t tunnel_id;
  uint16_t tenant; /* set by the engine from its tenant rules, 0: none */
} mw_packet;

enum { MW_TCP_FIN = 0x01, MW_TCP_SYN = 0x02, MW_TCP_RST = 0x04, MW_TCP_ACK = 0x10 };

/* Decodes one frame; returns true when it is TCP or UDP over IP with a usable header. On false
 * the reason was counted in anomalies (or it was simply not IP). */
bool mw_decode(int linktype, const uint8_t *data, uint32_t caplen, mw_packet *out,
               uint64_t *anomalies);

static inline uint16_t mw_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t mw_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Keyed hash (SipHash-1-3) so that attacker-chosen addresses cannot aim at one bucket. */
uint64_t mw_siphash13(const uint64_t key[2], const uint8_t *data, size_t len);

/* DNS: parses a DNS message (no TCP length prefix) and reports matching names. */
typedef struct mw_engine mw_engine;
void mw_dns_inspect(mw_engine *e, const mw_packet *p, const uint8_t *msg, size_t len,
                    uint64_t ts_ns);


#endif
