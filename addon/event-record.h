// Events cross to JavaScript as fixed-size little-endian records in one Buffer per batch, so
// a connection costs no JS object unless the control plane decides it wants one (to log it).
// The layout is mirrored in src/native/event-record.ts: change both together.
#pragma once
#include <stdint.h>

#include <vector>

#include "engine.h"

namespace event_record {

constexpr size_t kSize = 264;

enum type : uint8_t { OPEN = 1, CLOSE = 2, SAMPLE = 3 };
enum flag : uint8_t { F_OPENED = 1, F_INSPECTED = 2, F_CLIENT_INFO = 4, F_SERVER_INFO = 8 };

// Offsets. Header: type u8, reason u8, error leg u8, flags u8, errno i32, id f64.
constexpr size_t TYPE = 0, REASON = 1, ERR_LEG = 2, FLAGS = 3, ERRNO = 4, ID = 8;
// Endpoints, 20 bytes each: family u8 (4 or 6), pad u8, port u16, address 16 bytes.
constexpr size_t CLIENT = 16, TARGET = 36, LOCAL = 56;
// Open: connect time f64. Close and sample: bytes each way f64, duration (age) f64.
constexpr size_t CONNECT_US = 80, C2S = 80, S2C = 88, DURATION_US = 96;
// Close and sample: TCP_INFO per leg, 80 bytes each: rtt, rttvar, min_rtt, retrans, lost, cwnd,
// mss (u32), then delivery rate, bytes acked, bytes received (f64) at +32, +40, +48, and the
// congestion control name char[16] at +56.
constexpr size_t CLIENT_INFO = 104, SERVER_INFO = 184, INFO_CC = 56;
// Open (inspected): options read back per leg, 40 bytes each: cc char[16], nodelay u8,
// keepalive u8, mptcp u8, pad u8, keep idle/interval/count i32, mark u32.
constexpr size_t CLIENT_LEG = 104, SERVER_LEG = 144;

void append_open(std::vector<uint8_t>* out, const open_event& e);
// A close event, or with <sample> a still-open connection's figures so far (type SAMPLE).
void append_close(std::vector<uint8_t>* out, const close_event& e, bool sample = false);

}  // namespace event_record
