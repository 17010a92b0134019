#include "event-record.h"

#include <string.h>

namespace event_record {
namespace {

template <typename T>
void put(uint8_t* rec, size_t off, T value) {
  memcpy(rec + off, &value, sizeof(value));   // x86-64 and arm64 Linux are little-endian
}

void put_endpoint(uint8_t* rec, size_t off, const endpoint& a) {
  if (a.sa.sa_family == AF_INET) {
    rec[off] = 4;
    memcpy(rec + off + 4, &a.v4.sin_addr, 4);
  } else if (a.sa.sa_family == AF_INET6) {
    rec[off] = 6;
    memcpy(rec + off + 4, &a.v6.sin6_addr, 16);
  }
  put<uint16_t>(rec, off + 2, static_cast<uint16_t>(inet_port(a)));
}

void put_info(uint8_t* rec, size_t off, const leg_tcp_info& i) {
  const uint32_t words[7] = {i.rtt_us, i.rttvar_us, i.min_rtt_us, i.total_retrans, i.lost, i.snd_cwnd, i.snd_mss};
  memcpy(rec + off, words, sizeof(words));
  put<double>(rec, off + 32, static_cast<double>(i.delivery_rate));
  put<double>(rec, off + 40, static_cast<double>(i.bytes_acked));
  put<double>(rec, off + 48, static_cast<double>(i.bytes_received));
  memcpy(rec + off + INFO_CC, i.cc, sizeof(i.cc));
}

void put_leg(uint8_t* rec, size_t off, const leg_readback& r) {
  memcpy(rec + off, r.cc.data(), r.cc.size() < 16 ? r.cc.size() : 16);
  rec[off + 16] = r.nodelay;
  rec[off + 17] = r.keepalive;
  rec[off + 18] = r.mptcp;
  put<int32_t>(rec, off + 20, r.keep_idle);
  put<int32_t>(rec, off + 24, r.keep_interval);
  put<int32_t>(rec, off + 28, r.keep_count);
  put<uint32_t>(rec, off + 32, r.mark);
}

uint8_t* grow(std::vector<uint8_t>* out) {
  out->resize(out->size() + kSize);   // zero-filled
  return out->data() + out->size() - kSize;
}

}  // namespace

void append_open(std::vector<uint8_t>* out, const open_event& e) {
  uint8_t* rec = grow(out);
  rec[TYPE] = OPEN;
  rec[FLAGS] = F_OPENED | (e.inspected ? F_INSPECTED : 0);
  put<double>(rec, ID, static_cast<double>(e.id));
  put_endpoint(rec, CLIENT, e.client);
  put_endpoint(rec, TARGET, e.target);
  put_endpoint(rec, LOCAL, e.local);
  put<double>(rec, CONNECT_US, static_cast<double>(e.connect_us));
  if (e.inspected) {
    put_leg(rec, CLIENT_LEG, e.client_leg);
    put_leg(rec, SERVER_LEG, e.server_leg);
  }
}

void append_close(std::vector<uint8_t>* out, const close_event& e, bool sample) {
  uint8_t* rec = grow(out);
  rec[TYPE] = sample ? SAMPLE : CLOSE;
  rec[REASON] = e.reason;
  rec[ERR_LEG] = e.err_leg;
  rec[FLAGS] = (e.opened ? F_OPENED : 0) | (e.client_info.valid ? F_CLIENT_INFO : 0) |
               (e.server_info.valid ? F_SERVER_INFO : 0);
  put<int32_t>(rec, ERRNO, e.err);
  put<double>(rec, ID, static_cast<double>(e.id));
  put_endpoint(rec, CLIENT, e.client);
  put_endpoint(rec, TARGET, e.target);
  put<double>(rec, C2S, static_cast<double>(e.c2s_bytes));
  put<double>(rec, S2C, static_cast<double>(e.s2c_bytes));
  put<double>(rec, DURATION_US, static_cast<double>(e.duration_us));
  if (e.client_info.valid) put_info(rec, CLIENT_INFO, e.client_info);
  if (e.server_info.valid) put_info(rec, SERVER_INFO, e.server_info);
}

}  // namespace event_record
