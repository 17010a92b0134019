#include "raw-socket.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "inet.h"
#include "sys-error.h"

namespace {

constexpr size_t IPV4_HEADER_LEN = 20;
constexpr size_t IPV6_HEADER_LEN = 40;

// False for NaN too.
bool is_index(Napi::Value v, double max) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  return d >= 0 && d <= max && d == trunc(d);
}

uint32_t uint32_option(Napi::Object options, const char* name) {
  Napi::Value v = options.Get(name);
  if (!is_index(v, UINT32_MAX))
    throw Napi::TypeError::New(options.Env(), std::string("new RawSocket: options.") + name +
                                                  " must be an integer in 0..2^32-1");
  return v.As<Napi::Number>().Uint32Value();
}

size_t index_arg(const Napi::CallbackInfo& info, size_t i, size_t fallback, size_t max, const char* name) {
  if (info.Length() <= i || info[i].IsUndefined()) return fallback;
  if (!is_index(info[i], static_cast<double>(max)))
    throw Napi::RangeError::New(info.Env(), std::string("RawSocket.send: ") + name + " out of the buffer");
  return static_cast<size_t>(info[i].As<Napi::Number>().Int64Value());
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Reads where the packet <p, len> goes into <dst>; returns "", or why it is not one whole packet
// of <family>. A length the header declares must match: the kernel would send the bytes
// given under a header rewritten to fit them (IPv4) or left saying something else (IPv6).
std::string parse_destination(int family, const uint8_t* p, size_t len, endpoint* dst) {
  int version = len ? p[0] >> 4 : 0;
  if (family == AF_INET) {
    if (len < IPV4_HEADER_LEN)
      return std::to_string(len) + " bytes cannot hold an IPv4 header (" + std::to_string(IPV4_HEADER_LEN) + ")";
    if (version != 4) return "IPv" + std::to_string(version) + " packet on an IPv4 socket";
    size_t header = (p[0] & 0x0f) * 4u;
    if (header < IPV4_HEADER_LEN || header > len)
      return "IPv4 header length " + std::to_string(header) + " in a packet of " + std::to_string(len) +
             " bytes";
    size_t total = be16(p + 2);   // 0: the kernel fills it
    if (total && total != len)
      return "IPv4 total length says " + std::to_string(total) + " bytes, the packet has " + std::to_string(len);
    memset(dst, 0, sizeof(*dst));
    dst->v4.sin_family = AF_INET;
    memcpy(&dst->v4.sin_addr, p + 16, 4);
    return {};
  }
  if (len < IPV6_HEADER_LEN)
    return std::to_string(len) + " bytes cannot hold an IPv6 header (" + std::to_string(IPV6_HEADER_LEN) + ")";
  if (version != 6) return "IPv" + std::to_string(version) + " packet on an IPv6 socket";
  size_t total = IPV6_HEADER_LEN + be16(p + 4);
  if (total != len)
    return "IPv6 payload length says " + std::to_string(total) + " bytes in all, the packet has " +
           std::to_string(len);
  memset(dst, 0, sizeof(*dst));
  dst->v6.sin6_family = AF_INET6;
  memcpy(&dst->v6.sin6_addr, p + 24, 16);
  return {};
}

}  // namespace

Napi::Function raw_socket::define(Napi::Env env) {
  return DefineClass(env, "RawSocket",
                     {InstanceMethod("send", &raw_socket::send), InstanceMethod("close", &raw_socket::close)});
}

// new RawSocket(family: 4 | 6, { mark, priority })
raw_socket::raw_socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<raw_socket>(info) {
  Napi::Env env = info.Env();
  int version = info.Length() == 2 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  if ((version != 4 && version != 6) || !info[1].IsObject())
    throw Napi::TypeError::New(env, "usage: new RawSocket(4 | 6, { mark, priority })");
  Napi::Object options = info[1].As<Napi::Object>();
  int mark = static_cast<int>(uint32_option(options, "mark"));
  int priority = static_cast<int>(uint32_option(options, "priority"));
  family_ = version == 4 ? AF_INET : AF_INET6;
  int fd = socket(family_, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd == -1) {
    throw sys_error(env, errno, family_ == AF_INET ? "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)"
                                                   : "socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)");
  }
  const char* failed = nullptr;
  if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1)
    failed = "setsockopt(SO_MARK)";
  if (!failed && setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &priority, sizeof(priority)) == -1)
    failed = "setsockopt(SO_PRIORITY)";
  if (failed) {
    int err = errno;
    ::close(fd);
    throw sys_error(env, err, failed);
  }
  fd_ = fd;
}

raw_socket::~raw_socket() {
  if (fd_ != -1) ::close(fd_);
}

// send(packet, offset = 0, length = rest) -> null, or the errno code of a failed sendto()
Napi::Value raw_socket::send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer())
    throw Napi::TypeError::New(env, "usage: rawSocket.send(packet, offset?, length?)");
  if (fd_ == -1) throw Napi::Error::New(env, "RawSocket.send: the socket is closed");
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  size_t offset = index_arg(info, 1, 0, buf.Length(), "offset");
  size_t len = index_arg(info, 2, buf.Length() - offset, buf.Length() - offset, "length");
  const uint8_t* packet = buf.Data() + offset;
  endpoint dst;
  std::string invalid = parse_destination(family_, packet, len, &dst);
  if (!invalid.empty()) throw Napi::Error::New(env, "RawSocket.send: " + invalid);
  return errno_or_null(env, sendto(fd_, packet, len, 0, &dst.sa, inet_len(dst)) == -1 ? errno : 0);
}

void raw_socket::close(const Napi::CallbackInfo&) {
  if (fd_ == -1) return;
  ::close(fd_);
  fd_ = -1;
}
