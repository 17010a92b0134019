#include "config-parse.h"

#include <string>

#include "js-fields.h"

namespace {

constexpr const char* kWhat = "engine config";

Napi::Value field(const Napi::Object& o, const char* name, napi_valuetype type) { return js_field(o, kWhat, name, type); }
uint32_t u32(const Napi::Object& o, const char* name) { return js_u32(o, kWhat, name); }
bool flag(const Napi::Object& o, const char* name) { return js_bool(o, kWhat, name); }

leg_options leg(const Napi::Object& o, const char* name) {
  Napi::Object l = field(o, name, napi_object).As<Napi::Object>();
  leg_options out;
  out.cc = field(l, "cc", napi_string).As<Napi::String>().Utf8Value();
  out.nodelay = flag(l, "nodelay");
  out.keepalive = flag(l, "keepalive");
  out.keep_idle = static_cast<int>(u32(l, "keepIdle"));
  out.keep_interval = static_cast<int>(u32(l, "keepInterval"));
  out.keep_count = static_cast<int>(u32(l, "keepCount"));
  out.sndbuf = static_cast<int>(u32(l, "sndbuf"));
  out.rcvbuf = static_cast<int>(u32(l, "rcvbuf"));
  return out;
}

void fixed(const Napi::Object& o, const char* name, endpoint* out) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return;
  std::string host = field(o, name, napi_string).As<Napi::String>().Utf8Value();
  if (!inet_parse(host, 0, out))
    throw Napi::TypeError::New(o.Env(), "engine config: '" + std::string(name) + "' is not a numeric address");
}

}  // namespace

engine_config config_parse(const Napi::Object& o) {
  engine_config cfg;
  std::string mode = field(o, "bindMode", napi_string).As<Napi::String>().Utf8Value();
  if (mode == "client") cfg.out.mode = BIND_CLIENT;
  else if (mode == "client-port") cfg.out.mode = BIND_CLIENT_PORT;
  else if (mode == "fixed") cfg.out.mode = BIND_FIXED;
  else throw Napi::TypeError::New(o.Env(), "engine config: unknown bindMode '" + mode + "'");
  fixed(o, "fixed4", &cfg.out.fixed4);
  fixed(o, "fixed6", &cfg.out.fixed6);
  cfg.out.mark = u32(o, "mark");
  cfg.out.mptcp = flag(o, "mptcp");
  cfg.out.leg = leg(o, "serverLeg");
  cfg.client_leg = leg(o, "clientLeg");
  cfg.buffer_size = u32(o, "bufferSize");
  cfg.pipe_keep_bytes = u32(o, "pipeKeepBytes");
  cfg.max_connections = u32(o, "maxConnections");
  cfg.connect_timeout_ms = u32(o, "connectTimeoutMs");
  cfg.idle_timeout_ms = u32(o, "idleTimeoutMs");
  cfg.inspect = flag(o, "inspect");
  return cfg;
}
