// The addon's surface: the Engine, PacketQueue and RawSocket classes, startup probes and the
// shared tables. See src/native/addon.ts.
#include <errno.h>
#include <napi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "engine-wrap.h"
#include "nfq-wrap.h"
#include "notify.h"
#include "raw-socket.h"
#include "sys-error.h"
#include "tables.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace {

// probeCongestion(name) -> null when a TCP socket accepts <name>, else the errno code.
Napi::Value probe_congestion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "usage: probeCongestion(name)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd == -1) fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd == -1) return errno_or_null(env, errno);
  int err = setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name.data(), name.size()) == -1 ? errno : 0;
  close(fd);
  return errno_or_null(env, err);
}

// probeMptcp() -> null when MPTCP sockets can be made, else the errno code.
Napi::Value probe_mptcp(const Napi::CallbackInfo& info) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (fd == -1) return errno_or_null(info.Env(), errno);
  close(fd);
  return info.Env().Null();
}

// notify(socketPath, message) -> null when sent, else the errno code.
Napi::Value notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsString())
    throw Napi::TypeError::New(env, "usage: notify(socketPath, message)");
  return errno_or_null(env, notify_send(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value()));
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", engine_wrap::define(env));
  exports.Set("PacketQueue", nfq_wrap::define(env));
  tables_export(env, exports);
  exports.Set("RawSocket", raw_socket::define(env));
  exports.Set("probeCongestion", Napi::Function::New(env, probe_congestion));
  exports.Set("probeMptcp", Napi::Function::New(env, probe_mptcp));
  exports.Set("notify", Napi::Function::New(env, notify));
  return exports;
}

}  // namespace

NODE_API_MODULE(tcp_intercept, init)
