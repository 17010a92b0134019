#include "js-fields.h"

#include <string>

Napi::Value js_field(const Napi::Object& o, const char* what, const char* name, napi_valuetype type) {
  Napi::Value v = o.Get(name);
  if (v.Type() != type) throw Napi::TypeError::New(o.Env(), std::string(what) + ": '" + name + "' has the wrong type");
  return v;
}

uint32_t js_u32(const Napi::Object& o, const char* what, const char* name) {
  return js_field(o, what, name, napi_number).As<Napi::Number>().Uint32Value();
}

bool js_bool(const Napi::Object& o, const char* what, const char* name) {
  return js_field(o, what, name, napi_boolean).As<Napi::Boolean>().Value();
}
