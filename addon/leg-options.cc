#include "leg-options.h"

#include <errno.h>
#include <stddef.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value)) == -1 ? errno : 0;
}

// The FORCE variant passes net.core.[rw]mem_max, which a stock host keeps far below a long
// path's needs; without CAP_NET_ADMIN it fails and the plain one is capped there instead.
static int set_buffer(int fd, int force_name, int name, int bytes) {
  if (!bytes || setsockopt(fd, SOL_SOCKET, force_name, &bytes, sizeof(bytes)) == 0) return 0;
  return errno == EPERM ? set_int(fd, SOL_SOCKET, name, bytes) : errno;
}

int leg_buffers_apply(int fd, const leg_options& o) {
  if (int err = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, o.sndbuf)) return err;
  return set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, o.rcvbuf);
}

int leg_options_apply(int fd, const leg_options& o) {
  int err = 0;
  if ((err = leg_buffers_apply(fd, o))) return err;
  if (!o.cc.empty() &&
      setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, o.cc.data(), o.cc.size()) == -1)
    return errno;
  if (o.nodelay && (err = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1))) return err;
  if (!o.keepalive) return 0;
  if ((err = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1))) return err;
  if (o.keep_idle && (err = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, o.keep_idle))) return err;
  if (o.keep_interval && (err = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, o.keep_interval)))
    return err;
  if (o.keep_count && (err = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, o.keep_count))) return err;
  return 0;
}

static int get_int(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof(value);
  return getsockopt(fd, level, name, &value, &len) == -1 ? 0 : value;
}

// The congestion control in use, NUL-terminated in <cc>; empty when it cannot be read.
static void read_congestion(int fd, char (&cc)[16]) {   // 16: TCP_CA_NAME_MAX, not in the uapi headers
  socklen_t len = sizeof(cc) - 1;
  if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) == -1) len = 0;
  cc[len] = 0;
}

void leg_readback_read(int fd, leg_readback* out) {
  char cc[16];
  read_congestion(fd, cc);
  out->cc = cc;
  out->nodelay = get_int(fd, IPPROTO_TCP, TCP_NODELAY) != 0;
  out->keepalive = get_int(fd, SOL_SOCKET, SO_KEEPALIVE) != 0;
  out->keep_idle = get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE);
  out->keep_interval = get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL);
  out->keep_count = get_int(fd, IPPROTO_TCP, TCP_KEEPCNT);
  out->mark = static_cast<uint32_t>(get_int(fd, SOL_SOCKET, SO_MARK));
  out->mptcp = get_int(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_MPTCP;
  out->sndbuf = get_int(fd, SOL_SOCKET, SO_SNDBUF);
  out->rcvbuf = get_int(fd, SOL_SOCKET, SO_RCVBUF);
}

void leg_tcp_info_read(int fd, leg_tcp_info* out) {
  struct tcp_info ti;
  memset(&ti, 0, sizeof(ti));
  socklen_t len = sizeof(ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 || len < offsetof(tcp_info, tcpi_rcv_rtt))
    return;
  out->valid = true;
  out->rtt_us = ti.tcpi_rtt;
  out->rttvar_us = ti.tcpi_rttvar;
  out->total_retrans = ti.tcpi_total_retrans;
  out->lost = ti.tcpi_lost;
  out->snd_cwnd = ti.tcpi_snd_cwnd;
  out->snd_mss = ti.tcpi_snd_mss;
  // Newer fields: zero when the kernel's struct is shorter than ours.
  out->min_rtt_us = ti.tcpi_min_rtt;
  out->delivery_rate = ti.tcpi_delivery_rate;
  out->bytes_acked = ti.tcpi_bytes_acked;
  out->bytes_received = ti.tcpi_bytes_received;
  out->busy_us = ti.tcpi_busy_time;
  out->rwnd_limited_us = ti.tcpi_rwnd_limited;
  out->sndbuf_limited_us = ti.tcpi_sndbuf_limited;
  read_congestion(fd, out->cc);
}
