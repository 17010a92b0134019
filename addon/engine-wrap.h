// JavaScript face of the engine: config in, batches of open/close events out (one Buffer of
// event records per batch, see event-record.h).
#pragma once
#include <napi.h>

#include <stdint.h>

#include <memory>
#include <vector>

#include "engine.h"

class engine_wrap : public Napi::ObjectWrap<engine_wrap>, public engine_sink {
 public:
  static Napi::Function define(Napi::Env env);
  explicit engine_wrap(const Napi::CallbackInfo& info);
  ~engine_wrap() override;

  void on_open(const open_event& e) override;
  void on_close(const close_event& e) override;
  void flush() override;

 private:
  Napi::Value listen(const Napi::CallbackInfo& info);
  void configure(const Napi::CallbackInfo& info);
  void stop_listening(const Napi::CallbackInfo& info);
  Napi::Value abort_all(const Napi::CallbackInfo& info);
  Napi::Value stats(const Napi::CallbackInfo& info);
  Napi::Value sample(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);

  engine* live(Napi::Env env);
  Napi::Buffer<uint8_t> take_events(Napi::Env env);

  engine* engine_ = nullptr;
  Napi::FunctionReference on_events_;
  std::unique_ptr<Napi::AsyncContext> async_;
  std::vector<uint8_t> records_;
  bool in_call_ = false;   // a JS-initiated call: its events are its return value
};
