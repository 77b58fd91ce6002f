/* Link, tunnel, network and transport decoding: every length is checked against caplen first.
 * Sensors rarely see bare Ethernet: a remote SPAN arrives as ERSPAN or GRE, cloud mirroring as
 * VXLAN or Geneve, backbones carry MPLS, access links PPPoE, mobile cores GTP-U. The decoder
 * peels such layers, at most MW_MAX_ENCAP of them, down to the innermost IP packet; the hosts
 * and flows are the inner ones, and the tunnel's kind and id go with the packet. Formats: GRE
 * RFC 2784/2890, ERSPAN draft-foschiano-erspan, VXLAN RFC 7348, Geneve RFC 8926, MPLS RFC 3032
 * and RFC 4448 (Ethernet pseudowire, control word), PPPoE RFC 2516, GTP-U 3GPP TS 29.281,
 * Teredo RFC 4380, Cisco HDLC and PPP in HDLC-like framing RFC 1662. */
#include "core_internal.h"

#include <netinet/in.h>

enum {
  ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86DD, ETH_VLAN = 0x8100, ETH_QINQ = 0x88A8,
  ETH_QINQ_OLD = 0x9100, ETH_MPLS = 0x8847, ETH_MPLS_MULTICAST = 0x8848, ETH_PPPOE = 0x8864,
  ETH_TEB = 0x6558, /* transparent Ethernet bridging: an Ethernet frame follows */
  ETH_ERSPAN_2 = 0x88BE, ETH_ERSPAN_3 = 0x22EB, ETH_PPP_IN_GRE = 0x880B,
  /* internal: the layer that follows is an Ethernet frame / a PPP protocol field */
  NEXT_ETHERNET = 0x10000, NEXT_PPP = 0x10001, NEXT_NONE = 0x10002,
};
enum { MW_MAX_ENCAP = 6, PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057 };
enum { UDP_VXLAN = 4789, UDP_GENEVE = 6081, UDP_GTPU = 2152, UDP_TEREDO = 3544 };

/* Where decoding stands: the bytes of the next layer and what they are. */
typedef struct {
  const uint8_t *p;
  uint32_t len;
  uint32_t next; /* an ethertype, or NEXT_* */
} mw_layer;

static void note_tunnel(mw_packet *out, uint8_t kind, uint32_t id) {
  out->tunnel_kind = kind;
  out->tunnel_id = id;
}

/* An Ethernet header with up to four VLAN tags. */
static bool ethernet(mw_layer *l, mw_packet *out, uint64_t *an) {
  if (l->len < 14) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  uint32_t type = mw_be16(l->p + 12), off = 14;
  for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
    if (tags == 4) { an[MW_AN_BAD_LINK_HEADER]++; return false; }
    if (l->len < off + 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    if (out->tunnel_kind == MW_TUNNEL_NONE || out->tunnel_kind == MW_TUNNEL_VLAN)
      note_tunnel(out, MW_TUNNEL_VLAN, mw_be16(l->p + off) & 0x0fff);
    type = mw_be16(l->p + off + 2);
    off += 4;
  }
  l->p += off;
  l->len -= off;
  l->next = type;
  return true;
}

/* Finds the first layer after the link header for each supported link type. */
static bool decode_link(int lt, const uint8_t *d, uint32_t len, mw_layer *l, mw_packet *out,
                        uint64_t *an) {
  l->p = d;
  l->len = len;
  switch (lt) {
  case MW_LT_ETHERNET:
    return ethernet(l, out, an);
  case MW_LT_LINUX_SLL: /* 16-byte header, protocol in the last two bytes */
    if (len < 16) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    l->next = mw_be16(d + 14);
    l->p += 16;
    l->len -= 16;
    return true;
  case MW_LT_LINUX_SLL2: /* 20-byte header, protocol first */
    if (len < 20) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    l->next = mw_be16(d);
    l->p += 20;
    l->len -= 20;
    return true;
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
    if (fam == 2) l->next = ETH_IPV4;
    else if (fam == 10 || fam == 24 || fam == 28 || fam == 30) l->next = ETH_IPV6;
    else { an[MW_AN_BAD_LINK_HEADER]++; return false; }
    l->p += 4;
    l->len -= 4;
    return true;
  }
  case MW_LT_RAW:
  case MW_LT_RAW_DLT12:
  case MW_LT_RAW_DLT14:
  case MW_LT_IPV4:
  case MW_LT_IPV6:
    if (len < 1) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    l->next = ((d[0] >> 4) == 6) ? ETH_IPV6 : ETH_IPV4;
    return true;
  case MW_LT_PPP: /* the protocol field, after an optional address and control (FF 03) */
  case MW_LT_PPP_HDLC:
    if (len >= 2 && d[0] == 0xff && d[1] == 0x03) {
      l->p += 2;
      l->len -= 2;
    }
    l->next = NEXT_PPP;
    return true;
  case MW_LT_C_HDLC: /* address, control, then an ethertype */
    if (len < 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    l->next = mw_be16(d + 2);
    l->p += 4;
    l->len -= 4;
    return true;
  case MW_LT_PPP_ETHER: /* a PPPoE header without the Ethernet one */
    l->next = ETH_PPPOE;
    return true;
  default:
    an[MW_AN_UNSUPPORTED_LINKTYPE]++;
    return false;
  }
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

/* An IPv4 header: its transport protocol and bytes in *proto and *l. */
static bool ipv4(mw_layer *l, mw_packet *out, uint8_t *proto, uint64_t *an) {
  const uint8_t *p = l->p;
  uint32_t len = l->len;
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
  *proto = p[9];
  l->p = p + ihl;
  l->len = end - ihl;
  return true;
}

static bool ipv6(mw_layer *l, mw_packet *out, uint8_t *proto, uint64_t *an) {
  const uint8_t *p = l->p;
  uint32_t len = l->len;
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
      *proto = next;
      l->p = p + off;
      l->len = end - off;
      return true;
    }
  }
  an[MW_AN_IPV6_EXT_HEADER]++;
  return false;
}

static bool skip(mw_layer *l, uint32_t n, uint64_t *an) {
  if (l->len < n) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  l->p += n;
  l->len -= n;
  return true;
}

/* GRE (with its optional checksum, key and sequence number) and the ERSPAN header inside it. */
static bool gre(mw_layer *l, mw_packet *out, uint64_t *an) {
  if (l->len < 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
  uint16_t flags = mw_be16(l->p), type = mw_be16(l->p + 2);
  if ((flags & 0x0007) == 1 && type == ETH_PPP_IN_GRE) {
    /* Enhanced GRE (PPTP, RFC 2637): a key of payload length and call id, then the optional
     * sequence and acknowledgement numbers, then PPP. */
    if (!(flags & 0x2000) || l->len < 8) { an[MW_AN_BAD_TUNNEL_HEADER]++; return false; }
    note_tunnel(out, MW_TUNNEL_GRE, mw_be16(l->p + 6));
    uint32_t n = 8 + ((flags & 0x1000) ? 4 : 0) + ((flags & 0x0080) ? 4 : 0);
    if (!skip(l, n, an)) return false;
    if (l->len >= 2 && l->p[0] == 0xff && l->p[1] == 0x03) skip(l, 2, an);
    l->next = NEXT_PPP;
    return true;
  }
  if ((flags & 0x0007) != 0) { an[MW_AN_UNSUPPORTED_ENCAPSULATION]++; return false; }
  uint32_t off = 4, key = 0;
  bool has_seq = flags & 0x1000;
  if (flags & 0x8000) off += 4; /* checksum and reserved */
  if (flags & 0x2000) {         /* key */
    if (l->len < off + 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    key = mw_be32(l->p + off);
    off += 4;
  }
  if (has_seq) off += 4;
  if (!skip(l, off, an)) return false;
  if (type == ETH_ERSPAN_2 && !has_seq) { /* type I: no ERSPAN header, the frame follows */
    note_tunnel(out, MW_TUNNEL_ERSPAN, 0);
    l->next = NEXT_ETHERNET;
    return true;
  }
  if (type == ETH_ERSPAN_2) { /* type II: 8 bytes, the session id in the low 10 bits of the first word */
    if (l->len < 8) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    note_tunnel(out, MW_TUNNEL_ERSPAN, mw_be16(l->p + 2) & 0x03ff);
    l->p += 8;
    l->len -= 8;
    l->next = NEXT_ETHERNET;
    return true;
  }
  if (type == ETH_ERSPAN_3) { /* type III: 12 bytes, 8 more with the platform subheader (O bit) */
    if (l->len < 12) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    note_tunnel(out, MW_TUNNEL_ERSPAN, mw_be16(l->p + 2) & 0x03ff);
    uint32_t n = (l->p[11] & 0x01) ? 20 : 12;
    if (!skip(l, n, an)) return false;
    l->next = NEXT_ETHERNET;
    return true;
  }
  note_tunnel(out, MW_TUNNEL_GRE, key);
  l->next = type == ETH_TEB ? NEXT_ETHERNET : type;
  return true;
}

/* UDP tunnels, recognised by port and by their header's fixed bits; false with *tunnel false
 * when the datagram is ordinary UDP. */
static bool udp_tunnel(mw_layer *l, const mw_packet *udp, mw_packet *out, bool *tunnel,
                       uint64_t *an) {
  const uint8_t *p = udp->payload;
  uint32_t n = udp->payload_len;
  *tunnel = false;
  if (udp->dport == UDP_VXLAN && n >= 8 && (p[0] & 0x08) && (p[0] & 0xf7) == 0) {
    *tunnel = true;
    note_tunnel(out, MW_TUNNEL_VXLAN, mw_be32(p + 4) >> 8);
    l->p = p + 8;
    l->len = n - 8;
    l->next = NEXT_ETHERNET;
    return true;
  }
  if (udp->dport == UDP_GENEVE && n >= 8 && (p[0] >> 6) == 0) {
    *tunnel = true;
    uint32_t hl = 8 + (uint32_t)(p[0] & 0x3f) * 4;
    if (n < hl) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    note_tunnel(out, MW_TUNNEL_GENEVE, mw_be32(p + 4) >> 8);
    uint16_t type = mw_be16(p + 2);
    l->p = p + hl;
    l->len = n - hl;
    l->next = type == ETH_TEB ? NEXT_ETHERNET : type;
    return true;
  }
  if ((udp->dport == UDP_GTPU || udp->sport == UDP_GTPU) && n >= 8 && (p[0] >> 5) == 1 &&
      (p[0] & 0x10)) {
    *tunnel = true;
    if (p[1] != 0xff) return false; /* echo and error messages carry no user traffic */
    note_tunnel(out, MW_TUNNEL_GTPU, mw_be32(p + 4));
    uint32_t off = 8;
    if (p[0] & 0x07) { /* sequence, N-PDU number, next extension type */
      if (n < 12) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
      uint8_t next_ext = p[11];
      off = 12;
      /* Extension headers: a length in 4-byte units, the next type in their last byte. */
      for (int i = 0; next_ext != 0; i++) {
        if (i == 8) { an[MW_AN_BAD_TUNNEL_HEADER]++; return false; }
        if (n < off + 1) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
        uint32_t ext = (uint32_t)p[off] * 4;
        if (ext == 0) { an[MW_AN_BAD_TUNNEL_HEADER]++; return false; }
        if (n < off + ext) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
        next_ext = p[off + ext - 1];
        off += ext;
      }
    }
    if (n <= off) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
    l->p = p + off;
    l->len = n - off;
    l->next = (p[off] >> 4) == 6 ? ETH_IPV6 : ETH_IPV4;
    return true;
  }
  if (udp->sport == UDP_TEREDO || udp->dport == UDP_TEREDO) {
    /* Optional authentication (00 01) and origin (00 00) indicators, then an IPv6 packet;
     * anything else on the port is Teredo's own signalling or not Teredo. */
    uint32_t off = 0;
    if (n >= 4 && p[0] == 0 && p[1] == 1) {
      uint32_t auth = 4 + (uint32_t)p[2] + p[3] + 9;
      off = auth;
    }
    if (n >= off + 8 && p[off] == 0 && p[off + 1] == 0) off += 8;
    if (n >= off + 40 && (p[off] >> 4) == 6) {
      *tunnel = true;
      note_tunnel(out, MW_TUNNEL_TEREDO, 0);
      l->p = p + off;
      l->len = n - off;
      l->next = ETH_IPV6;
      return true;
    }
  }
  return false;
}

bool mw_decode(int lt, const uint8_t *data, uint32_t caplen, mw_packet *out, uint64_t *an) {
  mw_layer l;
  out->tunnel_kind = MW_TUNNEL_NONE;
  out->tunnel_id = 0;
  out->tenant = 0;
  if (!decode_link(lt, data, caplen, &l, out, an)) return false;
  for (int depth = 0;; depth++) {
    if (depth > MW_MAX_ENCAP) { an[MW_AN_ENCAPSULATION_TOO_DEEP]++; return false; }
    switch (l.next) {
    case NEXT_ETHERNET:
      if (!ethernet(&l, out, an)) return false;
      continue;
    case NEXT_PPP:
      if (l.len < 2) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
      {
        /* A compressed protocol field is one odd byte (RFC 1661 PFC). */
        uint16_t proto = (l.p[0] & 1) ? l.p[0] : mw_be16(l.p);
        uint32_t n = (l.p[0] & 1) ? 1 : 2;
        l.p += n;
        l.len -= n;
        if (proto == PPP_IPV4) l.next = ETH_IPV4;
        else if (proto == PPP_IPV6) l.next = ETH_IPV6;
        else return false; /* LCP, IPCP, authentication: the link's own talk, not traffic */
      }
      continue;
    case ETH_PPPOE: /* session stage: version/type, code 0, session id, length, then PPP */
      if (l.len < 6) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
      if (l.p[0] != 0x11 || l.p[1] != 0) { an[MW_AN_BAD_TUNNEL_HEADER]++; return false; }
      note_tunnel(out, MW_TUNNEL_PPPOE, mw_be16(l.p + 2));
      l.p += 6;
      l.len -= 6;
      l.next = NEXT_PPP;
      continue;
    case ETH_MPLS:
    case ETH_MPLS_MULTICAST: {
      /* The label stack to its bottom, then IPv4, IPv6 or an Ethernet pseudowire (whose
       * control word starts with four zero bits). */
      uint32_t label = 0;
      for (int i = 0;; i++) {
        if (i == 16) { an[MW_AN_ENCAPSULATION_TOO_DEEP]++; return false; }
        if (l.len < 4) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
        uint32_t entry = mw_be32(l.p);
        if (i == 0) label = entry >> 12;
        l.p += 4;
        l.len -= 4;
        if (entry & 0x100) break;
      }
      note_tunnel(out, MW_TUNNEL_MPLS, label);
      if (l.len < 1) { an[MW_AN_TRUNCATED_PACKET]++; return false; }
      uint8_t nibble = l.p[0] >> 4;
      if (nibble == 4) l.next = ETH_IPV4;
      else if (nibble == 6) l.next = ETH_IPV6;
      else if (nibble == 0) {
        if (!skip(&l, 4, an)) return false;
        l.next = NEXT_ETHERNET;
      } else {
        an[MW_AN_UNSUPPORTED_ENCAPSULATION]++;
        return false;
      }
      continue;
    }
    case ETH_IPV4:
    case ETH_IPV6: {
      uint8_t proto;
      if (!(l.next == ETH_IPV4 ? ipv4(&l, out, &proto, an) : ipv6(&l, out, &proto, an)))
        return false;
      if (proto == 4 || proto == 41) { /* IPv4 or IPv6 inside IP (IP-in-IP, 6in4) */
        if (out->tunnel_kind == MW_TUNNEL_NONE || out->tunnel_kind == MW_TUNNEL_VLAN)
          note_tunnel(out, MW_TUNNEL_IPIP, 0);
        l.next = proto == 4 ? ETH_IPV4 : ETH_IPV6;
        continue;
      }
      if (proto == 47) {
        if (!gre(&l, out, an)) return false;
        continue;
      }
      if (!decode_l4(l.p, l.len, proto, out, an)) return false;
      if (proto != IPPROTO_UDP) return true;
      bool tunnel;
      bool inner = udp_tunnel(&l, out, out, &tunnel, an);
      if (!tunnel) return true; /* ordinary UDP */
      if (!inner) return false;
      continue;
    }
    default:
      /* ARP, LLDP, spanning tree and the like: not IP traffic. Inside a tunnel, an ethertype
       * the decoder does not know is counted. */
      if (depth > 0 && l.next != 0x0806) an[MW_AN_UNSUPPORTED_ENCAPSULATION]++;
      return false;
    }
  }
}
