// Raw packet injection: new RawSocket(4 | 6, { mark, priority }) sends whole IP packets, header
// included, each to the destination address its own header names.
//
// What the kernel does to a packet sent here (IPPROTO_RAW, so IP_HDRINCL for IPv4):
// - IPv4: always writes the total length and the header checksum, and the source address when
//   it is zero. A zero identification is filled in only when DF is clear: with DF set it stays
//   zero (an atomic datagram, RFC 6864). Nothing else is touched.
// - IPv6: nothing is written; the payload length must be right.
// - TCP, UDP and ICMP checksums are never computed: they must already be right.
// - No fragmentation: a packet larger than the route's MTU fails with EMSGSIZE.
//
// Every packet goes through the OUTPUT hook carrying the socket's SO_MARK and SO_PRIORITY, so
// our own NFQUEUE/TPROXY rules can tell injected packets from the rest.
#pragma once
#include <napi.h>

class raw_socket : public Napi::ObjectWrap<raw_socket> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit raw_socket(const Napi::CallbackInfo& info);
  ~raw_socket() override;

 private:
  Napi::Value send(const Napi::CallbackInfo& info);
  void close(const Napi::CallbackInfo& info);

  int family_ = 0;   // AF_INET or AF_INET6
  int fd_ = -1;
};
