#include "event-record.h"

#include <string.h>

#include <new>

namespace event_record {
namespace {

void put_endpoint(wire_endpoint* w, const endpoint& a) {
  if (a.sa.sa_family == AF_INET) {
    w->family = 4;
    memcpy(w->address, &a.v4.sin_addr, 4);
  } else if (a.sa.sa_family == AF_INET6) {
    w->family = 6;
    memcpy(w->address, &a.v6.sin6_addr, 16);
  }
  w->port = static_cast<uint16_t>(inet_port(a));
}

void put_info(wire_tcp_info* w, const leg_tcp_info& i) {
  w->rtt_us = i.rtt_us;
  w->rttvar_us = i.rttvar_us;
  w->min_rtt_us = i.min_rtt_us;
  w->retrans = i.total_retrans;
  w->lost = i.lost;
  w->cwnd = i.snd_cwnd;
  w->mss = i.snd_mss;
  w->delivery_rate = static_cast<double>(i.delivery_rate);
  w->bytes_acked = static_cast<double>(i.bytes_acked);
  w->bytes_received = static_cast<double>(i.bytes_received);
  w->busy_us = static_cast<double>(i.busy_us);
  w->rwnd_limited_us = static_cast<double>(i.rwnd_limited_us);
  w->sndbuf_limited_us = static_cast<double>(i.sndbuf_limited_us);
  static_assert(sizeof(w->cc) == sizeof(i.cc), "the kernel's name fits as it is");
  memcpy(w->cc, i.cc, sizeof(w->cc));
}

void put_leg(wire_leg* w, const leg_readback& r) {
  memcpy(w->cc, r.cc.data(), r.cc.size() < kNameSize ? r.cc.size() : kNameSize);
  w->nodelay = r.nodelay;
  w->keepalive = r.keepalive;
  w->mptcp = r.mptcp;
  w->keep_idle = r.keep_idle;
  w->keep_interval = r.keep_interval;
  w->keep_count = r.keep_count;
  w->mark = r.mark;
  w->sndbuf = r.sndbuf;
  w->rcvbuf = r.rcvbuf;
}

// A zeroed record at the end of <out> (x86-64 and arm64 Linux are little-endian).
record* grow(std::vector<uint8_t>* out) {
  out->resize(out->size() + sizeof(record));
  return new (out->data() + out->size() - sizeof(record)) record();
}

}  // namespace

void append_open(std::vector<uint8_t>* out, const open_event& e) {
  record* r = grow(out);
  r->type = OPEN;
  r->flags = F_OPENED | (e.inspected ? F_INSPECTED : 0);
  r->id = static_cast<double>(e.id);
  put_endpoint(&r->client, e.client);
  put_endpoint(&r->target, e.target);
  put_endpoint(&r->local, e.local);
  r->open.connect_us = static_cast<double>(e.connect_us);
  if (e.inspected) {
    put_leg(&r->open.client_leg, e.client_leg);
    put_leg(&r->open.server_leg, e.server_leg);
  }
}

void append_close(std::vector<uint8_t>* out, const close_event& e, bool sample) {
  record* r = grow(out);
  r->type = sample ? SAMPLE : CLOSE;
  r->reason = e.reason;
  r->err_leg = e.err_leg;
  r->flags = (e.opened ? F_OPENED : 0) | (e.client_info.valid ? F_CLIENT_INFO : 0) |
             (e.server_info.valid ? F_SERVER_INFO : 0);
  r->err = e.err;
  r->id = static_cast<double>(e.id);
  put_endpoint(&r->client, e.client);
  put_endpoint(&r->target, e.target);
  r->close.c2s = static_cast<double>(e.c2s_bytes);
  r->close.s2c = static_cast<double>(e.s2c_bytes);
  r->close.duration_us = static_cast<double>(e.duration_us);
  if (e.client_info.valid) put_info(&r->close.client_info, e.client_info);
  if (e.server_info.valid) put_info(&r->close.server_info, e.server_info);
}

}  // namespace event_record
