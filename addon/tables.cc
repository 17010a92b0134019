#include "tables.h"

#include <stddef.h>

#include <initializer_list>
#include <utility>

#include "engine.h"
#include "event-record.h"
#include "nfq-socket.h"

namespace {

struct field {
  const char* name;
  size_t offset;
  size_t size;
};

// offsetof takes member paths such as open.connect_us (GCC and Clang; the types are standard-layout).
#define FIELD(T, name, member) field{name, offsetof(T, member), sizeof(std::declval<T&>().member)}

struct named {
  const char* name;
  uint32_t value;
};

// { size, fields: { name: offset }, sizes: { name: bytes } }
Napi::Object layout(Napi::Env env, size_t size, std::initializer_list<field> fields) {
  Napi::Object o = Napi::Object::New(env), offsets = Napi::Object::New(env), sizes = Napi::Object::New(env);
  for (const field& f : fields) {
    offsets.Set(f.name, Napi::Number::New(env, static_cast<double>(f.offset)));
    sizes.Set(f.name, Napi::Number::New(env, static_cast<double>(f.size)));
  }
  o.Set("size", Napi::Number::New(env, static_cast<double>(size)));
  o.Set("fields", offsets);
  o.Set("sizes", sizes);
  return o;
}

Napi::Object values(Napi::Env env, std::initializer_list<named> entries) {
  Napi::Object o = Napi::Object::New(env);
  for (const named& e : entries) o.Set(e.name, Napi::Number::New(env, e.value));
  return o;
}

Napi::Object event_layouts(Napi::Env env, Napi::Object layouts) {
  using namespace event_record;
  layouts.Set("event", layout(env, sizeof(record), {
      FIELD(record, "type", type), FIELD(record, "reason", reason), FIELD(record, "errLeg", err_leg),
      FIELD(record, "flags", flags), FIELD(record, "errno", err), FIELD(record, "id", id),
      FIELD(record, "client", client), FIELD(record, "target", target), FIELD(record, "local", local),
      FIELD(record, "connectUs", open.connect_us), FIELD(record, "clientLeg", open.client_leg),
      FIELD(record, "serverLeg", open.server_leg), FIELD(record, "c2s", close.c2s), FIELD(record, "s2c", close.s2c),
      FIELD(record, "durationUs", close.duration_us), FIELD(record, "clientInfo", close.client_info),
      FIELD(record, "serverInfo", close.server_info)}));
  layouts.Set("endpoint", layout(env, sizeof(wire_endpoint), {
      FIELD(wire_endpoint, "family", family), FIELD(wire_endpoint, "port", port),
      FIELD(wire_endpoint, "address", address)}));
  layouts.Set("tcpInfo", layout(env, sizeof(wire_tcp_info), {
      FIELD(wire_tcp_info, "rttUs", rtt_us), FIELD(wire_tcp_info, "rttVarUs", rttvar_us),
      FIELD(wire_tcp_info, "minRttUs", min_rtt_us), FIELD(wire_tcp_info, "retransmits", retrans),
      FIELD(wire_tcp_info, "lost", lost), FIELD(wire_tcp_info, "cwnd", cwnd), FIELD(wire_tcp_info, "mss", mss),
      FIELD(wire_tcp_info, "deliveryRate", delivery_rate), FIELD(wire_tcp_info, "bytesAcked", bytes_acked),
      FIELD(wire_tcp_info, "bytesReceived", bytes_received), FIELD(wire_tcp_info, "busyUs", busy_us),
      FIELD(wire_tcp_info, "rwndLimitedUs", rwnd_limited_us), FIELD(wire_tcp_info, "sndbufLimitedUs", sndbuf_limited_us),
      FIELD(wire_tcp_info, "cc", cc)}));
  layouts.Set("leg", layout(env, sizeof(wire_leg), {
      FIELD(wire_leg, "cc", cc), FIELD(wire_leg, "nodelay", nodelay), FIELD(wire_leg, "keepalive", keepalive),
      FIELD(wire_leg, "mptcp", mptcp), FIELD(wire_leg, "keepIdle", keep_idle),
      FIELD(wire_leg, "keepInterval", keep_interval), FIELD(wire_leg, "keepCount", keep_count),
      FIELD(wire_leg, "mark", mark), FIELD(wire_leg, "sndbuf", sndbuf), FIELD(wire_leg, "rcvbuf", rcvbuf)}));
  return layouts;
}

Napi::Object packet_layout(Napi::Env env) {
  Napi::Object o = layout(env, sizeof(nfq_packet), {
      FIELD(nfq_packet, "id", id), FIELD(nfq_packet, "offset", offset), FIELD(nfq_packet, "length", length),
      FIELD(nfq_packet, "origLength", orig_length), FIELD(nfq_packet, "mark", mark),
      FIELD(nfq_packet, "indev", indev), FIELD(nfq_packet, "outdev", outdev), FIELD(nfq_packet, "info", info),
      FIELD(nfq_packet, "queue", queue)});
  o.Set("infoHookShift", Napi::Number::New(env, NFQ_INFO_HOOK_SHIFT));
  o.Set("infoFlagsShift", Napi::Number::New(env, NFQ_INFO_FLAGS_SHIFT));
  return o;
}

#undef FIELD

Napi::Array close_reasons(Napi::Env env) {
  Napi::Array reasons = Napi::Array::New(env, TI_CR_COUNT);
  for (uint32_t r = 0; r < TI_CR_COUNT; r++)
    reasons.Set(r, Napi::String::New(env, close_reason_name(static_cast<close_reason>(r))));
  return reasons;
}

}  // namespace

void tables_export(Napi::Env env, Napi::Object exports) {
  Napi::Object layouts = event_layouts(env, Napi::Object::New(env));
  layouts.Set("packet", packet_layout(env));
  exports.Set("layouts", layouts);
  exports.Set("eventTypes", values(env, {{"OPEN", event_record::OPEN}, {"CLOSE", event_record::CLOSE},
                                         {"SAMPLE", event_record::SAMPLE}}));
  exports.Set("eventFlags", values(env, {{"OPENED", event_record::F_OPENED}, {"INSPECTED", event_record::F_INSPECTED},
                                         {"CLIENT_INFO", event_record::F_CLIENT_INFO},
                                         {"SERVER_INFO", event_record::F_SERVER_INFO}}));
  exports.Set("legSides", values(env, {{"none", LEG_NONE}, {"client", LEG_CLIENT}, {"server", LEG_SERVER}}));
  exports.Set("packetFlags", values(env, {{"GSO", NFQ_GSO}, {"CHECKSUM_NOT_READY", NFQ_CSUM_NOT_READY},
                                          {"CHECKSUM_NOT_VERIFIED", NFQ_CSUM_NOT_VERIFIED},
                                          {"TRUNCATED", NFQ_TRUNCATED}}));
  exports.Set("verdictCodes", values(env, {{"DEFAULT", NFQ_V_DEFAULT}, {"ACCEPT", NFQ_V_ACCEPT}, {"DROP", NFQ_V_DROP},
                                           {"HELD", NFQ_V_HELD}, {"DONE", NFQ_V_DONE}}));
  exports.Set("closeReasons", close_reasons(env));
}
