// JavaScript face of one NFQUEUE queue: packets out in batches (one call per batch, metadata in a
// shared table, the packets in a receive area that is detached when the call returns), verdicts
// back through a shared code table or verdict() for packets held past their batch.
#pragma once
#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>

#include "nfq-socket.h"

class nfq_wrap : public Napi::ObjectWrap<nfq_wrap> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit nfq_wrap(const Napi::CallbackInfo& info);
  ~nfq_wrap() override;

 private:
  struct poller {
    uv_poll_t poll;
    nfq_socket sock;
    nfq_wrap* owner;
    explicit poller(const nfq_config& cfg) : sock(cfg) {}
  };

  static void on_readable(uv_poll_t* h, int status, int events);
  void drain();
  void deliver(Napi::Env env, int count);
  // Lets go of the queue (nfq_socket::shutdown) and the poll handle: 0 or -errno, step in *step.
  int shut(const char** step);

  Napi::Value verdict(const Napi::CallbackInfo& info);
  Napi::Value accept_in_batch(const Napi::CallbackInfo& info);
  void flush(const Napi::CallbackInfo& info);
  Napi::Value stats(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);
  Napi::Value meta(const Napi::CallbackInfo& info);
  Napi::Value codes(const Napi::CallbackInfo& info);

  nfq_socket& live(Napi::Env env);
  std::string why_not_held(uint16_t queue, uint32_t id);

  poller* p_ = nullptr;
  uint8_t fallback_ = NFQ_V_ACCEPT;
  Napi::FunctionReference on_batch_;
  std::unique_ptr<Napi::AsyncContext> async_;
  Napi::Reference<Napi::Buffer<uint8_t>> meta_;    // nfq_packet records of the current batch
  Napi::Reference<Napi::Buffer<uint8_t>> codes_;   // nfq_verdict_code per packet of the batch
  bool in_batch_ = false;
  bool close_after_batch_ = false;
};
