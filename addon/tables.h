// The tables JavaScript shares with the addon, exported at load: record layouts (computed with
// offsetof and sizeof), flag bits, verdict codes and close reason names. TypeScript reads its
// offsets and codes from here instead of copying them (src/native/tables.ts).
#pragma once
#include <napi.h>

void tables_export(Napi::Env env, Napi::Object exports);
