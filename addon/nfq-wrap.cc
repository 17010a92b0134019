#include "nfq-wrap.h"

#include <string.h>

#include "js-fields.h"
#include "sys-error.h"

namespace {

constexpr int kRoundsPerWakeup = 16;   // batches read before giving the loop back
constexpr const char* kWhat = "queue config";

// The optional parts of a verdict: info[at] a mark (-1 keeps it), info[at + 1] a replacement packet.
struct verdict_extras {
  bool mark_set = false;
  uint32_t mark = 0;
  const uint8_t* data = nullptr;
  size_t len = 0;
};

verdict_extras read_extras(const Napi::CallbackInfo& info, size_t at, const char* method) {
  Napi::Env env = info.Env();
  verdict_extras x;
  double mark = info[at].As<Napi::Number>().DoubleValue();
  x.mark_set = mark >= 0;
  x.mark = static_cast<uint32_t>(mark);
  if (info.Length() > at + 1 && !info[at + 1].IsUndefined()) {
    if (!info[at + 1].IsTypedArray()) throw Napi::TypeError::New(env, std::string(method) + ": packet must be a Buffer");
    Napi::Uint8Array packet = info[at + 1].As<Napi::Uint8Array>();
    x.data = packet.Data();
    x.len = packet.ByteLength();
    if (x.len == 0 || x.len > NFQ_MAX_REPLACEMENT)
      throw Napi::RangeError::New(env, std::string(method) + ": a replacement packet must be 1.." +
                                           std::to_string(NFQ_MAX_REPLACEMENT) + " bytes (got " + std::to_string(x.len) +
                                           "): it travels in a netlink attribute whose 16-bit length counts its 4-byte header");
  }
  return x;
}

}  // namespace

Napi::Function nfq_wrap::define(Napi::Env env) {
  return DefineClass(env, "PacketQueue",
                     {InstanceMethod("verdict", &nfq_wrap::verdict),
                      InstanceMethod("acceptInBatch", &nfq_wrap::accept_in_batch), InstanceMethod("flush", &nfq_wrap::flush),
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
    const char* ignored;
    p->sock.shutdown(&ignored);   // lets go of the queues of the range already bound, losing no packet
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
  const char* step;
  if (p_) shut(&step);
}

nfq_socket& nfq_wrap::live(Napi::Env env) {
  if (!p_) throw Napi::Error::New(env, "queue is closed");
  return p_->sock;
}

// A socket error (ENOBUFS: the kernel dropped messages for us) shows as POLLERR, on which libuv
// stops the handle and passes UV_EBADF: the next receive reports and clears the error, and polling
// starts again. Without the restart the queue would stop reading for good, and a process with
// nothing else to wait for would exit.
void nfq_wrap::on_readable(uv_poll_t* h, int status, int) {
  poller* p = static_cast<poller*>(h->data);
  p->owner->drain();
  if (status < 0 && p->owner->p_ == p) uv_poll_start(h, UV_READABLE, on_readable);
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
  const char* step;
  if (close_after_batch_) shut(&step);
  if (!failure.IsEmpty()) napi_fatal_exception(env, failure);
}

int nfq_wrap::shut(const char** step) {
  int rc = p_->sock.shutdown(step);
  uv_poll_stop(&p_->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&p_->poll), [](uv_handle_t* h) { delete static_cast<poller*>(h->data); });
  p_ = nullptr;
  return rc;
}

// verdict(ref, code, mark (-1: keep), packet?) -- the verdict of a held packet, named by its ref
// (queue * 2^32 + id). A ref that is not held is refused at once, so a packet cannot get two.
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
  verdict_extras x = read_extras(info, 2, "queue.verdict");
  uint16_t queue = static_cast<uint16_t>(key >> 32);
  uint32_t id = static_cast<uint32_t>(key);
  if (!sock.release(queue, id, static_cast<uint8_t>(code), x.mark_set, x.mark, x.data, x.len))
    throw Napi::Error::New(env, "queue.verdict: packet " + std::to_string(key) + " (queue " + std::to_string(queue) +
                                    ", id " + std::to_string(id) + ") " + why_not_held(queue, id));
  return env.Undefined();
}

std::string nfq_wrap::why_not_held(uint16_t queue, uint32_t id) {
  if (in_batch_) {
    const std::vector<nfq_packet>& packets = p_->sock.packets();
    for (size_t i = 0; i < packets.size(); i++) {
      if (packets[i].queue != queue || packets[i].id != id) continue;
      return codes_.Value().Data()[i] == NFQ_V_HELD
                 ? "is held in the current batch, which is not settled yet: release it once the batch handler has returned"
                 : "is in the current batch: decide it there (accept, drop, hold or acceptWith)";
    }
  }
  return "is not held (never held, or already released)";
}

// acceptInBatch(index, mark (-1: keep), packet?) -- accepts packet <index> of the batch being
// handled with a new mark and/or a replacement, and marks it decided (DONE) in the code table.
Napi::Value nfq_wrap::accept_in_batch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "usage: queue.acceptInBatch(index, mark, packet?)");
  nfq_socket& sock = live(env);
  double index = info[0].As<Napi::Number>().DoubleValue();
  size_t count = in_batch_ ? sock.packets().size() : 0;
  if (!(index >= 0 && index < static_cast<double>(count)) || index != static_cast<double>(static_cast<size_t>(index)))
    throw Napi::RangeError::New(env, "queue.acceptInBatch: no packet " + info[0].ToString().Utf8Value() + " in a batch being handled");
  size_t i = static_cast<size_t>(index);
  uint8_t& code = codes_.Value().Data()[i];
  if (code != NFQ_V_DEFAULT)
    throw Napi::Error::New(env, "queue.acceptInBatch: packet " + std::to_string(i) + " of the batch is already decided");
  verdict_extras x = read_extras(info, 1, "queue.acceptInBatch");
  sock.accept_in_batch(i, x.mark_set, x.mark, x.data, x.len);
  code = NFQ_V_DONE;
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

// close(): accepts what is still held, then unbinds; during a batch, right after it. Returns null,
// or the error of the first step the kernel failed or never acknowledged (every step is still
// tried, each for at most 2 s; closing the socket then unbinds what is left, dropping its packets).
// A close during a batch returns null: its steps run once the batch is settled.
Napi::Value nfq_wrap::close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!p_ || close_after_batch_) return env.Null();
  int rc = 0;
  const char* step = "";
  if (in_batch_) {
    close_after_batch_ = true;
  } else {
    rc = shut(&step);
  }
  Unref();
  return rc ? sys_error(env, -rc, step).Value() : env.Null();
}

Napi::Value nfq_wrap::meta(const Napi::CallbackInfo&) { return meta_.Value(); }
Napi::Value nfq_wrap::codes(const Napi::CallbackInfo&) { return codes_.Value(); }
