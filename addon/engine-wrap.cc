#include "engine-wrap.h"

#include <uv.h>

#include "config-parse.h"
#include "event-record.h"
#include "sys-error.h"



Napi::Function engine_wrap::define(Napi::Env env) {
  return DefineClass(env, "Engine",
                     {InstanceMethod("listen", &engine_wrap::listen),
                      InstanceMethod("configure", &engine_wrap::configure),
                      InstanceMethod("stopListening", &engine_wrap::stop_listening),
                      InstanceMethod("abortAll", &engine_wrap::abort_all),
                      InstanceMethod("stats", &engine_wrap::stats),
                      InstanceMethod("sample", &engine_wrap::sample),
                      InstanceMethod("close", &engine_wrap::close)});
}

// new Engine(onEvents: (events) => void, config)
engine_wrap::engine_wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<engine_wrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsFunction() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "usage: new Engine(onEvents, config)");
  engine_config cfg = config_parse(info[1].As<Napi::Object>());
  on_events_ = Napi::Persistent(info[0].As<Napi::Function>());
  async_ = std::make_unique<Napi::AsyncContext>(env, "tcp-intercept:engine");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  engine_ = new engine(loop, this, cfg);
  if (int rc = engine_->start()) {
    engine_->close();
    engine_ = nullptr;
    throw sys_error(env, -rc, "epoll_create1");
  }
  Ref();   // alive while the engine runs, whatever JS holds
}

engine_wrap::~engine_wrap() {
  if (engine_) engine_->close();
}

engine* engine_wrap::live(Napi::Env env) {
  if (!engine_) throw Napi::Error::New(env, "engine is closed");
  return engine_;
}

void engine_wrap::on_open(const open_event& e) { event_record::append_open(&records_, e); }
void engine_wrap::on_close(const close_event& e) { event_record::append_close(&records_, e); }

Napi::Buffer<uint8_t> engine_wrap::take_events(Napi::Env env) {
  Napi::Buffer<uint8_t> batch = Napi::Buffer<uint8_t>::Copy(env, records_.data(), records_.size());
  records_.clear();
  return batch;
}

void engine_wrap::flush() {
  if (in_call_ || records_.empty()) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Buffer<uint8_t> events = take_events(env);
  try {
    on_events_.MakeCallback(env.Global(), {events}, *async_);
  } catch (const Napi::Error& err) {
    napi_fatal_exception(env, err.Value());
  }
}

// listen(host, port, { backlog, reusePort, v6only }) -> bound port
Napi::Value engine_wrap::listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsObject())
    throw Napi::TypeError::New(env, "usage: engine.listen(host, port, { backlog, reusePort, v6only })");
  endpoint addr;
  if (!inet_parse(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(), &addr))
    throw Napi::TypeError::New(env, "engine.listen: host must be a numeric IPv4 or IPv6 address");
  Napi::Object o = info[2].As<Napi::Object>();
  listen_options lo;
  lo.backlog = o.Get("backlog").As<Napi::Number>().Int32Value();
  lo.reuse_port = o.Get("reusePort").ToBoolean();
  lo.v6only = o.Get("v6only").ToBoolean();
  const char* syscall = "listen";
  int port = live(env)->listen(addr, lo, &syscall);
  if (port < 0) throw sys_error(env, -port, syscall);
  return Napi::Number::New(env, port);
}

void engine_wrap::configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "usage: engine.configure(config)");
  live(env)->configure(config_parse(info[0].As<Napi::Object>()));
}

void engine_wrap::stop_listening(const Napi::CallbackInfo& info) {
  live(info.Env())->stop_listening();
}

Napi::Value engine_wrap::abort_all(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  in_call_ = true;
  live(env)->abort_all();
  in_call_ = false;
  return take_events(env);
}

Napi::Value engine_wrap::stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  engine_stats s = live(env)->stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("accepted", Napi::Number::New(env, static_cast<double>(s.accepted)));
  o.Set("active", Napi::Number::New(env, s.active));
  o.Set("connecting", Napi::Number::New(env, s.connecting));
  o.Set("listeners", Napi::Number::New(env, s.listeners));
  o.Set("bytesClientToServer", Napi::Number::New(env, static_cast<double>(s.c2s_bytes)));
  o.Set("bytesServerToClient", Napi::Number::New(env, static_cast<double>(s.s2c_bytes)));
  o.Set("fdExhausted", Napi::Number::New(env, static_cast<double>(s.fd_exhausted)));
  o.Set("pipesInUse", Napi::Number::New(env, static_cast<double>(s.pipes_in_use)));
  o.Set("pipesIdle", Napi::Number::New(env, static_cast<double>(s.pipes_idle)));
  o.Set("pipeBytesInUse", Napi::Number::New(env, static_cast<double>(s.pipe_bytes_in_use)));
  o.Set("pipeBytesIdle", Napi::Number::New(env, static_cast<double>(s.pipe_bytes_idle)));
  o.Set("pipesUndersized", Napi::Number::New(env, static_cast<double>(s.pipes_undersized)));
  return o;
}

// sample(minAgeMs, slice, slices) -> records of type SAMPLE for connections relaying at least that
// long, those whose id % slices == slice
Napi::Value engine_wrap::sample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber())
    throw Napi::TypeError::New(env, "usage: engine.sample(minAgeMs, slice, slices)");
  uint32_t slice = info[1].As<Napi::Number>().Uint32Value(), slices = info[2].As<Napi::Number>().Uint32Value();
  if (slices == 0 || slice >= slices) throw Napi::RangeError::New(env, "engine.sample: slice must be in 0..slices-1");
  std::vector<uint8_t> out;
  for (const close_event& e : live(env)->sample(info[0].As<Napi::Number>().Int64Value(), slice, slices))
    event_record::append_close(&out, e, true);
  return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
}

Napi::Value engine_wrap::close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!engine_) return Napi::Buffer<uint8_t>::New(env, 0);
  in_call_ = true;
  engine_->close();   // frees itself once its loop handles are closed
  engine_ = nullptr;
  in_call_ = false;
  Unref();
  return take_events(env);
}
