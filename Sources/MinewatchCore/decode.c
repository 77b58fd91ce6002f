/* Link, network and transport decoding: every length is checked against caplen first. */
#include "core_internal.h"

#include <netinet/in.h>

enum { ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86DD, ETH_VLAN = 0x8100, ETH_QINQ = 0x88A8,
       ETH_QINQ_OLD = 0x9100 };

static bool decode_ip(const uint8_t *p, uint32_t len, mw_packet *out, uint64_t *an);

/* Finds the network-layer start and its ethertype for each supported link type. */
static bool decode_link(int lt, const uint8_t *d, uint32_t len, const uint8_t **ip,
                        uint32_t *iplen, uint16_t *ethertype, uint64_t *an) {
  uint32_t off = 0;
  uint16_t type = 0;
  switch (lt) {
  case MW_LT_ETHERNET: {
    if (len < 14) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    type = mw_be16(d + 12);
    off = 14;
    /* 802.1Q, 802.1ad (QinQ) and the old 0x9100: up to four stacked tags. */
    for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
      if (tags == 4) { an[MW_AN_BAD_LINK_HEADER]++; return false; }
      if (len < off + 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
      type = mw_be16(d + off + 2);
      off += 4;
    }
    break;
  }
  case MW_LT_LINUX_SLL: /* 16-byte header, protocol in the last two bytes */
    if (len < 16) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    type = mw_be16(d + 14);
    off = 16;
    break;
  case MW_LT_LINUX_SLL2: /* 20-byte header, protocol first */
    if (len < 20) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    type = mw_be16(d);
    off = 20;
    break;
  case MW_LT_NULL:
  case MW_LT_LOOP: {
    /* A 4-byte address family: host order for NULL, network order for LOOP; accept both
     * orders since the capture may come from another machine. AF_INET is 2 everywhere,
     * AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
    if (len < 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    uint32_t le = (uint32_t)d[0] | ((uint32_t)d[1] << 8) | ((uint32_t)d[2] << 16) |
                  ((uint32_t)d[3] << 24);
    uint32_t be = mw_be32(d);
    uint32_t fam = (le < 256) ? le : be;
    if (fam == 2) type = ETH_IPV4;
    else if (fam == 10 || fam == 24 || fam == 28 || fam == 30) type = ETH_IPV6;
    else { an[MW_AN_BAD_LINK_HEADER]++; return false; }
    off = 4;
    break;
  }
  case MW_LT_RAW:
  case MW_LT_RAW_DLT12:
  case MW_LT_RAW_DLT14:
  case MW_LT_IPV4:
  case MW_LT_IPV6:
    if (len < 1) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    type = ((d[0] >> 4) == 6) ? ETH_IPV6 : ETH_IPV4;
    break;
  default:
    an[MW_AN_UNSUPPORTED_LINKTYPE]++;
    return false;
  }
  *ip = d + off;
  *iplen = len - off;
  *ethertype = type;
  return true;
}

bool mw_decode(int lt, const uint8_t *data, uint32_t caplen, mw_packet *out, uint64_t *an) {
  const uint8_t *ip;
  uint32_t iplen;
  uint16_t type;
  if (!decode_link(lt, data, caplen, &ip, &iplen, &type, an)) return false;
  if (type != ETH_IPV4 && type != ETH_IPV6) return false; /* ARP, LLDP...: not ours */
  return decode_ip(ip, iplen, out, an);
}

static bool decode_l4(const uint8_t *p, uint32_t len, uint8_t proto, mw_packet *out,
                      uint64_t *an) {
  out->l4 = proto;
  if (proto == IPPROTO_TCP) {
    if (len < 20) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    uint32_t hl = (uint32_t)(p[12] >> 4) * 4;
    if (hl < 20) { an[MW_AN_BAD_TCP_HEADER]++; return false; }
    if (hl > len) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    out->sport = mw_be16(p);
    out->dport = mw_be16(p + 2);
    out->seq = mw_be32(p + 4);
    out->tcp_flags = p[13];
    out->payload = p + hl;
    out->payload_len = len - hl;
    return true;
  }
  if (proto == IPPROTO_UDP) {
    if (len < 8) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    uint32_t ulen = mw_be16(p + 4);
    if (ulen < 8) { an[MW_AN_BAD_UDP_HEADER]++; return false; }
    out->sport = mw_be16(p);
    out->dport = mw_be16(p + 2);
    out->tcp_flags = 0;
    out->seq = 0;
    out->payload = p + 8;
    /* The datagram may be cut by the snaplen: use what is really there. */
    uint32_t claimed = ulen - 8, have = len - 8;
    out->payload_len = claimed < have ? claimed : have;
    return true;
  }
  an[MW_AN_OTHER_L4]++;
  return false;
}

static bool decode_ipv4(const uint8_t *p, uint32_t len, mw_packet *out, uint64_t *an) {
  if (len < 20) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
  uint32_t total = mw_be16(p + 2);
  if ((p[0] >> 4) != 4 || ihl < 20 || total < ihl) { an[MW_AN_BAD_IPV4_HEADER]++; return false; }
  if (len < ihl) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  /* Ethernet padding makes len > total; a snaplen cut makes len < total. */
  uint32_t end = total < len ? total : len;
  uint16_t frag = mw_be16(p + 6);
  if ((frag & 0x1fff) != 0) { an[MW_AN_NON_FIRST_FRAGMENT]++; return false; }
  out->family = 4;
  out->src = p + 12;
  out->dst = p + 16;
  return decode_l4(p + ihl, end - ihl, p[9], out, an);
}

static bool decode_ipv6(const uint8_t *p, uint32_t len, mw_packet *out, uint64_t *an) {
  if (len < 40) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  if ((p[0] >> 4) != 6) { an[MW_AN_BAD_IPV6_HEADER]++; return false; }
  uint32_t plen = mw_be16(p + 4);
  uint32_t end = 40 + plen;
  if (plen == 0) end = len; /* jumbogram or cut: use what was captured */
  if (end > len) end = len;
  uint8_t next = p[6];
  uint32_t off = 40;
  out->family = 6;
  out->src = p + 8;
  out->dst = p + 24;
  /* Skip extension headers; a chain longer than eight is not something a host sends. */
  for (int i = 0; i < 8; i++) {
    switch (next) {
    case 0:   /* hop-by-hop */
    case 43:  /* routing */
    case 60:  /* destination options */
    case 135: /* mobility */
      if (end < off + 8) { an[MW_AN_IPV6_EXT_HEADER]++; return false; }
      next = p[off];
      off += ((uint32_t)p[off + 1] + 1) * 8;
      continue;
    case 51: /* AH: length in 4-byte units, minus 2 */
      if (end < off + 8) { an[MW_AN_IPV6_EXT_HEADER]++; return false; }
      next = p[off];
      off += ((uint32_t)p[off + 1] + 2) * 4;
      continue;
    case 44: /* fragment */
      if (end < off + 8) { an[MW_AN_IPV6_EXT_HEADER]++; return false; }
      if ((mw_be16(p + off + 2) & 0xfff8) != 0) { an[MW_AN_NON_FIRST_FRAGMENT]++; return false; }
      next = p[off];
      off += 8;
      continue;
    default:
      if (off > end) { an[MW_AN_IPV6_EXT_HEADER]++; return false; }
      return decode_l4(p + off, end - off, next, out, an);
    }
  }
  an[MW_AN_IPV6_EXT_HEADER]++;
  return false;
}

static bool decode_ip(const uint8_t *p, uint32_t len, mw_packet *out, uint64_t *an) {
  if (len < 1) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  if ((p[0] >> 4) == 4) return decode_ipv4(p, len, out, an);
  if ((p[0] >> 4) == 6) return decode_ipv6(p, len, out, an);
  an[MW_AN_BAD_IPV4_HEADER]++;
  return false;
}
