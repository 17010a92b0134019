// Node-shaped system errors (code, errno, syscall) for syscall failures seen by N-API calls.
#pragma once
#include <napi.h>

Napi::Error sys_error(Napi::Env env, int err, const char* syscall);

// Stable name of an errno value, such as "ECONNREFUSED" (libuv's table).
const char* errno_name(int err);

// null for 0, else the errno's name: how results that are not exceptions reach JavaScript.
Napi::Value errno_or_null(Napi::Env env, int err);
