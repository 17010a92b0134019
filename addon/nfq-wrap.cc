#include "nfq-wrap.h"

#include <string.h>

#include "js-fields.h"
#include "sys-error.h"

namespace {

constexpr int kRoundsPerWakeup = 16;   // batches read before giving the loop back
constexpr const char* kWhat = "queue config";

}  // namespace

Napi::Function nfq_wrap::define(Napi::Env env) {
  return DefineClass(env, "PacketQueue",
                     {InstanceMethod("verdict", &nfq_wrap::verdict), InstanceMethod("flush", &nfq_wrap::flush),
                      InstanceMethod("stats", &nfq_wrap::stats), InstanceMethod("close", &nfq_wrap::close),
                      InstanceAccessor("meta", &nfq_wrap::meta, nullptr),
                      InstanceAccessor("codes", &nfq_wrap::codes, nullptr)});
}

// new PacketQueue(first, last, { maxLen, copyRange, gso, failOpen, rcvbuf, batch, fallbackDrop }, onBatch)
nfq_wrap::nfq_wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<nfq_wrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsObject() || !info[3].IsFunction())
    throw Napi::TypeError::New(env, "usage: new PacketQueue(first, last, config, onBatch)");
  double first = info[0].As<Napi::Number>().DoubleValue(), last = info[1].As<Napi::Number>().DoubleValue();
  if (!(first >= 0 && first <= last && last <= 0xffff) || first != static_cast<uint16_t>(first) ||
      last != static_cast<uint16_t>(last))
    throw Napi::RangeError::New(env, "queue numbers must be whole, in 0..65535, first <= last");
  Napi::Object o = info[2].As<Napi::Object>();
  nfq_config cfg;
  cfg.max_len = js_u32(o, kWhat, "maxLen");
  cfg.copy_range = js_u32(o, kWhat, "copyRange");
  cfg.gso = js_bool(o, kWhat, "gso");
  cfg.fail_open = js_bool(o, kWhat, "failOpen");
  cfg.rcvbuf = js_u32(o, kWhat, "rcvbuf");
  cfg.batch = js_u32(o, kWhat, "batch");
  if (cfg.copy_range == 0 || cfg.copy_range > 0xffff || cfg.batch == 0 || cfg.batch > 1024)
    throw Napi::RangeError::New(env, "queue config: copyRange must be in 1..65535 and batch in 1..1024");
  fallback_ = js_bool(o, kWhat, "fallbackDrop") ? NFQ_V_DROP : NFQ_V_ACCEPT;

  auto p = std::make_unique<poller>(cfg);
  const char* step = "";
  uint16_t at = 0;
  if (int rc = p->sock.open(static_cast<uint16_t>(first), static_cast<uint16_t>(last), &step, &at)) {
    p->sock.shutdown();   // lets go of the queues of the range already bound, losing no packet
    Napi::Error err = sys_error(env, -rc, step);
    err.Set("queue", Napi::Number::New(env, at));
    throw err;
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  if (int rc = uv_poll_init(loop, &p->poll, p->sock.fd())) throw sys_error(env, -rc, "uv_poll_init");
  p->owner = this;
  p->poll.data = p.get();
  uv_poll_start(&p->poll, UV_READABLE, on_readable);
  p_ = p.release();

  on_batch_ = Napi::Persistent(info[3].As<Napi::Function>());
  async_ = std::make_unique<Napi::AsyncContext>(env, "tcp-intercept:nfqueue");
  meta_ = Napi::Persistent(Napi::Buffer<uint8_t>::New(env, cfg.batch * sizeof(nfq_packet)));
  codes_ = Napi::Persistent(Napi::Buffer<uint8_t>::New(env, cfg.batch));
  Ref();   // alive while the queue is open, whatever JS holds
}

nfq_wrap::~nfq_wrap() {
  if (p_) shut();
}

nfq_socket& nfq_wrap::live(Napi::Env env) {
  if (!p_) throw Napi::Error::New(env, "queue is closed");
  return p_->sock;
}

void nfq_wrap::on_readable(uv_poll_t* h, int, int) {
  static_cast<poller*>(h->data)->owner->drain();
}

void nfq_wrap::drain() {
  Napi::Env env = Env();
  for (int round = 0; round < kRoundsPerWakeup && p_; round++) {
    int n = p_->sock.receive();
    if (n <= 0) break;   // nothing waiting, or an error counted in the stats
    deliver(env, n);
  }
}

void nfq_wrap::deliver(Napi::Env env, int count) {
  Napi::HandleScope scope(env);
  nfq_socket& sock = p_->sock;
  memcpy(meta_.Value().Data(), sock.packets().data(), count * sizeof(nfq_packet));
  uint8_t* codes = codes_.Value().Data();
  memset(codes, NFQ_V_DEFAULT, count);
  Napi::ArrayBuffer area = Napi::ArrayBuffer::New(env, sock.area(), sock.area_size());
  Napi::Value failure;
  in_batch_ = true;
  try {
    on_batch_.MakeCallback(env.Global(), {Napi::Number::New(env, count), area}, *async_);
  } catch (const Napi::Error& err) {
    failure = err.Value();
  }
  in_batch_ = false;
  area.Detach();   // views kept past the batch read nothing rather than the next batch's bytes
  sock.settle(codes, fallback_);
  sock.flush();
  if (close_after_batch_) shut();
  if (!failure.IsEmpty()) napi_fatal_exception(env, failure);
}

void nfq_wrap::shut() {
  p_->sock.shutdown();
  uv_poll_stop(&p_->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&p_->poll), [](uv_handle_t* h) { delete static_cast<poller*>(h->data); });
  p_ = nullptr;
}

// verdict(ref, code, mark (-1: keep), packet?) -- for held packets, or with a new mark or packet.
// ref names a packet as queue * 2^32 + id.
Napi::Value nfq_wrap::verdict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber())
    throw Napi::TypeError::New(env, "usage: queue.verdict(ref, code, mark, packet?)");
  nfq_socket& sock = live(env);
  double ref = info[0].As<Napi::Number>().DoubleValue();
  uint64_t key = ref >= 0 && ref < 0x1p48 ? static_cast<uint64_t>(ref) : ~uint64_t{0};
  if (static_cast<double>(key) != ref || !sock.owns(static_cast<uint32_t>(key >> 32)))
    throw Napi::RangeError::New(env, "queue.verdict: not a packet of this queue");
  uint32_t code = info[1].As<Napi::Number>().Uint32Value();
  if (code != NFQ_V_ACCEPT && code != NFQ_V_DROP) throw Napi::RangeError::New(env, "verdict code must be ACCEPT or DROP");
  double mark = info[2].As<Napi::Number>().DoubleValue();
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    if (!info[3].IsTypedArray()) throw Napi::TypeError::New(env, "queue.verdict: packet must be a Buffer");
    Napi::Uint8Array packet = info[3].As<Napi::Uint8Array>();
    data = packet.Data();
    len = packet.ByteLength();
    if (len == 0 || len > 0xffff) throw Napi::RangeError::New(env, "queue.verdict: packet must be 1..65535 bytes");
  }
  sock.verdict(static_cast<uint16_t>(key >> 32), static_cast<uint32_t>(key), static_cast<uint8_t>(code), mark >= 0,
               static_cast<uint32_t>(mark), data, len);
  return env.Undefined();
}

void nfq_wrap::flush(const Napi::CallbackInfo& info) {
  if (p_) p_->sock.flush();
}

Napi::Value nfq_wrap::stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const nfq_stats s = live(env).stats();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* name, uint64_t v) { o.Set(name, Napi::Number::New(env, static_cast<double>(v))); };
  set("packets", s.packets);
  set("bytes", s.bytes);
  set("batches", s.batches);
  set("accepted", s.accepted);
  set("dropped", s.dropped);
  set("replaced", s.replaced);
  set("batchVerdicts", s.batch_verdicts);
  set("held", s.held);
  set("enobufs", s.enobufs);
  set("receiveErrors", s.recv_errors);
  set("verdictErrors", s.verdict_errors);
  set("sendErrors", s.send_errors);
  set("gso", s.gso);
  set("checksumNotReady", s.csum_not_ready);
  set("truncated", s.truncated);
  o.Set("lastError", errno_or_null(env, s.last_error));
  return o;
}

// close(): accepts what is still held, then unbinds; during a batch, right after it.
void nfq_wrap::close(const Napi::CallbackInfo&) {
  if (!p_ || close_after_batch_) return;
  if (in_batch_) {
    close_after_batch_ = true;
  } else {
    shut();
  }
  Unref();
}

Napi::Value nfq_wrap::meta(const Napi::CallbackInfo&) { return meta_.Value(); }
Napi::Value nfq_wrap::codes(const Napi::CallbackInfo&) { return codes_.Value(); }
