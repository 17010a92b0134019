// Events cross to JavaScript as fixed-size little-endian records in one Buffer per batch, so
// a connection costs no JS object unless the control plane decides it wants one (to log it).
// JavaScript reads the layout below from the addon (layouts.event, see tables.cc), so the
// offsets are never copied by hand.
#pragma once
#include <stdint.h>

#include <type_traits>
#include <vector>

#include "engine.h"

namespace event_record {

enum type : uint8_t { OPEN = 1, CLOSE = 2, SAMPLE = 3 };
enum flag : uint8_t { F_OPENED = 1, F_INSPECTED = 2, F_CLIENT_INFO = 4, F_SERVER_INFO = 8 };

constexpr size_t kNameSize = 16;   // congestion control names, NUL-padded

struct wire_endpoint {
  uint8_t family;   // 4 or 6; 0 when unknown
  uint8_t pad;
  uint16_t port;
  uint8_t address[16];
};

// TCP_INFO of one leg (close and sample).
struct wire_tcp_info {
  uint32_t rtt_us, rttvar_us, min_rtt_us, retrans, lost, cwnd, mss, pad;
  double delivery_rate, bytes_acked, bytes_received;
  double busy_us, rwnd_limited_us, sndbuf_limited_us;
  char cc[kNameSize];
};

// Options read back from one leg (inspected open).
struct wire_leg {
  char cc[kNameSize];
  uint8_t nodelay, keepalive, mptcp, pad;
  int32_t keep_idle, keep_interval, keep_count;
  uint32_t mark;
  int32_t sndbuf, rcvbuf;
};

struct open_body {
  double connect_us;
  wire_leg client_leg, server_leg;
};

// Close, and sample (the figures so far of a connection still open).
struct close_body {
  double c2s, s2c, duration_us;
  wire_tcp_info client_info, server_info;
};

struct record {
  uint8_t type, reason, err_leg, flags;
  int32_t err;
  double id;
  wire_endpoint client, target, local;
  union {
    open_body open;
    close_body close;
  };
};
static_assert(std::is_standard_layout<record>::value && std::is_trivially_copyable<record>::value,
              "records are written as bytes and read by offset");
static_assert(sizeof(record) % alignof(double) == 0, "records follow each other aligned");

void append_open(std::vector<uint8_t>* out, const open_event& e);
// A close event, or with <sample> a still-open connection's figures so far (type SAMPLE).
void append_close(std::vector<uint8_t>* out, const close_event& e, bool sample = false);

}  // namespace event_record
