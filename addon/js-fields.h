// Typed reads of the plain objects the control plane passes (already validated there; here only
// shapes are checked, and a wrong one is a TypeError naming the object and the field).
#pragma once
#include <napi.h>

#include <stdint.h>

Napi::Value js_field(const Napi::Object& o, const char* what, const char* name, napi_valuetype type);
uint32_t js_u32(const Napi::Object& o, const char* what, const char* name);
bool js_bool(const Napi::Object& o, const char* what, const char* name);
