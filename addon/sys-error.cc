#include "sys-error.h"

#include <uv.h>

#include <string>

const char* errno_name(int err) {
  return uv_err_name(-err);
}

Napi::Value errno_or_null(Napi::Env env, int err) {
  return err ? Napi::String::New(env, errno_name(err)) : env.Null();
}

Napi::Error sys_error(Napi::Env env, int err, const char* syscall) {
  std::string message = std::string(syscall) + " " + errno_name(err) + ": " + uv_strerror(-err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, errno_name(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}
